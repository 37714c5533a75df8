"""Issue 20's ablation: what the positional encoding, the neighbourhood and pretraining each add.

One table: positional encoding {none, sinusoidal, sinusoidal + augmentation, CFT R = 5, CFT R = 6,
CFT R = 6 + orbit-pair attention bias} x neighbourhood embedding {off, on}, plus the CFT with an
encoder pretrained on exact orbit distances (both neighbourhoods), on the demo EMT set, carbon-24
and perov-5; test MAE mean +- std over seeds, and on carbon-24 the zero-shot study with the
centrosymmetric groups held out (held-out MAE, GB-Gap). Same small models, budget and seed-0 split
as bench/bench_results.py (whose loading, split and pretraining helpers this script reuses).

Every finished run is appended to OUT/runs.jsonl at once, and a run already there is skipped, so
the grid can be split over processes (``--datasets``, ``--variants``, ``--holdouts``; each process its
own OUT) and resumed after a stop;
``--collect OUT [OUT ...]`` then writes the markdown table from every runs.jsonl.

"neighbourhood off + pretrained CFT against neighbourhood off sinusoidal" is the paper's own
configuration (tokens are element + positional encoding only; its "Transformer" baseline is the
sinusoidal encoding).

Usage:
  python bench/bench_ablation.py --datasets carbon-24 --variants none,cft6 --seeds 3 --epochs 30 --out DIR
  python bench/bench_ablation.py --datasets carbon-24 --holdouts centrosymmetric --out DIR2
  python bench/bench_ablation.py --collect DIR [DIR ...] --markdown docs/results.md
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_results as shared   # noqa: E402  (the sibling script: loading, fixed split, pretraining)
import provenance   # noqa: E402
import sparse_arms   # noqa: E402  (AsP1: the P1 control)
import sparse_stats   # noqa: E402  (the paired t test of the sparse protocol)

from crystal_fourier.runtime import ModelConfig, TrainConfig, build_model, fit, holdout_groups
from crystal_fourier.runtime.learning._zero_shot import zero_shot_report  # noqa: E402

PINNED_MODEL = {**shared.SMALL_MODEL, "cutoff": 6, "shell": "ball", "include_constant": False,
                "sinusoidal_frequencies": 6, "dropout": 0.0, "max_element": 118, "neighbour_cutoff": 6.0, "n_rbf": 32,
                "atom_readout": True, "frequency_damping": 1.5, "tensor_head": None, "pair_bias_radius": None}
"""Every ModelConfig field but ``kind`` and ``neighbourhood``, pinned to the values of the committed runs
(docs/ablation/runs.jsonl), so that a later change of a default never changes a variant silently (issue 25:
``pair_bias_radius`` became 3 by default after the runs and leaked into cft5, cft6 and cft6+pretrained)."""
VARIANTS = {
    "none": ("no positional encoding", {"kind": "none"}),
    "sinusoidal": ("sinusoidal (non-invariant)", {"kind": "sinusoidal"}),
    "augmented": ("sinusoidal + symmetry augmentation", {"kind": "augmented"}),
    "cft5": ("CFT, ball R = 5", {"kind": "cft", "cutoff": 5}),
    "cft6": ("CFT, ball R = 6", {"kind": "cft", "cutoff": 6}),
    "cft6+pretrained": ("CFT, R = 6, encoder pretrained on orbit distances", {"kind": "cft", "cutoff": 6}),
    "cft6-p1": ("CFT, R = 6, evaluated as P1 (the control: group averaging removed)", {"kind": "cft", "cutoff": 6}),
    "cft6+pair": ("CFT, R = 6 + orbit-pair attention bias (|n| <= 3)", {"kind": "cft", "cutoff": 6,
                                                                          "pair_bias_radius": 3}),
    "cft6+pair-p1": ("CFT, R = 6 + orbit-pair bias, both evaluated as P1 (the pair bias's control)",
                     {"kind": "cft", "cutoff": 6, "pair_bias_radius": 3}),
}
"""name -> (label, ModelConfig fields beyond PINNED_MODEL and the neighbourhood). ``cft6-p1`` is ``cft6`` with its
feature module wrapped in ``sparse_arms.AsP1`` (every Hall number replaced by P1's), the control of the sparse
protocol: same frequencies, weights and parameter count, no group averaging; ``cft6+pair-p1`` is ``cft6+pair`` so
wrapped, which makes the orbit-pair bias a kernel of x_i - x_j (its products of plain plane waves)."""
AS_P1_VARIANTS = frozenset({"cft6-p1", "cft6+pair-p1"})
NEIGHBOURHOODS = {"off": False, "on": True}
DATASETS = ("demo-emt", "carbon-24", "perov-5")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_key(dataset: str, variant: str, neighbourhood: str, seed: int, holdout: str) -> str:
    return f"{dataset}|{variant}|{neighbourhood}|{seed}|{holdout}"



def variant_model(variant: str, neighbourhood: str) -> ModelConfig:
    """The ModelConfig of a variant, every field given explicitly (a field left to its default is an error)."""
    fields = {**PINNED_MODEL, **VARIANTS[variant][1], "neighbourhood": NEIGHBOURHOODS[neighbourhood]}
    unpinned = sorted({f.name for f in dataclasses.fields(ModelConfig)} - set(fields))
    if unpinned:
        raise RuntimeError(f"variant {variant} leaves ModelConfig fields to their defaults: {', '.join(unpinned)}")
    return ModelConfig(**fields)


def train_one(samples, dataset, variant, neighbourhood, seed, args, out: Path, holdout=()) -> dict:
    """Train one model on the seed-0 split (reordered for ``seed``, as bench_results does); its record
    (with the full training config, the parameter count and the code commit)."""
    config = TrainConfig(target="target", model=variant_model(variant, neighbourhood),
                         epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=seed,
                         holdout_groups=tuple(holdout), progress=False)
    order = shared.fixed_split_order(len(samples), seed, config.split)
    reordered = [samples[i] for i in order]
    encoder = (shared.pretrained_encoder(out / "pretrained-encoders", holdout) if variant == "cft6+pretrained"
               else None)
    directory = out / "models" / dataset / variant / neighbourhood / (f"holdout-{len(holdout)}" if holdout else "all")
    start = time.perf_counter()
    with p1_while_fitting() if variant in AS_P1_VARIANTS else contextlib.nullcontext():
        result = fit(reordered, config, directory / f"seed{seed}", pretrained=encoder, overwrite=True)
    seconds = time.perf_counter() - start
    return {"test_mae": result.metrics["test"]["mae"], "val_mae": result.metrics["val"]["mae"],
            "train_mae": result.metrics.get("train", {}).get("mae"),
            "test_metrics": result.metrics["test"], "seconds": seconds,
            "parameters": sum(p.numel() for p in result.model.parameters()),
            "best_epoch": getattr(result, "best_epoch", None), "config": config.to_dict(),
            "as_p1": variant in AS_P1_VARIANTS,
            "commit": provenance.commit(), "machine": provenance.machine(), "torch": torch.__version__,
            "threads": torch.get_num_threads()}


def build_as_p1(model_config: ModelConfig):
    """The network of ``model_config`` with its CFT feature module wrapped in ``sparse_arms.AsP1``."""
    model = build_model(model_config)
    model.positional.features = sparse_arms.AsP1(model.positional.features)
    return model


def p1_while_fitting():
    """A context in which ``fit`` builds its network with :func:`build_as_p1` (the P1 control).

    ``fit`` builds through the name ``build_model`` of its own module; the library has no P1 option, so this
    bench-only switch replaces that name for the duration of one fit (``unittest.mock.patch`` restores it on
    leaving, also after an error).
    """
    return mock.patch("crystal_fourier.runtime.learning._training.build_model", build_as_p1)


def run_grid(args) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = provenance.read_runs([out])
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)   # with the fixed thread count: the same numbers on every rerun here
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    neighbourhoods = [n.strip() for n in args.neighbourhoods.split(",") if n.strip()]
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    choices = (("--variants", VARIANTS, variants), ("--neighbourhoods", NEIGHBOURHOODS, neighbourhoods),
               ("--datasets", DATASETS, datasets))
    for name, allowed, given in choices:
        if not given or set(given) - set(allowed):
            print(f"error: {name} takes names from {','.join(allowed)}; got {','.join(given)!r}", file=sys.stderr)
            return 2
    known = {"none": (), "centrosymmetric": tuple(holdout_groups("centrosymmetric"))}
    names = [h.strip() for h in args.holdouts.split(",") if h.strip()]
    if not names or set(names) - set(known):
        print(f"error: --holdouts takes names from {','.join(known)}; got {args.holdouts!r}", file=sys.stderr)
        return 2
    holdouts = [(name, known[name]) for name in names]
    for dataset in datasets:
        todo = [(h, v, n, s) for h, _ in holdouts for v in variants for n in neighbourhoods
                for s in range(args.seeds)
                if run_key(dataset, v, n, s, h) not in done and (h == "none" or dataset == "carbon-24")]
        if not todo:
            continue
        start = time.perf_counter()
        _, samples = shared.load(Path(args.data), dataset, args.limit, args.workers, args.demo_csv)
        log(f"{dataset}: {len(samples)} crystals loaded in {time.perf_counter() - start:.0f} s; {len(todo)} runs to go")
        for holdout_name, holdout in holdouts:
            for _, variant, neighbourhood, seed in [t for t in todo if t[0] == holdout_name]:
                record = train_one(samples, dataset, variant, neighbourhood, seed, args, out, holdout)
                record.update({"key": run_key(dataset, variant, neighbourhood, seed, holdout_name),
                               "dataset": dataset, "variant": variant, "neighbourhood": neighbourhood,
                               "seed": seed, "holdout": holdout_name, "holdout_groups": list(holdout),
                               "crystals": len(samples), "epochs": args.epochs, "limit": args.limit,
                               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())})
                with (out / "runs.jsonl").open("a") as stream:   # one line per finished run: resumable
                    stream.write(json.dumps(record, default=float) + "\n")
                log(f"{dataset} {variant} neighbourhood {neighbourhood} seed {seed} hold-out {holdout_name}: "
                    f"test MAE {record['test_mae']:.4f} ({record['seconds']:.0f} s)")
    return 0


# --------------------------------------------------------------------------- table


def zero_shot_rows(runs: dict, variant: str, neighbourhood: str) -> list:
    """zero_shot_report of each seed that has both its zero-shot and its all-data carbon-24 run."""
    reports = []
    for run in runs.values():
        if (run["dataset"], run["variant"], run["neighbourhood"], run["holdout"]) != (
                "carbon-24", variant, neighbourhood, "centrosymmetric"):
            continue
        all_data = runs.get(run_key("carbon-24", variant, neighbourhood, run["seed"], "none"))
        if all_data is not None:
            reports.append(zero_shot_report(run["test_metrics"], all_data["test_metrics"], run["holdout_groups"]))
    return reports


def markdown(runs: dict, command: str) -> str:
    datasets = [d for d in DATASETS if any(r["dataset"] == d for r in runs.values())]
    lines = ["| positional encoding | neighbourhood | " + " | ".join(f"{d} test MAE" for d in datasets)
             + " | carbon-24 zero-shot held-out MAE | carbon-24 GB-Gap |",
             "|---|---|" + "---|" * (len(datasets) + 2)]
    for neighbourhood in NEIGHBOURHOODS:
        for variant, (label, _) in VARIANTS.items():
            cells = []
            for dataset in datasets:
                values = [r["test_mae"] for r in runs.values() if (r["dataset"], r["variant"], r["neighbourhood"],
                          r["holdout"]) == (dataset, variant, neighbourhood, "none")]
                cells.append(shared.spread(values) + (f" ({len(values)})" if values else ""))
            if not any(c != "-" for c in cells):
                continue
            reports = zero_shot_rows(runs, variant, neighbourhood)
            cells.append(shared.spread([r["heldout_mae_zero_shot"] for r in reports]))
            cells.append(shared.spread([r["gb_gap"] for r in reports]))
            lines.append(f"| {label} | {neighbourhood} | " + " | ".join(cells) + " |")
    sample = next(iter(runs.values()))
    footer = (f"\nEach cell: mean +- std over seeds (the number of seeds in parentheses); {sample['epochs']} epochs; "
              f"`{command}`; machine {platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}.\n")
    return "\n".join(lines) + "\n" + footer


COMPARISONS = (("cft6", "sinusoidal"), ("cft6", "cft6-p1"), ("cft6", "none"), ("cft6-p1", "sinusoidal"),
               ("cft6+pretrained", "sinusoidal"), ("cft6+pretrained", "cft6"), ("cft6+pair", "cft6"),
               ("cft6+pair", "sinusoidal"), ("cft6+pair", "none"), ("cft6+pair", "cft6+pair-p1"),
               ("cft6+pair-p1", "sinusoidal"), ("sinusoidal", "none"))
"""(A, B) pairs of variants compared by :func:`paired_comparisons`: the CFT against its baselines and against its
P1 control (same features, weights and parameter count without the group averaging), and what pretraining and the
pair bias add."""


def _score(run: dict, zero_shot: bool) -> float:
    """The test MAE, or for a zero-shot run that of the held-out groups' test crystals (as ``zero_shot_report``)."""
    if not zero_shot:
        return run["test_mae"]
    return zero_shot_report(run["test_metrics"], run["test_metrics"], run["holdout_groups"])["heldout_mae_zero_shot"]


def paired_comparisons(runs: dict) -> str:
    """A against B for every pair of :data:`COMPARISONS` with runs of the same seeds, per data set and neighbourhood.

    Seed s of every variant trains on the same split, reordered by s, from the same seed, so runs pair by seed.
    Columns: the means, 1 - A/B (positive: A better), the paired differences' SD, the two-sided paired t test over
    seeds (n - 1 df), Welch's t test over the same runs, and on how many seeds A was better. The zero-shot rows
    (carbon-24, centrosymmetric groups held out) compare the held-out groups' test MAE of the zero-shot models.
    """
    from scipy import stats

    lines = ["| data set | neighbourhood | A | B | A mean | B mean | 1 - A/B | paired SD | paired t p | Welch p "
             "| seeds A better |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    cases = [(dataset, "none") for dataset in DATASETS] + [("carbon-24", "centrosymmetric")]
    for dataset, holdout in cases:
        zero_shot = holdout != "none"
        for neighbourhood in NEIGHBOURHOODS:
            for variant_a, variant_b in COMPARISONS:
                seeds = {}
                for variant in (variant_a, variant_b):
                    for run in runs.values():
                        if (run["dataset"], run["variant"], run["neighbourhood"], run["holdout"]) == (
                                dataset, variant, neighbourhood, holdout):
                            seeds.setdefault(run["seed"], {})[variant] = _score(run, zero_shot)
                common = sorted(s for s, pair in seeds.items() if len(pair) == 2)
                if len(common) < 2:
                    continue
                a = np.array([seeds[s][variant_a] for s in common])
                b = np.array([seeds[s][variant_b] for s in common])
                welch = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
                name = f"{dataset} zero-shot (held-out groups)" if zero_shot else dataset
                lines.append(f"| {name} | {neighbourhood} | {variant_a} | {variant_b} | {a.mean():.4f} | "
                             f"{b.mean():.4f} | {1 - a.mean() / b.mean():+.1%} | {np.std(a - b, ddof=1):.4f} | "
                             f"{sparse_stats.paired_t(a - b):.3f} | {welch:.3f} | "
                             f"{int((a < b).sum())} of {len(common)} |")
    return "\n".join(lines) + "\n"


def per_seed(runs: dict) -> str:
    """Every run's test MAE, for the record (dataset, variant, neighbourhood, seed order)."""
    lines = ["| data set | variant | neighbourhood | hold-out | test MAE per seed | train s per run |",
             "|---|---|---|---|---|---|"]
    groups = {}
    for run in runs.values():
        groups.setdefault((run["dataset"], run["variant"], run["neighbourhood"], run["holdout"]), []).append(run)
    for (dataset, variant, neighbourhood, holdout), members in sorted(groups.items()):
        members.sort(key=lambda r: r["seed"])
        lines.append(f"| {dataset} | {variant} | {neighbourhood} | {holdout} | "
                     + ", ".join(f"{r['test_mae']:.4f}" for r in members)
                     + f" | {np.mean([r['seconds'] for r in members]):.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/crystal-fourier-ablation", help="runs.jsonl and model directories")
    parser.add_argument("--collect", nargs="+", metavar="OUT", help="write the table from these runs.jsonl folders")
    parser.add_argument("--markdown", default=None, help="with --collect: write the table here too")
    parser.add_argument("--data", default=str(shared.DEFAULT_DATA), help="folder with carbon_24/ and perov_5/")
    parser.add_argument("--demo-csv", default=None, metavar="CSV", help="the demo's EMT set, for demo-emt")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--neighbourhoods", default="off,on")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--limit", type=int, default=0, help="crystals per data set (0: every row; default 0)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--holdouts", default="none",
                        help="'none' (all data), 'centrosymmetric' (zero-shot, carbon-24 only), or both")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    args.limit = args.limit or None
    if args.collect:
        runs = provenance.read_runs(args.collect)
        if not runs:
            print(f"error: no runs.jsonl with runs under {' '.join(args.collect)}", file=sys.stderr)
            return 2
        text = markdown(runs, "python bench/bench_ablation.py " + " ".join(argv if argv is not None else sys.argv[1:]))
        text += "\n" + paired_comparisons(runs) + "\n" + per_seed(runs)
        print(text)
        if args.markdown:
            Path(args.markdown).write_text(text)
        return 0
    if "demo-emt" in args.datasets and not (args.demo_csv and Path(args.demo_csv).is_file()):
        print("error: --datasets demo-emt needs --demo-csv FILE (the demo's random-crystals.csv)", file=sys.stderr)
        return 2
    return run_grid(args)


if __name__ == "__main__":
    sys.exit(main())
