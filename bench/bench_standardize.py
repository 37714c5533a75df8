"""Benchmark: time and peak memory of ``standardize`` on one large cubic cell; with ``--sweep``,
canonicity and time over all 230 groups (prints numbers).

Builds a deterministic Fm-3c (226) crystal of about ``--atoms`` atoms in the conventional
cell (general orbits of 192 atoms and one special orbit, atoms at least 1.2 A apart), then
standardizes it as given, with its atoms permuted and its origin shifted, and as the primitive
cell, and checks that all give the same standardized cell. For each run it prints the wall
time and the peak of traced Python/numpy allocations (``tracemalloc``); at the end the peak
resident set size of the process (``resource``).

``--sweep``: for one crystal of each of the 230 groups (a special and a general orbit), every
re-description (each coset of the affine normalizer, 2x1x1 and 1x2x2 supercells, the primitive
cell, three unimodular bases, permuted atoms with a shifted origin) is standardized; prints the
largest difference between standardized atom sets, the largest spread of a seeded, untrained
CFT's float32 predictions over the descriptions, and the standardization time per crystal
(median, 90th percentile, max). Run from the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_standardize.py [--atoms 2000] [--group 226]
    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_standardize.py --sweep
    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_standardize.py --poscars DIR [--repeats 5]

``--poscars DIR``: ``standardize`` against ``spglib.get_symmetry_dataset`` (symprec 0.1) on real crystals,
spglib's test POSCARs (``test/functional/python/data`` of the spglib repository, flattened into DIR;
read as :mod:`bench_atom_order` reads them), timed crystal by crystal in the same process, alternating,
in CPU time of the thread (so that other jobs on a shared machine do not count), best of ``--repeats``
per crystal after a warm-up pass; prints the ratio of total times, the median of
per-crystal ratios (overall and by size), and how many spglib calls ``standardize`` made per crystal.
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

from crystal_fourier.runtime import Crystal, standardize
from crystal_fourier.runtime.symmetry._random_crystals import orbit

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


def crystal_of(number: int) -> Crystal:
    """A crystal of exactly group ``number``: a special orbit (Cu) and a general orbit (Al)
    (:func:`crystal_fourier.runtime.crystal_of`, atoms at least MIN_DISTANCE apart)."""
    from crystal_fourier.runtime import crystal_of as first_crystal

    return first_crystal(number, min_distance=MIN_DISTANCE)


def descriptions(crystal: Crystal, number: int):
    """Every re-description of the module docstring, as Crystal objects (built by crystal_fourier.audit)."""
    from crystal_fourier.audit import in_basis, normalizer_cosets, origin_shifted, permuted, supercell

    for d in normalizer_cosets(crystal):
        yield d.crystal
    for repeats in ((2, 1, 1), (1, 2, 2)):
        yield supercell(crystal, repeats).crystal
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield Crystal(*spglib.find_primitive(crystal.spglib_cell, symprec=1e-5))
    for rows in ([[1, 1, 0], [0, 1, 0], [0, -1, 1]], [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
                 [[1, 0, 0], [0, -1, 0], [0, 0, -1]]):
        yield in_basis(crystal, rows).crystal
    rng = np.random.default_rng(number)
    yield origin_shifted(permuted(crystal, rng.permutation(crystal.n_atoms)).crystal, rng.random(3)).crystal


def set_distance(a, b) -> float:
    if a.n_atoms != b.n_atoms or a.numbers.tolist() != b.numbers.tolist():
        return np.inf
    gap = a.positions[:, None, :] - b.positions[None, :, :]
    gap -= np.round(gap)
    distance = np.max(np.abs(gap), axis=-1)
    distance[a.numbers[:, None] != b.numbers[None, :]] = np.inf
    return float(max(distance.min(axis=0).max(), distance.min(axis=1).max()))


def sweep() -> int:
    import torch

    from crystal_fourier.runtime import sample_from_standardized, ModelConfig, build_model, predict_samples

    torch.manual_seed(0)
    network = build_model(ModelConfig(d_model=32, n_heads=4, n_layers=2, d_ff=64, d_route=32, d_position=32,
                                      d_head=32)).eval()
    times, worst_set, worst_prediction, count = [], (0.0, 0), (0.0, 0), 0
    for number in range(1, 231):
        crystal = crystal_of(number)
        results = []
        for description in [crystal, *descriptions(crystal, number)]:
            start = time.perf_counter()
            results.append(standardize(description))
            times.append(time.perf_counter() - start)
        count += len(results)
        gap = max(set_distance(results[0], r) for r in results[1:])
        predictions = predict_samples(network, [sample_from_standardized(r) for r in results])
        spread = float(np.max(predictions) - np.min(predictions))
        worst_set = max(worst_set, (gap, number))
        worst_prediction = max(worst_prediction, (spread, number))
    times = np.array(times) * 1e3
    print(f"{count} descriptions of 230 crystals (one per group)")
    print(f"largest difference between standardized atom sets: {worst_set[0]:.2e} (fractional, sg{worst_set[1]})")
    print(f"largest spread of float32 predictions: {worst_prediction[0]:.2e} (sg{worst_prediction[1]})")
    print(f"standardize: median {np.median(times):.1f} ms, 90th percentile {np.percentile(times, 90):.1f} ms, "
          f"max {times.max():.1f} ms")
    return 0


def against_spglib(folder: str, repeats: int) -> int:
    """Ratios of standardize to spglib's get_symmetry_dataset on the POSCARs of ``folder`` (see the docstring)."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_atom_order   # the sibling script: one reader of spglib's POSCARs (VASP 4 files included)

    from crystal_fourier.errors import CrystalFourierError

    _standardization = sys.modules[standardize.__module__]   # its one spglib door, counted below

    class Sources:
        poscars, cifs, data, limit = folder, None, None, 0

    items = [crystal for _, crystal in bench_atom_order.crystals(Sources)]
    warnings.simplefilter("ignore")

    def ours(crystal):
        try:
            standardize(crystal)
        except CrystalFourierError:
            pass

    def theirs(crystal):
        spglib.get_symmetry_dataset(crystal.spglib_cell, symprec=0.1)

    calls = [0]
    dataset = _standardization._dataset

    def counted(*args, **kwargs):
        calls[0] += 1
        return dataset(*args, **kwargs)

    _standardization._dataset = counted
    for crystal in items:  # warm-up: per-group tables, and the spglib calls counted once
        ours(crystal)
    _standardization._dataset = dataset
    best = {ours: np.full(len(items), np.inf), theirs: np.full(len(items), np.inf)}
    for _ in range(repeats):
        for index, crystal in enumerate(items):
            for function in (theirs, ours):
                start = time.thread_time()   # CPU time of this thread: the shared machine's waits left out
                function(crystal)
                best[function][index] = min(best[function][index], time.thread_time() - start)
    ratio = best[ours] / best[theirs]
    atoms = np.array([c.n_atoms for c in items])
    print(f"{len(items)} POSCARs from {folder}; best of {repeats}; "
          f"{calls[0] / len(items):.2f} spglib calls per crystal")
    print(f"spglib {1e3 * best[theirs].mean():.2f} ms/crystal, standardize {1e3 * best[ours].mean():.2f} ms/crystal")
    print(f"total {best[ours].sum() / best[theirs].sum():.2f}x (goal <= 1.5), "
          f"median per crystal {np.median(ratio):.2f}x (goal <= 2)")
    for low, high in ((1, 8), (9, 60), (61, 10**9)):
        chosen = (atoms >= low) & (atoms <= high)
        if chosen.any():
            print(f"  {low}-{high if high < 10**9 else ''} atoms: {chosen.sum()} crystals, "
                  f"median {np.median(ratio[chosen]):.2f}x, "
                  f"total {best[ours][chosen].sum() / best[theirs][chosen].sum():.2f}x")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=2000)
    parser.add_argument("--group", type=int, default=226, help="a cubic group (195-230); default Fm-3c")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweep", action="store_true", help="canonicity and time over all 230 groups instead")
    parser.add_argument("--poscars", help="folder of spglib's test POSCARs: ratios against get_symmetry_dataset")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes with --poscars (best per crystal)")
    args = parser.parse_args(argv)
    if args.poscars:
        return against_spglib(args.poscars, args.repeats)
    if args.sweep:
        return sweep()
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
    print(f"slowest {max(r[1] for r in results):.2f} s; "
          f"largest traced peak {max(r[2] for r in results) / 2**20:.1f} MiB;"
          f" process peak RSS {rss:.0f} MiB (includes the interpreter, numpy, spglib)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
