"""Issue 26's goal run: CHGNet (float32, float64 reruns of failures) on real crystals, every kind.

Reads the first N / len(--sets) structures of each set's test.csv (default perov_5 and carbon_24; CIF column) from
../shared/data (read in place, never copied), audits them with --per-kind 1, writes the report
(report.html included) to --out and prints, per kind, checks, failures and the worst error / tolerance.

    OMP_NUM_THREADS=1 python bench/goal_audit_chgnet.py --crystals 100 --out /tmp/goal-chgnet [--workers 2]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from crystal_fourier.audit import audit
from crystal_fourier.audit._pretrained import CHGNetModel

DATA = next((p / "shared" / "data" for p in Path(__file__).resolve().parents if (p / "shared" / "data").is_dir()),
            Path("../shared/data"))


def _read(data: Path, name: str, count: int) -> list:
    from pymatgen.core import Structure

    from crystal_fourier.runtime import Crystal

    csv.field_size_limit(sys.maxsize)
    found = []
    with open(data / name / "test.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if len(found) >= count:
                break
            structure = Structure.from_str(row["cif"], fmt="cif")
            found.append((f"{name}/{row['material_id']}", Crystal.from_pymatgen(structure)))
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crystals", type=int, default=100)
    parser.add_argument("--kinds", default="all")
    parser.add_argument("--sets", default="perov_5,carbon_24", help="data sets, the crystals split evenly")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", default="/tmp/goal-chgnet")
    parser.add_argument("--workers", type=int, default=1, help="local worker processes (each loads CHGNet once)")
    args = parser.parse_args(argv)
    sets = args.sets.split(",")
    named = [item for i, name in enumerate(sets)
             for item in _read(args.data, name, args.crystals // len(sets) + (i < args.crystals % len(sets)))]
    start = time.perf_counter()
    report = audit(CHGNetModel(), [c for _, c in named], names=[n for n, _ in named], kinds=args.kinds,
                   per_kind=1, seed=0, progress=True, workers=args.workers)
    report.write(args.out)
    print(f"{len(named)} crystals, {len(report.checks)} checks, {time.perf_counter() - start:.0f} s "
          f"(model {report.model_seconds:.0f} s), {len(report.failures)} failed, "
          f"{sum(c.roundoff for c in report.checks)} round-off, {len(report.errors)} model errors")
    for kind in report.kinds:
        chosen = [c for c in report.checks if c.kind == kind]
        if not chosen:
            continue
        failed = [c for c in chosen if c.failed]
        worst = max(chosen, key=lambda c: c.ratio)
        what = sorted({(c.quantity, c.label.split(":")[0] if kind == "derivatives" else c.label[:6]) for c in failed})
        print(f"  {kind:16s} checks {len(chosen):4d} failed {len(failed):3d} round-off "
              f"{sum(c.roundoff for c in chosen):3d} worst {worst.ratio:9.3g} {what if failed else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
