"""Export of an allowed-tensor basis as text, LaTeX and JSON (stable key order), like derive/_export.py.

The JSON document: "sg", "hall_number", "symbol", "hall_symbol", "point_group", "kind", "rank",
"dimension", "conventions", "frame", "independent" (names), "voigt" (rows of SymPy strings),
"voigt_latex", "relations" ({name: SymPy string}), "zeros", "components" (Voigt labels of the
crystal-basis components) and "crystal_basis" (each basis tensor's components in the crystal
basis as exact "p/q" strings, row echelon form; see derive/_tensors.py).
"""

from __future__ import annotations

import json

import sympy as sp

from crystal_fourier._spglib import spacegroup_type
from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.derive._tensor_forms import SYMBOLS, VoigtForm, voigt_form
from crystal_fourier.derive._tensors import TensorBasis, tensor_basis, tensor_components
from crystal_fourier.errors import CrystalFourierError

__all__ = ["TENSOR_FORMATS", "tensor_document", "tensor_to_text", "tensor_to_latex", "tensor_to_json",
           "render_tensor"]

TENSOR_FORMATS = ("text", "latex", "json")

_TITLES = {"symmetric2": "symmetric rank-2 tensor (dielectric permittivity, thermal expansion)",
           "axial2": "axial symmetric rank-2 tensor (gyration, optical activity)",
           "piezoelectric": "piezoelectric tensor e_ijk = e_ikj",
           "elastic": "elastic stiffness tensor c_ijkl"}
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


def tensor_to_json(group: object = None, kind: str = "elastic", *, hall_number: int | None = None) -> str:
    """JSON text of :func:`tensor_document`, keys sorted, trailing newline.

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
    str

    Examples
    --------
    >>> json.loads(tensor_to_json(221, "piezoelectric"))["dimension"]
    0
    """
    return json.dumps(tensor_document(group, kind, hall_number=hall_number), sort_keys=True, indent=1) + "\n"


def tensor_to_text(group: object = None, kind: str = "elastic", *, hall_number: int | None = None) -> str:
    """Human-readable text: header, independent components, the Voigt matrix, relations.

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
    str

    Examples
    --------
    >>> print(tensor_to_text(194, "symmetric2"))  # doctest: +NORMALIZE_WHITESPACE
    P6_3/mmc (No. 194), Hall number 488 [-P 6c 2c], point group 6/mmm
    symmetric rank-2 tensor (dielectric permittivity, thermal expansion): 2 independent components: eps11, eps33
    frame: Cartesian: a along x, b in the xy plane (gamma = 120 degrees), c along z
      eps11      0      0
          0  eps11      0
          0      0  eps33
    relations: eps22 = eps11
    <BLANKLINE>
    """
    doc = tensor_document(group, kind, hall_number=hall_number)
    independent = ", ".join(doc["independent"]) or "none (the property is forbidden)"
    lines = [
        f"{doc['symbol']} (No. {doc['sg']}), Hall number {doc['hall_number']} [{doc['hall_symbol']}], "
        f"point group {doc['point_group']}",
        f"{_TITLES[doc['kind']]}: {doc['dimension']} independent components: {independent}",
        f"frame: {doc['frame']}",
    ]
    width = max(len(entry) for row in doc["voigt"] for entry in row)
    lines += ["  " + "  ".join(entry.rjust(width) for entry in row) for row in doc["voigt"]]
    if doc["relations"]:
        lines.append("relations: " + ", ".join(f"{name} = {value}" for name, value in doc["relations"].items()))
    return "\n".join(lines) + "\n"


def tensor_to_latex(group: object = None, kind: str = "elastic", *, hall_number: int | None = None) -> str:
    """A LaTeX ``pmatrix`` of the Voigt matrix, preceded by a comment naming setting and frame.

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
    str

    Examples
    --------
    >>> print(tensor_to_latex(225, "symmetric2"))
    % Fm-3m (No. 225), Hall number 523, point group m-3m, symmetric2: 1 independent
    \\begin{pmatrix}
    \\varepsilon_{11} & 0 & 0 \\\\
    0 & \\varepsilon_{11} & 0 \\\\
    0 & 0 & \\varepsilon_{11}
    \\end{pmatrix}
    <BLANKLINE>
    """
    doc = tensor_document(group, kind, hall_number=hall_number)
    rows = [" & ".join(row) for row in doc["voigt_latex"]]
    return "\n".join([
        f"% {doc['symbol']} (No. {doc['sg']}), Hall number {doc['hall_number']}, point group {doc['point_group']}, "
        f"{doc['kind']}: {doc['dimension']} independent",
        "\\begin{pmatrix}",
        " \\\\\n".join(rows),
        "\\end{pmatrix}",
    ]) + "\n"


def render_tensor(group: object = None, kind: str = "elastic", fmt: str = "text", *,
                  hall_number: int | None = None) -> str:
    """Render in one of :data:`TENSOR_FORMATS`.

    Parameters
    ----------
    group : int, str, SpaceGroup or None
        Space-group number, Hermann-Mauguin symbol or group.
    kind : str, default "elastic"
        One of :data:`TENSOR_KINDS`.
    fmt : str, default "text"
        One of :data:`TENSOR_FORMATS`: ``'text'``, ``'latex'``, ``'json'``.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.

    Returns
    -------
    str
        The rendered text, ending in a newline.

    Raises
    ------
    CrystalFourierError
        For an unknown format, kind or group.

    Examples
    --------
    >>> render_tensor(1, "elastic", "json").startswith("{")
    True
    """
    renderers = {"text": tensor_to_text, "latex": tensor_to_latex, "json": tensor_to_json}
    if fmt not in renderers:
        raise CrystalFourierError(f"unknown format {fmt!r}: expected one of {', '.join(TENSOR_FORMATS)}")
    return renderers[fmt](group, kind, hall_number=hall_number)
