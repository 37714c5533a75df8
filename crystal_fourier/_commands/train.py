"""train the Crystal Fourier Transformer (or a baseline) and save it

Train on a CDVAE CSV, extxyz or matbench JSON file; the groups are detected with spglib and every
structure is brought to the ITA standard setting. Saves config.json, weights.pt, normalization.json
and metrics.json under --out.

Notes
-----
Runs data-parallel when launched with torchrun (NCCL with --device cuda, gloo on CPU), e.g.
``torchrun --nproc_per_node 2 $(which crystal-fourier) train --data d.csv --target y --out m``; with
--data STORE (`dataset prepare`) the ranks share one memory-mapped copy of the standardized samples.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from crystal_fourier._commands._options import (
    add_command,
    ConfigDefault,
    add_cutoff_arguments,
    integer,
    add_symprec_option,
    dropout_float,
    positive_float,
    positive_int,
    scientific,
    seed_int,
    worker_count,
)
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import MODEL_KINDS
from crystal_fourier.runtime.network._config import TENSOR_HEADS  # torch-free

__all__ = ["add_parser", "run", "add_model_arguments", "model_config_from_args", "load_samples", "store_samples"]


def damping_value(text: str) -> float | None:
    """``--frequency-damping``: a positive sigma, or 'none' for no prior."""
    if text.strip().lower() == "none":
        return None
    return positive_float(text)


def pair_bias_value(text: str) -> int | str:
    """``--pair-bias-radius``: a positive integer, or 'none' for no pair bias."""
    if text.strip().lower() == "none":
        return "none"
    return positive_int(text)


class _Given(argparse.Action):
    """Store the value and record that the option was given (``--pair-bias-radius`` with a non-CFT model is an
    error only when asked for explicitly)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_given", True)


def add_model_arguments(parser: argparse.ArgumentParser, *, kinds: bool = True) -> None:
    """Model sizes and the frequency cutoff; the defaults are ModelConfig's, read from it (:class:`ConfigDefault`)."""
    def model(field: str) -> ConfigDefault:
        return ConfigDefault("ModelConfig", field)

    if kinds:
        parser.add_argument("--model", choices=MODEL_KINDS, default=model("kind"),
                            help="cft (invariant, default), sinusoidal (non-invariant baseline), augmented "
                                 "(baseline + random symmetry operations) or none (no positional encoding)")
    add_cutoff_arguments(parser, default_cutoff=model("cutoff"))
    parser.add_argument("--d-model", type=positive_int, default=model("d_model"),
                        help="token width (default %(default)s)")
    parser.add_argument("--heads", type=positive_int, default=model("n_heads"),
                        help="attention heads (default %(default)s)")
    parser.add_argument("--layers", type=positive_int, default=model("n_layers"),
                        help="transformer blocks (default %(default)s)")
    parser.add_argument("--d-route", type=positive_int, default=model("d_route"),
                        help="width of the routing features, the encoder's first map (default %(default)s)")
    parser.add_argument("--d-position", type=positive_int, default=model("d_position"),
                        help="positional-encoder width (default %(default)s)")
    parser.add_argument("--dropout", type=dropout_float, default=model("dropout"), help="dropout (default %(default)s)")
    parser.add_argument("--frequency-damping", type=damping_value, default=model("frequency_damping"),
                        metavar="SIGMA", help="sigma of the Gaussian prior on the positional encoding's frequencies, "
                                              "or 'none' (default %(default)s)")
    parser.add_argument("--no-neighbourhood", dest="neighbourhood", action="store_false",
                        help="no neighbourhood embedding (element embeddings of the neighbours weighted by radial "
                             "functions of the exact periodic distance; on by default)")
    parser.add_argument("--neighbour-cutoff", type=positive_float, default=model("neighbour_cutoff"), metavar="A",
                        help="neighbourhood radius in Angstrom (default %(default)s)")
    parser.add_argument("--radial-functions", dest="n_rbf", type=positive_int, default=model("n_rbf"), metavar="N",
                        help="Gaussian radial functions on [0, cutoff] (default %(default)s)")
    parser.add_argument("--no-atom-readout", dest="atom_readout", action="store_false",
                        help="predict from the pooled token instead of the mean of per-atom contributions")
    parser.add_argument("--pair-bias-radius", type=pair_bias_value, default=model("pair_bias_radius"), metavar="R",
                        action=_Given, help="orbit-pair attention bias over the frequencies 0 < |n| <= R (CFT "
                                            "only), or 'none' (default %(default)s)")


