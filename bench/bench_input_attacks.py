"""Benchmark: exit status, peak memory and message of hostile structure inputs to ``predict`` (issue 31).

Writes the attack files into a temporary folder (a CIF listing 'x,y,z' 6,000 and 12,000 times, a
sparse 2 GiB file of zeros, a 1 MB gzip file that inflates to 1 GiB, an 8,000-atom P1 structure, Na
and Cl on one point, JSON nested 100,000 deep, '-', a FIFO, a directory, a symlink loop, gzip
POSCAR/CIF, a POSCAR scaled by 1e200) and runs ``crystal-fourier predict --model MODEL ATTACK
good.vasp`` on each in a child process, printing its exit status, peak resident memory (the child's
``ru_maxrss``), the number of rows and the attack's row. The baseline is the same command on
``good.vasp`` alone, run first in the same way. Run from the repository root with a saved model:

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_input_attacks.py --model DIR
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from crystal_fourier.runtime import Crystal, random_crystal, write_cif, write_poscar


def attack_files(folder: Path) -> dict[str, list[str]]:
    good = random_crystal(225, seed=3, max_atoms=8).crystal
    (folder / "good.vasp").write_text(write_poscar(good))
    text = write_cif(good)
    start = text.index("loop_\n _symmetry_equiv_pos_site_id")
    end = text.index("loop_", start + 5)
    for copies in (6000, 12000):
        (folder / f"ops{copies}.cif").write_text(text[:start] + "loop_\n _symmetry_equiv_pos_as_xyz\n"
                                                 + "  'x,y,z'\n" * copies + text[end:])
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with (folder / "zeros.vasp").open("wb") as handle:
        handle.truncate(2 << 30)  # sparse: no disk used
    with gzip.open(folder / "bomb.cif.gz", "wb", compresslevel=9) as handle:
        for _ in range(1024):
            handle.write(b"#" * (1 << 20))
    grid = np.stack(np.meshgrid(*[np.arange(20)] * 3, indexing="ij"), -1).reshape(-1, 3)
    jitter = np.random.default_rng(0).uniform(-0.2, 0.2, size=grid.shape)
    big = Crystal((8000 * 12.0) ** (1 / 3) * np.eye(3), (grid + 0.5 + jitter) / 20, ["Si"] * 8000)
    (folder / "big8000.vasp").write_text(write_poscar(big))
    (folder / "same_point.vasp").write_text("NaCl\n1.0\n5.64 0 0\n0 5.64 0\n0 0 5.64\nNa Cl\n1 1\nDirect\n"
                                            "0 0 0\n0 0 0\n")
    (folder / "POSCAR.gz").write_bytes(gzip.compress(write_poscar(good).encode()))
    (folder / "good.cif.gz").write_bytes(gzip.compress(text.encode()))
    (folder / "POSCAR_1e200").write_text(write_poscar(good).replace("\n1.0\n", "\n1e200\n", 1))
    (folder / "a_directory").mkdir()
    os.symlink(folder / "loop2.cif", folder / "loop1.cif")
    os.symlink(folder / "loop1.cif", folder / "loop2.cif")
    os.mkfifo(folder / "fifo.cif")
    names = ["ops6000.cif", "ops12000.cif", "zeros.vasp", "bomb.cif.gz", "big8000.vasp", "same_point.vasp",
             "deep.json", "-", "fifo.cif", "a_directory", "loop1.cif", "POSCAR.gz", "good.cif.gz", "POSCAR_1e200"]
    return {"baseline": []} | {name: [name] for name in names}


def run(model: str, files: list[str], folder: Path) -> tuple[int, float, list[list[str]]]:
    command = [sys.executable, "-m", "crystal_fourier", "predict", "--model", model, *files, "good.vasp"]
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, list(csv.reader(io.StringIO(output)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a saved model directory")
    args = parser.parse_args(argv)
    model = str(Path(args.model).resolve())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True,
                            text=True).stdout.strip()
    print(f"commit {commit}; model {model}; peak resident memory of the child process")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        attacks = attack_files(folder)
        baseline = None
        for name, files in attacks.items():
            status, peak, rows = run(model, files, folder)
            baseline = peak if baseline is None else baseline
            row = rows[1] if len(rows) > 1 and files else []
            reason = (row[2] if len(row) > 2 and row[2] else (row[1] if len(row) > 1 else ""))[:150]
            print(f"{name:>16}: exit {status}, peak {peak:7.0f} MB ({peak / baseline:4.2f} x baseline), "
                  f"{max(len(rows) - 1, 0)} rows; {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
