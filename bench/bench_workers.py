"""Benchmark: the engine's local workers and Dask against one process, for ``predict`` and ``audit`` (prints numbers).

Issue 29's goals: ``predict`` with 2 workers >= 1.8x the throughput of 1 (on 2 cores), and the Dask
path's overhead <= 10% on a LocalCluster of 2 workers; issue 26's: ``audit`` with 2 workers >= 1.8x.
Every run is timed in this process, the baseline (one process) first, best of ``--repeats``:

* predict: ``--files`` CIF files of random crystals (<= 20 atoms) through
  :func:`crystal_fourier.runtime.stream_predictions`, with a model of the default size trained for one
  epoch (its weights do not change the cost). The one-process run has the model loaded already; the
  worker runs include starting the workers and loading the model in each (as the command does).
  "2 workers, 1st pool" is the first pool of the process (its fork server imports torch and the package,
  as the first job on a fresh Dask cluster does in each worker); Dask runs cold (first job on a fresh
  cluster), warm (later jobs) and cold on workers started with the package preloaded (also without the
  nanny's ``MALLOC_TRIM_THRESHOLD_``, see docs/guide/parallel.md), each against the
  local run with the same start-up; then the warm engines alternate run by run (the fairer comparison
  on a machine whose speed drifts).
* audit: ``--crystals`` random crystals audited with ASE's EMT (all kinds, 2 per kind).

Wall time, throughput and CPU seconds (this process and every worker, sampled) are printed. The
machine may be shared: read the CPU seconds beside the wall time, and run it on an idle machine
for the ratios.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_workers.py [--files 1024] [--crystals 16] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


class CpuMeter:
    """CPU seconds (user + system) of this process and every descendant, sampled every 0.1 s by a thread:
    pool workers are children of the fork server, Dask's of their nannies, and end before ``wait`` could
    count them, so each process's last sample is kept."""

    def __init__(self) -> None:
        import psutil  # a dependency of distributed

        self.root = psutil.Process()
        self.last: dict[int, float] = {}
        self.running = True
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        import psutil

        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            self.last[process.pid] = times.user + times.system

    def _watch(self) -> None:
        while self.running:
            self._sample()
            time.sleep(0.1)

    def total(self) -> float:
        """CPU seconds so far, summed over every process seen."""
        self._sample()
        return sum(self.last.values())


DASK_PRELOAD = ("torch", "crystal_fourier.runtime")
"""What ``dask worker --preload`` imports as each worker starts (what the local workers' fork server preloads)."""

METER: list = []
"""The one CpuMeter of the run (started in main)."""


