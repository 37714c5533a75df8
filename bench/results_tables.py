"""The markdown tables of bench_results.py (docs/results.md) from its summary."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_kinds import KINDS, LABELS  # noqa: E402  (sibling script)


def fmt(value, digits=4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:.{digits}f}"


SEED_KEYS = ("gb_gap", "heldout_mae_zero_shot", "heldout_mae_all_data", "test_mae_zero_shot", "test_mae_all_data")
"""Zero-shot numbers reported as mean +- std over seeds."""


def spread(values) -> str:
    """'mean +- std' over seeds (std with ddof 1; just the value for one seed)."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4f}"
    return f"{np.mean(values):.4f} +- {np.std(values, ddof=1):.4f}"


def sci(value) -> str:
    return f"{value:.1e}"


def markdown(summary: dict) -> str:
    lines = []
    s = summary["setup"]
    lines.append("# Results: CFT against its baselines (non-invariant transformers, classical regressors)\n")
    lines.append(f"Produced by `{s['command']}` ({s['date']}), wall time {s['wall_minutes']:.1f} min.\n")
    lines.append(f"- Machine: {s['machine']}; torch {s['torch']} with {s['threads']} threads, CPU only.")
    lines.append(f"- Data (read from `../shared/data`, not copied): {s['data_note']}")
    for name, d in summary["data"].items():
        lines.append(f"  - {name} (target `{d['target']}`, {d['units']}): {d['crystals']} crystals "
                     f"({d['groups']} space groups after detection at symprec {s['symprec']}), split "
                     f"{d['train']}/{d['val']}/{d['test']} (train/val/test, seed-0 split for every run); "
                     f"standardization {d['standardize_s']:.0f} s.")
    lines.append(f"- Models (every kind the same size): {s['model']}; parameters: "
                 + ", ".join(f"{LABELS[k]} {v}" for k, v in s["parameters"].items()) + ".")
    lines.append(f"- Budget (same for every model): {s['epochs']} epochs, batch {s['batch_size']}, AdamW lr {s['lr']}, "
                 "warm-up + cosine, best epoch on validation MAE"
                 + (f", early stopping after {s['patience']} epochs without a better one" if s.get("patience") else "")
                 + ". Seeds " + ", ".join(map(str, s["seeds"]))
                 + " vary initialisation, batch order and augmentation draws, never the split.")
    lines.append("- These are small, short runs sized to a ~30-minute budget on 2 CPU cores: the MAEs are far "
                 "from converged and from published numbers; they compare models under one budget.\n")

    lines.append(f"## Test MAE (mean +- std over {len(s['seeds'])} seeds)\n")
    names = list(summary["accuracy"])
    kinds = [k for k in KINDS if all(k in summary["accuracy"][n] for n in names)]
    lines.append("| model | " + " | ".join(f"{n} MAE ({summary['data'][n]['units']})" for n in names)
                 + " | train s/run |")
    lines.append("|---|" + "---|" * len(names) + "---|")
    for kind in kinds:
        cells = []
        seconds = []
        for n in names:
            r = summary["accuracy"][n][kind]
            cells.append(f"{r['mean']:.4f} +- {r['std']:.4f}")
            seconds += r["seconds"]
        lines.append(f"| {LABELS[kind]} | " + " | ".join(cells) + f" | {np.mean(seconds):.0f} |")
    lines.append("\n'train s/run' is wall time per run averaged over both data sets and seeds, including the first "
                 "run's one-time setup (routing tables of each group for the CFT); on a shared machine it varies "
                 "several-fold between identical runs, so use the throughput section for speed.")
    lines.append("\nThe classical baselines (`runtime/learning/_classical.py`) are ridge regression on all "
                 "quadratic monomials "
                 "and scikit-learn's HistGradientBoostingRegressor, on element fractions, log volume per atom and "
                 "the six cell parameters of the standardized cell ('composition + density + cell'), and on those "
                 "plus exactly invariant distance features (per-atom pair-distance histogram within 6 A, unlike-"
                 "species histogram, nearest-neighbour distance statistics). Ridge penalty and number of trees are "
                 "chosen on the validation set. Both fits are deterministic given the training set, so with the "
                 "fixed split their spread over seeds is 0; their 'train s/run' excludes the featurization "
                 + ", ".join(f"({n}: {summary['data'][n].get('features_s', math.nan):.0f} s)" for n in names)
                 + ".\n")

    if summary.get("zero_shot"):
        lines.append(f"## Zero-shot on carbon-24 (mean +- std over {len(s['seeds'])} seeds)\n")
        lines.append("The zero-shot model never sees the held-out groups (train and validation); seed s's zero-shot "
                     "model is compared with seed s's all-data model above. Both are scored on the same test crystals "
                     "of each held-out group. GB-Gap = mean over held-out groups with test crystals of |MAE zero-shot "
                     "- MAE all data|. The per-group table is seed 0.\n")
        for name, study in summary["zero_shot"].items():
            held = study["holdout_groups"]
            lines.append(f"### Hold-out: {name} ({len(held)} groups; {study['present']} present in the data, "
                         f"{study['train_crystals']} training crystals left of {study['train_all']})\n")
            lines.append("| model | GB-Gap | held-out MAE zero-shot | held-out MAE all data | test MAE zero-shot "
                         "(all test) | test MAE all data |")
            lines.append("|---|---|---|---|---|---|")
            kinds = [k for k in KINDS if k in study["models"]]
            for kind in kinds:
                r = study["models"][kind]
                lines.append(f"| {LABELS[kind]} | " + " | ".join(
                    spread([run[key] for run in r.get("seeds", [r])]) for key in SEED_KEYS) + " |")
            lines.append("")
            lines.append("| group | n test | " + " | ".join(f"{LABELS[k]} zero-shot / all data" for k in kinds) + " |")
            lines.append("|---|---|" + "---|" * len(kinds))
            rows = {k: {r["group"]: r for r in study["models"][k]["groups"]} for k in kinds}
            for group in sorted(rows[kinds[0]]):
                cells = [f"{fmt(rows[k][group]['mae_zero_shot'])} / {fmt(rows[k][group]['mae_all_data'])}"
                         if group in rows[k] else "-" for k in kinds]
                lines.append(f"| {group} | {rows[kinds[0]][group]['n']} | " + " | ".join(cells) + " |")
            lines.append("")

    if summary.get("invariance"):
        inv = summary["invariance"]
        lines.append(f"## Invariance in practice (carbon-24, {inv['crystals']} test crystals, seed-0 models)\n")
        lines.append("Spread = max - min of a model's predictions (eV/atom) over the descriptions of one crystal "
                     "(the original included); max and median over the crystals. Structure-level descriptions go "
                     f"through `standardize` (symprec {inv['symprec']}) like any input; 'group changed' counts "
                     "crystals for which spglib detected another group for some description (detection, not the "
                     "model). Operation-level descriptions act on the standardized cell directly. Rows marked "
                     "*idealized* take spglib's symmetrized cell, whose atoms spglib has moved by up to symprec: "
                     "they are nearby inputs, not exact re-descriptions, so no model need agree on them; the "
                     "**exact** total excludes them. 'Own operation of G per atom' moves each atom to another point "
                     "of its orbit independently: the CFT's Fourier encoding is invariant to it by construction, but "
                     "it is not a re-description of the crystal (two atoms of one orbit can land on one site), so "
                     "models that see interatomic distances (the classical '+ distance' rows, and the transformers "
                     "with their neighbourhood embedding, whose neighbourhoods are recomputed from the moved atoms) "
                     "rightly change under it; it is not counted in their exact total.\n")
        kinds = [k for k in KINDS if k in inv["all"]]
        lines.append("| description | n desc. | group changed | " + " | ".join(
            f"{LABELS[k]} max / median" for k in kinds) + " |")
        lines.append("|---|---|---|" + "---|" * len(kinds))
        for category, row in inv["categories"].items():
            cells = [f"{sci(row[k]['max'])} / {sci(row[k]['median'])}" for k in kinds]
            lines.append(f"| {category} | {row['descriptions']} | {row['group_changed']} | " + " | ".join(cells) + " |")
        cells = [f"{sci(inv['exact'][k]['max'])} / {sci(inv['exact'][k]['median'])}" for k in kinds]
        lines.append("| **all exact descriptions** | | | " + " | ".join(cells) + " |")
        cells = [f"{sci(inv['all'][k]['max'])} / {sci(inv['all'][k]['median'])}" for k in kinds]
        lines.append("| all, idealized included | | | " + " | ".join(cells) + " |")
        lines.append("")

    if summary.get("throughput"):
        t = summary["throughput"]
        lines.append("## Throughput (bench/bench_training.py, same run, CFT vs sinusoidal baseline)\n")
        lines.append(f"`{t['command']}` ({t['seconds']:.0f} s): {t.get('crystals')} {t.get('source')}, "
                     f"mean {fmt(t.get('mean_atoms'), 1)} atoms, {t.get('threads')} threads, batch 64, "
                     "ModelConfig default sizes (not the small models above).\n")
        if "train_crystals_per_s" in t:
            lines.append("| | CFT | sinusoidal | CFT overhead |")
            lines.append("|---|---|---|---|")
            tr, inf = t["train_crystals_per_s"], t["inference_s"]
            lines.append(f"| training crystals/s (best round) | {tr['cft']:.1f} | {tr['sinusoidal']:.1f} | "
                         f"{100 * t['train_overhead_vs_baseline']:+.1f}% |")
            md = t["train_crystals_per_s_median"]
            lines.append(f"| training crystals/s (median round) | {md['cft']:.1f} | {md['sinusoidal']:.1f} | |")
            scale = 10000 / t["inference_crystals"]
            lines.append(f"| inference s per 10,000 crystals | {scale * inf['cft']:.2f} | "
                         f"{scale * inf['sinusoidal']:.2f} | {100 * t['inference_overhead_vs_baseline']:+.1f}% |")
            lines.append(f"| standardization ms/crystal (both) | {t['standardize_ms_per_crystal']:.2f} | | |")
        lines.append("\nIts printed output:\n\n```\n" + t["stdout"].rstrip() + "\n```\n")
    return "\n".join(lines) + "\n"
