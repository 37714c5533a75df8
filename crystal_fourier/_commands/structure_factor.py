"""print the structure-factor forms of a group (International Tables Vol. B, A1.4.3)

Print A(hkl) and B(hkl) of the trigonometric structure factor of the general position of GROUP,
A + iB = sum over the operations (R, t) of G/Z^3 (centring included) of exp(2 pi i h.(R x + t)),
as exact products of cosines and sines symbolic in h, k, l and x, y, z, one formula per parity
class of hkl (a condition such as Eq(Mod(k + l, 2), 0)). JSON: an object whose key classes lists
objects with condition, A and B, strings that sympy.sympify parses. Every form is certified by
exact expansion (crystal-fourier verify checks the basis; the tests certify every setting).
"""

from __future__ import annotations

import sys

from crystal_fourier._commands._options import add_command, add_group_argument, resolve_group


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "structure-factor", __doc__)
    add_group_argument(parser)
    parser.add_argument("--format", choices=("text", "latex", "json"), default="text", help="output format")
    parser.add_argument("--shifts", choices=("auto", "always", "never"), default="auto",
                        help="phases linear in h as shifts of the arguments, cos 2pi(hx - (h+k)/4): auto (as Vol. B: "
                             "non-centrosymmetric groups only), always (fewest classes and factors), never (parity "
                             "classes only); default auto")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.derive import render_structure_factor

    group = resolve_group(args)
    sys.stdout.write(render_structure_factor(group, args.format, shifts=args.shifts))
    return 0
