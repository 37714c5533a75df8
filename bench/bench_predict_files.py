"""Benchmark: ``crystal-fourier predict`` on CIF files, one process, with close_pairs' small-set path on and off.

Issue 29's goal is ``predict`` >= 300 crystals per CPU-second. This times the whole command (reading
each CIF, standardizing, batching with the neighbour lists, the model, the CSV) on ``--files``
random crystals (<= 20 atoms, the files and model of ``bench_workers.py``), in this process, best
of ``--repeats``, alternating two arms so that both see the same machine:

* ``grid``: :func:`~crystal_fourier.runtime.structure_io._close_pairs.close_pairs` always bins (the
  code before it compared every pair of small sets);
* ``pairs``: sets of up to 96 points compare every pair (the default).

The CSVs of both arms must be the same bytes (printed). CPU seconds of this process (one thread).

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_predict_files.py [--files 512] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_workers import prepare_predict

    from crystal_fourier.cli import main as cli
    from crystal_fourier.runtime.structure_io._close_pairs import close_pairs

    module = sys.modules[close_pairs.__module__]  # the arms set its limit of the small-set path
    arms = {"grid": 0, "pairs": module.ALL_PAIRS_UP_TO}
    with tempfile.TemporaryDirectory() as tmp:
        paths = prepare_predict(Path(tmp), args.files)
        argv = ["predict", "--model", str(Path(tmp) / "model"), *map(str, paths)]
        cli([*argv, "--out", str(Path(tmp) / "warm.csv")])  # per-group tables, the model's first calls
        best, rows = {}, {}
        for repeat in range(args.repeats):
            for name, limit in arms.items():
                module.ALL_PAIRS_UP_TO = limit
                out = Path(tmp) / f"{name}{repeat}.csv"
                start = time.process_time()
                cli([*argv, "--out", str(out)])
                best[name] = min(best.get(name, float("inf")), time.process_time() - start)
                rows[name] = out.read_bytes()
        module.ALL_PAIRS_UP_TO = arms["pairs"]
    for name, seconds in best.items():
        print(f"{name:>6}: {args.files / seconds:6.1f} files per CPU-second ({1e3 * seconds / args.files:.2f} ms each)")
    print(f"pairs / grid: {best['grid'] / best['pairs']:.3f}x; the same CSV bytes: {rows['grid'] == rows['pairs']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
