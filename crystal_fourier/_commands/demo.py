"""the main job: verify all groups, make data, train CFT and baseline, zero-shot table

1. certify all 230 groups at the runtime's default cutoff (ball R = 6, faithful for every group);
2. make a labelled data set of random symmetric crystals over all 230 groups (EMT energies and
   bulk moduli, groups detected with spglib);
3. train the Crystal Fourier Transformer and the non-invariant sinusoidal baseline (both with
   the exactly invariant neighbourhood embedding, no pretraining), each once on all data and
   once zero-shot with the centrosymmetric groups held out, and fit the classical baselines on
   the same split and hold-out (ridge regression and gradient-boosted trees on composition,
   density and cell parameters, without and with exactly invariant interatomic-distance features);
4. print a table of MAEs and the zero-shot gap of every model, and save a model that
   ``crystal-fourier predict`` can use.

Notes
-----
Sized to finish in about ten minutes on two CPU cores; every step caches to --out, so a second
run reuses the data set (and retrains, replacing the demo's own models in --out/cft and --out/sinusoidal).
Deterministic: seeded (--seed), torch's deterministic algorithms, a fixed
number of torch threads (--threads, 2 by default whatever the machine); two runs on one machine print
the same table. Another CPU (other vector instructions, another torch or BLAS build) may sum floats in
another order, and 40 epochs of training amplify the last-bit differences into differences in the
third digit of the MAEs (docs/guide/reproducibility.md).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from crystal_fourier._commands._options import add_command, add_symprec_option, positive_int, seed_int


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "demo", __doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder (default demo-output)")
    parser.add_argument("--size", type=positive_int, default=1610,
                        help="random crystals in the data set, 7 per group (default 1610)")
    parser.add_argument("--epochs", type=positive_int, default=40, help="training epochs per run (default 40)")
    parser.add_argument("--target", default="energy_per_atom", choices=("energy_per_atom", "bulk_modulus"),
                        help="label to learn (default energy_per_atom)")
    parser.add_argument("--workers", type=positive_int, default=2, help="processes for data generation (default 2)")
    parser.add_argument("--seed", type=seed_int, default=0)
    parser.add_argument("--threads", type=positive_int, default=2,
                        help="torch threads, fixed so that the table does not depend on the core count (default 2)")
    add_symprec_option(parser, from_model=False)
    parser.set_defaults(func=run)


def _deterministic(seed: int, threads: int) -> None:
    """Seed every generator, fix the torch thread count and ask torch for deterministic algorithms."""
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def _step(message: str) -> float:
    print(f"\n== {message}", flush=True)
    return time.perf_counter()


def _report_results(args, reports: dict, n_samples: int, out: Path) -> None:
    """Print the table of MAEs and zero-shot gaps and write it to ``out``/demo_results.json."""
    import dataclasses

    from crystal_fourier._atomic import atomic_write_text, json_safe

    rows = []
    header = ("model", "test MAE (all data)", "held-out MAE zero-shot", "held-out MAE all-data", "GB-Gap")
    for kind, report in reports.items():
        rows.append((kind, report["test_mae_all_data"], report["heldout_mae_zero_shot"],
                     report["heldout_mae_all_data"], report["gb_gap"]))
    print(" | ".join(header))
    for row in rows:
        print(" | ".join([row[0]] + [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row[1:]]))
    summary = {"target": args.target, "size": n_samples, "epochs": args.epochs,
               "results": {kind: dataclasses.asdict(r) if dataclasses.is_dataclass(r) else r
                           for kind, r in reports.items()}}
    summary = json.loads(json.dumps(summary, default=str))  # plain data (dataclasses, paths as strings)
    atomic_write_text(out / "demo_results.json", json.dumps(json_safe(summary), indent=1, sort_keys=True,
                                                             allow_nan=False) + "\n")


def _example_cif(out: Path, records: list) -> Path:
    """A CIF for the closing ``predict`` hint: the first one under ``out``/examples, else the first record's."""
    example = next(iter(sorted((out / "examples").glob("*.cif"))), None) if (out / "examples").exists() else None
    if example is None:
        from crystal_fourier.runtime import write_cif

        (out / "examples").mkdir(exist_ok=True)
        example = out / "examples" / f"{records[0].id}.cif"
        example.write_text(write_cif(records[0].crystal, name=records[0].id))
    return example


