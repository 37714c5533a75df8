"""Benchmark: time and peak memory of ``standardize`` on one large cubic cell (prints numbers).

Builds a deterministic Fm-3c (226) crystal of about ``--atoms`` atoms in the conventional
cell (general orbits of 192 atoms and one special orbit, atoms at least 1.2 A apart), then
standardizes it as given, with its atoms permuted and its origin shifted, and as the primitive
cell, and checks that all give the same standardized cell. For each run it prints the wall
time and the peak of traced Python/numpy allocations (``tracemalloc``); at the end the peak
resident set size of the process (``resource``). Run from the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_standardize.py [--atoms 2000] [--group 226]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
import warnings

import numpy as np
import spglib

from crystal_fourier.runtime.random_crystals import orbit
from crystal_fourier.runtime.standardize import standardize
from crystal_fourier.runtime.structures import Crystal

MIN_DISTANCE = 1.2  # Angstrom
VOLUME_PER_ATOM = 14.0  # Angstrom^3


def large_cubic(number: int, atoms: int, seed: int = 0) -> Crystal:
    """A cubic crystal of group ``number`` with about ``atoms`` atoms (general orbits plus one special one)."""
    rng = np.random.default_rng(seed)
    positions = [orbit(number, [0.0, 0.25, 0.25])]
    a = (atoms * VOLUME_PER_ATOM) ** (1 / 3)
    species = [np.full(len(positions[0]), 29)]
    total = len(positions[0])
    tries = 0
    while total < atoms and tries < 10_000:
        tries += 1
        candidate = orbit(number, rng.random(3))
        if total + len(candidate) > atoms + len(candidate) // 2:
            break
        everything = np.vstack(positions)
        gap = candidate[:, None, :] - everything[None, :, :]
        gap -= np.round(gap)
        own = candidate[:, None, :] - candidate[None, :, :]
        own -= np.round(own)
        own = np.linalg.norm(own * a, axis=-1) + np.eye(len(candidate)) * 1e9
        if np.linalg.norm(gap * a, axis=-1).min() < MIN_DISTANCE or own.min() < MIN_DISTANCE:
            continue
        positions.append(candidate)
        species.append(np.full(len(candidate), (13, 29, 47, 79)[len(positions) % 4]))
        total += len(candidate)
    return Crystal(a * np.eye(3), np.vstack(positions), np.concatenate(species))


def measure(label: str, crystal: Crystal):
    tracemalloc.start()
    start = time.perf_counter()
    result = standardize(crystal)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<16} {crystal.n_atoms:>6} atoms in  -> sg {result.number:>3}, {result.n_atoms:>6} atoms out:"
          f" {seconds:7.2f} s, traced peak {peak / 2**20:8.1f} MiB", flush=True)
    return result, seconds, peak


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=2000)
    parser.add_argument("--group", type=int, default=226, help="a cubic group (195-230); default Fm-3c")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    crystal = large_cubic(args.group, args.atoms, args.seed)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(crystal.n_atoms)
    permuted = Crystal(crystal.lattice, crystal.positions[order] + rng.random(3), crystal.numbers[order])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        primitive = Crystal(*spglib.find_primitive(crystal.spglib_cell, symprec=1e-5))
    results = [measure(label, c) for label, c in
               (("as built", crystal), ("permuted+shift", permuted), ("primitive", primitive))]
    reference = results[0][0]
    worst = 0.0
    for other, _, _ in results[1:]:
        if other.n_atoms != reference.n_atoms or other.numbers.tolist() != reference.numbers.tolist():
            print("DISAGREE: different atom counts or species")
            return 1
        gap = other.positions - reference.positions  # both sorted by (Z, z, y, x)
        gap -= np.round(gap)
        worst = max(worst, float(np.max(np.abs(gap))))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    print(f"max position difference between the descriptions: {worst:.2e} (fractional)")
    print(f"slowest {max(r[1] for r in results):.2f} s; largest traced peak {max(r[2] for r in results) / 2**20:.1f} MiB;"
          f" process peak RSS {rss:.0f} MiB (includes the interpreter, numpy, spglib)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
