"""The JSON-ready document of a setting's structure-factor forms (``crystal-fourier structure-factor``).

The printers of :mod:`~crystal_fourier.derive._printers` print it as text, LaTeX or JSON.

The JSON contract (issue 30): an object with ``classes``, a list of objects whose ``condition``,
``A`` and ``B`` are strings that ``sympy.sympify`` parses in the symbols h, k, l, x, y, z; each
condition is True or False once integers are substituted for h, k, l, the classes cover every hkl
exactly once, and on each class A + i B = sum over G/Z^3 of e(h . (R x + t)) (CONVENTIONS.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crystal_fourier.derive._reciprocal_symmetry import centric_zones
from crystal_fourier.derive._reflection_conditions import reflection_conditions
from crystal_fourier.derive._structure_factors import StructureFactorForm, plain_factor_count, structure_factor_form

if TYPE_CHECKING:
    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["structure_factor_document", "form_document"]


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
    return form_document(structure_factor_form(group, hall_number=hall_number, shifts=shifts))


def form_document(form: StructureFactorForm) -> dict:
    """The document of :func:`structure_factor_document` for a form already derived.

    Parameters
    ----------
    form : StructureFactorForm
        From :func:`~crystal_fourier.derive.structure_factor_form`; it records its ``shifts``.

    Returns
    -------
    dict
        As :func:`structure_factor_document`.
    """
    classes = []
    for parity_class, condition, (a, b) in zip(form.classes, form.conditions(), form.expressions(), strict=True):
        classes.append({"condition": str(condition), "A": str(a), "B": str(b),
                        "n_factors": parity_class.n_factors, "factored": parity_class.factored})
    g = form.group
    return {
        "sg": g.number, "hall_number": g.hall_number, "symbol": g.symbol, "hall_symbol": g.hall_symbol,
        "n_operations": len(g.operations), "modulus": list(form.modulus), "shifts": form.shifts,
        "convention": "A + iB = sum over the operations (R, t) of G/Z^3, centring included, of exp(2 pi i h.(R x + t))",
        "n_factors": form.n_factors, "n_factors_plain_sum": plain_factor_count(g),
        "classes": classes,
        "reflection_conditions": [z.text for z in reflection_conditions(g)],
        "centric_zones": [z.text for z in centric_zones(g)],
    }
