"""print the tensors a group allows (elastic, piezoelectric, dielectric, gyration)

Print the exact Voigt matrix of the KIND tensors that GROUP's point group allows (Neumann's
principle), with named independent components (C11, C12, C44, ...) and their relations, in the
Cartesian frame with a along x (c along z on hexagonal axes). Entries are tensor components without
factors of 2 (stiffness c, piezoelectric e). JSON adds the exact basis in the crystal's own basis.
"""

from __future__ import annotations

import sys

from crystal_fourier._commands._options import add_command, add_group_argument, resolve_group
from crystal_fourier.derive import TENSOR_KINDS


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "tensor", __doc__)
    add_group_argument(parser)
    parser.add_argument("--kind", choices=TENSOR_KINDS, default="elastic",
                        help="symmetric2 (dielectric, thermal expansion), piezoelectric (rank 3, e_ijk = e_ikj), "
                             "elastic (rank 4, Voigt symmetry), axial2 (gyration, optical activity); "
                             "default elastic")
    parser.add_argument("--format", choices=("text", "latex", "json"), default="text", help="output format")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.derive import render, tensor_basis

    group = resolve_group(args)
    sys.stdout.write(render(tensor_basis(hall_number=group.hall_number, kind=args.kind), args.format))
    return 0
