"""Audit cost against the model's cost: every kind, N random crystals (<= 30 atoms), ASE's EMT.

Reports the wall time of the whole audit, the time spent inside the bare EMT calls of the same run
(energy, forces and stress of every description), and their ratio (the audit's overhead: building
the re-descriptions, the symmetry detection, the comparisons), once with cold caches and once
warm (the same crystals again: the standardization derives each group's normalizer tables once
per process, which dominates the overhead of a first audit). Goal (issue 17): 100 crystals in
under 30 s on one core, overhead <= 1.5x.

    OMP_NUM_THREADS=1 python bench/bench_audit.py --crystals 100          # the issue's size
    OMP_NUM_THREADS=1 python bench/bench_audit.py --crystals 20           # a quick run
"""

from __future__ import annotations

import argparse
import time

from crystal_fourier.audit import KINDS, audit
from crystal_fourier.audit._adapters import ASEModel
from crystal_fourier.runtime import random_crystal


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crystals", type=int, default=100)
    parser.add_argument("--per-kind", type=int, default=1)
    parser.add_argument("--max-atoms", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from ase.calculators.emt import EMT

    start = time.perf_counter()
    crystals = [random_crystal(1 + (7 * i) % 230, seed=args.seed + i, max_atoms=args.max_atoms).crystal
                for i in range(args.crystals)]
    built = time.perf_counter() - start
    ok = True
    # First run: cold caches (each group's normalizer tables are derived once per process, by the
    # standardization); second run: the same crystals again, with another seed for the draws.
    for run, seed in (("cold", args.seed), ("warm", args.seed + 1)):
        report = audit(ASEModel(EMT, name="EMT"), crystals, kinds=KINDS, per_kind=args.per_kind, seed=seed)
        calls = len({(c.crystal, c.kind, c.label) for c in report.checks})
        print(f"[{run}] {args.crystals} random crystals (<= {args.max_atoms} atoms, built in {built:.1f} s), "
              f"{len(report.kinds)} kinds, {calls} re-descriptions, {len(report.checks)} checks")
        print(f"[{run}] audit wall time {report.seconds:.2f} s; bare EMT calls {report.model_seconds:.2f} s; "
              f"overhead ratio {report.seconds / report.model_seconds:.2f}x; ok={report.ok}")
        ok = ok and report.ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
