"""CHGNet judged as float32, as float64 (declared, and its float64 twin), and the derivatives kind on CHGNet and EMT.

One process, the same random crystals (groups spread by the seed, <= --max-atoms atoms) and seed for
every run. Prints, per run, each kind's worst error / tolerance and its failing checks, so that
float32 round-off (within 1e-4, failing at 1e-9) is told apart from a bug (failing at both).

    OMP_NUM_THREADS=1 python bench/bench_audit_dtype.py --crystals 4
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import time

import numpy as np

from crystal_fourier.audit import KINDS, as_model, audit
from crystal_fourier.audit._pretrained import CHGNetModel
from crystal_fourier.runtime import random_crystal


def _table(report) -> list[str]:
    lines = []
    for kind in report.kinds:
        chosen = [c for c in report.checks if c.kind == kind]
        if not chosen:
            continue
        worst = max(chosen, key=lambda c: c.ratio)
        failed = [c for c in chosen if c.failed]
        failing = sorted({(c.quantity, c.label.split(":")[0] if kind == "derivatives" else c.label[:6])
                          for c in failed})
        detail = "" if not failed else f"  worst {worst.quantity} '{worst.label[:40]}'; failing {failing}"
        lines.append(f"  {kind:16s} checks {len(chosen):3d}  failed {len(failed):3d}  max error/tol {worst.ratio:10.3g}"
                     + detail)
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crystals", type=int, default=4)
    parser.add_argument("--max-atoms", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from ase.calculators.emt import EMT

    from crystal_fourier.audit._kinds import random_groups

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    groups = random_groups(range(1, 231), args.crystals, args.seed)
    crystals = [random_crystal(g, seed=args.seed + i, max_atoms=args.max_atoms).crystal for i, g in enumerate(groups)]
    names = [f"sg{g}" for g in groups]
    print(f"commit {commit}; crystals {names} (<= {args.max_atoms} atoms), per_kind 1, seed {args.seed}")
    chgnet = CHGNetModel()
    declared = copy.copy(chgnet)   # computes in float32, held to the float64 tolerance (no twin)
    declared.dtype = np.dtype(np.float64)
    runs = [("CHGNet --dtype float32 (float64 reruns of failures)", chgnet, "float32", KINDS),
            ("CHGNet computing float32, held to float64 tolerance", declared, "auto", KINDS),
            ("CHGNet --dtype float64 (its float64 twin)", chgnet, "float64", KINDS),
            ("EMT (float64), derivatives only", as_model(EMT()), "auto", ("derivatives",))]
    for title, model, dtype, kinds in runs:
        start = time.perf_counter()
        report = audit(model, crystals, names=names, kinds=kinds, per_kind=1, seed=args.seed, dtype=dtype)
        print(f"{title}: {len(report.checks)} checks, {len(report.failures)} failed "
              f"({', '.join(report.failing_kinds) or 'none'}), {time.perf_counter() - start:.1f} s")
        print("\n".join(_table(report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