def model_config_from_args(args, kind: str = "cft"):
    from crystal_fourier.runtime import ModelConfig

    kind = getattr(args, "model", kind)
    radius = getattr(args, "pair_bias_radius", None)
    if getattr(args, "pair_bias_radius_given", False) and radius != "none" and kind != "cft":
        raise CrystalFourierError(f"--pair-bias-radius needs the CFT's invariant encoding; --model is {kind}")
    pair_bias_radius = None if radius == "none" else radius
    return ModelConfig(kind=kind, pair_bias_radius=pair_bias_radius, d_model=args.d_model, n_heads=args.heads,
                       n_layers=args.layers, d_ff=2 * args.d_model, d_route=args.d_route,
                       d_position=args.d_position,
                       cutoff=args.cutoff, shell=args.shell, dropout=args.dropout,
                       frequency_damping=args.frequency_damping, neighbourhood=args.neighbourhood,
                       neighbour_cutoff=args.neighbour_cutoff, n_rbf=args.n_rbf, atom_readout=args.atom_readout)


def load_samples(path, target, symprec: float, limit: int | None = None, progress: bool = False, workers: int = 1,
                 handedness: str = "canonical"):
    """Read a data file (CDVAE CSV, extxyz, matbench JSON) and standardize every structure, labelled with
    ``target`` (a name: a column, or elastic_tensor)."""
    return list(iter_file_samples(path, target, symprec, limit, progress, workers, handedness=handedness))


def iter_file_samples(path, target, symprec: float, limit: int | None = None, progress: bool = False,  # noqa: PLR0913
                      workers: int = 1, handedness: str = "canonical", neighbours=None):
    """The samples of :func:`load_samples` one at a time, as they are standardized (``dataset prepare`` streams
    them into its store), with their neighbourhoods at ``neighbours`` = (cutoff, n_rbf) if given."""
    from crystal_fourier.runtime import load_dataset, target_for
    from crystal_fourier.runtime.learning._samples import iter_samples

    columns = None if target is None else list(target_for(target).columns)
    records = load_dataset(path, targets=columns, limit=limit)
    if not records:
        raise CrystalFourierError(f"{path} holds no structures")
    return iter_samples(records, target, symprec=symprec, progress=progress, workers=workers,
                        handedness=handedness, neighbours=neighbours)


