"""print the symmetry-adapted basis of one group

Print the exact real basis of GROUP: operations (one per line, centring translations once), the
reflection conditions as International Tables Vol. A states them, orbits, absences with witnesses,
closed forms. --quiet prints only the functions; --form factored prints each function in the
structure-factor product form (International Tables Vol. B, A1.4.3; equal to the sum form exactly).
GROUP may also be one of the 17 plane groups as Volume A writes them (p4gm, c2mm, p31m): the basis
in (h, k) and (x, y).
"""

from __future__ import annotations

import sys

from crystal_fourier._commands._options import (
    add_command,
    add_cutoff_arguments,
    add_group_argument,
    group_basis,
)


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "basis", __doc__)
    add_group_argument(parser, plane=True)
    add_cutoff_arguments(parser, allow_large=True)
    parser.add_argument("--format", choices=("text", "latex", "json"), default="text", help="output format")
    parser.add_argument("--quiet", action="store_true", help="print only the functions, one f_i = ... per line (text)")
    parser.add_argument("--form", choices=("sum", "factored"), default="sum",
                        help="sum of cosines (default, the stored form) or products of cosines and sines (text, json)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.derive import render

    derived = group_basis(args, "the basis", plane=True, render=True)
    sys.stdout.write(render(derived, args.format, quiet=args.quiet, factored=args.form == "factored"))
    return 0

