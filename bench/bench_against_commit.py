"""Benchmark: ``predict``'s throughput against another checkout of the package, alternating processes (prints numbers).

Issue 29's goal for ``predict`` is a ratio: >= 2x the crystals per CPU second of the commit that filed it
(5109f40), in one run, one thread. A fixed rate (the 300 per CPU second it quoted) moves with the machine:
the same commit measured 241 and 312 per CPU second on two machines of this kind a few hours apart. This
script measures the ratio on one machine in one run:

* the crystals are :func:`bench_screening.crystals` of this checkout (138 crystals of 46 groups, <= 50 atoms,
  permuted and shifted), written once to a temporary ``.npz`` that both checkouts read, so both see the same
  input bytes;
* each round runs one process of this checkout and one of ``--other`` (its own Python, e.g. a virtual
  environment whose ``crystal_fourier`` is that commit), in alternating order, each on one thread; a process
  builds a default-size CFT (seed 0), warms up on the whole set once (every per-group table built, as in a
  screening run of many crystals per group), then times ``--passes`` passes of ``prepare_samples`` +
  ``predict_samples`` in CPU time of the process;
* printed per round: the best and median rate of each process and the ratio of the best rates; at the end the
  median of the rounds' ratios (the machine's speed drifts over minutes; alternating rounds cancel most of it).

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_against_commit.py --other-python ../base/.venv/bin/python \\
        --other-root ../base [--rounds 3] [--passes 5] [--batch-size 256]

A frozen checkout of a commit for ``--other``: ``git worktree add ../base 5109f40``, a virtual environment
there whose ``crystal_fourier`` is that tree (``pip install --no-deps -e .`` after the dependencies).
A missing ``--other-python`` or ``--other-root`` is one line and exit status 2; a process of either checkout
that fails ends the run with its last lines of stderr.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

WORKER = r"""
import json, sys, time
import numpy as np
import torch
from crystal_fourier.runtime import Crystal, ModelConfig, build_model, predict_samples, prepare_samples

torch.set_num_threads(1)
path, passes, batch_size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with np.load(path) as data:
    counts = data["counts"].tolist()
    lattices, positions, numbers = data["lattices"], data["positions"], data["numbers"]
starts = np.concatenate([[0], np.cumsum(counts)]).tolist()
crystals = [Crystal(lattices[i], positions[starts[i]:starts[i + 1]], numbers[starts[i]:starts[i + 1]])
            for i in range(len(counts))]
records = [(crystal, {}, str(i)) for i, crystal in enumerate(crystals)]
torch.manual_seed(0)
model = build_model(ModelConfig()).eval()
rates = []
with torch.no_grad():
    predict_samples(model, prepare_samples(records, None), batch_size)   # warm-up: every table built
    for _ in range(passes):
        cpu = time.process_time()
        predict_samples(model, prepare_samples(records, None), batch_size)
        rates.append(len(crystals) / (time.process_time() - cpu))
print(json.dumps({"rates": rates, "parameters": sum(p.numel() for p in model.parameters())}))
"""


def write_crystals(path: Path, limit: int | None = None) -> int:
    """The bench_screening crystals of this checkout (the first ``limit``, if given), as one .npz both checkouts
    read; returns their count."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_screening   # the sibling script: one definition of the screening set

    items = bench_screening.crystals(range(1, 231, 5), 3, 50)[:limit]
    np.savez(path, counts=np.array([c.n_atoms for c in items]), lattices=np.stack([c.lattice for c in items]),
             positions=np.vstack([c.positions for c in items]), numbers=np.concatenate([c.numbers for c in items]))
    return len(items)


def run(python: str, root: Path, path: Path, passes: int, batch_size: int) -> dict:
    """``{"rates": per-pass crystals per CPU second, "parameters": the model's parameter count}`` of one fresh
    process of ``python`` started in ``root``."""
    done = subprocess.run([python, "-c", WORKER, str(path), str(passes), str(batch_size)], cwd=root,
                          capture_output=True, text=True, env={**_environment(), "PYTHONPATH": ""}, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{python} in {root} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def commit(root: Path) -> str:
    """The checkout's commit (``git rev-parse --short HEAD``), ``+changes`` when its tree differs; '?' outside git."""
    def git(*arguments):
        return subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True, check=False)

    head = git("rev-parse", "--short", "HEAD")
    if head.returncode != 0:
        return "?"
    changed = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return head.stdout.strip() + ("+changes" if changed else "")


def _environment() -> dict:
    import os

    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other-python", required=True, help="the Python whose crystal_fourier is the other commit")
    parser.add_argument("--other-root", required=True, help="the other checkout (the working directory of its runs)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256, help="predict's default (256)")
    parser.add_argument("--crystals", type=int, default=None, help="only the first N crystals (a smoke run)")
    args = parser.parse_args(argv)
    if shutil.which(args.other_python) is None:
        parser.error(f"--other-python {args.other_python!r} is not an executable Python")
    if not Path(args.other_root).is_dir():
        parser.error(f"--other-root {args.other_root!r} is not a directory")
    ours = (sys.executable, ROOT)
    other = (args.other_python, Path(args.other_root).resolve())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crystals.npz"
        count = write_crystals(path, args.crystals)
        print(f"{count} crystals; {args.passes} timed passes a process after a warm-up pass; batch {args.batch_size}; "
              f"this checkout {commit(ROOT)}, other {commit(other[1])}")
        ratios = []
        for round_index in range(args.rounds):
            order = (ours, other) if round_index % 2 == 0 else (other, ours)
            runs = {label: run(python, root, path, args.passes, args.batch_size)
                    for label, (python, root) in zip(("a", "b"), order, strict=True)}
            mine, theirs = (runs["a"], runs["b"]) if order[0] is ours else (runs["b"], runs["a"])
            this, that = mine["rates"], theirs["rates"]
            if round_index == 0:
                print(f"default CFT: {mine['parameters']:,} parameters here, {theirs['parameters']:,} in the other")
            ratios.append(max(this) / max(that))
            print(f"round {round_index + 1}: this checkout best {max(this):.0f} (median {np.median(this):.0f}), "
                  f"other best {max(that):.0f} (median {np.median(that):.0f}) crystals per CPU second; "
                  f"ratio of best {ratios[-1]:.2f}x")
        print(f"median ratio over {args.rounds} rounds: {np.median(ratios):.2f}x (issue 29's goal >= 2x of 5109f40)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
