"""print the structure-factor forms of a group (International Tables Vol. B, A1.4.3)

Print A(hkl) and B(hkl) of the trigonometric structure factor of the general position of GROUP,
A + iB = sum over the operations (R, t) of G/Z^3 (centring included) of exp(2 pi i h.(R x + t)),
as exact products of cosines and sines symbolic in h, k, l and x, y, z, one formula per parity
class of hkl (a condition such as Eq(Mod(k + l, 2), 0)). JSON: an object whose key classes lists
objects with condition, A and B, strings that sympy.sympify parses. Every form is certified by
exact expansion (the tests certify every setting). GROUP may also be one of the 17 plane groups as
Volume A writes them (p1, p2, pm, pg, cm, p2mm, p2mg, p2gg, c2mm, p4, p4mm, p4gm, p3, p3m1, p31m,
p6, p6mm): forms in h, k and x, y.
"""

from __future__ import annotations

import sys

from crystal_fourier._commands._options import add_command, add_group_argument, resolve_group


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "structure-factor", __doc__)
    add_group_argument(parser, plane=True)
    parser.add_argument("--format", choices=("text", "latex", "json"), default="text", help="output format")
    parser.add_argument("--shifts", choices=("auto", "always", "never"), default="auto",
                        help="phases linear in h as shifts of the arguments, cos 2pi(hx - (h+k)/4): auto (as Vol. B: "
                             "non-centrosymmetric groups only, unless that misses half the plain sum's factors and "
                             "the other mode has fewer), always (fewest classes), never (parity classes only); "
                             "default auto")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.derive import render, structure_factor_form

    group = resolve_group(args, plane=True)
    sys.stdout.write(render(structure_factor_form(group, shifts=args.shifts), args.format))
    return 0
