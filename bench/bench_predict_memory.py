"""Peak memory of ``crystal-fourier predict`` against the number of files (issue 18, bounded resources).

Trains a tiny model once, writes N copies of a P1 crystal of ``--atoms`` atoms (P1 keeps its
cell through standardization, so every structure really has that many atoms), and runs
``predict`` on them in a fresh process per N, reporting that process's peak resident memory
(``ru_maxrss``). ``--baseline PYTHON`` runs the same commands with another interpreter (e.g.
the main checkout's ``/work/main/.venv/bin/python``) in the same run, for the before/after table.

    OMP_NUM_THREADS=1 python bench/bench_predict_memory.py --atoms 1600 --files 4 16 32 \
        --baseline /work/main/.venv/bin/python

Measured (one core, 2-core shared machine, tiny model d_model 16, 1,600-atom P1 cells; peak RSS):

    files    streaming (this)    before (main: whole batch at once)
      4         437 MiB              450 MiB
     16         437 MiB              952 MiB
     32         507-544 MiB         1635 MiB
     96         532 MiB              (not run; grows ~37 MiB per file)

The streaming peak is flat once a chunk is full (CHUNK_ATOMS = 50,000 atoms: 31 such files).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MEASURE = """
import resource, sys, io, contextlib
from crystal_fourier.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    status = main(["predict", "--model", sys.argv[1], *sys.argv[2:]])
rows = out.getvalue().strip().splitlines()[1:]
print(status, len(rows), sum(1 for r in rows if r.split(",")[1]), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _model(folder: Path) -> Path:
    from crystal_fourier.runtime import ModelConfig, TrainConfig, fit, random_crystal
    from crystal_fourier.runtime.network._batching import sample_from_arrays
    from crystal_fourier.derive import space_group

    samples = []
    for seed, number in enumerate((1, 2, 14, 62, 194, 225) * 3):
        made = random_crystal(number, seed=seed, max_atoms=8)
        crystal = made.crystal
        samples.append(sample_from_arrays(crystal.lattice, crystal.positions, crystal.numbers,
                                          space_group(made.number).hall_number, made.number,
                                          target=float(crystal.numbers.mean()), id=str(seed)))
    model = ModelConfig(kind="cft", d_model=16, n_heads=2, n_layers=1, d_ff=32, d_route=16, d_position=16,
                        d_head=16)
    config = dataclasses.replace(TrainConfig(model=model, epochs=1, batch_size=8, progress=False))
    out = folder / "model"
    fit(samples, config, out)
    return out


def _files(folder: Path, atoms: int, count: int) -> list[str]:
    import numpy as np

    from crystal_fourier.runtime import write_cif, Crystal

    rng = np.random.default_rng(0)
    grid = int(np.ceil(atoms ** (1 / 3)))
    cells = np.stack(np.unravel_index(np.arange(atoms), (grid, grid, grid)), axis=1)
    positions = (cells + 0.5 + rng.uniform(-0.25, 0.25, (atoms, 3))) / grid
    side = (12.0 * atoms) ** (1 / 3)
    lattice = np.diag([side, side * 1.07, side * 0.93]) + rng.normal(scale=0.3, size=(3, 3))
    crystal = Crystal.from_arrays(lattice, positions, rng.choice([8, 14, 26], atoms))
    text = write_cif(crystal)
    paths = []
    for index in range(count):
        path = folder / f"s{index:05d}.cif"
        if not path.exists():
            path.write_text(text)
        paths.append(str(path))
    return paths


def _run(python: str, model: Path, files: list[str]) -> dict:
    start = time.perf_counter()
    done = subprocess.run([python, "-c", MEASURE, str(model), *files], capture_output=True, text=True, check=False,
                          cwd=model.parent,  # not the checkout: `python -c` would import its crystal_fourier/ first
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    status, rows, predicted, peak_kib = (int(v) for v in done.stdout.split()[-4:])
    return {"status": status, "rows": rows, "predicted": predicted, "peak_mib": round(peak_kib / 1024, 1),
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=400)
    parser.add_argument("--files", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--baseline", default=None, metavar="PYTHON", help="interpreter of the code to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        model = _model(folder)
        results = []
        for count in args.files:
            files = _files(folder, args.atoms, count)
            row = {"files": count, "atoms": args.atoms, "this": _run(sys.executable, model, files)}
            if args.baseline:
                row["baseline"] = _run(args.baseline, model, files)
            results.append(row)
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
