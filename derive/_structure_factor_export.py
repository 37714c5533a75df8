"""The structure-factor forms of a setting as a document, text, LaTeX or JSON.

The JSON contract (issue 30): an object with ``classes``, a list of objects whose ``condition``,
``A`` and ``B`` are strings that ``sympy.sympify`` parses in the symbols h, k, l, x, y, z; each
condition is True or False once integers are substituted for h, k, l, the classes cover every hkl
exactly once, and on each class A + i B = sum over G/Z^3 of e(h . (R x + t)) (CONVENTIONS.md).
"""

from __future__ import annotations

import json

import sympy as sp

from crystal_fourier.derive._space_groups import SpaceGroup

from crystal_fourier.derive._reciprocal_symmetry import centric_zones
from crystal_fourier.derive._reflection_conditions import reflection_conditions
from crystal_fourier.derive._structure_factors import plain_factor_count, structure_factor_form

__all__ = ["STRUCTURE_FACTOR_FORMATS", "structure_factor_document", "render_structure_factor"]

STRUCTURE_FACTOR_FORMATS = ("text", "latex", "json")


def structure_factor_document(group: "int | str | SpaceGroup | None", *, hall_number: int | None = None,
                              shifts: str = "auto") -> dict:
    """The forms of a setting as a JSON-ready dict (strings that ``sympy.sympify`` parses).

    Parameters
    ----------
    group : int, str, SpaceGroup or None
        Space-group number, Hermann-Mauguin symbol or group.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.
    shifts : {'auto', 'always', 'never'}, default 'auto'
        When phases move into the arguments as shifts linear in h (see :func:`structure_factor_form`).

    Returns
    -------
    dict
        The setting, the parity classes with their A and B expressions, factor counts, reflection
        conditions and centric zones.

    Examples
    --------
    >>> doc = structure_factor_document("P2_1/c")
    >>> [(c["condition"], c["B"]) for c in doc["classes"]]
    [('Eq(Mod(k + l, 2), 0)', '0'), ('Eq(Mod(k + l, 2), 1)', '0')]
    """
    form = structure_factor_form(group, hall_number=hall_number, shifts=shifts)
    classes = []
    for parity_class, condition, (a, b) in zip(form.classes, form.conditions(), form.expressions(), strict=True):
        classes.append({"condition": str(condition), "A": str(a), "B": str(b),
                        "n_factors": parity_class.n_factors, "factored": parity_class.factored})
    g = form.group
    return {
        "sg": g.number, "hall_number": g.hall_number, "symbol": g.symbol, "hall_symbol": g.hall_symbol,
        "n_operations": len(g.operations), "modulus": list(form.modulus), "shifts": shifts,
        "convention": "A + iB = sum over the operations (R, t) of G/Z^3, centring included, of exp(2 pi i h.(R x + t))",
        "n_factors": form.n_factors, "n_factors_plain_sum": plain_factor_count(g),
        "classes": classes,
        "reflection_conditions": [z.text for z in reflection_conditions(g)],
        "centric_zones": [z.text for z in centric_zones(g)],
    }


def _text(document: dict) -> str:
    lines = [f"# Structure-factor forms of {document['symbol']} (No. {document['sg']}, Hall number "
             f"{document['hall_number']}, {document['hall_symbol']}): {document['n_operations']} operations",
             f"# {document['convention']}",
             f"# {len(document['classes'])} class{'es' if len(document['classes']) != 1 else ''}, "
             f"{document['n_factors']} trigonometric factors "
             f"(the plain operation sum has {document['n_factors_plain_sum']})"]
    for c in document["classes"]:
        lines += ["", f"{c['condition']}:", f"  A = {c['A']}", f"  B = {c['B']}"]
    lines += ["", "reflection conditions (International Tables Vol. A):"]
    lines += [f"  {text}" for text in document["reflection_conditions"]] or ["  none"]
    lines += ["centric zones and restricted phases (Vol. B, A1.4.4):"]
    lines += [f"  {text}" for text in document["centric_zones"]] or ["  none"]
    return "\n".join(lines) + "\n"


def _latex(document: dict) -> str:
    locals_ = {s: sp.Symbol(s) for s in "hklxyz"}
    lines = [f"% Structure-factor forms of {document['symbol']} (No. {document['sg']}, Hall number "
             f"{document['hall_number']})", r"\begin{align*}"]
    rows = []
    for c in document["classes"]:
        condition = sp.latex(sp.sympify(c["condition"], locals=locals_))
        a = sp.latex(sp.sympify(c["A"], locals=locals_, evaluate=False))
        b = sp.latex(sp.sympify(c["B"], locals=locals_, evaluate=False))
        rows.append(rf"&\text{{if }} {condition}: & A &= {a}, & B &= {b}")
    lines.append(" \\\\\n".join(rows))
    lines.append(r"\end{align*}")
    return "\n".join(lines) + "\n"


def render_structure_factor(group: "int | str | SpaceGroup | None", output_format: str = "text", *,
                            hall_number: int | None = None, shifts: str = "auto") -> str:
    """The forms as ``'text'``, ``'latex'`` or ``'json'`` (the document above, indented).

    Parameters
    ----------
    group : int, str, SpaceGroup or None
        Space-group number, Hermann-Mauguin symbol or group.
    output_format : str, default "text"
        One of :data:`STRUCTURE_FACTOR_FORMATS`: ``'text'``, ``'latex'``, ``'json'``.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.
    shifts : {'auto', 'always', 'never'}, default 'auto'
        When phases move into the arguments as shifts linear in h (see :func:`structure_factor_form`).

    Returns
    -------
    str
        The rendered text, ending in a newline.

    Raises
    ------
    CrystalFourierError
        For an unknown format or group.
    """
    document = structure_factor_document(group, hall_number=hall_number, shifts=shifts)
    if output_format == "json":
        return json.dumps(document, indent=1) + "\n"
    if output_format == "latex":
        return _latex(document)
    if output_format == "text":
        return _text(document)
    from crystal_fourier.errors import CrystalFourierError

    raise CrystalFourierError(
        f"unknown format {output_format!r}: expected one of {', '.join(STRUCTURE_FACTOR_FORMATS)}")