def run(args) -> int:
    from crystal_fourier.errors import CrystalFourierError
    from crystal_fourier.proofs import verify_groups
    from crystal_fourier.runtime import ModelConfig, TrainConfig, make_dataset, prepare_samples
    from crystal_fourier.runtime.data._datasets import load_cdvae_csv
    from crystal_fourier.runtime.learning._zero_shot import run_zero_shot

    if args.size < 50 or args.epochs < 1:
        raise CrystalFourierError(f"--size must be >= 50 and --epochs >= 1, got {args.size} and {args.epochs}")
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    _deterministic(args.seed, args.threads)
    progress = sys.stderr.isatty()
    started = time.perf_counter()

    start = _step("1/4 verify all 230 groups at ball R = 6 (invariance, absences, completeness, independence)")
    results = verify_groups(range(1, 231), 6, "ball", out=out / "certificates", progress=progress)
    failed = [r for r in results if not r.ok]
    if failed:
        print("FAILED: " + "; ".join(f"sg {r.sg}: {', '.join(r.failed)}" for r in failed), file=sys.stderr)
        return 1
    print(f"all 230 groups certified in {time.perf_counter() - start:.1f} s; "
          f"sum of dim {sum(r.dim for r in results)}; certificates in {out / 'certificates'}")

    data = out / "random-crystals.csv"
    start = _step(f"2/4 data set: {args.size} random crystals over all 230 groups, EMT labels")
    if data.exists():
        print(f"reusing {data}")
    else:
        make_dataset(data, groups=list(range(1, 231)), size=args.size, seed=args.seed, workers=args.workers,
                     max_atoms=32, progress=progress)
    records = load_cdvae_csv(data)
    samples = prepare_samples(records, args.target, symprec=args.symprec, progress=progress, workers=args.workers)
    from crystal_fourier.runtime.network._neighbourhood import with_neighbours

    samples = with_neighbours(samples, *ModelConfig().neighbour_spec, workers=args.workers)   # once for all runs
    groups = sorted({s.number for s in samples})
    print(f"{len(samples)} crystals, {len(groups)} detected groups, in {time.perf_counter() - start:.1f} s")

    model_sizes = dict(d_model=64, n_heads=4, n_layers=2, d_ff=128, d_route=64, d_position=64, d_head=64)
    reports = {}
    for kind in ("cft", "sinusoidal"):
        start = _step(f"3/4 train {kind}: all data, then zero-shot without the centrosymmetric groups")
        config = TrainConfig(target=args.target, model=ModelConfig(kind=kind, **model_sizes), epochs=args.epochs,
                             batch_size=32, lr=3e-3, seed=args.seed, symprec=args.symprec, progress=progress)
        reports[kind] = run_zero_shot(samples, config, "centrosymmetric", out / kind,
                                      overwrite=True)   # a rerun retrains: the demo owns out/cft, out/sinusoidal
        print(f"{kind} trained in {time.perf_counter() - start:.1f} s")

    from crystal_fourier.runtime.learning._classical import classical_zero_shot

    start = _step("3/4 classical baselines on the same split: ridge and gradient-boosted trees on composition, "
                  "density and cell, without and with distance features")
    reports.update(classical_zero_shot(samples, TrainConfig(target=args.target, seed=args.seed, symprec=args.symprec,
                                                            progress=False),
                                       "centrosymmetric", workers=args.workers))
    print(f"classical baselines fitted in {time.perf_counter() - start:.1f} s")

    _step("4/4 results (test split; MAE in eV/atom)" if args.target == "energy_per_atom"
          else "4/4 results (test split; MAE in GPa)")
    _report_results(args, reports, len(samples), out)
    model_dir = out / "cft" / "all-data"
    example = _example_cif(out, records)
    print(f"\nsaved model: {model_dir}   ({time.perf_counter() - started:.0f} s in all)")
    print(f"try: crystal-fourier predict --model {model_dir} {example}")
    return 0
