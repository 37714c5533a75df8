"""Training at scale on CPU: preprocessing once (`dataset prepare`) against per rank, and memory per torchrun rank.

For 1 and 2 torchrun ranks (gloo, one thread each), what ``train --data FILE`` does (today: every rank
reads and standardizes the whole data set and holds every sample) against ``train --data STORE`` (the
store of ``dataset prepare``, memory-mapped), through the public API (:func:`worker`), one epoch of a
tiny model. Each rank records, from /proc/self:

* its preprocessing seconds (reading, standardizing and the neighbourhoods; with a store, opening and
  checking it);
* its peak RSS (VmHWM), and the peaks of PSS, anonymous PSS, file PSS and USS (Private_Clean +
  Private_Dirty) of /proc/self/smaps_rollup, sampled every 0.2 s.

The same runs on ``--reference`` crystals (400: enough to fill the evaluation's batches of 256) give the
memory that does not grow with the data (torch's libraries, the model, the optimizer, the activations:
about 340 MiB RSS); the data's share per rank is the peak on ``--limit`` crystals less the peak on
``--reference``, the memory of ``limit - reference`` crystals.

RSS counts every page of the store a rank has touched in full although the ranks share them in the
page cache; PSS divides each shared page among the processes mapping it, so it is the per-rank figure
that adds up to the machine's memory. See docs/guide/training-at-scale.md.

Usage::

    python bench/bench_store.py [--data /work/shared/data/perov_5/val.csv] [--target heat_ref] [--limit 2000]
    python bench/bench_store.py --prepare-only --limits 1000 3000 [--python OTHER/.venv/bin/python]

The data file is read in place (never copied). Results are printed and written to ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

MODEL = {"kind": "cft", "d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32, "d_route": 16, "d_position": 16}
"""A tiny model (train's options --d-model 16 --heads 2 --layers 1 --d-route 16 --d-position 16): the data's
memory, not the model's, is measured."""
SAMPLE_SECONDS = 0.2
_ROLLUP = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Private_Clean", "Private_Dirty")


def memory() -> dict:
    """kB of this process: Rss, Pss, Pss_Anon, Pss_File and Uss of /proc/self/smaps_rollup."""
    values = {}
    with open("/proc/self/smaps_rollup") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            if name in _ROLLUP:
                values[name] = int(rest.split()[0])
    values["Uss"] = values.pop("Private_Clean") + values.pop("Private_Dirty")
    return values


def peak_rss_kb() -> int:
    with open("/proc/self/status") as handle:
        return next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))