def store_samples(path, config, limit: int | None = None, rank: int = 0):
    """Open the sample store ``path`` (``dataset prepare``) for training with ``config`` (a TrainConfig).

    Parameters
    ----------
    path : path-like
        The store directory.
    config : TrainConfig
        Its ``target``, ``symprec`` and ``handedness`` must be the store's; its model's neighbourhood
        spec, if other than the store's, is computed batch by batch (a warning on rank 0 says so).
    limit : int, optional
        Use only the first ``limit`` samples of the store.
    rank : int, default 0
        This process's rank (only rank 0 warns).

    Returns
    -------
    SampleStore

    Raises
    ------
    CrystalFourierError
        A damaged store, or one prepared for another target, symprec or handedness.
    """
    import warnings

    from crystal_fourier.runtime.learning._sample_store import open_sample_store

    store = open_sample_store(path)
    manifest = store.manifest
    for name, option in (("target", "--target"), ("symprec", "--symprec"), ("handedness", "--handedness")):
        if manifest[name] != getattr(config, name):
            raise CrystalFourierError(
                f"sample store {path} was prepared with {option} {manifest[name]}, training asks for "
                f"{getattr(config, name)}: train with {option} {manifest[name]} or prepare the store again")
    spec = config.model.neighbour_spec
    if spec is not None and store.neighbour_spec != spec and rank == 0:
        warnings.warn(f"sample store {path} holds neighbourhoods at {store.neighbour_spec} (cutoff, radial "
                      f"functions), the model needs {spec}: computed batch by batch, every epoch", stacklevel=2)
    if limit is not None:
        store = store.take(range(min(limit, len(store))))
    return store


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "train", __doc__)
    parser.add_argument("--data", required=True, metavar="PATH",
                        help="data file (CDVAE CSV, .extxyz, matbench .json), or a sample store directory of "
                             "`dataset prepare` (read memory-mapped, not standardized again)")
    parser.add_argument("--target", required=True, metavar="NAME",
                        help="property column to learn, or elastic_tensor: the 21 columns elastic_c11..elastic_c66 "
                             "of `dataset make --target elastic_tensor`, learnt as one tensor")
    parser.add_argument("--out", required=True, metavar="DIR", help="model directory to write")
    add_model_arguments(parser)
    parser.add_argument("--tensor-head", choices=TENSOR_HEADS, default="symmetric",
                        help="with --target elastic_tensor: symmetric (default; the output lies in the crystal's "
                             "allowed tensors exactly) or free (the unconstrained 21-component baseline)")
    def train(field: str) -> ConfigDefault:
        return ConfigDefault("TrainConfig", field)

    # --epochs and --batch-size are range-checked by TrainConfig only (one check, one message).
    parser.add_argument("--epochs", type=integer, default=train("epochs"), help="epochs (default %(default)s)")
    parser.add_argument("--batch-size", type=integer, default=train("batch_size"),
                        help="global batch size (default %(default)s)")
    parser.add_argument("--lr", type=positive_float, default=ConfigDefault("TrainConfig", "lr", scientific),
                        help="AdamW peak learning rate (default %(default)s)")
    parser.add_argument("--seed", type=seed_int, default=train("seed"),
                        help="seed of the split, initialisation and order (default %(default)s)")
    parser.add_argument("--patience", type=positive_int, default=None, metavar="N",
                        help="stop after N epochs without a better validation MAE (default: train every epoch; the "
                             "best validation epoch is kept either way)")
    parser.add_argument("--device", default="cpu", help="torch device (default cpu)")
    parser.add_argument("--holdout-groups", default=None, metavar="LIST",
                        help="groups never trained on: numbers/ranges/symbols, or 'centrosymmetric'")
    parser.add_argument("--compare-all-data", action="store_true",
                        help="with --holdout-groups: also train on all data and write the zero-shot report "
                             "(OUT/zero-shot, OUT/all-data, OUT/zero_shot.json)")
    parser.add_argument("--log-target", action="store_true", help="learn log10 of the target (moduli)")
    add_symprec_option(parser, from_model=False)
    parser.add_argument("--handedness", choices=("canonical", "keep"), default="canonical",
                        help="canonical (default): a crystal and its mirror image are one input; keep: the hand "
                             "matters (targets that are not mirror-invariant, e.g. optical activity)")
    parser.add_argument("--pretrained", default=None, metavar="DIR", help="encoder from `crystal-fourier pretrain`")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the model already in OUT (refused without this flag or --resume)")
    parser.add_argument("--limit", type=positive_int, default=None, metavar="N", help="use only the first N structures")
    parser.add_argument("--workers", type=worker_count, default=1, metavar="N",
                        help="processes for standardizing the structures (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.runtime import TrainConfig, fit, holdout_groups, target_for
    from crystal_fourier.runtime.learning._model_files import check_device
    from crystal_fourier.runtime.learning._sample_store import is_sample_store
    from crystal_fourier.runtime.learning._training import distributed_rank
    from crystal_fourier.runtime.learning._zero_shot import run_zero_shot

    check_device(args.device)
    if not args.compare_all_data:
        from crystal_fourier.runtime.learning._model_files import check_output_directory

        check_output_directory(args.out, resume=args.resume, overwrite=args.overwrite)  # before the data is read
    holdout = holdout_groups(args.holdout_groups)
    if args.compare_all_data and not holdout:
        raise CrystalFourierError("--compare-all-data needs --holdout-groups")
    rank, _ = distributed_rank(args.device)
    progress = not args.no_progress and rank == 0
    target = target_for(args.target, args.log_target)
    model = model_config_from_args(args)
    if target.label_shape:   # a tensor target: the head the option names
        model = dataclasses.replace(model, tensor_head=args.tensor_head)
    config = TrainConfig(target=args.target, model=model, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr, seed=args.seed, log_target=args.log_target,
                         holdout_groups=holdout, symprec=args.symprec, handedness=args.handedness,
                         device=args.device, progress=progress,
                         patience=args.patience)
    if args.compare_all_data and target.label_shape:
        raise CrystalFourierError(f"--compare-all-data is not supported with --target {args.target} (the zero-shot "
                                  "report compares scalar errors)")
    # symprec and handedness travel in the config, which the model directory records: one value for both
    if is_sample_store(args.data):
        samples = store_samples(args.data, config, args.limit, rank=rank)
    else:
        samples = load_samples(args.data, config.target, config.symprec, args.limit, progress, args.workers,
                               handedness=config.handedness)
    if args.compare_all_data:
        report = run_zero_shot(samples, dataclasses.replace(config, holdout_groups=()), holdout, args.out,
                               pretrained=args.pretrained, overwrite=args.overwrite)
        if rank == 0:
            print(f"{'group':>5} {'n':>4} {'MAE zero-shot':>14} {'MAE all data':>13}")
            for row in report["groups"]:
                print(f"{row['group']:>5} {row['n']:>4} {row['mae_zero_shot']:>14.4g} {row['mae_all_data']:>13.4g}")
            print(f"GB-Gap {report['gb_gap']:.4g}; report in {args.out}/zero_shot.json")
        return 0
    result = fit(samples, config, args.out, resume=args.resume, pretrained=args.pretrained, overwrite=args.overwrite,
                 target=target)
    if rank == 0:
        space = " (log10)" if args.log_target else ""
        head = f" ({args.tensor_head} head)" if target.label_shape else ""
        print(f"{args.model} {args.target}{space}{head}: {target.summary(result.metrics['test'])}; saved to {args.out}",
              file=sys.stdout)
    return 0
