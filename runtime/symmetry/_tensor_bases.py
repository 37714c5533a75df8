"""Tensor bases at run time, read from the generated tables (generated/tensor_bases.py), never derived.

The tables hold, for each point group in its setting, the exact basis of the tensors it allows
(derive/_tensors.py states the convention: contravariant components in the conventional crystal
basis, T_cart = L^T T L per index). Here they become float64 arrays, once per point group and
kind, and are carried to the Cartesian frame of a lattice.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive._tensors import to_cartesian
from crystal_fourier._checks import check_int
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["crystal_tensor_basis", "cartesian_tensor_basis"]


def _tables():
    from crystal_fourier.generated import tensor_bases

    return tensor_bases


def _check(hall_number: int, kind: str) -> None:
    tables = _tables()
    if kind not in tables.KINDS:
        raise CrystalFourierError(f"unknown tensor kind {kind!r}; expected one of {', '.join(tables.KINDS)}")
    check_int("Hall number", hall_number, 1, len(tables.POINT_GROUP_OF_HALL.split()), allow_numpy=True)


@lru_cache(maxsize=None)
def _point_group_of_hall() -> tuple[int, ...]:
    return tuple(int(v) for v in _tables().POINT_GROUP_OF_HALL.split())


@lru_cache(maxsize=None)
def _crystal_basis(kind: str, point_group: int) -> np.ndarray:
    """The basis of one table entry as a read-only float64 array, shape=(dimension, 3, ..., 3)."""
    tables = _tables()
    dimension, denominator, *numerators = (int(v) for v in tables.BASES[kind][point_group].split())
    full_component = np.array(tables.FULL_COMPONENT[kind].split(), dtype=np.int64)
    n_components = len(tables.COMPONENT_LABELS[kind].split())
    if len(numerators) != dimension * n_components:
        raise CrystalFourierError(f"generated/tensor_bases.py: entry {point_group} of {kind} is malformed; "
                                  "regenerate it (crystal-fourier generate --shipped --out generated/)")
    components = np.array(numerators, dtype=np.float64).reshape(dimension, n_components) / denominator
    array = components[:, full_component].reshape((dimension,) + (3,) * tables.RANKS[kind])
    array.flags.writeable = False
    return array


def crystal_tensor_basis(hall_number: int, kind: str) -> np.ndarray:
    """The allowed tensors of a setting in its crystal basis (contravariant components), from the tables.

    Parameters
    ----------
    hall_number : int
        The setting, 1-530 (e.g. ``StandardizedCrystal``'s Hall number).
    kind : str
        "symmetric2", "piezoelectric", "elastic" or "axial2".

    Returns
    -------
    numpy.ndarray
        shape=(dimension, 3, ..., 3) (rank 2, 3 or 4 trailing axes), dtype=float64, read-only:
        the row echelon basis of :func:`crystal_fourier.derive.tensor_basis`, evaluated.

    Raises
    ------
    CrystalFourierError
        For a Hall number outside 1-530 or an unknown kind.

    Examples
    --------
    >>> crystal_tensor_basis(523, "elastic").shape   # Fm-3m: C11, C12, C44
    (3, 3, 3, 3, 3)
    """
    _check(hall_number, kind)
    return _crystal_basis(kind, _point_group_of_hall()[int(hall_number) - 1])


def cartesian_tensor_basis(hall_number: int, lattice: ArrayLike, kind: str) -> np.ndarray:
    """The allowed tensors of a setting in the Cartesian frame of ``lattice``, from the tables.

    T_cart^{ab..} = sum T^{ij..} L_ia L_jb ... for each basis tensor T of
    :func:`crystal_tensor_basis`. When ``lattice`` has the group's metric, every returned tensor
    is invariant under the crystal's Cartesian rotations Q = L^T R L^-T (times det Q for axial2),
    and any allowed tensor is a unique linear combination of them. Equal to
    ``crystal_fourier.derive.tensor_basis(hall_number=..., kind=...).cartesian(lattice)``.

    Parameters
    ----------
    hall_number : int
        The setting, 1-530.
    lattice : array_like
        shape=(3, 3), rows = the conventional cell vectors of that setting (Angstrom), in any
        Cartesian frame (e.g. the standardized cell of :func:`crystal_fourier.runtime.standardize`).
    kind : str
        "symmetric2", "piezoelectric", "elastic" or "axial2".

    Returns
    -------
    numpy.ndarray
        shape=(dimension, 3, ..., 3), dtype=float64.

    Raises
    ------
    CrystalFourierError
        For a Hall number outside 1-530, an unknown kind or a lattice that is not a finite 3x3 matrix.

    Examples
    --------
    >>> import numpy as np
    >>> basis = cartesian_tensor_basis(523, 4.0 * np.eye(3), "symmetric2")
    >>> basis.shape, float(basis[0, 0, 0]), float(basis[0, 0, 1])
    ((1, 3, 3), 16.0, 0.0)
    """
    return to_cartesian(crystal_tensor_basis(hall_number, kind), lattice)
