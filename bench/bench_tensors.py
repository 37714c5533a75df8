"""Elastic tensors (issue 19): the CFT's symmetric tensor head against its baselines, over seeds.

Makes (or reuses) an EMT elastic-tensor data set of random crystals with the package's own
``dataset make --target elastic_tensor`` (one crystal per group in turn over the chosen groups),
then for each seed trains and scores, on one split, the rows of
:data:`crystal_fourier.runtime.learning._tensor_comparison.TENSOR_MODELS`: the CFT with the symmetric
head, the same with the free 21-component head, its post-hoc projection, and the per-component
ridge and gradient-boosted regressors. With ``--zero-shot`` the centrosymmetric groups are held out of
training and validation and scored on the test crystals of those groups.

Prints one table (mean +- standard deviation over the seeds) of test component MAE, the MAE of the Voigt
bulk and shear moduli (linear in C), of the Hill ones (VRH; noisy: the Reuss bound of the many mechanically
unstable labels is meaningless) (GPa), and the largest symmetry violation |C - P C| (GPa); every number
goes to --json.

Usage (the README's runs; docs/results-tensors.md has the tables and timings):
    python bench/bench_tensors.py --size 460 --epochs 30 --batch-size 64 --lr 3e-3 --threads 1   # ~7 min
    python bench/bench_tensors.py --size 1150 --epochs 40 --batch-size 64 --lr 3e-3 --threads 1
    python bench/bench_tensors.py ... --zero-shot --models cft-symmetric cft-free cft-free+projection ridge+distance
`make demo-tensors` runs one seed on 230 crystals. A bigger run (not made here):
    python bench/bench_tensors.py --size 4600 --max-atoms 32 --epochs 100 --d-model 128 --layers 3 --zero-shot
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def make_data(path: Path, size: int, max_atoms: int, workers: int, groups) -> Path:
    from crystal_fourier.runtime import make_dataset

    if path.is_file():
        return path
    start = time.perf_counter()
    make_dataset(path, groups=groups, size=size, max_atoms=max_atoms, workers=workers, progress=False,
                 target="elastic_tensor")
    print(f"made {size} labelled crystals in {time.perf_counter() - start:.0f} s -> {path}", file=sys.stderr)
    return path


def summary(values) -> str:
    values = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if not len(values):
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"{values.mean():.3g} +- {values.std(ddof=1):.2g}"


def main(argv=None) -> int:  # noqa: PLR0915 - one script: arguments, data, runs, table
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=460, help="crystals (default 460: 2 per group)")
    parser.add_argument("--max-atoms", type=int, default=16, help="most atoms per conventional cell (default 16)")
    parser.add_argument("--groups", default="all", help="'all' (the groups with an orbit of <= max-atoms) or a list")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--loss", choices=("mse", "l1"), default="mse", help="the transformers' training loss")
    parser.add_argument("--auxiliary", action="store_true",
                        help="train the symmetric head on its unprojected outputs too (measured: no gain)")
    parser.add_argument("--models", nargs="+", default=None, help="rows to run (default: all)")
    parser.add_argument("--zero-shot", action="store_true", help="hold the centrosymmetric groups out")
    parser.add_argument("--workers", type=int, default=2, help="processes for making the data set")
    parser.add_argument("--data-dir", type=Path, default=Path("bench-output"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None, help="also write the tables as markdown here "
                                                                     "(docs/results-tensors.md for the README's run)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from crystal_fourier.runtime import compare_tensor_models, prepare_samples
    from crystal_fourier.runtime.data._datasets import load_cdvae_csv
    from crystal_fourier.runtime.learning._tensor_comparison import TENSOR_MODELS
    from crystal_fourier.runtime import ModelConfig, TrainConfig
    from crystal_fourier.runtime.learning._zero_shot import centrosymmetric_groups

    if args.groups == "all":
        from crystal_fourier.derive import space_group

        # the groups whose smallest orbit fits in max-atoms (general position of the conventional cell or less)
        groups = [n for n in range(1, 231) if _smallest_orbit(space_group(n)) <= args.max_atoms]
    else:
        groups = [int(g) for g in args.groups.split(",")]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    path = make_data(args.data_dir / f"elastic-{args.size}-{args.max_atoms}-{len(groups)}g.csv", args.size,
                     args.max_atoms, args.workers, groups)
    samples = prepare_samples(load_cdvae_csv(path), "elastic_tensor")
    holdout = centrosymmetric_groups() if args.zero_shot else ()
    model = ModelConfig(d_model=args.d_model, n_heads=4, n_layers=args.layers, d_ff=2 * args.d_model,
                        d_route=args.d_model, d_position=args.d_model, d_head=args.d_model)
    models = tuple(args.models) if args.models else TENSOR_MODELS
    runs = []
    for seed in args.seeds:
        config = TrainConfig(target="elastic_tensor", model=model, epochs=args.epochs, batch_size=args.batch_size,
                             lr=args.lr, seed=seed, holdout_groups=tuple(holdout), progress=False)
        start = time.perf_counter()
        runs.append(compare_tensor_models(samples, config, models, loss=args.loss, auxiliary=args.auxiliary))
        print(f"seed {seed}: {time.perf_counter() - start:.0f} s", file=sys.stderr)

    parts = ["test"] + (["heldout"] if holdout else [])
    title = (f"{len(samples)} crystals of {len(groups)} groups, seeds {args.seeds}, {args.epochs} epochs, "
             f"d_model {args.d_model}, {args.layers} layers, {args.loss} loss"
             + (", symmetric head with the auxiliary loss" if args.auxiliary else "")
             + (", centrosymmetric groups held out" if holdout else ""))
    print("\n" + title)
    markdown = [f"### {title}", "", "Command: `python bench/bench_tensors.py " + " ".join(sys.argv[1:] if argv is None
                                                                                       else argv) + "`", ""]
    for part in parts:
        n = runs[0][models[0]][part]["n"]
        markdown += ["", f"{part} ({n} crystals), mean +- std over seeds, GPa:", "",
                     "| model | component MAE | K_V MAE | G_V MAE | K_VRH MAE | G_VRH MAE | max violation |",
                     "|---|---|---|---|---|---|---|"]
        for name in models:
            rows = [run[name][part] for run in runs]
            markdown.append(f"| {name} | " + " | ".join(summary([r[c] for r in rows]) for c in (
                "component_mae", "bulk_voigt_mae", "shear_voigt_mae", "bulk_mae", "shear_mae"))
                + f" | {max(r['violation_max'] for r in rows):.3g} |")
        print(f"\n{part} ({n} crystals): mean +- std over seeds, GPa")
        columns = ("component_mae", "bulk_voigt_mae", "shear_voigt_mae", "bulk_mae", "shear_mae")
        print(f"{'model':<20} {'component MAE':>14} {'K_V MAE':>13} {'G_V MAE':>13} {'K_VRH MAE':>13} "
              f"{'G_VRH MAE':>13} {'max violation':>13}")
        for name in models:
            rows = [run[name][part] for run in runs]
            cells = " ".join(f"{summary([r[c] for r in rows]):>{14 if c == 'component_mae' else 13}}" for c in columns)
            print(f"{name:<20} {cells} {max(r['violation_max'] for r in rows):>13.3g}")
    if args.markdown:
        previous = args.markdown.read_text() if args.markdown.is_file() else "# Elastic tensors (issue 19)\n"
        args.markdown.write_text(previous.rstrip("\n") + "\n\n" + "\n".join(markdown) + "\n")
    if args.json:
        args.json.write_text(json.dumps({"arguments": {k: str(v) for k, v in vars(args).items()},
                                         "n_samples": len(samples), "groups": groups, "runs": runs},
                                        indent=1, default=float))
    return 0


def _smallest_orbit(group) -> int:
    """Atoms in the smallest orbit of the conventional cell (the centring times the smallest site)."""
    from crystal_fourier.runtime.symmetry._random_crystals import fixed_points, operations_with_fixed_points, orbit

    best = len(group.operations)
    for operations in operations_with_fixed_points(group.hall_number)[:64]:
        points = fixed_points([operations])
        if points is not None:
            best = min(best, len(orbit(group, points[0])))
    return best


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
