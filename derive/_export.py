"""The JSON-ready document of a derived basis (what ``crystal-fourier basis --format json`` prints).

The printers of :mod:`~crystal_fourier.derive._printers` print it (JSON, keys sorted) and draw text and
LaTeX from the same basis. The JSON document is the interface other tools rely on (issue 2): "sg",
"hall_number", "symbol", "shell", "cutoff", "operations" (each {"rotation",
"translation24", "xyz"}), "orbits" (each {"representative", "members",
"phases24", "absent", "witness", "centric"}), and "functions" (each {"orbit",
"part", "frequencies", "phases48", "sympy", "latex"}). Counts include k = 0.

A plane group's document (``basis p4gm``) has "plane_group" (1-17), "symbol" (``'p4gm'``) and
"embedding_hall_number" instead of "sg", "hall_number" and "hall_symbol"; its operations have 2 x 2
rotations and two translation components, and its frequencies two indices (h, k).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crystal_fourier.derive._factored_bases import factored_forms
from crystal_fourier.derive._reflection_conditions import reflection_conditions
from crystal_fourier.derive._symbolic_forms import closed_form, latex

if TYPE_CHECKING:
    from crystal_fourier.derive._bases import Basis

__all__ = ["basis_document", "factored_expressions"]


def basis_document(basis, *, with_closed_forms: bool = True, factored: bool = False) -> dict:
    """The JSON-ready description of a :class:`~crystal_fourier.derive.Basis`.

    Parameters
    ----------
    basis : Basis
        A derived basis.
    with_closed_forms : bool, default True
        Add each function's SymPy and LaTeX closed form (``"sympy"``, ``"latex"``).
    factored : bool, default False
        Add each function's product form under ``"factored"``.

    Returns
    -------
    dict
        The keys of the module docstring; JSON-ready (lists, strings, integers, None).

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
    products = factored_expressions(basis) if factored else None
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
        if products is not None:
            entry["factored"] = str(products[index])
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


def factored_expressions(basis: Basis) -> list:
    """Each function in product form (``basis --form factored``), the sum form where the scale is irrational.

    Parameters
    ----------
    basis : Basis
        A derived basis.

    Returns
    -------
    list of sympy.Expr
        One expression per real basis function, in the order of ``basis.real.functions()``.
    """
    # Parity classes with constant phases: evaluated at k0 they give the plainest products.
    forms = factored_forms(basis, shifts="never")
    return [closed_form(f) if e is None else e for f, e in zip(basis.real.functions(), forms, strict=True)]
