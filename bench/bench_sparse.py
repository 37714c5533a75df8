"""Issue 25's sparse-data protocol: does exact invariance help when each group has few crystals?

The package's EMT crystals over all 230 groups (bench/sparse_split.py: a fixed test set of 4 crystals
per group; training sizes k = 1, 4, 16 per group; a zero-shot setting with 20% of the groups at k = 0,
drawn once); arms (bench/sparse_arms.py, and ``bench_hosts.HOST_ARMS`` when that module imports): no
encoding, sinusoidal, sinusoidal + augmentation, CFT, CFT as P1 (the control), CFT + pair bias, each
with the neighbourhood off and on, and GBM with distance features. Equal optimizer steps at every k;
seed s draws its own training crystals per group (the test set is fixed); every run's per-crystal
predictions are saved.

Every finished run is appended to OUT/runs.jsonl at once (commit, full config, parameter count,
seconds, predictions), and a run already there is skipped: the grid resumes after a stop and splits
over processes (``--shard i/n``, each process its own OUT, or one OUT per process and ``--collect``
over all). ``--collect OUT [OUT ...]`` writes the tables and the paired tests (bench/sparse_stats.py).

Usage:
  python bench/bench_sparse.py --make-data --cache DIR --per-group 20 --workers 2
  python bench/bench_sparse.py --cache DIR --out OUT --arms cft/on,cft-p1/on --settings k1,k4,zs4 --seeds 5
  python bench/bench_sparse.py --collect OUT [OUT ...] --markdown OUT/tables.md

Exit status: 0 done, 2 bad arguments or missing data (one message, nothing written).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import provenance   # noqa: E402  (sibling scripts: provenance, the arms and the split)
import sparse_arms   # noqa: E402
import sparse_split   # noqa: E402

DEFAULT_CACHE = provenance.ROOT / "sparse-cache"
PRIORITY_ARMS = ("cft/on", "cft-p1/on", "sinusoidal/on", "none/on")
PRIORITY_SETTINGS = ("k1", "k4", "zs4")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def all_arms() -> dict:
    """arm name -> fit_predict: this package's arms, then bench_hosts.HOST_ARMS when importable."""
    arms = sparse_arms.own_arms()
    try:
        from bench_hosts import HOST_ARMS   # issue 25's host GNNs (helper i25a), optional
    except ImportError as error:
        log(f"bench_hosts not importable ({error}); host arms left out")
    else:
        arms.update(HOST_ARMS)
    return arms


def run_key(arm: str, setting: str, seed: int, steps: int) -> str:
    return f"{arm}|{setting}|{seed}|{steps}"



def in_shard(key: str, shard: tuple[int, int]) -> bool:
    index, count = shard
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % count == index


