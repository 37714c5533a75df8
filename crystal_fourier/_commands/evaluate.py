"""MAE, RMSE and per-group errors of a saved model on a data file

Evaluate a model directory from `crystal-fourier train` on a labelled data file; prints the metrics
as JSON (errors in log10 units for models trained with --log-target; for an elastic-tensor model the
component, bulk and shear MAE in GPa and the symmetry violation).
"""

from __future__ import annotations

from crystal_fourier._commands._options import add_command, add_symprec_option, positive_int
from crystal_fourier.errors import CrystalFourierError

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "evaluate", __doc__)
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory")
    parser.add_argument("--data", required=True, metavar="PATH", help="data file (CDVAE CSV, .extxyz, matbench .json)")
    parser.add_argument("--target", default=None, metavar="NAME",
                        help="property column (default: the trained one; another one is refused)")
    parser.add_argument("--out", default=None, metavar="FILE", help="also write the JSON here")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N", help="use only the first N structures")
    parser.add_argument("--device", default=None, help="torch device (default: the trained one)")
    parser.add_argument("--baselines-from", default=None, metavar="PATH",
                        help="also fit the classical baselines (ridge and gradient-boosted trees on composition, "
                             "density and cell, without and with exact distance features) on this labelled file, "
                             "with the model's own split, seed and target space (the model's training file gives "
                             "them the model's training crystals), and report their metrics on --data beside the "
                             "model's, under 'baselines'")
    add_symprec_option(parser, from_model=True)
    parser.set_defaults(func=run)


def baseline_metrics(train_samples: list, samples: list, config) -> dict:
    """Metrics on ``samples`` of every classical baseline fitted on ``train_samples`` with ``config``'s split.

    ``config`` is the model's TrainConfig: the baselines use its seed, split, hold-out and
    ``log_target``, so their errors are in the model's metric space.
    """
    import numpy as np

    from crystal_fourier.runtime import fit_classical
    from crystal_fourier.runtime.learning._classical import CLASSICAL_KINDS, feature_matrix
    from crystal_fourier.runtime.learning._evaluation import regression_metrics
    from crystal_fourier.runtime.learning._training import Normalizer

    training_features = feature_matrix(train_samples)
    features = feature_matrix(samples)
    targets = Normalizer.to_metric_space(np.array([s.target for s in samples], dtype=np.float64), config.log_target)
    groups = [s.number for s in samples]
    results = {}
    for kind in CLASSICAL_KINDS:
        fitted = fit_classical(train_samples, config, kind, features=training_features)
        results[kind] = {**regression_metrics(fitted.predict(features), targets, groups),
                         "validation_mae": fitted.metrics["val"]["mae"], "n_train": int(len(fitted.split["train"]))}
    return results


def run(args) -> int:
    from crystal_fourier._commands.train import load_samples
    from crystal_fourier.runtime import load_trained
    from crystal_fourier._atomic import atomic_write_text, json_safe, json_text

    trained = load_trained(args.model, device=args.device)
    if trained.target.label_shape and args.baselines_from:
        raise CrystalFourierError(f"{args.model} predicts {trained.config.target}; --baselines-from fits scalar "
                                  "baselines (the tensor baselines are in bench/bench_tensors.py)")
    target = args.target or trained.config.target
    if target != trained.config.target:
        raise CrystalFourierError(f"{args.model} predicts {trained.config.target!r}; scoring it against {target!r} "
                                  "compares different quantities "
                                  f"(omit --target, or use --target {trained.config.target})")
    symprec = args.symprec if args.symprec is not None else trained.config.symprec
    samples = load_samples(args.data, target, symprec, args.limit, handedness=trained.config.handedness)
    metrics = trained.evaluate(samples)
    metrics["target"] = target
    metrics["symprec"] = symprec
    if args.baselines_from:
        train_samples = load_samples(args.baselines_from, target, symprec, handedness=trained.config.handedness)
        metrics["baselines"] = baseline_metrics(train_samples, samples, trained.config)
        metrics["baselines_from"] = str(args.baselines_from)
    text = json_text(json_safe(metrics))  # strict JSON: a NaN or infinite error is written as null
    if args.out:
        atomic_write_text(args.out, text)
    print(text, end="")
    return 0
