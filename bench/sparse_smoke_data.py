"""A stand-in data set for smoke runs of the sparse-data grid (``SMOKE=1 bash bench/device_sparse.sh``).

NOT the protocol's data: every row is a two-atom CsCl-type cell (Pm-3m; a seeded random cell edge of
3.8-4.6 Angstrom and one of three salts, so that the GBM's features vary) under the protocol's row ids
(``cf25-IIIIII-sgN``, ``--per-group`` rows per group, the fewest the k = 1 split takes), labelled with a
seeded random ``energy_per_atom``. It lets the split, every arm, the shards
and the collection run end to end in seconds on a CPU, so that the GPU script is known to work
before a GPU is lent; its numbers mean nothing.

Usage: python bench/sparse_smoke_data.py CACHE [--per-group 5]
Exit status: 0 written (or already there), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sparse_split   # noqa: E402


def write(cache: Path, per_group: int) -> Path:
    """Write the stand-in CSV under ``cache`` (atomically) unless it is there; its path."""
    from crystal_fourier.runtime import Crystal, write_cdvae_csv, write_cif

    path = sparse_split.dataset_path(cache, per_group)
    if path.is_file():
        return path
    rng = np.random.default_rng(0)
    salts = (("Cs", "Cl"), ("Na", "Cl"), ("K", "Br"))
    rows = []
    for i in range(sparse_split.N_GROUPS * per_group):
        edge, salt = rng.uniform(3.8, 4.6), salts[int(rng.integers(len(salts)))]
        crystal = Crystal.from_arrays(edge * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], list(salt))
        rows.append({"material_id": f"cf{sparse_split.DATA_SEED}-{i:06d}-sg{1 + i % sparse_split.N_GROUPS}",
                     "cif": write_cif(crystal), "spacegroup": 221, "energy_per_atom": float(rng.normal(-1.0, 0.1)),
                     "bulk_modulus": 1.0})
    path.parent.mkdir(parents=True, exist_ok=True)
    write_cdvae_csv(path, rows)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", help="folder to write the stand-in CSV into (keep it apart from a real cache)")
    parser.add_argument("--per-group", type=int, default=sparse_split.TEST_PER_GROUP + 1)
    args = parser.parse_args(argv)
    if args.per_group < sparse_split.TEST_PER_GROUP + 1:
        print(f"error: --per-group must be at least {sparse_split.TEST_PER_GROUP + 1}", file=sys.stderr)
        return 2
    print(write(Path(args.cache), args.per_group))
    return 0


if __name__ == "__main__":
    sys.exit(main())
