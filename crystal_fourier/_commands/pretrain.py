"""pretrain the positional encoder on exact orbit distances (no data needed)

Random pairs of positions in random lattices obeying each group's metric constraints; the encoder
learns embeddings whose distance is the exact orbit distance. Writes encoder.pt and pretrain.json
under --out, for `crystal-fourier train --pretrained DIR`.
"""

from __future__ import annotations

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    from crystal_fourier._commands._options import (
        add_command,
        ConfigDefault,
        add_groups_option,
        positive_float,
        positive_int,
        scientific,
        seed_int,
    )
    from crystal_fourier._commands.train import add_model_arguments

    parser = add_command(subparsers, "pretrain", __doc__)
    parser.add_argument("--out", required=True, metavar="DIR", help="directory to write")
    add_groups_option(parser)
    parser.add_argument("--exclude-groups", default=None, metavar="LIST",
                        help="groups never shown (numbers/ranges/symbols or 'centrosymmetric'), for zero-shot studies")
    def pretraining(field: str, text=str) -> ConfigDefault:
        return ConfigDefault("PretrainConfig", field, text)

    parser.add_argument("--pairs-per-group", type=positive_int, default=pretraining("pairs_per_group"),
                        help="pairs per group (default %(default)s; paper ~100k)")
    parser.add_argument("--epochs", type=positive_int, default=pretraining("epochs"),
                        help="epochs (default %(default)s; paper 200)")
    parser.add_argument("--batch-size", type=positive_int, default=pretraining("batch_size"),
                        help="pairs per step (default %(default)s)")
    parser.add_argument("--lr", type=positive_float, default=pretraining("lr", scientific),
                        help="AdamW peak learning rate (default %(default)s)")
    parser.add_argument("--seed", type=seed_int, default=pretraining("seed"), help="seed (default %(default)s)")
    add_model_arguments(parser, kinds=False)
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier._commands._options import parse_groups
    from crystal_fourier._commands.train import model_config_from_args
    from crystal_fourier.runtime import PretrainConfig, pretrain, holdout_groups

    config = PretrainConfig(groups=tuple(parse_groups(args.groups)), exclude=holdout_groups(args.exclude_groups),
                            pairs_per_group=args.pairs_per_group, epochs=args.epochs, batch_size=args.batch_size,
                            lr=args.lr, seed=args.seed, progress=not args.no_progress,
                            model=model_config_from_args(args, kind="cft"))
    _, summary = pretrain(config, args.out)
    print(f"pretrained on {len(summary['groups_used'])} groups, {summary['n_pairs']} pairs: final loss "
          f"{summary['loss_history'][-1]:.4g} A^2; saved to {args.out}")
    return 0
