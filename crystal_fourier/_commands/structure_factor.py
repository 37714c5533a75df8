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
    if hasattr(group, "embedding"):  # a PlaneGroup
        sys.stdout.write(_render_plane(group.symbol, args.format, args.shifts))
        return 0
    sys.stdout.write(render(structure_factor_form(group, shifts=args.shifts), args.format))
    return 0


def _render_plane(symbol: str, output_format: str, shifts: str) -> str:
    import json

    import sympy as sp

    from crystal_fourier.derive._plane_groups import plane_group_document

    document = plane_group_document(symbol, shifts=shifts)
    if output_format == "json":
        return json.dumps(document, indent=1) + "\n"
    if output_format == "latex":
        rows = [rf"&\text{{if }} {sp.latex(sp.sympify(c['condition']))}: & A &= {sp.latex(sp.sympify(c['A']))}, & "
                rf"B &= {sp.latex(sp.sympify(c['B']))}" for c in document["classes"]]
        return "\n".join([f"% Structure-factor forms of the plane group {symbol}", r"\begin{align*}",
                          " \\\\\n".join(rows), r"\end{align*}"]) + "\n"
    lines = [f"# Structure-factor forms of the plane group {symbol} (No. {document['plane_group']}): "
             f"{document['n_operations']} operations: " + "; ".join(document["operations"]),
             f"# {document['convention']}"]
    for c in document["classes"]:
        lines += ["", f"{c['condition']}:", f"  A = {c['A']}", f"  B = {c['B']}"]
    lines += ["", "reflection conditions (International Tables Vol. A):"]
    lines += [f"  {text}" for text in document["reflection_conditions"]] or ["  none"]
    return "\n".join(lines) + "\n"
