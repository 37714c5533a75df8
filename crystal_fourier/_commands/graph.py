"""export the dual graph of one group

Nodes are frequencies; each operation (R, t) gives an edge k -> R^T k labelled with the phase k.t in
24ths. GROUP may also be one of the 17 plane groups (p4gm, c2mm, p31m): nodes (h, k).
"""

from __future__ import annotations

import sys
from pathlib import Path

from crystal_fourier._commands._options import (
    add_command,
    add_cutoff_arguments,
    add_group_argument,
    group_basis,
)
from crystal_fourier.errors import CrystalFourierError


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "graph", __doc__)
    add_group_argument(parser, plane=True)
    add_cutoff_arguments(parser, default_cutoff=2, allow_large=True)
    parser.add_argument("--format", choices=("dot", "json", "png", "svg"), default="dot",
                        help="output format (png, svg: a picture, needs --out and matplotlib)")
    parser.add_argument("--out", default=None, metavar="FILE", help="output file of a png or svg picture")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.derive._dual_graphs import graph_to_dot, graph_to_json

    if args.format in ("png", "svg") and args.out is not None:
        suffix = Path(args.out).suffix.lower()
        if suffix != f".{args.format}":
            raise CrystalFourierError(f"--out {args.out!r} does not match --format {args.format}: "
                                      f"name it FILE.{args.format} (or choose --format {suffix[1:] or 'png'})")
    derived = group_basis(args, "the dual graph", plane=True)
    if args.format in ("png", "svg"):
        from crystal_fourier.visual._graph_picture import write_graph_picture

        write_graph_picture(derived, args.format, args.out)
        return 0
    if args.out is not None:  # was an argparse error before png/svg; never ignore it silently
        raise CrystalFourierError("--out is for --format png or svg; dot and json are written to standard output")
    if args.format == "json":
        sys.stdout.write(graph_to_json(derived.graph))
    else:
        d = derived.decomposition
        sys.stdout.write(graph_to_dot(derived.graph, d.orbit_of, d.absent[d.orbit_of]))
    return 0
