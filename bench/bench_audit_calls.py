"""An ASE calculator instance in the audit: reused (now) against deep-copied on every call (before issue 26).

Same crystals, same seed, same kinds, one process: the baseline adapter deep-copies the EMT instance
before each call, as ``as_model(instance)`` did; the new one resets and reuses it. Prints both wall
times (whole audit and model calls) and the speed-up, with the commit.

    OMP_NUM_THREADS=1 python bench/bench_audit_calls.py --crystals 20
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import time

from crystal_fourier.audit import KINDS, as_model, audit
from crystal_fourier.audit._adapters import ASEModel
from crystal_fourier.runtime import random_crystal


class DeepCopiedEMT(ASEModel):
    """The old behaviour: a deep copy of the calculator instance per call."""

    def evaluate(self, crystal):
        atoms = crystal.to_ase()
        atoms.calc = copy.deepcopy(self.calculator)
        return {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(),
                "stress": atoms.get_stress(voigt=False)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crystals", type=int, default=20)
    parser.add_argument("--max-atoms", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    from ase.calculators.emt import EMT

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip()
    crystals = [random_crystal(1 + (7 * i) % 230, seed=args.seed + i, max_atoms=args.max_atoms).crystal
                for i in range(args.crystals)]
    audit(as_model(EMT()), crystals, kinds=KINDS, per_kind=1, seed=args.seed)   # warm the symmetry caches
    best = {}
    for _ in range(args.repeats):
        for name, make in (("deep copy per call (before)", lambda: DeepCopiedEMT(EMT())),
                           ("instance reused (now)", lambda: as_model(EMT()))):
            start = time.perf_counter()
            report = audit(make(), crystals, kinds=KINDS, per_kind=1, seed=args.seed)
            wall = time.perf_counter() - start
            previous = best.get(name, (float("inf"), 0.0, None))
            best[name] = min(previous, (wall, report.model_seconds, report.ok), key=lambda t: t[0])
    print(f"commit {commit}; {args.crystals} random crystals (<= {args.max_atoms} atoms), all {len(KINDS)} kinds, "
          f"per_kind 1, seed {args.seed}, best of {args.repeats}")
    for name, (wall, model, ok) in best.items():
        print(f"{name:30s} audit {wall:7.2f} s   model calls {model:7.2f} s   ok={ok}")
    (old_wall, old_model, _), (new_wall, new_model, _) = best.values()
    print(f"speed-up: model calls {old_model / new_model:.2f}x, whole audit {old_wall / new_wall:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
