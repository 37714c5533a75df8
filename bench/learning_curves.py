"""Learning curves of the CFT and its baselines: validation MAE against epochs, test MAE against training size.

* Against epochs: the validation curves that ``bench/bench_results.py`` keeps for every run
  (``summary.json``, ``val_curve``), mean over seeds, one panel per data set.
* Against training-set size (``--sizes``): on one data file (the demo's EMT set, a CDVAE CSV),
  the seed-0 test set is fixed; each model trains on a random fraction of the remaining
  crystals (90% train / 10% validation, seed 0) for the same epochs and is scored on that
  test set. The classical ridge + distance baseline is fitted on the same fractions.

Writes a PNG (default docs/learning_curves.png) and the numbers as JSON beside it.

Usage: python bench/learning_curves.py --summary OUT/summary.json [--summary ...]
                                       [--sizes demo-output/random-crystals.csv] [--fractions 0.25,0.5,1]
                                       [--epochs 30] [--png docs/learning_curves.png] [--threads 1]
                                       [--sizes-from earlier.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
COLOURS = {"cft": "tab:blue", "cft+pretrained": "tab:cyan", "sinusoidal": "tab:orange", "augmented": "tab:green",
           "ridge+distance": "tab:red", "gbm+distance": "tab:purple", "ridge": "tab:pink", "gbm": "tab:brown"}


def epoch_curves(summary: dict) -> dict:
    """{data set: {kind: (mean val MAE per epoch, std)}} from a bench_results summary."""
    out = {}
    for name, kinds in summary.get("accuracy", {}).items():
        for kind, result in kinds.items():
            curves = [run["val_curve"] for run in result.get("runs", []) if run.get("val_curve")]
            if not curves:
                continue
            length = min(len(c) for c in curves)
            values = np.array([c[:length] for c in curves], dtype=float)
            out.setdefault(name, {})[kind] = (values.mean(axis=0).tolist(), values.std(axis=0).tolist())
    return out


def classical_lines(summary: dict) -> dict:
    """{data set: {kind: validation MAE}} of the classical baselines (mean over runs)."""
    out = {}
    for name, kinds in summary.get("accuracy", {}).items():
        for kind, result in kinds.items():
            runs = result.get("runs", [])
            if runs and not runs[0].get("val_curve"):
                out.setdefault(name, {})[kind] = float(np.mean([r["val_mae"] for r in runs]))
    return out


def size_curves(csv: Path, fractions, epochs: int, kinds=("cft", "sinusoidal", "ridge+distance")) -> dict:
    """{kind: [(training crystals, test MAE)]} on the fixed seed-0 test set of ``csv``."""
    from crystal_fourier.runtime import ModelConfig, fit_classical
    from crystal_fourier.runtime.data._datasets import load_cdvae_csv
    from crystal_fourier.runtime.network._neighbourhood import with_neighbours
    from crystal_fourier.runtime import TrainConfig, fit, predict_samples, prepare_samples
    from crystal_fourier.runtime.learning._splits import split_indices

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_results import SMALL_MODEL

    records = load_cdvae_csv(csv, targets=["energy_per_atom"])
    samples = with_neighbours(prepare_samples(records, "energy_per_atom"), *ModelConfig().neighbour_spec)
    train, val, test = split_indices(len(samples), 0)
    pool = np.random.default_rng(0).permutation(np.concatenate([train, val]))
    tests = [samples[i] for i in test]
    targets = np.array([s.target for s in tests])
    out = {kind: [] for kind in kinds}
    for fraction in fractions:
        chosen = [samples[i] for i in pool[:int(round(fraction * len(pool)))]]
        for kind in kinds:
            start = time.perf_counter()
            classical = kind not in ("cft", "sinusoidal", "augmented")
            config = TrainConfig(target="energy_per_atom", model=ModelConfig(kind="cft" if classical else kind,
                                                                              **SMALL_MODEL),
                                 epochs=epochs, batch_size=32, lr=3e-3, seed=0, split=(0.9, 0.1, 0.0),
                                 progress=False)
            if classical:
                result = fit_classical(chosen, config, kind)
                predicted = result.predict_samples(tests)
            else:
                result = fit(chosen, config)
                predicted = result.normalizer.denormalize(predict_samples(result.model, tests))
            mae = float(np.abs(predicted - targets).mean())
            n_train = int(round(0.9 * len(chosen)))
            out[kind].append((n_train, mae))
            print(f"[{time.strftime('%H:%M:%S')}] {kind} {n_train} training crystals: test MAE {mae:.4f} "
                  f"({time.perf_counter() - start:.0f} s)", file=sys.stderr, flush=True)
    return out


def plot(epochs: dict, lines: dict, sizes: dict | None, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(epochs) + (1 if sizes else 0)
    figure, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.2), squeeze=False)
    for axis, (name, kinds) in zip(axes[0], epochs.items(), strict=False):
        for kind, (mean, std) in kinds.items():
            x = np.arange(1, len(mean) + 1)
            axis.plot(x, mean, label=kind, color=COLOURS.get(kind))
            axis.fill_between(x, np.array(mean) - std, np.array(mean) + std, alpha=0.2, color=COLOURS.get(kind))
        for kind, value in lines.get(name, {}).items():
            if kind.endswith("+distance"):
                axis.axhline(value, linestyle="--", color=COLOURS.get(kind), label=f"{kind} (val)")
        axis.set(title=f"{name}: validation MAE vs epochs (mean +- std over seeds)", xlabel="epoch",
                 ylabel="validation MAE (eV/atom)", yscale="log")
        axis.legend(fontsize=8)
        axis.title.set_fontsize(9)
    if sizes:
        axis = axes[0][-1]
        for kind, points in sizes.items():
            n, mae = zip(*points, strict=True)
            axis.plot(n, mae, marker="o", label=kind, color=COLOURS.get(kind))
        axis.set(title="demo EMT set: test MAE vs training crystals (seed 0)", xlabel="training crystals",
                 ylabel="test MAE (eV/atom)", xscale="log", yscale="log")
        axis.legend(fontsize=8)
        axis.title.set_fontsize(9)
    figure.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png, dpi=110)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="append", default=[], help="bench_results summary.json (repeatable)")
    parser.add_argument("--sizes", default=None, metavar="CSV", help="data file for the training-size curve")
    parser.add_argument("--fractions", default="0.25,0.5,1", help="fractions of the non-test crystals")
    parser.add_argument("--sizes-from", default=None, metavar="JSON",
                        help="reuse the training-size curve of an earlier run's JSON instead of training again")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--png", default=str(ROOT / "docs" / "learning_curves.png"))
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    epochs, lines = {}, {}
    for path in args.summary:
        summary = json.loads(Path(path).read_text())
        epochs.update(epoch_curves(summary))
        lines.update(classical_lines(summary))
    sizes = None
    if args.sizes_from:
        sizes = json.loads(Path(args.sizes_from).read_text())["sizes"]
    elif args.sizes:
        sizes = size_curves(Path(args.sizes), [float(f) for f in args.fractions.split(",")], args.epochs)
    png = Path(args.png)
    plot(epochs, lines, sizes, png)
    png.with_suffix(".json").write_text(json.dumps({"epochs": epochs, "classical_val": lines, "sizes": sizes},
                                                   indent=1) + "\n")
    print(f"wrote {png} and {png.with_suffix('.json')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
