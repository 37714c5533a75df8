"""Closed forms of the allowed tensors: exact Cartesian bases and Voigt matrices with named components.

The crystal-basis bases of :mod:`crystal_fourier.derive._tensors` are rational; their Cartesian
form T_cart = L^T T L (per index) needs the metric. Here L is the exact **standard lattice** of
the setting, in the frame of ``lattice_from_parameters`` (a along x, b in the xy plane):

* hexagonal axes (groups 143-194 other than rhombohedral axes): a = b = c = 1, gamma = 120
  degrees, rows (1, 0, 0), (-1/2, sqrt(3)/2, 0), (0, 0, 1): entries in Q(sqrt 3), kept exact
  by SymPy;
* every other setting: the unit cube, L = I (a, b, c along x, y, z). In the frame of
  ``lattice_from_parameters`` the symmetry axes of these settings lie along x, y or z whatever
  the cell parameters (monoclinic unique axis b along y, c along z, a along x), so the pattern of
  the Voigt matrix below holds for every lattice of the setting. Rhombohedral axes are the
  exception: their 3-fold axis lies along [111]; use the default (hexagonal-axes) setting for
  the textbook form with the 3-fold along z.

The Voigt matrix (IEEE/Nye: pairs 1 = 11, 2 = 22, 3 = 33, 4 = 23, 5 = 13, 6 = 12; entries are
tensor components without factors of 2, i.e. stiffness C_IJ = c_ijkl and piezoelectric e_iJ =
e_ijk) is written in **named independent components**: the Cartesian invariant subspace is put
in reduced row echelon form over the components in Voigt order, and its pivot components are
the independent ones (C11, C12, C13, C33, C44 for 6/mmm, with C66 = (C11 - C12)/2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.derive._tensors import TensorBasis, _component_maps, tensor_basis, tensor_components

__all__ = ["SYMBOLS", "VoigtForm", "component_name", "standard_lattice", "exact_cartesian_basis", "voigt_form"]

SYMBOLS = {"symmetric2": ("eps", r"\varepsilon"), "axial2": ("g", "g"), "piezoelectric": ("e", "e"),
           "elastic": ("C", "C")}
"""kind -> (plain name, LaTeX name) of its components: eps11, g11, e14, C11."""

_PAIR = {(0, 0): 1, (1, 1): 2, (2, 2): 3, (1, 2): 4, (2, 1): 4, (0, 2): 5, (2, 0): 5, (0, 1): 6, (1, 0): 6}
_RANK2_NAMES = {1: "11", 2: "22", 3: "33", 4: "23", 5: "13", 6: "12"}


def standard_lattice(group: object = None, *, hall_number: int | None = None) -> sp.Matrix:
    """The exact lattice (rows = cell vectors) of the closed forms' Cartesian frame for a setting.

    Parameters
    ----------
    group : int, str, SpaceGroup or None
        Space-group number, Hermann-Mauguin symbol or group.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.

    Returns
    -------
    sympy.Matrix
        3x3, exact: the hexagonal cell with a = c = 1 for settings on hexagonal axes, else the identity.

    Examples
    --------
    >>> standard_lattice(194)
    Matrix([
    [   1,         0, 0],
    [-1/2, sqrt(3)/2, 0],
    [   0,         0, 1]])
    >>> standard_lattice(225) == sp.eye(3)
    True
    """
    setting = space_group(group, hall_number=hall_number)
    if setting.hexagonal_axes:
        return sp.Matrix([[1, 0, 0], [sp.Rational(-1, 2), sp.sqrt(3) / 2, 0], [0, 0, 1]])
    return sp.eye(3)


def exact_cartesian_basis(basis: TensorBasis, lattice: sp.Matrix | None = None) -> tuple[sp.Array, ...]:
    """The basis tensors in Cartesian form, exactly: T_cart^{ab..} = sum T^{ij..} L_ia L_jb ... .

    Parameters
    ----------
    basis : TensorBasis
    lattice : sympy.Matrix, optional
        Exact 3x3 lattice (rows = cell vectors); default :func:`standard_lattice` of the setting.

    Returns
    -------
    tuple of sympy.Array
        One array of shape (3,) * rank per basis tensor.

    Examples
    --------
    >>> cartesian = exact_cartesian_basis(tensor_basis(194, "symmetric2"))
    >>> cartesian[0].tolist()
    [[3/4, 0, 0], [0, 3/4, 0], [0, 0, 0]]
    """
    matrix = standard_lattice(hall_number=basis.hall_number) if lattice is None else sp.Matrix(lattice)
    if matrix == sp.eye(3):  # the unit-cube frame: Cartesian components are the crystal ones
        return tuple(sp.Array(sp.sympify(tensor)) for tensor in basis.tensors)
    exact_lattice = np.array(matrix.tolist(), dtype=object)
    result = []
    for tensor in basis.tensors:
        array = np.array(sp.sympify(tensor), dtype=object)
        for axis in range(basis.rank):  # T'[.., a, ..] = sum_i T[.., i, ..] L[i, a], exact SymPy entries
            array = np.moveaxis(np.tensordot(array, exact_lattice, axes=([axis], [0])), -1, axis)
        result.append(sp.Array(np.vectorize(sp.radsimp, otypes=[object])(array).tolist()))
    return tuple(result)


@dataclass(frozen=True)
class VoigtForm:
    """The Voigt matrix of the allowed tensors of one kind, in named independent components.

    Attributes
    ----------
    kind : str
    hall_number : int
    names : tuple of str
        The independent components (plain names such as ``'C11'``), in Voigt order.
    matrix : sympy.ImmutableMatrix
        6x6 (elastic), 3x6 (piezoelectric) or 3x3 (rank 2) in the symbols of ``names``.
    relations : tuple of (str, sympy.Expr)
        Every nonzero component that is not independent, with its value (``('C66', (C11 - C12)/2)``).
    zeros : tuple of str
        The components that vanish.
    """

    kind: str
    hall_number: int
    names: tuple[str, ...]
    matrix: sp.ImmutableMatrix
    relations: tuple[tuple[str, sp.Expr], ...]
    zeros: tuple[str, ...]

    @property
    def symbols(self) -> tuple[sp.Symbol, ...]:
        """The SymPy symbols of :attr:`names`."""
        return tuple(sp.Symbol(name, real=True) for name in self.names)


def component_name(kind: str, label: tuple[int, ...]) -> str:
    """Plain name of a component given by its Voigt label: ('elastic', (1, 2)) -> 'C12', (4,) of symmetric2 -> 'eps23'.

    Parameters
    ----------
    kind : str
        A tensor kind: ``'elastic'``, ``'piezoelectric'``, ``'symmetric2'`` or ``'axial2'``.
    label : tuple of int
        The component's Voigt label: one index 1-6 for rank 2, (i, J) or (I, J) otherwise.

    Returns
    -------
    str
        The component's name, such as ``'C12'``, ``'e33'`` or ``'eps23'``.

    Examples
    --------
    >>> component_name("piezoelectric", (3, 3)), component_name("axial2", (6,))
    ('e33', 'g12')
    """
    prefix = SYMBOLS[kind][0]
    if kind in ("symmetric2", "axial2"):
        return prefix + _RANK2_NAMES[label[0]]
    return prefix + "".join(str(v) for v in label)


@lru_cache(maxsize=None)
def voigt_form(group: object = None, kind: str = "elastic", *, hall_number: int | None = None) -> VoigtForm:
    """The Voigt matrix of the ``kind`` tensors a setting allows, in the standard Cartesian frame.

    Parameters
    ----------
    group, hall_number
        As for :func:`~crystal_fourier.derive.space_group`.
    kind : str
        One of :data:`~crystal_fourier.derive.TENSOR_KINDS`.

    Returns
    -------
    VoigtForm
        ``matrix`` spans exactly the allowed tensors in the frame of :func:`standard_lattice`:
        every choice of the independent components gives one, and every one arises once.

    Examples
    --------
    >>> form = voigt_form(194, "elastic")
    >>> form.names, form.relations
    (('C11', 'C12', 'C13', 'C33', 'C44'), (('C22', C11), ('C23', C13), ('C55', C44), ('C66', (C11 - C12)/2)))
    >>> voigt_form(225, "elastic").matrix[:3, :3]
    Matrix([
    [C11, C12, C12],
    [C12, C11, C12],
    [C12, C12, C11]])
    """
    basis = tensor_basis(group, kind, hall_number=hall_number)
    labels = tensor_components(kind)
    _, pick = _component_maps(kind)
    flat_of_component = [int(row.argmax()) for row in pick]
    rows = []
    for tensor in exact_cartesian_basis(basis):
        flat = sp.flatten(tensor.tolist())
        rows.append([flat[index] for index in flat_of_component])
    echelon, pivots = (sp.Matrix(rows).rref(iszerofunc=lambda v: sp.radsimp(v) == 0, simplify=sp.radsimp)
                       if rows else (sp.zeros(0, len(labels)), ()))
    names = tuple(component_name(kind, labels[p]) for p in pivots)
    symbols = [sp.Symbol(name, real=True) for name in names]
    values = [sp.radsimp(sum((echelon[r, c] * symbols[r] for r in range(len(pivots))), sp.Integer(0)))
              for c in range(len(labels))]
    relations = tuple((component_name(kind, labels[c]), values[c]) for c in range(len(labels))
                      if c not in pivots and values[c] != 0)
    zeros = tuple(component_name(kind, labels[c]) for c in range(len(labels)) if values[c] == 0)
    value_of = {labels[c]: values[c] for c in range(len(labels))}
    if kind in ("symmetric2", "axial2"):
        matrix = sp.Matrix(3, 3, lambda i, j: value_of[(_PAIR[i, j],)])
    elif kind == "piezoelectric":
        matrix = sp.Matrix(3, 6, lambda i, big_j: value_of[(i + 1, big_j + 1)])
    else:
        matrix = sp.Matrix(6, 6, lambda big_i, big_j: value_of[(min(big_i, big_j) + 1, max(big_i, big_j) + 1)])
    # immutable: the form is cached and shared between callers
    return VoigtForm(kind=kind, hall_number=basis.hall_number, names=names, matrix=sp.ImmutableMatrix(matrix),
                     relations=relations, zeros=zeros)
