"""Exact bases of the tensors a crystal's point group allows (Neumann's principle).

Convention (one for every kind, stated here once). A tensor of rank n is given by its
**contravariant components in the crystal's own basis**: T^{i j ...} with indices over the
conventional cell vectors a_1, a_2, a_3 of the setting, so that the Cartesian tensor is

    T_cart^{a b ...} = sum_{i j ...} L_{i a} L_{j b} ... T^{i j ...},

L the lattice matrix whose rows are the cell vectors (for rank 2: T_cart = L^T T L). A rotation R
of the point group acts on fractional coordinates as x -> R x (CONVENTIONS.md), hence on such
components as T -> (R ⊗ R ⊗ ...) T (rank 2: R T R^T). A polar tensor is allowed when it is
invariant under every R; an axial one (``axial2``) when det(R) (R T R^T) = T. Since R is an
integer matrix in every setting (hexagonal axes included), the invariant subspace has an exact
rational basis; only the Cartesian form needs the metric (sqrt(3) on hexagonal axes).

Kinds and their independent components (Voigt pairs 1 = 11, 2 = 22, 3 = 33, 4 = 23, 5 = 13,
6 = 12; the entries are the tensor components themselves, with no factors of 2, i.e. the
stiffness c and piezoelectric-stress e conventions):

* ``symmetric2``: rank 2, symmetric (dielectric permittivity, thermal expansion); 6 components
  in Voigt order 1-6;
* ``axial2``: rank 2, symmetric, axial (gyration tensor, optical activity); 6 components;
* ``piezoelectric``: rank 3, symmetric in its last two indices; 18 components e_{iJ}, i = 1-3,
  J = 1-6, row-major;
* ``elastic``: rank 4 with c_{ijkl} = c_{jikl} = c_{ijlk} = c_{klij}; 21 components C_{IJ},
  I <= J, row-major over the upper triangle of the 6x6 Voigt matrix.

The basis is the reduced row echelon basis of the invariant subspace in these component
coordinates: each basis tensor has one pivot component equal to 1 where every other basis
tensor is 0, so the coefficient of a basis tensor is the value of its pivot component.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, reduce
from itertools import product
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["TENSOR_KINDS", "TensorBasis", "tensor_basis", "tensor_components"]

TENSOR_KINDS = ("symmetric2", "piezoelectric", "elastic", "axial2")
"""The tensor kinds, in the order the generated tables list them."""

_RANKS = {"symmetric2": 2, "axial2": 2, "piezoelectric": 3, "elastic": 4}

# Voigt index of a symmetric index pair (0-based): 11 -> 0, 22 -> 1, 33 -> 2, 23 -> 3, 13 -> 4, 12 -> 5.
_VOIGT = {(0, 0): 0, (1, 1): 1, (2, 2): 2, (1, 2): 3, (2, 1): 3, (0, 2): 4, (2, 0): 4, (0, 1): 5, (1, 0): 5}


def _check_kind(kind: object) -> str:
    if kind not in _RANKS:
        raise CrystalFourierError(
            f"unknown tensor kind {kind!r}; expected one of {', '.join(TENSOR_KINDS)}")
    return str(kind)


def _component_key(kind: str, index: tuple[int, ...]) -> tuple[int, ...]:
    """The independent component (Voigt labels, 0-based) that the full index ``index`` belongs to."""
    if kind in ("symmetric2", "axial2"):
        return (_VOIGT[index],)
    if kind == "piezoelectric":
        return (index[0], _VOIGT[index[1:]])
    first, second = _VOIGT[index[:2]], _VOIGT[index[2:]]
    return (min(first, second), max(first, second))


@lru_cache(maxsize=None)
def tensor_components(kind: str) -> tuple[tuple[int, ...], ...]:
    """The independent components of a tensor kind, as Voigt labels (1-based), in basis order.

    ``symmetric2``/``axial2``: (I,) for I = 1-6; ``piezoelectric``: (i, J), i = 1-3, J = 1-6;
    ``elastic``: (I, J) with I <= J. The matching full index of a label is its Voigt pairs.

    Parameters
    ----------
    kind : str
        One of :data:`TENSOR_KINDS`: ``'symmetric2'``, ``'piezoelectric'``, ``'elastic'``, ``'axial2'``.

    Returns
    -------
    tuple of tuple of int
        The 1-based Voigt labels (6, 18, 21 or 6 of them).

    Raises
    ------
    CrystalFourierError
        For an unknown kind.

    Examples
    --------
    >>> len(tensor_components("elastic")), tensor_components("elastic")[:3]
    (21, ((1, 1), (1, 2), (1, 3)))
    >>> tensor_components("piezoelectric")[3]
    (1, 4)
    """
    kind = _check_kind(kind)
    keys = sorted({_component_key(kind, index) for index in product(range(3), repeat=_RANKS[kind])})
    return tuple(tuple(v + 1 for v in key) for key in keys)


@lru_cache(maxsize=None)
def _component_maps(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """``(embed, pick)``: embed (3^n, m) sends a component to its symmetric full tensor; pick (m, 3^n) reads it back."""
    rank = _RANKS[kind]
    labels = {tuple(v - 1 for v in label): column for column, label in enumerate(tensor_components(kind))}
    indices = list(product(range(3), repeat=rank))
    embed = np.zeros((len(indices), len(labels)), dtype=np.int64)
    pick = np.zeros((len(labels), len(indices)), dtype=np.int64)
    for flat, index in enumerate(indices):
        column = labels[_component_key(kind, index)]
        embed[flat, column] = 1
        if not pick[column].any():
            pick[column, flat] = 1
    return embed, pick


def _representation(kind: str, rotation: np.ndarray) -> np.ndarray:
    """The integer matrix by which ``rotation`` acts on the kind's component coordinates."""
    embed, pick = _component_maps(kind)
    full = reduce(np.kron, [rotation] * _RANKS[kind])
    matrix = pick @ full @ embed
    if kind == "axial2":
        matrix = matrix * round(np.linalg.det(rotation))  # det of an integer rotation is exactly +-1
    return matrix


