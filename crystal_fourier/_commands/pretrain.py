"""``crystal-fourier pretrain``: self-supervised pretraining of the invariant positional encoder."""

from __future__ import annotations

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    from crystal_fourier._commands._options import add_groups_option, positive_float, positive_int, seed_int
    from crystal_fourier._commands.train import add_model_arguments

    parser = subparsers.add_parser(
        "pretrain", help="pretrain the positional encoder on exact orbit distances (no data needed)",
        description="Random pairs of positions in random lattices obeying each group's metric constraints; the "
                    "encoder learns embeddings whose distance is the exact orbit distance. Writes encoder.pt and "
                    "pretrain.json under --out, for `crystal-fourier train --pretrained DIR`.")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory to write")
    add_groups_option(parser)
    parser.add_argument("--exclude-groups", default=None, metavar="LIST",
                        help="groups never shown (numbers/ranges/symbols or 'centrosymmetric'), for zero-shot studies")
    parser.add_argument("--pairs-per-group", type=positive_int, default=256,
                        help="pairs per group (default 256; paper ~100k)")
    parser.add_argument("--epochs", type=positive_int, default=10, help="epochs (default 10; paper 200)")
    parser.add_argument("--batch-size", type=positive_int, default=256, help="pairs per step (default 256)")
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="AdamW peak learning rate (default 1e-3)")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed (default 0)")
    add_model_arguments(parser, kinds=False)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier._commands._options import parse_groups
    from crystal_fourier._commands.train import model_config_from_args
    from crystal_fourier.errors import CrystalFourierError
    from crystal_fourier.runtime import PretrainConfig, pretrain
    from crystal_fourier.runtime import holdout_groups

    if args.pairs_per_group < 1 or args.epochs < 1 or args.batch_size < 1:
        raise CrystalFourierError("--pairs-per-group, --epochs and --batch-size must be >= 1")
    config = PretrainConfig(groups=tuple(parse_groups(args.groups)), exclude=holdout_groups(args.exclude_groups),
                            pairs_per_group=args.pairs_per_group, epochs=args.epochs, batch_size=args.batch_size,
                            lr=args.lr, seed=args.seed, progress=not args.no_progress,
                            model=model_config_from_args(args, kind="cft"))
    _, summary = pretrain(config, args.out)
    print(f"pretrained on {len(summary['groups_used'])} groups, {summary['n_pairs']} pairs: final loss "
          f"{summary['loss_history'][-1]:.4g} A^2; saved to {args.out}")
    return 0