class Sampler(threading.Thread):
    """Keeps the largest value of each :func:`memory` field while it runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = memory()
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            for name, value in memory().items():
                self.peak[name] = max(self.peak[name], value)


def worker(out_dir: str, argv: list[str]) -> int:
    """One rank: what ``train --data PATH`` does, through the public API, timed and sampled; writes RANK.json.

    ``argv`` is ``PATH TARGET LIMIT OUT``. A data file is read and standardized (``load_dataset``,
    ``prepare_samples``: ``train``'s ``load_samples``) and given its neighbourhoods (``with_neighbours``,
    as ``fit`` does first); a store is opened and checked (``open_sample_store``). Then ``fit``.
    """
    from crystal_fourier.runtime import ModelConfig, TrainConfig, fit, load_dataset, prepare_samples
    from crystal_fourier.runtime.learning._sample_store import is_sample_store, open_sample_store
    from crystal_fourier.runtime.network._neighbourhood import with_neighbours

    path, target, limit, out = argv[0], argv[1], int(argv[2]), argv[3]
    config = TrainConfig(target=target, model=ModelConfig(**MODEL), epochs=1, batch_size=64, progress=False)
    baseline = memory()
    sampler = Sampler()
    sampler.start()
    start = time.perf_counter()
    if is_sample_store(path):
        samples = open_sample_store(path)
        samples = samples.take(range(min(limit, len(samples))))
    else:
        samples = prepare_samples(load_dataset(path, targets=[target], limit=limit), target,
                                  symprec=config.symprec)
        samples = with_neighbours(samples, *config.model.neighbour_spec)
    preprocess = time.perf_counter() - start
    fit(samples, config, out)
    total = time.perf_counter() - start
    sampler.stopped.set()
    sampler.join()
    rank = int(os.environ.get("RANK", "0"))
    result = {"rank": rank, "world": int(os.environ.get("WORLD_SIZE", "1")), "preprocess_s": preprocess,
              "total_s": total, "peak_rss_kb": peak_rss_kb(), "peak": sampler.peak, "baseline": baseline}
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(result))
    return 0


def launch(ranks: int, argv: list[str], work: Path, name: str) -> list[dict]:
    """torchrun ``ranks`` processes of :func:`worker`; their results, by rank."""
    out = work / name
    out.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", MASTER_ADDR="127.0.0.1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks),
               __file__, "--worker", str(out), "--", *argv]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name}: torchrun failed\n{done.stderr[-3000:]}")
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(ranks)]


def prepare(args, store: Path, limit: int | None = None, python: str | None = None) -> dict:
    """``dataset prepare`` in a child process (of ``python``, default this one): its seconds and peak RSS (kB)."""
    command = [python or sys.executable, "-m", "crystal_fourier", "dataset", "prepare", "--data", args.data,
               "--target", args.target, "--out", str(store), "--limit", str(limit or args.limit), "--no-progress"]
    start = time.perf_counter()
    checkout = Path(python).absolute().parents[2] if python else None  # OTHER/.venv/bin/python: run OTHER's code
    child = subprocess.Popen(command, env=dict(os.environ, OMP_NUM_THREADS="1"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, cwd=checkout)
    _, _, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest of all children so far
    seconds = time.perf_counter() - start
    errors = child.stderr.read().decode(errors="replace")
    if not store.is_dir():
        raise SystemExit(f"dataset prepare failed: {command}\n{errors[-2000:]}")
    return {"seconds": seconds, "peak_rss_kb": usage.ru_maxrss,
            "store_bytes": sum(p.stat().st_size for p in store.iterdir())}


def prepare_only(args) -> int:
    """``--prepare-only``: peak RSS of ``dataset prepare`` at each of ``--limits``, here and with ``--python``."""
    import hashlib

    pythons = {"this": sys.executable, **({"other": args.python} if args.python else {})}
    print(f"{'crystals':>9} {'run':>6} {'seconds':>8} {'peak RSS MiB':>13} {'store MiB':>10}  store sha256")
    for limit in args.limits:
        for name, python in pythons.items():
            with tempfile.TemporaryDirectory() as tmp:
                found = prepare(args, Path(tmp) / "store", limit, python)
                digest = hashlib.sha256()
                for path in sorted((Path(tmp) / "store").glob("*.npy")):
                    digest.update(path.read_bytes())
                print(f"{limit:>9} {name:>6} {found['seconds']:8.1f} {found['peak_rss_kb'] / 1024:13.1f} "
                      f"{found['store_bytes'] / 2**20:10.1f}  {digest.hexdigest()[:16]} (arrays)", flush=True)
    return 0


def _row(path: str, ranks: int, results: list[dict], reference: list[dict]) -> dict:
    def worst(runs, field):
        return max(r["peak"][field] for r in runs) / 1024

    fields = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Uss")
    return {"path": path, "ranks": ranks, "preprocess_s_per_rank": max(r["preprocess_s"] for r in results),
            "total_s": max(r["total_s"] for r in results),
            "peak_rss_mib": max(r["peak_rss_kb"] for r in results) / 1024,
            **{f"peak_{f.lower()}_mib": worst(results, f) for f in fields},
            **{f"data_{f.lower()}_mib": worst(results, f) - worst(reference, f) for f in fields}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data/perov_5/val.csv")
    parser.add_argument("--target", default="heat_ref")
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--reference", type=int, default=400,
                        help="crystals of the reference runs (over 256: the evaluation's batches are full)")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", default=None, help="write the results here too")
    parser.add_argument("--prepare-only", action="store_true",
                        help="only dataset prepare's peak RSS at each of --limits (and with --python's checkout)")
    parser.add_argument("--limits", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--python", default=None, help="another checkout's interpreter, for --prepare-only")
    args = parser.parse_args()
    if args.prepare_only:
        return prepare_only(args)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepared = prepare(args, work / "store")
        print(f"dataset prepare: {prepared['seconds']:.1f} s once, peak RSS {prepared['peak_rss_kb'] / 1024:.0f} MiB, "
              f"store {prepared['store_bytes'] / 2**20:.1f} MiB for {args.limit} crystals", flush=True)
        for ranks in args.ranks:
            for path, data in (("file", args.data), ("store", str(work / "store"))):
                runs = {}
                for limit in (args.reference, args.limit):
                    argv = [data, args.target, str(limit), str(work / f"model-{path}-{ranks}-{limit}")]
                    runs[limit] = launch(ranks, argv, work, f"{path}-{ranks}-{limit}")
                rows.append(_row(path, ranks, runs[args.limit], runs[args.reference]))
                print(json.dumps(rows[-1]), flush=True)
        models = {(r["path"], r["ranks"]) for r in rows}
        same = all((work / f"model-file-{n}-{args.limit}" / "metrics.json").read_bytes()
                   == (work / f"model-store-{n}-{args.limit}" / "metrics.json").read_bytes()
                   for n in args.ranks if ("file", n) in models)
    print(f"\nmetrics.json identical, file against store: {same}")
    header = ("path", "ranks", "preprocess_s_per_rank", "peak_rss_mib", "peak_pss_mib", "peak_uss_mib",
              "data_rss_mib", "data_pss_mib", "data_pss_file_mib", "data_uss_mib")
    print(" ".join(f"{h:>14}" for h in header))
    for row in rows:
        print(" ".join(f"{row[h]:>14.1f}" if isinstance(row[h], float) else f"{row[h]:>14}" for h in header))
    if args.json:
        Path(args.json).write_text(json.dumps({"prepare": prepared, "rows": rows, "identical": same}, indent=1))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        raise SystemExit(worker(sys.argv[2], sys.argv[4:]))
    raise SystemExit(main())