def _row_echelon(rows: list[list[Fraction]]) -> tuple[list[list[Fraction]], list[int]]:
    """Exact reduced row echelon form over the rationals: (nonzero rows, pivot columns)."""
    rows = [list(row) for row in rows]
    pivots: list[int] = []
    n_columns = len(rows[0]) if rows else 0
    top = 0
    for column in range(n_columns):
        found = next((r for r in range(top, len(rows)) if rows[r][column] != 0), None)
        if found is None:
            continue
        rows[top], rows[found] = rows[found], rows[top]
        lead = rows[top][column]
        rows[top] = [value / lead for value in rows[top]]
        for r in range(len(rows)):
            if r != top and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[top], strict=True)]
        pivots.append(column)
        top += 1
    return rows[:top], pivots


@lru_cache(maxsize=None)
def _invariant_components(kind: str, rotations: tuple) -> tuple[tuple[tuple[Fraction, ...], ...], tuple[int, ...]]:
    """Row echelon basis of the invariant components for a point group (sorted rotations); cached per group."""
    total = sum(_representation(kind, np.array(rotation, dtype=np.int64)) for rotation in rotations)
    # total / |G| is the Reynolds projector onto the invariant subspace: its column space is the subspace.
    rows, pivots = _row_echelon([[Fraction(int(v)) for v in column] for column in total.T])
    return tuple(tuple(row) for row in rows), tuple(pivots)


