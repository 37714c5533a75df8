"""Measured cost of ``crystal-fourier generate`` against its printed estimate (fits the estimate's constants).

For each ball radius R, runs ``crystal-fourier generate --shell ball --cutoff R --groups all
--out TMP --allow-large`` in a fresh subprocess and records its CPU seconds (user + system, of the
child: the machine is shared, so wall time would count other processes) and its peak resident
memory (``ru_maxrss``), then prints them beside :func:`crystal_fourier.derive.generation_estimate`.

How the estimate is computed (derive/_generation_cost.py, ``generation_estimate``): from each
group's operation count |G| and the shell's frequency count n (the shell's volume, as in
``work_estimate``), edges = n |G| per group, and

    seconds = t0 + a * (sum of edges over the groups)
    peak    = m0 + k * min(sum of edges, E_cache) + c * (largest edges of one group)

t0, m0: the process (start-up, imports); a: derivation and rendering per edge; c: the peak of one
group's derivation; k: the bases the derivation cache keeps between groups until its bound
(``CACHE_BYTES``, reached at about E_cache edges). ``--fit`` refits a, t0 (least squares, relative
error) and, for each E_cache on a grid, m0, k, c, keeping the E_cache of the smallest worst
relative error; the constants in derive/_generation_cost.py are those of the run recorded there.
``--json FILE`` keeps the measurements, ``--from-json FILE`` refits from them without running.

    .venv/bin/python bench/bench_generate_estimate.py [--radii 5,8,12,16,20] [--fit] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from crystal_fourier.derive._generation_cost import generation_estimate, generation_features

REPOSITORY = Path(__file__).resolve().parents[1]


def measure(radius: int, shell: str = "ball") -> dict:
    """CPU seconds, wall seconds and peak RSS bytes of one ``generate`` run of all 230 groups.

    Parameters
    ----------
    radius : int
        The cutoff.
    shell : {'ball', 'box'}
        The frequency shell.

    Returns
    -------
    dict
        ``radius``, ``cpu_s``, ``wall_s``, ``peak_bytes``.
    """
    command = [str(Path(sys.executable).parent / "crystal-fourier"), "generate", "--shell", shell,
               "--cutoff", str(radius), "--allow-large"]
    with tempfile.TemporaryDirectory() as out:
        environment = dict(os.environ, OMP_NUM_THREADS="1")
        start = time.perf_counter()
        pid = subprocess.Popen([*command, "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=environment).pid
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"generate at R = {radius} failed (status {status})")
    return {"radius": radius, "cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall,
            "peak_bytes": usage.ru_maxrss * 1024}


def fit(rows: list[dict]) -> dict:
    """Constants of the model (module docstring) from measurements, each row weighted by 1 / its value.

    Parameters
    ----------
    rows : list of dict
        Measurements of :func:`measure`.

    Returns
    -------
    dict
        ``fixed_seconds``, ``seconds_per_edge``, ``fixed_bytes``, ``cached_bytes_per_edge``,
        ``cache_edges``, ``peak_bytes_per_edge``.
    """
    features = [generation_features("ball", row["radius"]) for row in rows]
    seconds = np.array([row["cpu_s"] for row in rows])
    peaks = np.array([row["peak_bytes"] for row in rows], dtype=float)
    total = np.array([f["total_edges"] for f in features], dtype=float)
    largest = np.array([f["max_edges"] for f in features], dtype=float)
    design = np.stack([np.ones(len(rows)), total], axis=1)
    t0, a = np.linalg.lstsq(design / seconds[:, None], np.ones(len(rows)), rcond=None)[0]
    best = None
    for cache_edges in np.geomspace(total.min() / 2, total.max() * 2, 200):
        design = np.stack([np.ones(len(rows)), np.minimum(total, cache_edges), largest], axis=1)
        m0, k, c = np.linalg.lstsq(design / peaks[:, None], np.ones(len(rows)), rcond=None)[0]
        worst = np.abs(design @ [m0, k, c] / peaks - 1).max()
        if best is None or worst < best[0]:
            best = (worst, m0, k, cache_edges, c)
    _, m0, k, cache_edges, c = best
    return {"fixed_seconds": t0, "seconds_per_edge": a, "fixed_bytes": m0, "cached_bytes_per_edge": k,
            "cache_edges": cache_edges, "peak_bytes_per_edge": c}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--radii", default="5,8,12,16,20")
    parser.add_argument("--fit", action="store_true", help="refit the model's constants and print them")
    parser.add_argument("--json", type=Path, default=None, help="also write the measurements here")
    parser.add_argument("--from-json", type=Path, default=None, help="refit from measurements written by --json")
    args = parser.parse_args(argv)
    if args.from_json:
        for name, value in fit(json.loads(args.from_json.read_text())).items():
            print(f"{name} = {value:.4g}")
        return
    rows = []
    print("| ball R | CPU s | estimate s | ratio | peak GiB | estimate GiB | ratio | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for radius in (int(r) for r in args.radii.split(",")):
        row = measure(radius)
        rows.append(row)
        estimate = generation_estimate("ball", radius)
        print(f"| {radius} | {row['cpu_s']:.1f} | {estimate.seconds:.1f} | {estimate.seconds / row['cpu_s']:.2f}x | "
              f"{row['peak_bytes'] / 2**30:.2f} | {estimate.peak_bytes / 2**30:.2f} | "
              f"{estimate.peak_bytes / row['peak_bytes']:.2f}x | {row['wall_s']:.1f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    if args.fit:
        for name, value in fit(rows).items():
            print(f"{name} = {value:.4g}")


if __name__ == "__main__":
    main()
