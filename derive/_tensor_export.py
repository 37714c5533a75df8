"""The JSON-ready document of an allowed-tensor basis (what ``crystal-fourier tensor --format json`` prints).

The printers of :mod:`~crystal_fourier.derive._printers` print it. The document: "sg", "hall_number",
"symbol", "hall_symbol", "point_group", "kind", "rank", "dimension", "conventions", "frame",
"independent" (names), "voigt" (rows of SymPy strings),
"voigt_latex", "relations" ({name: SymPy string}), "zeros", "components" (Voigt labels of the
crystal-basis components) and "crystal_basis" (each basis tensor's components in the crystal
basis as exact "p/q" strings, row echelon form; see derive/_tensors.py).
"""

from __future__ import annotations

import sympy as sp

from crystal_fourier._spglib import spacegroup_type
from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.derive._tensor_forms import SYMBOLS, VoigtForm, voigt_form
from crystal_fourier.derive._tensors import TensorBasis, tensor_basis, tensor_components

__all__ = ["tensor_document"]

_CONVENTIONS = ("Voigt pairs 1=11, 2=22, 3=33, 4=23, 5=13, 6=12; entries are tensor components without "
                "factors of 2 (stiffness C_IJ = c_ijkl, piezoelectric e_iJ = e_ijk); crystal_basis holds "
                "contravariant components T^{ij..} in the conventional cell basis, T_cart = L^T T L per index "
                "(derive/_tensors.py)")


def _frame(hall_number: int) -> str:
    group = space_group(hall_number=hall_number)
    if group.hexagonal_axes:
        return "Cartesian: a along x, b in the xy plane (gamma = 120 degrees), c along z"
    if group.choice == "R":
        return "Cartesian: a, b, c of the rhombohedral cell along x, y, z of a cube (3-fold axis along [111])"
    return "Cartesian: a along x, b in the xy plane, c completing it (symmetry axes along x, y or z)"


def _latex_symbol(kind: str, name: str) -> str:
    return f"{SYMBOLS[kind][1]}_{{{name[len(SYMBOLS[kind][0]):]}}}"


def _latex(form: VoigtForm, expression: sp.Expr) -> str:
    names = {sp.Symbol(name, real=True): _latex_symbol(form.kind, name) for name in form.names}
    return sp.latex(expression, symbol_names=names)


def tensor_document(group: object = None, kind: str = "elastic", *, hall_number: int | None = None) -> dict:
    """The JSON-ready description of the ``kind`` tensors a setting allows.

    Parameters
    ----------
    group : int, str, SpaceGroup or None
        Space-group number, Hermann-Mauguin symbol or group.
    kind : str, default "elastic"
        One of :data:`TENSOR_KINDS`.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.

    Returns
    -------
    dict
        The setting, point group, kind, rank, dimension, conventions, Cartesian frame, independent
        components, the Voigt matrix (plain and LaTeX) and the relations between components.

    Examples
    --------
    >>> doc = tensor_document(225, "elastic")
    >>> doc["point_group"], doc["dimension"], doc["independent"], doc["relations"]["C66"]
    ('m-3m', 3, ['C11', 'C12', 'C44'], 'C44')
    >>> doc["voigt"][0]
    ['C11', 'C12', 'C12', '0', '0', '0']
    """
    basis: TensorBasis = tensor_basis(group, kind, hall_number=hall_number)
    form = voigt_form(hall_number=basis.hall_number, kind=basis.kind)
    setting = space_group(hall_number=basis.hall_number)
    return {
        "sg": setting.number,
        "hall_number": setting.hall_number,
        "symbol": setting.symbol,
        "hall_symbol": setting.hall_symbol,
        "point_group": spacegroup_type(setting.hall_number).pointgroup_international.strip(),
        "kind": basis.kind,
        "rank": basis.rank,
        "dimension": basis.dimension,
        "conventions": _CONVENTIONS,
        "frame": _frame(setting.hall_number),
        "independent": list(form.names),
        "voigt": [[str(form.matrix[i, j]) for j in range(form.matrix.cols)] for i in range(form.matrix.rows)],
        "voigt_latex": [[_latex(form, form.matrix[i, j]) for j in range(form.matrix.cols)]
                        for i in range(form.matrix.rows)],
        "relations": {name: str(value) for name, value in form.relations},
        "zeros": list(form.zeros),
        "components": ["".join(map(str, label)) for label in tensor_components(basis.kind)],
        "crystal_basis": [[str(value) for value in row] for row in basis.components],
    }
