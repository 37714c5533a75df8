"""Re-descriptions by a change of the cell basis: any exact rational basis, supercells, the Niggli
cell, random unimodular bases (the :class:`~crystal_fourier.audit._redescriptions.Redescription` of
each, with its exact atom map; see that module for the conventions)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike

from crystal_fourier.audit._redescriptions import (
    EXACT_TOLERANCE,
    Redescription,
    _determinant,
    _finish,
    _fractions,
)
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal

__all__ = ["in_basis", "supercell", "niggli_basis", "random_unimodular_basis"]


def in_basis(crystal: Crystal, basis: ArrayLike, *, kind: str = "basis", label: str | None = None) -> Redescription:
    """The crystal in the cell with rows B L, for an exact rational ``basis`` B.

    |det B| > 1 gives a larger cell (its atoms are the old ones plus lattice vectors); |det B| < 1
    a smaller one, which is a re-description only when the crystal is periodic on that finer
    lattice (a centred cell to its primitive cell); otherwise this raises.

    Parameters
    ----------
    basis : array_like, shape=(3, 3)
        Integers, Fractions, or floats that are multiples of 1/48.

    Examples
    --------
    >>> from fractions import Fraction
    >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0], [.5, .5, .5]], ["Cu", "Cu"])
    >>> half = [[Fraction(-1, 2), Fraction(1, 2), Fraction(1, 2)], [Fraction(1, 2), Fraction(-1, 2), Fraction(1, 2)],
    ...         [Fraction(1, 2), Fraction(1, 2), Fraction(-1, 2)]]
    >>> in_basis(c, half).crystal.n_atoms, in_basis(c, [[1, 0, 0], [0, 1, 0], [0, 0, 2]]).crystal.n_atoms
    (1, 4)
    """
    exact = _fractions(basis)
    determinant = _determinant(exact)
    if determinant == 0:
        raise CrystalFourierError("basis change must be non-singular")
    b = np.array([[float(x) for x in row] for row in exact])
    b_inv = np.linalg.inv(b)
    # t B^-1 mod 1 depends on t only modulo q Z^3, q the common denominator of B^-1's entries.
    inverse_fractions = _fractions(b_inv)
    q = 1
    for row in inverse_fractions:
        for x in row:
            q = q * x.denominator // np.gcd(q, x.denominator)
    cells = abs(determinant)
    expected = crystal.n_atoms * cells
    if expected.denominator != 1:
        raise CrystalFourierError(f"{crystal.n_atoms} atoms cannot fill a cell of {cells} times the volume")
    offsets = np.array(list(itertools.product(range(q), repeat=3)), dtype=np.float64)
    candidates = (crystal.positions[None, :, :] + offsets[:, None, :]) @ b_inv   # (T, n, 3)
    candidates = candidates.reshape(-1, 3)
    owners = np.tile(np.arange(crystal.n_atoms), len(offsets))
    wrapped = np.mod(candidates, 1.0)
    new_lattice = b @ crystal.lattice
    # Fast path: images that agree on a 2^-20 grid (mod 1) are one atom; the count check below
    # catches the rare split at a grid boundary, and the tolerance-based merge then decides.
    keys = np.mod(np.rint(wrapped * _KEY_GRID).astype(np.int64), _KEY_GRID)
    _, first = np.unique(keys, axis=0, return_index=True)
    kept = np.sort(first)
    if len(kept) != int(expected):
        kept = _merged(wrapped, new_lattice)
    kept_positions = wrapped[kept]
    if len(kept) != int(expected):
        raise CrystalFourierError(
            f"{label or 'basis change'}: the crystal is not periodic on the lattice with rows B L "
            f"({len(kept)} distinct atoms, {int(expected)} expected): not a re-description")
    # Wrapping in the new cell adds vectors of the new lattice, which for a smaller cell are not old
    # lattice vectors: each kept atom is then another old atom plus an old lattice vector; find it.
    owners = _matching_atoms(crystal, kept_positions @ new_lattice, crystal.numbers[owners[kept]])
    new = Crystal(new_lattice, kept_positions, crystal.numbers[owners])
    text = label or "B = " + str([[str(x) for x in row] for row in exact])
    return _finish(kind, text, crystal, new, owners, basis=exact, origin=np.zeros(3))


_KEY_GRID = 2 ** 20


def _merged(wrapped: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """Indices of the first of each group of points within EXACT_TOLERANCE (Cartesian, periodic)."""
    kept: list[int] = []
    for index in range(len(wrapped)):
        if kept:
            gap = wrapped[index] - wrapped[kept]
            gap -= np.rint(gap)
            if np.min(np.linalg.norm(gap @ lattice, axis=1)) <= EXACT_TOLERANCE:
                continue
        kept.append(index)
    return np.array(kept, dtype=np.int64)


def _matching_atoms(crystal: Crystal, cartesian: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """For each Cartesian point, the atom of ``crystal`` (same species) it is a lattice translate of."""
    fractional = np.linalg.solve(crystal.lattice.T, cartesian.T).T
    gap = fractional[:, None, :] - crystal.positions[None, :, :]
    gap -= np.rint(gap)
    distance = np.linalg.norm(gap @ crystal.lattice, axis=-1)
    distance[numbers[:, None] != crystal.numbers[None, :]] = np.inf
    return np.argmin(distance, axis=1).astype(np.int64)


def supercell(crystal: Crystal, repeats: "Iterable[int]") -> Redescription:
    """The n1 x n2 x n3 supercell (extensive quantities scale by n1 n2 n3).

    Parameters
    ----------
    crystal : Crystal
        Any crystal.
    repeats : iterable of int
        (n1, n2, n3), each >= 1: the new cell rows are n1 a, n2 b, n3 c.

    Returns
    -------
    Redescription
        The supercell, its exact atom map (new atom i is an old atom plus a lattice vector) and
        ``cells`` = n1 n2 n3, by which ``expected`` scales extensive quantities.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0]], ["Cu"])
    >>> r = supercell(c, (2, 1, 3))
    >>> r.crystal.n_atoms, r.cells
    (6, Fraction(6, 1))
    """
    repeats = [int(n) for n in repeats]
    if len(repeats) != 3 or min(repeats) < 1:
        raise CrystalFourierError(f"repeats must be three positive integers, got {repeats}")
    return in_basis(crystal, np.diag(repeats).astype(np.int64), kind="supercell",
                    label="supercell " + "x".join(map(str, repeats)))


def niggli_basis(crystal: Crystal) -> Redescription:
    """The crystal in its Niggli-reduced cell (spglib; an exact unimodular basis change).

    Parameters
    ----------
    crystal : Crystal
        The crystal (lattice in Angstrom).

    Returns
    -------
    Redescription

    Examples
    --------
    >>> c = Crystal.from_arrays([[3.0, 0, 0], [9.0, 3, 0], [0, 0, 3]], [[0, 0, 0]], ["Cu"])
    >>> np.abs(niggli_basis(c).crystal.lattice).max().round(9)
    np.float64(3.0)
    """
    from crystal_fourier._spglib import niggli_reduced

    _, matrix = niggli_reduced(crystal.lattice)
    return in_basis(crystal, np.rint(matrix).astype(np.int64), kind="niggli", label="Niggli-reduced cell")


def random_unimodular_basis(crystal: Crystal, rng: np.random.Generator, *, determinant: int = 1) -> Redescription:
    """The crystal in a random unimodular basis of determinant +1 or -1 (left-handed when -1).

    The matrix is a product of three random {-1, 0, 1} unimodular matrices (derive's
    ``unimodular_matrices``), so cells are sheared but stay reasonably short.

    Parameters
    ----------
    crystal : Crystal
        The crystal.
    rng : numpy.random.Generator
        The random source.
    determinant : int, default 1
        +1 or -1.

    Returns
    -------
    Redescription

    Raises
    ------
    CrystalFourierError
        If ``determinant`` is not +1 or -1.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0]], ["Cu"])
    >>> random_unimodular_basis(c, np.random.default_rng(0), determinant=-1).left_handed
    True
    """
    from crystal_fourier._unimodular import unimodular_matrices

    if determinant not in (1, -1):
        raise CrystalFourierError(f"determinant must be 1 or -1, got {determinant}")
    matrices, _ = unimodular_matrices()
    product = np.eye(3, dtype=np.int64)
    for _ in range(3):
        product = product @ matrices[int(rng.integers(len(matrices)))]
    if round(np.linalg.det(product)) != determinant:
        product = product @ np.diag([-1, 1, 1])
    return in_basis(crystal, product, kind="unimodular", label=f"det {determinant:+d} {product.tolist()}")