@dataclass(frozen=True, slots=True)
class TensorBasis:
    """Exact basis of the tensors of one kind that one setting's point group allows.

    See the module docstring for the convention: contravariant components in the crystal's own
    (conventional, fractional) basis, invariant under T -> R T R^T (and its higher-rank analogue)
    for every rotation R of the group, T_cart = L^T T L in Cartesian form.

    Attributes
    ----------
    kind : str
        One of :data:`TENSOR_KINDS`.
    hall_number : int
        The setting (spglib Hall number 1-530).
    rank : int
        2, 3 or 4.
    dimension : int
        Number of independent invariant tensors (0 where the group forbids the property).
    components : tuple of tuples of Fraction
        The basis, shape (dimension, n_components): each row lists a basis tensor's independent
        components in the order of :func:`tensor_components`, in reduced row echelon form.
    pivots : tuple of int
        For each basis tensor, the position of its pivot component (equal to 1 there, while every
        other basis tensor is 0 there): a tensor's coefficients are its pivot components.

    Examples
    --------
    >>> cubic = tensor_basis(225, "elastic")
    >>> cubic.dimension, [tensor_components("elastic")[p] for p in cubic.pivots]
    (3, [(1, 1), (1, 2), (4, 4)])
    >>> tensor_basis("P6_3/mmc", "symmetric2").components[0]   # T^11 = T^22 = 1, T^12 = 1/2 (Voigt 6)
    (Fraction(1, 1), Fraction(1, 1), Fraction(0, 1), Fraction(0, 1), Fraction(0, 1), Fraction(1, 2))
    """

    kind: str
    hall_number: int
    rank: int
    dimension: int
    components: tuple[tuple[Fraction, ...], ...]
    pivots: tuple[int, ...]

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        n_components = len(tensor_components(self.kind))
        if self.rank != _RANKS[self.kind]:
            raise ValueError(f"a {self.kind} tensor has rank {_RANKS[self.kind]}, not {self.rank}")
        if len(self.components) != self.dimension or len(self.pivots) != self.dimension:
            raise ValueError(f"dimension {self.dimension} but {len(self.components)} basis tensors "
                             f"and {len(self.pivots)} pivots")
        if any(len(row) != n_components for row in self.components):
            raise ValueError(f"every {self.kind} basis tensor has {n_components} components")

    @property
    def tensors(self) -> tuple:
        """The basis tensors with all 3^rank components, as nested tuples of Fraction (rank levels deep).

        >>> tensor_basis(225, "symmetric2").tensors[0]
        ((Fraction(1, 1), Fraction(0, 1), Fraction(0, 1)), (Fraction(0, 1), Fraction(1, 1), Fraction(0, 1)), \
(Fraction(0, 1), Fraction(0, 1), Fraction(1, 1)))
        """
        embed, _ = _component_maps(self.kind)
        flat_of = [np.flatnonzero(embed[flat])[0] for flat in range(embed.shape[0])]

        def nest(values: list[Fraction]) -> tuple:
            if len(values) == 3:
                return tuple(values)
            step = len(values) // 3
            return tuple(nest(values[i * step:(i + 1) * step]) for i in range(3))

        return tuple(nest([row[column] for column in flat_of]) for row in self.components)

    def array(self) -> np.ndarray:
        """The basis tensors in the crystal basis as floats, shape=(dimension, 3, ..., 3), dtype=float64.

        >>> tensor_basis(1, "piezoelectric").array().shape
        (18, 3, 3, 3)
        """
        embed, _ = _component_maps(self.kind)
        exact = np.array([[float(v) for v in row] for row in self.components], dtype=np.float64)
        exact = exact.reshape(self.dimension, embed.shape[1])
        return (exact @ embed.T.astype(np.float64)).reshape((self.dimension,) + (3,) * self.rank)

    def cartesian(self, lattice: ArrayLike) -> np.ndarray:
        """The basis tensors in the Cartesian frame of ``lattice``: T_cart = L^T T L (per index).

        Parameters
        ----------
        lattice : array_like, shape=(3, 3)
            Rows are the conventional cell vectors of this setting, in Angstrom, in any Cartesian
            frame (e.g. the standardized cell of ``runtime.standardize``). The tensors are
            invariant under the Cartesian rotations L^T R L^-T of the crystal, which are
            orthogonal when the lattice has the group's metric.

        Returns
        -------
        numpy.ndarray
            shape=(dimension, 3, ..., 3) (rank trailing axes), dtype=float64.

        Raises
        ------
        CrystalFourierError
            If ``lattice`` is not a finite 3x3 matrix.

        Examples
        --------
        >>> import numpy as np
        >>> basis = tensor_basis(194, "symmetric2")
        >>> hexagonal = np.array([[3.0, 0, 0], [-1.5, 1.5 * 3 ** 0.5, 0], [0, 0, 5.0]])
        >>> np.round(basis.cartesian(hexagonal)[0], 12) + 0.0   # isotropic in the basal plane
        array([[6.75, 0.  , 0.  ],
               [0.  , 6.75, 0.  ],
               [0.  , 0.  , 0.  ]])
        """
        return to_cartesian(self.array(), lattice)