def deterministic(threads: int) -> None:
    """One fixed thread count and torch's deterministic algorithms (the same numbers on every run here)."""
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def one_run(arm: str, fit_predict, records, setting: str, seed: int, args) -> dict:
    """Train and predict once; the run's record (predictions in the fixed test order)."""
    chosen = sparse_split.split(records, setting, seed)
    info: dict = {}
    options = {"seed": seed, "steps": args.steps, "batch_size": args.batch_size, "target": args.target}
    if "info" in inspect.signature(fit_predict).parameters:
        options["info"] = info
    start = time.perf_counter()
    predictions = np.asarray(fit_predict(chosen.train, chosen.test, **options), dtype=np.float64)
    seconds = time.perf_counter() - start
    if predictions.shape != (len(chosen.test),) or not np.all(np.isfinite(predictions)):
        raise RuntimeError(f"{arm} returned predictions of shape {predictions.shape} (finite: "
                           f"{bool(np.all(np.isfinite(predictions)))}), expected ({len(chosen.test)},) finite")
    truth = np.array([float(r.targets[args.target]) for r in chosen.test])
    errors = np.abs(predictions - truth)
    heldout = np.array([sparse_split.index_of(r)[1] in chosen.heldout_groups for r in chosen.test])
    return {"key": run_key(arm, setting, seed, args.steps), "arm": arm, "setting": setting, "seed": seed,
            "k": sparse_split.SETTINGS[setting], "steps": args.steps, "batch_size": args.batch_size,
            "target": args.target, "test_mae": float(errors.mean()),
            "heldout_mae": float(errors[heldout].mean()) if heldout.any() else None,
            "seen_mae": float(errors[~heldout].mean()) if heldout.any() else None,
            "train_crystals": len(chosen.train), "train_ids_sha256": hashlib.sha256(
                ",".join(str(r.id) for r in chosen.train).encode()).hexdigest(),
            "test_ids_sha256": hashlib.sha256(",".join(str(r.id) for r in chosen.test).encode()).hexdigest(),
            "heldout_groups": list(chosen.heldout_groups), "predictions": [float(p) for p in predictions],
            "seconds": seconds, "parameters": info.get("parameters"), "config": info,
            "commit": args.code_commit, "data": {"seed": sparse_split.DATA_SEED, "per_group": args.per_group,
                                         "max_atoms": sparse_split.MAX_ATOMS},
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "machine": provenance.machine(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def names(text: str, allowed, option: str) -> list:
    given = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in given if n not in allowed]
    if not given or bad:
        print(f"error: {option} takes names from {','.join(allowed)}; got {text!r}", file=sys.stderr)
        raise SystemExit(2)
    return given


def run_grid(args) -> int:
    path = sparse_split.dataset_path(Path(args.cache), args.per_group)
    if not path.is_file():
        print(f"error: no data set {path}; make it first with --make-data --cache {args.cache} "
              f"--per-group {args.per_group}", file=sys.stderr)
        return 2
    arms = all_arms()
    chosen_arms = names(args.arms, arms, "--arms")
    settings = names(args.settings, sparse_split.SETTINGS, "--settings")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = provenance.read_runs([out, *args.done])
    deterministic(args.threads)
    args.code_commit = provenance.commit()   # the code this process loaded (read once: later commits don't count)
    # Seed-major order: every arm and setting of seed 0 first, so a stopped grid still pairs its runs.
    todo = [(a, s, seed) for seed in range(args.seeds) for s in settings for a in chosen_arms
            if run_key(a, s, seed, args.steps) not in done and in_shard(run_key(a, s, seed, args.steps), args.shard)]
    if not todo:
        log("nothing to do: every run is in runs.jsonl")
        return 0
    records = sparse_split.load_records(path, args.target)
    needed = {str(r.id): r for s in settings for seed in range(args.seeds)
              for r in sparse_split.split(records, s, seed).train}
    needed.update({str(r.id): r for r in sparse_split.test_records(records)})
    start = time.perf_counter()
    sparse_arms.preload(list(needed.values()), path.with_name(path.stem + ".samples"))
    log(f"{len(records)} crystals from {path}, {len(needed)} of them standardized in "
        f"{time.perf_counter() - start:.0f} s; {len(todo)} runs to go")
    if args.prepare_only:
        return 0
    for arm, setting, seed in todo:
        record = one_run(arm, arms[arm], records, setting, seed, args)
        with (out / "runs.jsonl").open("a") as stream:   # one line per finished run: resumable
            stream.write(json.dumps(record) + "\n")
        log(f"{arm} {setting} seed {seed}: test MAE {record['test_mae']:.4f}"
            + (f", held-out {record['heldout_mae']:.4f}" if record["heldout_mae"] is not None else "")
            + f" ({record['seconds']:.0f} s)")
    return 0


def shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard takes I/N, got {text!r}") from None
    if not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard I/N needs 0 <= I < N, got {text!r}")
    return index, count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=str(DEFAULT_CACHE), help="folder of the data set (made once)")
    parser.add_argument("--out", default="sparse-runs", help="folder of runs.jsonl")
    parser.add_argument("--per-group", type=int, default=20, help="crystals per group in the data set (4 test + pool)")
    parser.add_argument("--make-data", action="store_true", help="make (or resume) the data set, then stop")
    parser.add_argument("--workers", type=int, default=1, help="processes for --make-data")
    parser.add_argument("--arms", default=",".join(PRIORITY_ARMS))
    parser.add_argument("--settings", default=",".join(PRIORITY_SETTINGS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=250, help="optimizer steps per run, the same at every k")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--target", default="energy_per_atom", choices=("energy_per_atom", "bulk_modulus"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--shard", type=shard, default=(0, 1), help="I/N: only the runs of shard I of N")
    parser.add_argument("--prepare-only", action="store_true",
                        help="standardize the crystals the grid needs into the cache's .samples store, then stop")
    parser.add_argument("--done", nargs="*", default=[], help="other runs.jsonl folders whose runs count as done")
    parser.add_argument("--collect", nargs="+", metavar="OUT", help="write the tables from these runs.jsonl folders")
    parser.add_argument("--markdown", default=None, help="with --collect: write the tables here too")
    args = parser.parse_args(argv)
    if args.collect:
        import sparse_stats

        runs = provenance.read_runs(args.collect)
        if not runs:
            print(f"error: no runs under {' '.join(args.collect)}", file=sys.stderr)
            return 2
        path = sparse_split.dataset_path(Path(args.cache), args.per_group)
        records = sparse_split.load_records(path, args.target) if path.is_file() else None
        text = sparse_stats.report(runs, records, "python bench/bench_sparse.py " + " ".join(
            argv if argv is not None else sys.argv[1:]))
        print(text)
        if args.markdown:
            Path(args.markdown).write_text(text)
        return 0
    if args.per_group < sparse_split.TEST_PER_GROUP + 1 or args.steps < 1 or args.seeds < 1 or args.batch_size < 1:
        print("error: --per-group must exceed 4 and --steps, --seeds, --batch-size be positive", file=sys.stderr)
        return 2
    if args.make_data:
        start = time.perf_counter()
        path, missing = sparse_split.make_data(Path(args.cache), args.per_group, args.workers,
                                               progress=sys.stderr.isatty())
        log(f"data set {path} ready in {time.perf_counter() - start:.0f} s"
            + (f"; {len(missing)} crystals could not be made: {', '.join(missing)}" if missing else ""))
        return 0
    return run_grid(args)


if __name__ == "__main__":
    sys.exit(main())
