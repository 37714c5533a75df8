"""The results table of issue 5: CFT against its baselines on real data, same splits and budget.

Reads carbon-24 and perov-5 (CDVAE CSV) from ../shared/data (never copied into the
repository) and prints markdown tables, also written to docs/results.md:

1. Test MAE, mean +- std over seeds, of the CFT, the non-invariant sinusoidal baseline,
   the same baseline trained with random symmetry-operation augmentation, and the classical
   baselines of ``runtime.network.classical`` (ridge on quadratic features and gradient-boosted trees, on
   composition + density + cell parameters, without and with exactly invariant distance
   features; hyper-parameters chosen on the same validation set). The split is the
   seed-0 split for every seed and model: ``fit`` draws the split from ``TrainConfig.seed``,
   so for seed s the samples are reordered such that seed s's split picks exactly the
   crystals of seed 0's train/val/test sets (checked); the seed then only changes the
   initialisation, the batch order and the augmentation draws.
2. Zero-shot on carbon-24 (every seed): hold out the centrosymmetric groups, and separately
   the five most populated groups; per-group test MAE zero-shot vs all data and the GB-Gap
   (``runtime.learning.zero_shot.zero_shot_report``); seed s's zero-shot model is compared with
   seed s's all-data model of 1, and the table gives mean +- std over seeds.

"cft+pretrained" is the CFT whose positional encoder starts from ``crystal-fourier pretrain``
(exact orbit distances, ``PretrainConfig`` defaults, seed 0, pretrained once per hold-out with the
held-out groups excluded, so zero-shot stays leak-free); it answers whether pretraining helps.
3. Invariance in practice: the spread (max - min) of each trained model's predictions over
   symmetry-equivalent descriptions of the same carbon-24 test crystals.
4. Throughput: bench/bench_training.py, run as it is, its printed numbers included.

Sibling scripts hold the parts: results_kinds.py (the kinds compared and their labels),
results_invariance.py (table 3) and results_tables.py (the markdown).

Usage: python bench/bench_results.py [--quick] [--out DIR] [--seeds 3] [--epochs N] [--limit N]
                                     [--data DIR] [--invariance 50] [--threads 2] [--no-throughput]
                                     [--kinds cft,sinusoidal,...] [--markdown docs/results.md]
                                     [--datasets carbon-24,perov-5,demo-emt] [--demo-csv CSV]
                                     [--lr 3e-3] [--patience N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Sibling scripts: the kinds compared, the invariance study (table 3), the markdown tables.
from results_invariance import invariance_study  # noqa: E402
from results_kinds import CLASSICAL_KINDS, KINDS  # noqa: E402
from results_tables import markdown, spread  # noqa: E402,F401  (spread: bench_ablation.py reads it from here)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
DATASETS = {"carbon-24": ("carbon_24", "energy_per_atom", "eV/atom"),
            "perov-5": ("perov_5", "heat_ref", "eV/atom"),
            "demo-emt": (None, "energy_per_atom", "eV/atom")}
"""name -> (folder under --data, target, units); demo-emt is the demo's own EMT set, a CSV given by --demo-csv."""
SMALL_MODEL = {"d_model": 64, "n_heads": 4, "n_layers": 2, "d_ff": 128, "d_route": 32, "d_position": 64,
               "d_head": 64}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- data