def to_cartesian(tensors: np.ndarray, lattice: ArrayLike) -> np.ndarray:
    """Crystal-basis tensors to Cartesian ones: T_cart^{ab..} = sum T^{ij..} L_ia L_jb ... .

    Parameters
    ----------
    tensors : numpy.ndarray
        shape=(n, 3, ..., 3), dtype=float64: n tensors of contravariant crystal-basis components.
    lattice : array_like
        shape=(3, 3), rows = cell vectors in the Cartesian frame.

    Returns
    -------
    numpy.ndarray
        Same shape, dtype=float64, the Cartesian components (rank 2: L^T T L).

    Raises
    ------
    CrystalFourierError
        If ``lattice`` is not a finite 3x3 matrix.

    Examples
    --------
    >>> import numpy as np
    >>> to_cartesian(np.eye(3)[None], np.diag([2.0, 3.0, 4.0]))[0]
    array([[ 4.,  0.,  0.],
           [ 0.,  9.,  0.],
           [ 0.,  0., 16.]])
    """
    matrix = np.asarray(lattice, dtype=np.float64)
    if matrix.shape != (3, 3) or not np.all(np.isfinite(matrix)):
        raise CrystalFourierError(
            f"lattice must be a finite 3x3 matrix (rows = cell vectors), got shape {matrix.shape}")
    rank = tensors.ndim - 1
    result = tensors
    for axis in range(1, rank + 1):
        result = np.moveaxis(np.tensordot(result, matrix, axes=([axis], [0])), -1, axis)
    return result


def tensor_basis(group: int | str | SpaceGroup | None = None, kind: str = "elastic", *,
                 hall_number: int | None = None) -> TensorBasis:
    """The exact basis of the ``kind`` tensors that the group's point group allows.

    Parameters
    ----------
    group : int or str or SpaceGroup, optional
        Anything :func:`~crystal_fourier.derive.space_group` accepts; with ``hall_number``
        alone, that setting.
    kind : str
        One of :data:`TENSOR_KINDS`: "symmetric2", "piezoelectric", "elastic", "axial2".
    hall_number : int, optional
        spglib Hall number 1-530 (any setting).

    Returns
    -------
    TensorBasis
        Every basis tensor T satisfies (R ⊗ ... ⊗ R) T = T exactly (times det R for axial2) for
        each rotation R of the setting; the basis depends only on the rotations and is cached
        per point group in its setting.

    Raises
    ------
    CrystalFourierError
        For an unknown group, setting or kind.

    Examples
    --------
    >>> [tensor_basis(n, "elastic").dimension for n in (1, 14, 62, 139, 166, 194, 225)]
    [21, 13, 9, 6, 6, 5, 3]
    >>> tensor_basis(hall_number=1, kind="piezoelectric").dimension
    18
    >>> tensor_basis(221, "piezoelectric").dimension
    0
    """
    kind = _check_kind(kind)
    setting = space_group(group, hall_number=hall_number)
    rotations = tuple(sorted(setting.rotations))
    components, pivots = _invariant_components(kind, rotations)
    return TensorBasis(kind=kind, hall_number=setting.hall_number, rank=_RANKS[kind],
                       dimension=len(components), components=components, pivots=pivots)
