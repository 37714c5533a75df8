"""Benchmark: wrong answers of ``standardize`` on real crystals whose atoms are listed in another order.

For each crystal (spglib's test POSCARs from a folder, VASP 4 files with one stand-in element per
count, the first ``--limit`` rows of each CDVAE
CSV under ``--data``, pymatgen test CIFs from a folder), ``--orders`` seeded random permutations
of its atoms, each atom also moved by a random lattice vector, are standardized at ``--symprec``.
A crystal counts as a wrong answer when some order gives another group, another number of atoms,
or a canonical cell (cell parameters or atom positions) that differs by more than 1e-6 from the
as-given order. Both rules run in the same process on the same orders: ``before`` hands spglib the
atoms as given (the canonical sort switched off; at commit 97980a7 that is exactly the behaviour before
issue 31, later commits keep their other rules), ``after`` the package's canonical order. Run from
the repository root:

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_atom_order.py --poscars DIR --data ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from ase.data import chemical_symbols

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal, read_structure
from crystal_fourier.runtime.structure_io._cif import parse_cif
from crystal_fourier.runtime import standardize

# The baseline ("before") is standardize with spglib given the atoms as listed: the step 0 of its
# module (canonical_atom_order) is replaced by the identity for that run.
_standardization = sys.modules[standardize.__module__]

TOLERANCE = 1e-6  # Angstrom, degrees and fractional


def crystals(args):
    if args.poscars:
        for path in sorted(Path(args.poscars).iterdir()):
            try:
                yield f"poscar:{path.name}", read_structure(path, format="poscar")
            except CrystalFourierError:  # VASP 4 (no species line): one stand-in element per count
                lines = path.read_text().splitlines()
                counts = lines[5].split() if len(lines) > 5 else []
                stand_ins = list(chemical_symbols[1:len(counts) + 1])
                try:
                    yield f"poscar:{path.name}", read_structure(path, format="poscar", species=stand_ins)
                except CrystalFourierError:
                    continue
    if args.cifs:
        for path in sorted(Path(args.cifs).glob("*.cif")):
            try:
                yield f"cif:{path.name}", read_structure(path)
            except CrystalFourierError:
                continue
    if args.data:
        csv.field_size_limit(1 << 26)
        for name in ("carbon_24/test.csv", "perov_5/test.csv", "mp_20/test.csv"):
            path = Path(args.data) / name
            if not path.exists():
                continue
            with path.open(newline="") as handle:
                for index, row in enumerate(csv.DictReader(handle)):
                    if index >= args.limit:
                        break
                    yield f"{name}:{row['material_id']}", parse_cif(row["cif"], source=row["material_id"])


def key(result):
    return result.number, result.n_atoms, result.cell_parameters, result.numbers, result.positions


def differs(a, b) -> bool:
    if a[:2] != b[:2] or a[3].tolist() != b[3].tolist():
        return True
    gap = a[4] - b[4]
    gap -= np.round(gap)
    return bool(np.abs(a[2] - b[2]).max() > TOLERANCE or np.abs(gap).max() > TOLERANCE)


def standardized(crystal, symprec, canonical):
    original = _standardization.canonical_atom_order
    if not canonical:
        _standardization.canonical_atom_order = lambda c: c
    try:
        return key(_standardization.standardize(crystal, symprec=symprec))
    except CrystalFourierError as error:
        return (f"error: {error}"[:60], 0, np.zeros(6), np.zeros(0), np.zeros((0, 3)))
    finally:
        _standardization.canonical_atom_order = original


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poscars", help="folder of POSCAR files (spglib's test/functional/python/data, flattened)")
    parser.add_argument("--cifs", help="folder of CIF files (pymatgen's tests/files/cif)")
    parser.add_argument("--data", help="folder with carbon_24/, perov_5/, mp_20/ CDVAE CSVs")
    parser.add_argument("--limit", type=int, default=300, help="rows per CSV (default 300)")
    parser.add_argument("--orders", type=int, default=4, help="random orders per crystal (default 4)")
    parser.add_argument("--symprec", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True,
                            text=True).stdout.strip()
    print(f"commit {commit}; symprec {args.symprec} A; {args.orders} orders per crystal; seed {args.seed}")
    rng = np.random.default_rng(args.seed)
    counts = {"crystals": 0, "before": 0, "after": 0}
    wrong = {"before": [], "after": []}
    warnings.simplefilter("ignore")
    for name, crystal in crystals(args):
        counts["crystals"] += 1
        orders = [(rng.permutation(crystal.n_atoms), rng.integers(-2, 3, size=(crystal.n_atoms, 3)))
                  for _ in range(args.orders)]
        for rule, canonical in (("before", False), ("after", True)):
            reference = standardized(crystal, args.symprec, canonical)
            for order, shifts in orders:
                moved = Crystal(crystal.lattice, crystal.positions[order] + shifts, crystal.numbers[order])
                other = standardized(moved, args.symprec, canonical)
                if differs(reference, other):
                    counts[rule] += 1
                    wrong[rule].append(f"{name}: {reference[0]} -> {other[0]}")
                    break
    for rule in ("before", "after"):
        print(f"{rule:>6}: {counts[rule]} of {counts['crystals']} crystals give another answer for another order")
        for line in wrong[rule][:20]:
            print(f"        {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
