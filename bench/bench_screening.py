"""Benchmark: screening speed of ``standardize`` against spglib, and of ``predict`` (prints numbers).

Issue 18's goal: ``standardize`` within 3x of spglib's own ``get_symmetry_dataset`` on the same
crystals, in the same run, on one core; and the whole prediction path (standardize, batch,
forward pass of the CFT; model building excluded) at >= 100 crystals/s for cells of <= 50 atoms.

Crystals: ``--per-group`` random crystals (``random_crystal``, atoms on special and general
positions, <= ``--max-atoms`` atoms) of each of ``--groups`` (default: every 5th group, 46
groups). Each crystal is given with its atoms permuted and its origin shifted, so neither
spglib nor ``standardize`` starts from a standard cell. A first pass fills the per-group caches
(the group's tables, as any screening run of more than a few crystals per group does); the
timed passes follow, spglib and ``standardize`` alternating crystal by crystal. ``--profile``
prints cProfile's top functions of ``standardize`` instead.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_screening.py [--per-group 3] [--groups all]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal, random_crystal, DEFAULT_SYMPREC, standardize


def crystals(groups, per_group: int, max_atoms: int) -> list[Crystal]:
    """Random crystals, permuted and shifted, deterministic in (group, index); groups whose orbits
    cannot fit in ``max_atoms`` are left out (the count printed says how many crystals there are)."""
    out = []
    for number in groups:
        for index in range(per_group):
            rng = np.random.default_rng(1000 * number + index)
            try:
                crystal = random_crystal(number, seed=rng, max_atoms=max_atoms).crystal
            except CrystalFourierError:  # the group's smallest orbits do not fit in max_atoms (e.g. Ia-3d)
                continue
            order = rng.permutation(crystal.n_atoms)
            out.append(Crystal(crystal.lattice, crystal.positions[order] + rng.random(3), crystal.numbers[order]))
    return out


def spglib_dataset(crystal: Crystal):
    import spglib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return spglib.get_symmetry_dataset(crystal.spglib_cell, symprec=DEFAULT_SYMPREC)


def timed(function, items) -> np.ndarray:
    seconds = []
    for item in items:
        start = time.perf_counter()
        function(item)
        seconds.append(time.perf_counter() - start)
    return np.array(seconds)


def predict_rate(items: list[Crystal], batch_size: int, passes: int = 5) -> list[tuple[float, float]]:
    """Crystals per second (wall, and per CPU second of this process) through prepare_samples +
    predict_samples of a default-size CFT (built beforehand): the first pass over ``items`` after a
    warm-up on one batch, so that it also builds the encoder's tables of the groups that batch did not
    hold (about 2 ms a group: the generated module's import and its tables), then the best of ``passes``
    passes with every table built (what a screening run of many crystals per group sees; one pass of
    138 crystals takes about half a second, so single passes vary by 5-10% on a shared machine)."""
    import torch

    from crystal_fourier.runtime import predict_samples, prepare_samples, ModelConfig, build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig()).eval()
    records = [(crystal, {}, str(i)) for i, crystal in enumerate(items)]
    rates = []
    with torch.no_grad():
        predict_samples(model, prepare_samples(records[:batch_size], None), batch_size)  # warm-up
        for _ in range(1 + passes):
            start, cpu = time.perf_counter(), time.process_time()
            predict_samples(model, prepare_samples(records, None), batch_size)
            rates.append((len(items) / (time.perf_counter() - start), len(items) / (time.process_time() - cpu)))
    cpu_rates = sorted(rate[1] for rate in rates[1:])
    print(f"predict with every table built, {passes} passes: per CPU second min {cpu_rates[0]:.0f}, "
          f"median {np.median(cpu_rates):.0f}, max {cpu_rates[-1]:.0f}")
    return [rates[0], max(rates[1:], key=lambda rate: rate[1])]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-group", type=int, default=3)
    parser.add_argument("--groups", default="every5", help="'all' or 'every5' (default)")
    parser.add_argument("--max-atoms", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--passes", type=int, default=5, help="predict passes with every table built (best printed)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-predict", action="store_true")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    groups = range(1, 231) if args.groups == "all" else range(1, 231, 5)
    items = crystals(groups, args.per_group, args.max_atoms)
    atoms = np.array([c.n_atoms for c in items])
    print(f"{len(items)} crystals of {len(groups)} groups tried, "
          f"atoms median {np.median(atoms):.0f}, max {atoms.max()}")
    cold = timed(standardize, items)  # first pass: builds each group's tables (a fresh process pays this once)
    print(f"first pass (cold per-group tables): {1e3 * cold.mean():.1f} ms/crystal (max {1e3 * cold.max():.0f})")
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for crystal in items:
            standardize(crystal)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0
    spglib_seconds = timed(spglib_dataset, items)
    ours = timed(standardize, items)
    spglib_seconds = np.minimum(spglib_seconds, timed(spglib_dataset, items))
    ours = np.minimum(ours, timed(standardize, items))
    ratio = ours.sum() / spglib_seconds.sum()
    print(f"spglib get_symmetry_dataset: {1e3 * spglib_seconds.mean():.2f} ms/crystal "
          f"(median {1e3 * np.median(spglib_seconds):.2f})")
    print(f"standardize:                 {1e3 * ours.mean():.2f} ms/crystal (median {1e3 * np.median(ours):.2f}, "
          f"max {1e3 * ours.max():.1f})")
    print(f"ratio standardize / spglib (total time): {ratio:.2f}  (goal <= 3); median of per-crystal ratios "
          f"{np.median(ours / spglib_seconds):.2f}")
    worst = np.argsort(ours / spglib_seconds)[-3:]
    for i in worst:
        print(f"  slowest relative: {items[i].n_atoms} atoms, {1e3 * ours[i]:.1f} ms "
              f"vs spglib {1e3 * spglib_seconds[i]:.2f} ms")
    if not args.no_predict:
        rates = predict_rate(items, args.batch_size, args.passes)
        for label, (rate, cpu_rate) in zip(("first pass", f"tables built, best of {args.passes}"), rates, strict=True):
            print(f"predict (standardize + batch + default CFT forward, one thread), {label}: {rate:.0f} "
                  f"crystals/s wall, {cpu_rate:.0f} per CPU second  (issue 29's goal >= 300)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
