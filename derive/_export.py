"""Export of a derived basis as text, LaTeX and JSON (stable key order).

The JSON document is the interface other tools rely on (issue 2): "sg",
"hall_number", "symbol", "shell", "cutoff", "operations" (each {"rotation",
"translation24", "xyz"}), "orbits" (each {"representative", "members",
"phases24", "absent", "witness", "centric"}), and "functions" (each {"orbit",
"part", "frequencies", "phases48", "sympy", "latex"}). Counts include k = 0.

A plane group's document (``basis p4gm``) has "plane_group" (1-17), "symbol" (``'p4gm'``) and
"embedding_hall_number" instead of "sg", "hall_number" and "hall_symbol"; its operations have 2 x 2
rotations and two translation components, and its frequencies two indices (h, k).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from crystal_fourier.derive._reflection_conditions import reflection_conditions
from crystal_fourier.derive._symbolic_forms import closed_form, latex

if TYPE_CHECKING:
    from crystal_fourier.derive._bases import Basis

__all__ = ["FORMATS", "basis_document", "to_json", "to_text", "to_latex", "render", "operation_lines"]

FORMATS = ("text", "latex", "json")


def basis_document(basis, *, with_closed_forms: bool = True, factored: bool = False) -> dict:
    """The JSON-ready description of a :class:`~crystal_fourier.derive.Basis`.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> doc = basis_document(basis(4, 1, "box"))
    >>> doc["orbits"][2]["representative"], doc["orbits"][2]["absent"], doc["orbits"][2]["witness"]
    ([0, 1, 0], True, 1)
    >>> doc["functions"][1]["sympy"]
    'cos(2*pi*x)'
    """
    group = basis.group
    n = _axes(basis)
    operations = [
        {"rotation": [list(row[:n]) for row in op.rotation[:n]], "translation24": list(op.translation_24[:n]),
         "xyz": ",".join(op.xyz.split(",")[:n])}
        for op in group.operations
    ]
    orbits = []
    for orbit in basis.decomposition.orbits():
        orbits.append({
            "representative": list(orbit.representative[:n]),
            "members": [list(m[:n]) for m in orbit.members],
            "phases24": None if orbit.phases_24 is None else list(orbit.phases_24),
            "absent": orbit.absent,
            "witness": orbit.witness,
            "centric": orbit.centric,
        })
    functions = []
    factored_expressions = _factored(basis) if factored else None
    for index, function in enumerate(basis.real.functions()):
        entry = {
            "orbit": function.orbit,
            "part": function.part,
            "frequencies": [list(m[:n]) for m in function.frequencies],
            "phases48": list(function.phases_48),
        }
        if with_closed_forms:
            expression = closed_form(function)
            entry["sympy"] = str(expression)
            entry["latex"] = latex(expression)
        if factored_expressions is not None:
            entry["factored"] = str(factored_expressions[index])
        functions.append(entry)
    plane = basis.plane_group
    head = ({"sg": group.number, "hall_number": group.hall_number, "symbol": group.symbol,
             "hall_symbol": group.hall_symbol} if plane is None else
            {"plane_group": plane.number, "symbol": plane.symbol, "embedding_hall_number": group.hall_number})
    return {
        **head,
        "shell": basis.frequencies.shell,
        "cutoff": basis.frequencies.cutoff,
        "conventions": "CONVENTIONS.md: f(x) = sum_j cos(2 pi m_j.x + 2 pi phases48_j/48); phases24 of an orbit "
                       "member m = R^T k0 is 24 (k0.t) mod 24; counts include k = 0",
        "dim": basis.dim,
        "operations": operations,
        "reflection_conditions": _conditions(basis),
        "orbits": orbits,
        "functions": functions,
    }


def _axes(basis: Basis) -> int:
    """How many indices a frequency (and coordinates a point) has: 2 for a plane group, else 3."""
    return 3 if basis.plane_group is None else 2


def _conditions(basis: Basis) -> list[str]:
    if basis.plane_group is not None:
        from crystal_fourier.derive._plane_groups import plane_reflection_conditions

        return list(plane_reflection_conditions(basis.plane_group))
    return [zone.text for zone in reflection_conditions(basis.group)]


def _title(basis: Basis) -> str:
    group, plane = basis.group, basis.plane_group
    if plane is not None:
        return (f"{plane.symbol} (plane group No. {plane.number}), the action on (x, y) of {group.symbol}, "
                f"Hall number {group.hall_number}")
    return f"{group.symbol} (No. {group.number}), Hall number {group.hall_number}"


def _factored(basis: Basis) -> list:
    """Each function in product form (``basis --form factored``), the sum form where the scale is irrational."""
    from crystal_fourier.derive._factored_bases import factored_forms

    # Parity classes with constant phases: evaluated at k0 they give the plainest products.
    forms = factored_forms(basis, shifts="never")
    return [closed_form(f) if e is None else e for f, e in zip(basis.real.functions(), forms, strict=True)]


def to_json(basis: Basis, *, factored: bool = False) -> str:
    """JSON text of :func:`basis_document`, keys sorted, trailing newline; ``factored`` adds each
    function's product form under "factored".

    Parameters
    ----------
    basis : Basis
        A derived basis.
    factored : bool, default False
        Add each function's product form (or null) under ``"factored"``.

    Returns
    -------
    str
    """
    return json.dumps(basis_document(basis, factored=factored), sort_keys=True, indent=1) + "\n"


def operation_lines(group, axes: int = 3) -> list[str]:
    """The operations as Volume A lists them: the centring translations once, then one line per coset.

    Parameters
    ----------
    group : SpaceGroup
        The group (for a plane group, its embedding).
    axes : int, default 3
        2 for a plane group: only the (x, y) parts are written.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from crystal_fourier.derive import space_group
    >>> operation_lines(space_group("C2/c"))[:3]
    ['4 x 2 operations: (0,0,0)+ (1/2,1/2,0)+', '  (1) x,y,z', '  (2) -x,-y,-z']
    """
    from fractions import Fraction

    from crystal_fourier.derive._operations import DEN

    centring = [op.translation_24 for op in group.operations if op.rotation == ((1, 0, 0), (0, 1, 0), (0, 0, 1))]
    first = {}
    for op in group.operations:
        first.setdefault(op.rotation, op)
    representatives = list(first.values())
    if len(centring) > 1:
        translations = " ".join("(" + ",".join(str(Fraction(v, DEN)) for v in t[:axes]) + ")+" for t in centring)
        head = f"{len(representatives)} x {len(centring)} operations: {translations}"
    else:
        head = f"{len(representatives)} operations:"
    return [head, *(f"  ({i}) {','.join(op.xyz.split(',')[:axes])}" for i, op in enumerate(representatives, start=1))]


def to_text(basis: Basis, *, quiet: bool = False, factored: bool = False) -> str:
    """Human-readable text: header, operations one per line, reflection conditions, orbit table, closed forms.

    ``quiet`` prints only the closed forms, one ``f_i = ...`` per line; ``factored`` prints them in
    the structure-factor product form (equal to the sum form exactly; ``proofs.factored_basis_certificate``).

    Parameters
    ----------
    basis : Basis
        A derived basis.
    quiet : bool, default False
        Only the closed forms.
    factored : bool, default False
        Closed forms in product form.

    Returns
    -------
    str
    """
    group = basis.group
    expressions = _factored(basis) if factored else [closed_form(f) for f in basis.real.functions()]
    if quiet:
        return "".join(f"f_{i} = {e}\n" for i, e in enumerate(expressions))
    summary = basis.summary()
    conditions = _conditions(basis)
    n = _axes(basis)
    lines = [
        _title(basis) + ("" if basis.plane_group else f" [{group.hall_symbol}]"),
        f"shell {basis.frequencies.shell}, cutoff {basis.frequencies.cutoff}: "
        f"{summary['n_frequencies']} frequencies, {summary['n_present_orbits']} present orbits, "
        f"{summary['n_absent_orbits']} absent orbits, dim {summary['dim']} (k = 0 included)",
        *operation_lines(group, n),
        "reflection conditions:" + ("" if conditions else " none"),
        *(f"  {text}" for text in conditions),
        "",
        "orbits (representative, size, status):",
    ]
    for index, orbit in enumerate(basis.decomposition.orbits()):
        if orbit.absent:
            status = f"absent, witness {','.join(group.operations[orbit.witness].xyz.split(',')[:n])}"
        else:
            status = "centric" if orbit.centric else "acentric"
        representative = " ".join(map(str, orbit.representative[:n]))
        lines.append(f"  [{index}] ({representative})  x{len(orbit.members)}  {status}")
    lines += ["", "basis functions f_i(x, y, z):" if n == 3 else "basis functions f_i(x, y):"]
    for index, function in enumerate(basis.real.functions()):
        lines.append(f"  f_{index} [orbit {function.orbit}, {function.part}] = {expressions[index]}")
    return "\n".join(lines) + "\n"


def to_latex(basis: Basis) -> str:
    """A LaTeX ``align*`` block with one line per basis function.

    Parameters
    ----------
    basis : Basis
        A derived basis.

    Returns
    -------
    str
        The block, preceded by a comment line naming the setting and the cutoff, ending in a newline.
    """
    lines = [
        f"% {_title(basis)}, "
        f"{basis.frequencies.shell} cutoff {basis.frequencies.cutoff}, dim {basis.dim}",
        "\\begin{align*}",
    ]
    functions = basis.real.functions()
    for index, function in enumerate(functions):
        end = " \\\\" if index < len(functions) - 1 else ""
        lines.append(f"f_{{{index}}} &= {latex(closed_form(function))}{end}")
    lines.append("\\end{align*}")
    return "\n".join(lines) + "\n"


def render(basis: Basis, fmt: str, *, quiet: bool = False, factored: bool = False) -> str:
    """Render in one of :data:`FORMATS` (what ``crystal-fourier basis --format`` prints).

    Parameters
    ----------
    basis : Basis
        A basis from :func:`basis`.
    fmt : {'text', 'latex', 'json'}
        :func:`to_text`, :func:`to_latex` or :func:`to_json`.
    quiet : bool
        Text only: print just the functions (``basis --quiet``).
    factored : bool
        Text and JSON: add each function's product form (``basis --form factored``).

    Returns
    -------
    str
        The whole document.

    Raises
    ------
    CrystalFourierError
        An unknown format.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> render(basis(2, 1, "box"), "text").splitlines()[0]
    'P-1 (No. 2), Hall number 2 [-P 1]'
    >>> render(basis(2, 1, "box"), "latex").splitlines()[0]
    '% P-1 (No. 2), Hall number 2, box cutoff 1, dim 14'
    """
    from crystal_fourier.errors import CrystalFourierError

    renderers = {"text": to_text, "latex": to_latex, "json": to_json}
    if fmt not in renderers:
        raise CrystalFourierError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt == "text":
        return to_text(basis, quiet=quiet, factored=factored)
    if fmt == "json":
        return to_json(basis, factored=factored)
    return renderers[fmt](basis)
