"""Export of a derived basis as text, LaTeX and JSON (stable key order).

The JSON document is the interface other tools rely on (issue 2): "sg",
"hall_number", "symbol", "shell", "cutoff", "operations" (each {"rotation",
"translation24", "xyz"}), "orbits" (each {"representative", "members",
"phases24", "absent", "witness", "centric"}), and "functions" (each {"orbit",
"part", "frequencies", "phases48", "sympy", "latex"}). Counts include k = 0.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from crystal_fourier.derive._symbolic_forms import closed_form, latex

if TYPE_CHECKING:
    from crystal_fourier.derive._bases import Basis

__all__ = ["FORMATS", "basis_document", "to_json", "to_text", "to_latex", "render"]

FORMATS = ("text", "latex", "json")


def basis_document(basis, *, with_closed_forms: bool = True) -> dict:
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
    operations = [
        {"rotation": [list(row) for row in op.rotation], "translation24": list(op.translation_24), "xyz": op.xyz}
        for op in group.operations
    ]
    orbits = []
    for orbit in basis.decomposition.orbits():
        orbits.append({
            "representative": list(orbit.representative),
            "members": [list(m) for m in orbit.members],
            "phases24": None if orbit.phases_24 is None else list(orbit.phases_24),
            "absent": orbit.absent,
            "witness": orbit.witness,
            "centric": orbit.centric,
        })
    functions = []
    for function in basis.real.functions():
        entry = {
            "orbit": function.orbit,
            "part": function.part,
            "frequencies": [list(m) for m in function.frequencies],
            "phases48": list(function.phases_48),
        }
        if with_closed_forms:
            expression = closed_form(function)
            entry["sympy"] = str(expression)
            entry["latex"] = latex(expression)
        functions.append(entry)
    return {
        "sg": group.number,
        "hall_number": group.hall_number,
        "symbol": group.symbol,
        "hall_symbol": group.hall_symbol,
        "shell": basis.frequencies.shell,
        "cutoff": basis.frequencies.cutoff,
        "conventions": "CONVENTIONS.md: f(x) = sum_j cos(2 pi m_j.x + 2 pi phases48_j/48); phases24 of an orbit "
                       "member m = R^T k0 is 24 (k0.t) mod 24; counts include k = 0",
        "dim": basis.dim,
        "operations": operations,
        "orbits": orbits,
        "functions": functions,
    }


def to_json(basis: Basis) -> str:
    """JSON text of :func:`basis_document`, keys sorted, trailing newline."""
    return json.dumps(basis_document(basis), sort_keys=True, indent=1) + "\n"


def to_text(basis: Basis) -> str:
    """Human-readable text: header, orbit table with absences and witnesses, closed forms."""
    group = basis.group
    summary = basis.summary()
    lines = [
        f"{group.symbol} (No. {group.number}), Hall number {group.hall_number} [{group.hall_symbol}]",
        f"shell {basis.frequencies.shell}, cutoff {basis.frequencies.cutoff}: "
        f"{summary['n_frequencies']} frequencies, {summary['n_present_orbits']} present orbits, "
        f"{summary['n_absent_orbits']} absent orbits, dim {summary['dim']} (k = 0 included)",
        f"{len(group.operations)} operations: " + "; ".join(op.xyz for op in group.operations),
        "",
        "orbits (representative, size, status):",
    ]
    for index, orbit in enumerate(basis.decomposition.orbits()):
        if orbit.absent:
            status = f"absent, witness {group.operations[orbit.witness].xyz}"
        else:
            status = "centric" if orbit.centric else "acentric"
        lines.append(f"  [{index}] ({' '.join(map(str, orbit.representative))})  x{len(orbit.members)}  {status}")
    lines += ["", "basis functions f_i(x, y, z):"]
    for index, function in enumerate(basis.real.functions()):
        lines.append(f"  f_{index} [orbit {function.orbit}, {function.part}] = {closed_form(function)}")
    return "\n".join(lines) + "\n"


def to_latex(basis: Basis) -> str:
    """A LaTeX ``align*`` block with one line per basis function."""
    group = basis.group
    lines = [
        f"% {group.symbol} (No. {group.number}), Hall number {group.hall_number}, "
        f"{basis.frequencies.shell} cutoff {basis.frequencies.cutoff}, dim {basis.dim}",
        "\\begin{align*}",
    ]
    functions = basis.real.functions()
    for index, function in enumerate(functions):
        end = " \\\\" if index < len(functions) - 1 else ""
        lines.append(f"f_{{{index}}} &= {latex(closed_form(function))}{end}")
    lines.append("\\end{align*}")
    return "\n".join(lines) + "\n"


def render(basis: Basis, fmt: str) -> str:
    """Render in one of :data:`FORMATS` (what ``crystal-fourier basis --format`` prints).

    Parameters
    ----------
    basis : Basis
        A basis from :func:`basis`.
    fmt : {'text', 'latex', 'json'}
        :func:`to_text`, :func:`to_latex` or :func:`to_json`.

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
    return renderers[fmt](basis)