def load(data_root: Path, name: str, limit: int | None, workers: int, demo_csv: "str | None" = None):
    """(records, samples) of val.csv + test.csv (the first limit/2 rows of each when limited); for demo-emt
    the first ``limit`` rows of ``demo_csv``. The samples carry their neighbourhoods (computed once here)."""
    from crystal_fourier.runtime.data._datasets import load_cdvae_csv
    from crystal_fourier.runtime import prepare_samples

    from crystal_fourier.runtime import ModelConfig
    from crystal_fourier.runtime.network._neighbourhood import with_neighbours

    folder, target, _ = DATASETS[name]
    records = []
    if folder is None:
        records = load_cdvae_csv(Path(demo_csv), targets=[target], limit=limit)
    else:
        for part in ("val", "test"):
            path = data_root / folder / f"{part}.csv"
            records += load_cdvae_csv(path, targets=[target], limit=None if limit is None else -(-limit // 2))
    records = [r for r in records if math.isfinite(float(r.targets[target]))]
    samples = prepare_samples(records, target, workers=workers)
    assert [s.id for s in samples] == [str(r.id) for r in records]
    return records, with_neighbours(samples, *ModelConfig().neighbour_spec, workers=workers)


def fixed_split_order(n: int, seed: int, fractions) -> np.ndarray:
    """A permutation p such that samples[p] split with ``seed`` gives seed 0's train/val/test sets.

    ``fit`` splits with ``split_indices(n, config.seed)``; position j of the reordered list
    holds sample p[j], and the positions seed ``seed`` assigns to each part receive the
    members of seed 0's part, so every seed trains, validates and tests on the same crystals.
    """
    from crystal_fourier.runtime.learning._splits import split_indices

    base = split_indices(n, 0, fractions)
    mine = split_indices(n, seed, fractions)
    order = np.empty(n, dtype=np.int64)
    for positions, members in zip(mine, base, strict=True):
        order[positions] = members
    return order


# --------------------------------------------------------------------------- training


_PRETRAINED: dict = {}


def pretrained_encoder(out: Path, holdout=(), quick: bool = False) -> Path:
    """The directory of an encoder pretrained on orbit distances without the groups in ``holdout``
    (made once per hold-out and reused by every seed; the time is logged)."""
    from crystal_fourier.runtime import PretrainConfig, pretrain
    from crystal_fourier.runtime import ModelConfig

    key = tuple(sorted(holdout))
    if key not in _PRETRAINED:
        directory = out / "pretrained" / (f"without-{len(key)}-groups" if key else "all-groups")
        start = time.perf_counter()
        sizes = {"pairs_per_group": 16, "epochs": 1} if quick else {}   # --quick: a smoke run of the path
        config = PretrainConfig(model=ModelConfig(kind="cft", **SMALL_MODEL), exclude=key, progress=False, **sizes)
        _, summary = pretrain(config, directory)
        log(f"pretrained the encoder ({len(summary['groups_used'])} groups, {summary['n_pairs']} pairs, loss "
            f"{summary['loss_history'][0]:.3f} -> {summary['loss_history'][-1]:.3f}) in "
            f"{time.perf_counter() - start:.0f} s")
        _PRETRAINED[key] = directory
    return _PRETRAINED[key]


def train(samples, kind: str, seed: int, args, out: Path, holdout=(), features=None):
    """(result, seconds, parameters or None, training crystals); classical kinds take ``features``
    (``runtime.network.classical.feature_matrix`` of ``samples``) and report fit time without featurization."""
    from crystal_fourier.runtime import fit_classical
    from crystal_fourier.runtime import ModelConfig
    from crystal_fourier.runtime.learning._splits import split_indices
    from crystal_fourier.runtime import TrainConfig, fit

    classical = kind in CLASSICAL_KINDS
    pretrained = kind == "cft+pretrained"
    model_kind = "cft" if classical or pretrained else kind
    config = TrainConfig(target="target", model=ModelConfig(kind=model_kind, **SMALL_MODEL),
                         epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=seed,
                         holdout_groups=tuple(holdout), progress=False, patience=args.patience)
    order = fixed_split_order(len(samples), seed, config.split)
    reordered = [samples[i] for i in order]
    # The test set must be seed 0's, whatever the seed.
    test_ids = sorted(reordered[i].id for i in split_indices(len(samples), seed, config.split)[2])
    assert test_ids == sorted(samples[i].id for i in split_indices(len(samples), 0, config.split)[2])
    start = time.perf_counter()
    if classical:
        result = fit_classical(reordered, config, kind, features=None if features is None else features[order])
        return result, time.perf_counter() - start, None, len(result.split["train"])
    encoder = pretrained_encoder(Path(args.out), holdout, args.quick) if pretrained else None
    result = fit(reordered, config, out, pretrained=encoder)
    seconds = time.perf_counter() - start
    n_params = sum(p.numel() for p in result.model.parameters())
    return result, seconds, n_params, len(result.split["train"])


def split_test_samples(samples, fractions=(0.8, 0.1, 0.1)):
    from crystal_fourier.runtime.learning._splits import split_indices

    return [samples[i] for i in split_indices(len(samples), 0, fractions)[2]]


# --------------------------------------------------------------------------- main


def throughput(args, out: Path) -> dict:
    command = [sys.executable, str(ROOT / "bench" / "bench_training.py"), "--threads", str(args.threads),
               "--json", str(out / "bench_training.json")]
    # Its defaults take ~4.5 min on a loaded 2-core machine; 3 rounds and 5,000 crystals (scaled to 10,000 in the
    # table) keep the whole benchmark within ~30 minutes.
    command += (["--crystals", "32", "--rounds", "1", "--steps", "2", "--inference", "1000"] if args.quick
                else ["--rounds", "3", "--inference", "5000"])
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        log(f"bench_training.py failed ({done.returncode}): {done.stderr[-2000:]}")
        return {"command": " ".join(command[1:]), "seconds": seconds, "stdout": done.stdout + done.stderr}
    data = json.loads((out / "bench_training.json").read_text())
    shown = "python " + " ".join(os.path.relpath(c, ROOT) if c.startswith(str(ROOT)) else c for c in command[1:])
    return {**data, "command": shown.replace(str(out), "OUT"), "seconds": seconds, "stdout": done.stdout}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 120 crystals, 1 seed, 1 epoch")
    parser.add_argument("--out", default="/tmp/crystal-fourier-results", help="JSON results and model directories")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder with carbon_24/ and perov_5/")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per model (default 3; quick 1)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 6; quick 1)")
    parser.add_argument("--limit", type=int, default=None,
                        help="crystals per data set, half from val.csv, half from test.csv (default 1000; quick 120; "
                             "0: every row of both files)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--patience", type=int, default=None,
                        help="early stopping: epochs without a better validation MAE (default: none)")
    parser.add_argument("--datasets", default="carbon-24,perov-5",
                        help="comma-separated, from " + ",".join(DATASETS) + " (default carbon-24,perov-5; zero-shot "
                             "and invariance need carbon-24)")
    parser.add_argument("--demo-csv", default=None, metavar="CSV",
                        help="the demo's EMT set (e.g. demo-output/random-crystals.csv) for --datasets demo-emt")
    parser.add_argument("--invariance", type=int, default=None, help="test crystals for the invariance study (50)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="processes for standardization (default 2)")
    parser.add_argument("--no-throughput", action="store_true", help="skip bench/bench_training.py")
    parser.add_argument("--no-zero-shot", action="store_true")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="comma-separated models to run (default all: " + ",".join(KINDS) + ")")
    parser.add_argument("--markdown", default=None,
                        help="write the tables here "
                             "(default docs/results.md for a full run, OUT/results.md for --quick)")
    args = parser.parse_args(argv)
    args.seeds = args.seeds or (1 if args.quick else 3)
    args.epochs = args.epochs or (1 if args.quick else 6)
    if args.limit is None:
        args.limit = 120 if args.quick else 1000
    args.limit = args.limit or None   # 0: every row
    args.invariance = args.invariance if args.invariance is not None else (5 if args.quick else 50)

    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not kinds or set(kinds) - set(KINDS):
        parser.error(f"--kinds takes models from {','.join(KINDS)}; got {args.kinds!r}")
    data_root = Path(args.data)
    datasets = tuple(n.strip() for n in args.datasets.split(",") if n.strip())
    if not datasets or set(datasets) - set(DATASETS):
        parser.error(f"--datasets takes names from {','.join(DATASETS)}; got {args.datasets!r}")
    if "demo-emt" in datasets and not (args.demo_csv and Path(args.demo_csv).is_file()):
        parser.error("--datasets demo-emt needs --demo-csv FILE (the demo's random-crystals.csv)")
    if "carbon-24" not in datasets:
        args.no_zero_shot, args.invariance = True, 0
    missing = [str(data_root / DATASETS[n][0] / f"{p}.csv") for n in datasets if DATASETS[n][0] for p in ("val", "test")
               if not (data_root / DATASETS[n][0] / f"{p}.csv").is_file()]
    if missing:
        print(f"error: the real data sets are not there: missing {', '.join(missing)}.\n"
              f"Expected carbon-24 and perov-5 in CDVAE format under {data_root} (../shared/data next to the "
              "project); they are never copied into the repository. Pass --data DIR.", file=sys.stderr)
        return 2

    torch.set_num_threads(args.threads)
    from crystal_fourier.runtime.learning._classical import feature_matrix
    from crystal_fourier.runtime import ModelConfig
    from crystal_fourier.runtime import DEFAULT_SYMPREC
    from crystal_fourier.runtime import holdout_groups
    from crystal_fourier.runtime.learning._zero_shot import zero_shot_report

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    seeds = list(range(args.seeds))
    summary = {"data": {}, "accuracy": {}, "zero_shot": {}, "invariance": None, "throughput": None}
    kept = {}
    parameters = {}
    for name in datasets:
        _, target, units = DATASETS[name]
        start = time.perf_counter()
        records, samples = load(data_root, name, args.limit, args.workers, args.demo_csv)
        seconds = time.perf_counter() - start
        n = len(samples)
        from crystal_fourier.runtime.learning._splits import split_indices

        parts = split_indices(n, 0, (0.8, 0.1, 0.1))
        summary["data"][name] = {"target": target, "units": units, "crystals": n, "train": len(parts[0]),
                                 "val": len(parts[1]), "test": len(parts[2]),
                                 "groups": len({s.number for s in samples}), "standardize_s": seconds}
        log(f"{name}: {n} crystals, {summary['data'][name]['groups']} groups, standardized in {seconds:.0f} s")
        summary["accuracy"][name] = {}
        start = time.perf_counter()
        features = feature_matrix(samples, workers=args.workers)
        summary["data"][name]["features_s"] = time.perf_counter() - start
        kept[(name, "features")] = features
        for kind in kinds:
            maes, times, runs = [], [], []
            for seed in seeds:
                result, secs, n_params, n_train = train(samples, kind, seed, args, out / name / kind / f"seed{seed}",
                                                        features=features)
                if n_params is not None:
                    parameters[kind] = n_params
                maes.append(result.metrics["test"]["mae"])
                times.append(secs)
                runs.append({"seed": seed, "test_mae": maes[-1], "test_rmse": result.metrics["test"]["rmse"],
                             "val_mae": result.metrics["val"]["mae"], "seconds": secs,
                             "val_curve": [row["val_mae"] for row in getattr(result, "history", None) or []]})
                log(f"{name} {kind} seed {seed}: test MAE {maes[-1]:.4f} ({secs:.0f} s)")
                kept[(name, kind, seed)] = result
            summary["accuracy"][name][kind] = {"mean": float(np.mean(maes)),
                                               "std": float(np.std(maes, ddof=1)) if len(maes) > 1 else 0.0,
                                               "runs": runs, "seconds": times}
        kept[(name, "records")] = {str(r.id): r for r in records}
        kept[(name, "samples")] = samples
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))

    if not args.no_zero_shot:
        samples = kept[("carbon-24", "samples")]
        parts = split_indices(len(samples), 0, (0.8, 0.1, 0.1))
        counts = Counter(s.number for s in samples)
        top5 = tuple(sorted(g for g, _ in counts.most_common(5)))
        for label, held in (("centrosymmetric (groups containing inversion)", holdout_groups("centrosymmetric")),
                            ("five most populated groups " + ",".join(map(str, top5)), top5)):
            study = {"holdout_groups": list(held), "present": len(set(held) & set(counts)), "models": {},
                     "train_all": len(parts[0])}
            for kind in kinds:
                reports = []
                for seed in seeds:
                    result, secs, _, n_train = train(samples, kind, seed, args,
                                                     out / "zero-shot" / label.split()[0] / kind / f"seed{seed}",
                                                     holdout=held, features=kept[("carbon-24", "features")])
                    all_data = kept[("carbon-24", kind, seed)]
                    report = zero_shot_report(result.metrics["test"], all_data.metrics["test"], held)
                    report["test_mae_zero_shot"] = result.metrics["test"]["mae"]
                    report["test_mae_all_data"] = all_data.metrics["test"]["mae"]
                    report["seconds"] = secs
                    report["seed"] = seed
                    reports.append(report)
                    study["train_crystals"] = n_train
                    log(f"zero-shot {label.split()[0]} {kind} seed {seed}: GB-Gap {report['gb_gap']:.4f}, "
                        f"held-out MAE {report['heldout_mae_zero_shot']:.4f} ({secs:.0f} s)")
                study["models"][kind] = {**reports[0], "seeds": reports}
            summary["zero_shot"][label] = study
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))

    if args.invariance:
        start = time.perf_counter()
        samples = kept[("carbon-24", "samples")]
        summary["invariance"] = invariance_study(kept[("carbon-24", "records")], split_test_samples(samples),
                                                 {k: kept[("carbon-24", k, 0)] for k in kinds}, args.invariance,
                                                 DEFAULT_SYMPREC)
        log(f"invariance study: {time.perf_counter() - start:.0f} s")

    if not args.no_throughput:
        log("running bench/bench_training.py ...")
        summary["throughput"] = throughput(args, out)

    config = ModelConfig(kind="cft", **SMALL_MODEL)
    summary["setup"] = {
        "command": "python bench/bench_results.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "wall_minutes": (time.perf_counter() - began) / 60,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores visible ({platform.processor() or 'cpu'}), "
                   "shared with other work",
        "torch": torch.__version__, "threads": torch.get_num_threads(), "symprec": DEFAULT_SYMPREC,
        "data_note": ("every row of val.csv and of test.csv of each data set" if args.limit is None else
                      f"the first {-(-args.limit // 2)} rows of val.csv and of test.csv of each data set "
                      "(a subsample, for the time budget)")
                     + (f"; demo-emt: the first {args.limit} rows of {args.demo_csv} (the demo's own EMT set, "
                        "made by the package)" if "demo-emt" in datasets else ""),
        "model": ", ".join(f"{k} {getattr(config, k)}" for k in SMALL_MODEL) + f", cutoff {config.cutoff} "
                 f"({config.shell}), sinusoidal harmonics {config.sinusoidal_frequencies}, neighbourhood embedding "
                 f"{'on' if config.neighbourhood else 'off'} (cutoff {config.neighbour_cutoff} A, "
                 f"{config.n_rbf} radial functions) for every transformer, per-atom readout "
                 f"{'on' if config.atom_readout else 'off'}",
        "parameters": parameters, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
        "patience": args.patience,
        "seeds": seeds,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    text = markdown(summary)
    print(text)
    target = (Path(args.markdown) if args.markdown
              else (out / "results.md" if args.quick else ROOT / "docs" / "results.md"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    log(f"wrote {target} and {out / 'summary.json'}; total {(time.perf_counter() - began) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