def best(run, repeats: int) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result) of the fastest of ``repeats`` runs."""
    found = None
    for _ in range(repeats):
        cpu, start = METER[0].total(), time.perf_counter()
        result = run()
        wall, used = time.perf_counter() - start, METER[0].total() - cpu
        if found is None or wall < found[0]:
            found = (wall, used, result)
    return found


def prepare_predict(folder: Path, count: int) -> list[Path]:
    from crystal_fourier.cli import main
    from crystal_fourier.runtime import random_crystal, write_cdvae_csv, write_cif

    groups = (1, 2, 14, 15, 62, 63, 139, 166, 194, 221, 225, 227)
    rows = []
    for seed, number in enumerate(groups[:6]):
        crystal = random_crystal(number, seed=seed, max_atoms=12).crystal
        rows.append({"material_id": f"m{seed}", "cif": write_cif(crystal), "spacegroup": number,
                     "energy": float(crystal.numbers.mean() / 40.0)})
    write_cdvae_csv(folder / "train.csv", rows)
    status = main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(folder / "model"),
                   "--epochs", "1", "--no-progress"])
    assert status == 0, status
    paths = []
    for index in range(count):
        path = folder / f"c{index:05d}.cif"
        path.write_text(write_cif(random_crystal(groups[index % len(groups)], seed=index, max_atoms=20).crystal))
        paths.append(path)
    return paths


def predict_rows(model, paths, **engine) -> list[str]:
    from crystal_fourier.runtime import read_structure, stream_predictions

    return [f"{p.name},{p.value!r},{p.error}" for p in stream_predictions(
        model, ((str(path), path) for path in paths), load=read_structure, **engine)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1024, help="structure files for predict (default 1024)")
    parser.add_argument("--crystals", type=int, default=16, help="random crystals for the audit (default 16)")
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs (default 2)")
    parser.add_argument("--skip-audit", action="store_true")
    args = parser.parse_args()

    import distributed

    METER.append(CpuMeter())

    from crystal_fourier.runtime import load_trained

    print(f"cores: {os.cpu_count()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        paths = prepare_predict(Path(tmp), args.files)
        model = load_trained(Path(tmp) / "model")
        results = {"1 process": best(lambda: predict_rows(model, paths), args.repeats)}
        # the first pool starts the fork server, which imports torch and the package once (as the first
        # Dask job's workers do); later pools fork from the running server and only load the model
        results["2 workers, 1st pool"] = best(lambda: predict_rows(model, paths, workers=2), 1)
        results["2 workers"] = best(lambda: predict_rows(model, paths, workers=2), args.repeats)
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            # cold: the first job on a fresh cluster (its workers import torch and the package, load the
            # model); warm: later jobs on the same cluster (the workers keep both)
            dask = lambda: predict_rows(model, paths, scheduler=cluster.scheduler_address)  # noqa: E731
            results["Dask cold (1st job)"] = best(dask, 1)
            results["Dask warm (later)"] = best(dask, args.repeats)
            # the same warm comparison alternating the engines run by run: this machine's speed drifts over
            # minutes, so blocks of runs of one engine after the other compare the drift as much as the engines
            local = lambda: predict_rows(model, paths, workers=2)  # noqa: E731
            alternating = [(best(local, 1)[0], best(dask, 1)[0]) for _ in range(args.repeats)]
        # workers started with the package preloaded (dask worker --preload ...): the first job only loads the model
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                      preload=list(DASK_PRELOAD)) as cluster:
            dask = lambda: predict_rows(model, paths, scheduler=cluster.scheduler_address)  # noqa: E731
            results["Dask cold, preloaded"] = best(dask, 1)
        # the same with the nanny's MALLOC_TRIM_THRESHOLD_ unset (None removes it): that variable also pins glibc's
        # mmap threshold at 128 KiB, so each larger array is mapped and unmapped anew (docs/guide/parallel.md). The
        # clusters above wrote it into this process's environment (the nanny sets it before spawning): drop it too.
        from dask import config as dask_config

        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        with dask_config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
                distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                         preload=list(DASK_PRELOAD)) as cluster:
            dask_run = lambda: predict_rows(model, paths, scheduler=cluster.scheduler_address)  # noqa: E731
            results["Dask cold, preloaded, no trim variable"] = best(dask_run, 1)
        _table(f"predict, {len(paths)} files (<= 20 atoms), default model size", results, len(paths), "files")
        same = len({tuple(result) for _, _, result in results.values()}) == 1
        print(f"  identical rows in all runs: {same}")
        # like against like: each Dask run against the local run that pays the same start-up (imports in
        # the workers: the first pool; model loading only: a pool forked from the running server)
        pairs = (("Dask cold (1st job)", "2 workers, 1st pool"), ("Dask warm (later)", "2 workers"),
                 ("Dask cold, preloaded", "2 workers"), ("Dask cold, preloaded, no trim variable", "2 workers"),
                 ("Dask cold (1st job)", "2 workers"))
        for name, local in pairs:
            print(f"  {name} overhead against {local}: {100 * (results[name][0] / results[local][0] - 1):+.1f}% "
                  "(goal <= 10%)")
        print("  alternating, warm (2 workers s / Dask s): " + ", ".join(f"{a:.2f} / {b:.2f}" for a, b in alternating)
              + f"; Dask overhead, median of runs: {100 * (np.median([b / a for a, b in alternating]) - 1):+.1f}%")
    if not args.skip_audit:
        _audit(args)


def _audit(args) -> None:
    from crystal_fourier.audit import audit
    from crystal_fourier.runtime import random_crystal

    groups = (221, 225, 229, 194, 139, 166, 62, 14)
    crystals = [random_crystal(groups[i % len(groups)], seed=i, max_atoms=16).crystal for i in range(args.crystals)]
    results = {}
    for name, workers in (("1 process", 1), ("2 workers", 2)):
        results[name] = best(lambda workers=workers: audit("ase:EMT", crystals, workers=workers), args.repeats)
    _table(f"audit, ASE EMT, {len(crystals)} crystals, all kinds, 2 per kind", results, len(crystals), "crystals")
    checks = {name: len(report.checks) for name, (_, _, report) in results.items()}
    print(f"  checks per run: {checks}")


def _table(title: str, results: dict, count: int, unit: str) -> None:
    base = results["1 process"][0]
    print(f"\n{title}")
    print(f"  {'run':<38} {'wall s':>8} {unit + '/s':>12} {'CPU s':>8} {'speed-up':>9}")
    for name, (wall, cpu, _) in results.items():
        print(f"  {name:<38} {wall:8.2f} {count / wall:12.1f} {cpu:8.2f} {base / wall:8.2f}x")


if __name__ == "__main__":
    main()
