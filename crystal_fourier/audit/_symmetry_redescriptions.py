"""Re-descriptions that need the crystal's symmetry: primitive <-> conventional cells, the group's own
operations, the cosets of its Euclidean normalizer, and near-degenerate reduced bases.

Each works on ``standardize(crystal).crystal`` (exactly symmetric) and records it as the ``original``
of the :class:`~crystal_fourier.audit._redescriptions.Redescription` it returns; the frame, atom and
basis changes they are made of are those of :mod:`crystal_fourier.audit._redescriptions`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from functools import lru_cache
from fractions import Fraction

import numpy as np

from crystal_fourier.audit._basis_changes import in_basis
from crystal_fourier.audit._redescriptions import Redescription, _finish
from crystal_fourier.runtime import Crystal

__all__ = ["primitive_and_conventional", "group_operations", "normalizer_cosets", "near_degenerate_bases"]


_PRIMITIVE = {
    "A": ((1, 0, 0), (0, Fraction(1, 2), Fraction(1, 2)), (0, Fraction(-1, 2), Fraction(1, 2))),
    "B": ((Fraction(1, 2), 0, Fraction(-1, 2)), (0, 1, 0), (Fraction(1, 2), 0, Fraction(1, 2))),
    "C": ((Fraction(1, 2), Fraction(-1, 2), 0), (Fraction(1, 2), Fraction(1, 2), 0), (0, 0, 1)),
    "I": ((Fraction(-1, 2), Fraction(1, 2), Fraction(1, 2)), (Fraction(1, 2), Fraction(-1, 2), Fraction(1, 2)),
          (Fraction(1, 2), Fraction(1, 2), Fraction(-1, 2))),
    "F": ((0, Fraction(1, 2), Fraction(1, 2)), (Fraction(1, 2), 0, Fraction(1, 2)),
          (Fraction(1, 2), Fraction(1, 2), 0)),
    "R": ((Fraction(2, 3), Fraction(1, 3), Fraction(1, 3)), (Fraction(-1, 3), Fraction(1, 3), Fraction(1, 3)),
          (Fraction(-1, 3), Fraction(-2, 3), Fraction(1, 3))),
}
"""Rows: primitive cell vectors in conventional coordinates, per centring (spglib's choice, transposed)."""


def _standard(crystal: Crystal, symprec: float | None):
    """``standardize(crystal)``, computed once per crystal and symprec (three kinds need it)."""
    from crystal_fourier.runtime import DEFAULT_SYMPREC

    return _standard_of(crystal.lattice.tobytes(), crystal.positions.tobytes(), crystal.numbers.tobytes(),
                        DEFAULT_SYMPREC if symprec is None else float(symprec))


@lru_cache(maxsize=16)
def _standard_of(lattice: bytes, positions: bytes, numbers: bytes, symprec: float):
    from crystal_fourier.runtime import standardize

    crystal = Crystal(np.frombuffer(lattice).reshape(3, 3), np.frombuffer(positions).reshape(-1, 3),
                      np.frombuffer(numbers, dtype=np.int64))
    # handedness="keep": re-descriptions of this crystal, never of its mirror image
    return standardize(crystal, symprec=symprec, handedness="keep")


def primitive_and_conventional(crystal: Crystal, *, symprec: float | None = None) -> tuple[Redescription, ...]:
    """Conventional -> primitive and primitive -> conventional, exactly (empty for a P lattice).

    Both start from ``standardize(crystal).crystal`` (exactly symmetric, conventional cell of
    the standard setting); the primitive basis is spglib's for the centring (rational B).

    Parameters
    ----------
    crystal : Crystal
        The crystal.
    symprec : float, optional
        spglib's symmetry tolerance in Angstrom; the standardization's default when None.

    Returns
    -------
    tuple of Redescription
        Two for a centred lattice, none for P.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], ["Cu"] * 4)
    >>> [(r.original.n_atoms, r.crystal.n_atoms, str(r.cells)) for r in primitive_and_conventional(c)]
    [(4, 1, '1/4'), (1, 4, '4')]
    """
    standard = _standard(crystal, symprec)
    from crystal_fourier.derive import space_group

    centring = space_group(hall_number=standard.hall_number).centring
    if centring == "P":
        return ()
    down = in_basis(standard.crystal, _PRIMITIVE[centring], kind="primitive", label=f"{centring} -> primitive")
    inverse = np.linalg.inv(np.array([[float(x) for x in row] for row in _PRIMITIVE[centring]]))
    up = in_basis(down.crystal, np.rint(inverse).astype(np.int64), kind="primitive",
                  label=f"primitive -> {centring}")
    return down, up


def group_operations(crystal: Crystal, *, symprec: float | None = None,
                     indices: "Iterable[int] | None" = None) -> tuple[Redescription, ...]:
    """Every operation (R, t) of the crystal's own space group applied to all atoms.

    The image x -> R x + t of an exactly symmetric crystal is the same atom set; the
    Redescription maps atom i to its image (identity map, frame change Q = L^T R L^-T and
    origin t L), so a model's forces must obey f(g x_i) = Q f(x_i) and its energy must not
    change. Improper operations give det Q = -1 without producing a mirror image (the
    crystal is its own image); the relation f(g x_i) = Q f(x_i) for them holds for a model
    that is invariant under reflections (E(3)) but need not for one that is only SE(3)
    invariant (its forces may break the crystal's improper symmetry), so ``audit`` under
    ``Claim(symmetry='SE3')`` skips them and counts them in the report.

    Parameters
    ----------
    crystal : Crystal
        The crystal; its standardized form (exactly symmetric) is the one transformed.
    symprec : float, optional
        spglib's symmetry tolerance in Angstrom; the standardization's default when None.
    indices : iterable of int, optional
        Positions of the operations in the group's list (modulo its length); all by default.

    Returns
    -------
    tuple of Redescription

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], ["Cu"] * 4)
    >>> len(group_operations(c))
    192

    ``indices`` (optional) selects operations by their position in the group's list (identity first).
    """
    from crystal_fourier.derive import DEN
    from crystal_fourier.derive import space_group

    standard = _standard(crystal, symprec)
    base = standard.crystal
    group = space_group(hall_number=standard.hall_number)
    lattice = base.lattice
    found = []
    chosen = range(len(group.operations)) if indices is None else indices
    for operation in (group.operations[int(i) % len(group.operations)] for i in chosen):
        r = np.array(operation.rotation, dtype=np.float64)
        t = np.array(operation.translation_24, dtype=np.float64) / DEN
        q = lattice.T @ r @ np.linalg.inv(lattice.T)
        new = Crystal(lattice, base.positions @ r.T + t, base.numbers)
        found.append(_finish("group", operation.xyz, base, new, np.arange(base.n_atoms), q,
                             basis=np.rint(np.linalg.inv(r).T).astype(np.int64), origin=t @ lattice))
    return tuple(found)


def normalizer_cosets(crystal: Crystal, *, symprec: float | None = None, limit: int | None = None,
                      rng: np.random.Generator | None = None) -> tuple[Redescription, ...]:
    """One re-description per coset of the Euclidean normalizer: x -> M x + s in the standard setting.

    M runs over the integer isometries of the cell that normalize the point group and keep the
    centring, proper ones and, for a non-centrosymmetric group, their negatives (det -1: a
    left-handed basis of the same crystal; in a centrosymmetric group they repeat cosets), s over
    the origin shifts that map the group to itself (the standardization's exact tables).
    Each gives the crystal in another basis of the same setting (rows M^-T L) and origin; the
    frame is not rotated (Q = I). With ``limit``, at most that many, drawn by ``rng`` uniformly
    and without replacement from all cosets (M, s) (every origin shift of every M can be drawn;
    the shift tables are those standardization derives, cached), or the first ones as listed.

    Parameters
    ----------
    crystal : Crystal
        The crystal; its standardized form is the one transformed.
    symprec : float, optional
        spglib's symmetry tolerance in Angstrom; the standardization's default when None.
    limit : int, optional
        The most re-descriptions returned; all by default.
    rng : numpy.random.Generator, optional
        Draws the ``limit`` cosets at random; the first ones as listed by default.

    Returns
    -------
    tuple of Redescription

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], ["Cu"] * 4)
    >>> len(normalizer_cosets(c)) >= 2
    True
    """
    from crystal_fourier.runtime import normalizer_elements

    standard = _standard(crystal, symprec)
    base = standard.crystal
    found: list[Redescription] = []
    for m, shift_48 in normalizer_elements(standard.hall_number, base.lattice @ base.lattice.T, limit=limit, rng=rng):
        m_inv_t = np.rint(np.linalg.inv(m).T).astype(np.int64)
        shift = shift_48 / 48   # normalizer_elements gives the shifts in 48ths
        new = Crystal(m_inv_t @ base.lattice, base.positions @ m.T + shift, base.numbers)
        label = f"M={m.tolist()} s={[str(Fraction(int(v), 48)) for v in shift_48]}"
        found.append(_finish("normalizer", label, base, new, np.arange(base.n_atoms), basis=m_inv_t,
                             origin=shift @ new.lattice))
    return tuple(found)


_NEAR_RANGE = 2   # lattice vectors n L_reduced with |n_i| <= 2 are candidates


def near_degenerate_bases(crystal: Crystal, *, symprec: float | None = None,
                          limit: int = 6) -> tuple[Redescription, ...]:
    """Bases whose vectors tie within ``symprec`` with another lattice vector of the Niggli cell.

    For each vector r_i of the Niggli-reduced cell, every other lattice vector v = n L_reduced
    (|n_k| <= 2, v != +-r_i) with ||v| - |r_i|| <= symprec replaces r_i when the result is
    still a basis (|det| = 1); when v is another basis vector +-r_j, the two are swapped.
    These are the cells between which a tolerance-based choice
    (standardization, a reduction, a neighbour cutoff) can flip; a crystal without such ties
    gives none. At most ``limit`` are returned, nearest ties first.

    Parameters
    ----------
    crystal : Crystal
        The crystal (lattice in Angstrom).
    symprec : float, optional
        The tie tolerance in Angstrom; the standardization's default when None.
    limit : int, default 6
        The most re-descriptions returned.

    Returns
    -------
    tuple of Redescription

    Examples
    --------
    >>> c = Crystal.from_arrays([[3.0, 0, 0], [0, 3.00001, 0], [0, 0, 5.0]], [[0, 0, 0]], ["Cu"])
    >>> len(near_degenerate_bases(c)) > 0
    True
    """
    from crystal_fourier._spglib import niggli_reduced
    from crystal_fourier.runtime import DEFAULT_SYMPREC

    symprec = DEFAULT_SYMPREC if symprec is None else symprec
    reduced, to_reduced = niggli_reduced(crystal.lattice)
    lengths = np.linalg.norm(reduced, axis=1)
    steps = np.array([n for n in itertools.product(range(-_NEAR_RANGE, _NEAR_RANGE + 1), repeat=3)
                      if any(n)], dtype=np.int64)
    norms = np.linalg.norm(steps @ reduced, axis=1)
    choices = []
    for i in range(3):
        for n, norm in zip(steps, norms, strict=True):
            unit = np.zeros(3, dtype=np.int64)
            unit[i] = 1
            gap = abs(norm - lengths[i])
            if gap > symprec or np.array_equal(n, unit) or np.array_equal(n, -unit):
                continue
            matrix = np.eye(3, dtype=np.int64)
            matrix[i] = n
            if abs(n).sum() == 1:   # n = +-r_j: two basis vectors tie, swap them (r_j -> r_i)
                matrix[int(np.flatnonzero(n)[0])] = unit
            if abs(round(np.linalg.det(matrix))) != 1:
                continue
            choices.append((gap, i, tuple(n.tolist()), matrix))
    choices.sort(key=lambda c: (c[0], c[1], c[2]))
    found = []
    for gap, i, n, matrix in choices[:limit]:
        basis = matrix @ np.rint(to_reduced).astype(np.int64)
        if round(np.linalg.det(basis)) < 0:
            basis = -basis
        found.append(in_basis(crystal, basis, kind="near_degenerate",
                              label=f"r{i} -> {list(n)} (lengths differ by {gap:.2g} A)"))
    return tuple(found)
