"""Exact re-descriptions of one crystal, each with its atom map and frame change.

A re-description of a crystal C is another :class:`~crystal_fourier.runtime.Crystal` C' of
the same periodic atom set, seen in a possibly rotated or reflected Cartesian frame. It is
recorded exactly, so that any model output can be carried from C to C' and compared:

* the **atom map**: new atom i is old atom ``atom_map[i]`` moved by the integer lattice
  vector ``translations[i]`` (fractional, old basis) and then by the frame change;
* the **frame change** r' = Q r + o (Cartesian, Angstrom): ``rotation`` Q is orthogonal,
  det +1 (a rotation) or -1 (a reflection: C' is the mirror image of C), ``origin`` o a shift;
* the **basis change**: new cell rows L' = B L Q^T with B = ``basis`` an exact rational
  matrix (integer for a supercell or a unimodular basis, fractions for a primitive cell);
  ``cells`` = |det B| = n_atoms(C') / n_atoms(C), exactly.

Then an extensive scalar (energy) is multiplied by ``cells``, a per-atom scalar is
re-indexed, a per-atom vector (force) becomes Q f[atom_map[i]], and a rank-k cell tensor
(stress, rank 2) gets Q on every index (:meth:`Redescription.expected`).

Every constructor checks its own result: the positions of C' are recomputed from those of C
through the map and the frame change, and a disagreement over :data:`EXACT_TOLERANCE`
raises. Kinds that need the crystal's symmetry (group operations, normalizer cosets,
primitive <-> conventional) work on ``standardize(crystal).crystal``, which is exactly
symmetric, and record it as the ``original``; they live in
:mod:`~crystal_fourier.audit._symmetry_redescriptions`, which builds on this module. Changes of
the cell basis (another basis, a supercell, the Niggli cell, random unimodular bases) are in
:mod:`~crystal_fourier.audit._basis_changes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal

__all__ = [
    "EXACT_TOLERANCE",
    "Redescription",
    "permuted",
    "translated_atoms",
    "origin_shifted",
    "rotated",
    "reflected",
    "random_rotation",
]

EXACT_TOLERANCE = 1e-6
"""Angstrom: the most an atom of a re-description may be from the image of its mapped atom.
Exact re-descriptions agree to float round-off (~1e-14 A for cells of 10 A); a real mismatch
(a wrong map, a crystal that is not centred where a primitive cell is asked for) is of the
order of an interatomic distance."""

_RATIONAL_DENOMINATORS = (1, 2, 3, 4, 6, 8, 12, 24, 48)
"""Denominators tried when an exactly rational basis matrix is read from floats (checked, not guessed)."""
_RATIONAL_TOLERANCE = 1e-9
"""How far q * entry may be from an integer (float round-off of a 3x3 inverse of small rationals)."""


def _fractions(matrix) -> tuple[tuple[Fraction, ...], ...]:
    """An exact rational 3x3 matrix from ints, Fractions, or floats that are multiples of 1/48."""
    rows = []
    for row in np.asarray(matrix, dtype=object).reshape(3, 3):
        values = []
        for value in row:
            if isinstance(value, (int, np.integer, Fraction)):
                values.append(Fraction(int(value)) if not isinstance(value, Fraction) else value)
                continue
            for q in _RATIONAL_DENOMINATORS:
                if abs(float(value) * q - round(float(value) * q)) < _RATIONAL_TOLERANCE:
                    values.append(Fraction(round(float(value) * q), q))
                    break
            else:
                raise CrystalFourierError(f"basis entry {value!r} is not a multiple of 1/48: give the basis "
                                          "change as integers or fractions")
        rows.append(tuple(values))
    return tuple(rows)


def _determinant(m: tuple[tuple[Fraction, ...], ...]) -> Fraction:
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


@dataclass(frozen=True, eq=False)
class Redescription:
    """One exact re-description of ``original`` as ``crystal`` (see the module docstring).

    Attributes
    ----------
    kind : str
        The family: ``permutation``, ``translation``, ``origin``, ``rotation``, ``reflection``,
        ``supercell``, ``niggli``, ``unimodular``, ``primitive``, ``group``, ``normalizer``,
        ``near_degenerate``.
    label : str
        This member of the family, e.g. ``'supercell 2x1x3'`` or ``'-x,y,z+1/2'``.
    original : Crystal
        The description the map starts from.
    crystal : Crystal
        The new description.
    atom_map : numpy.ndarray, shape=(n_new,), dtype=int64
        New atom i is old atom ``atom_map[i]``.
    translations : numpy.ndarray, shape=(n_new, 3), dtype=int64
        Lattice vector (fractional, old basis) added to that old atom before the frame change.
    rotation : numpy.ndarray, shape=(3, 3), dtype=float64
        Q, orthogonal: r' = Q r + origin for Cartesian column vectors.
    origin : numpy.ndarray, shape=(3,), dtype=float64
        o in Angstrom.
    basis : tuple of tuple of Fraction
        B, exact: new cell rows L' = B L Q^T.
    residual : float
        Largest distance (Angstrom) between a new atom and the image of its mapped atom,
        measured at construction (<= :data:`EXACT_TOLERANCE`).
    """

    kind: str
    label: str
    original: Crystal
    crystal: Crystal
    atom_map: np.ndarray
    translations: np.ndarray
    rotation: np.ndarray
    origin: np.ndarray
    basis: tuple
    residual: float

    @property
    def cells(self) -> Fraction:
        """|det B| = n_atoms(new) / n_atoms(original), exactly: the factor of an extensive quantity."""
        return abs(_determinant(self.basis))

    @property
    def proper(self) -> bool:
        """False when the frame change is a reflection (the new crystal is the mirror image)."""
        return bool(np.linalg.det(self.rotation) > 0)

    @property
    def left_handed(self) -> bool:
        """True when the new cell rows have a negative determinant."""
        return bool(np.linalg.det(self.crystal.lattice) < 0)

    def expected(self, quantity: str, value: ArrayLike, *, extensive: bool = True) -> np.ndarray:
        """What a correct model returns for ``crystal``, given its output ``value`` for ``original``.

        Parameters
        ----------
        quantity : str
            ``'scalar'`` (energy: times :attr:`cells` when ``extensive``), ``'atoms'`` (per-atom
            values of any shape (n, ...): re-indexed, not rotated), ``'vectors'`` (per-atom vectors
            (n, 3), e.g. forces: Q f[atom_map[i]]) or ``'tensor'`` (a cell tensor of any rank,
            e.g. stress (3, 3): Q on every index; intensive, not scaled); ``'pseudovectors'`` and
            ``'pseudotensor'`` as those times det Q (axial outputs flip sign under reflections).
        value : array_like
        extensive : bool
            For ``'scalar'``: scale by :attr:`cells` (total energy) or not (energy per atom).

        Examples
        --------
        >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0], [.5, .5, .5]], ["Cu", "Au"])
        >>> from crystal_fourier.audit import supercell
        >>> r = supercell(c, (2, 1, 1))
        >>> float(r.expected("scalar", -1.5)), r.expected("atoms", [10, 20]).tolist()
        (-3.0, [10.0, 20.0, 10.0, 20.0])
        """
        value = np.asarray(value, dtype=np.float64)
        if quantity.startswith("pseudo"):   # as e3nn's parity -1: the true tensor times det Q
            return self.expected(quantity[6:], value) * float(np.sign(np.linalg.det(self.rotation)))
        if quantity == "scalar":
            return value * float(self.cells) if extensive else value.copy()
        if quantity == "atoms":
            return value[self.atom_map]
        if quantity == "vectors":
            return value[self.atom_map] @ self.rotation.T
        if quantity == "tensor":
            for axis in range(value.ndim):
                value = np.moveaxis(np.tensordot(self.rotation, value, axes=([1], [axis])), 0, axis)
            return value
        raise CrystalFourierError("quantity must be one of scalar, atoms, vectors, tensor, pseudovectors, "
                                  f"pseudotensor; got {quantity!r}")

    @classmethod
    def from_map(cls, original: Crystal, crystal: Crystal, atom_map: ArrayLike, *, rotation: ArrayLike | None = None,
                 basis: ArrayLike | None = None, origin: ArrayLike | None = None, kind: str = "custom",
                 label: str = "") -> "Redescription":
        """A Redescription from a known map, checked like every constructor's (raises if not exact).

        The lattice translations are solved for; ``origin`` None takes it from atom 0.

        Parameters
        ----------
        original : Crystal
            The description the map starts from.
        crystal : Crystal
            The new description.
        atom_map : array_like
            shape=(n_new,), ints: new atom i is old atom ``atom_map[i]``.
        rotation : array_like, optional
            Q, shape=(3, 3), orthogonal; the identity by default.
        basis : array_like, optional
            B, exact: new cell rows L' = B L Q^T; the identity by default.
        origin : array_like, optional
            o in Angstrom.
        kind : str, default "custom"
            The family name.
        label : str, default ""
            The member's label.

        Returns
        -------
        Redescription

        Examples
        --------
        >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0], [.5, .5, .5]], ["Cu", "Au"])
        >>> moved = Crystal(c.lattice, c.positions + [[1, 0, 0], [0, 0, 0]], c.numbers)
        >>> Redescription.from_map(c, moved, [0, 1], origin=[0, 0, 0]).translations.tolist()
        [[1, 0, 0], [0, 0, 0]]
        """
        return _finish(kind, label, original, crystal, atom_map, rotation, basis=basis, origin=origin)

    def __repr__(self) -> str:
        return (f"Redescription({self.kind!r}, {self.label!r}, {self.original.n_atoms} -> {self.crystal.n_atoms} "
                f"atoms, det Q = {round(float(np.linalg.det(self.rotation))):+d}, residual {self.residual:.1e} A)")


def _finish(kind: str, label: str, original: Crystal, crystal: Crystal, atom_map, rotation=None,
            basis=None, origin=None) -> Redescription:
    """Solve the integer translations of the map, measure the residual, and check it."""
    q = np.eye(3) if rotation is None else np.asarray(rotation, dtype=np.float64)
    atom_map = np.asarray(atom_map, dtype=np.int64)
    if len(atom_map) != crystal.n_atoms or np.any(crystal.numbers != original.numbers[atom_map]):
        raise CrystalFourierError(f"{kind} ({label}): the atom map does not match the species")
    new_cartesian = crystal.cartesian_positions
    old_cartesian = original.cartesian_positions[atom_map]
    if origin is None:   # defined up to a lattice vector, which the translations absorb
        origin = new_cartesian[0] - old_cartesian[0] @ q.T
    origin = np.asarray(origin, dtype=np.float64)
    back = (new_cartesian - origin) @ q   # Q^T (r' - o), as rows
    offsets = np.linalg.solve(original.lattice.T, (back - old_cartesian).T).T
    translations = np.rint(offsets).astype(np.int64)
    residual = float(np.max(np.linalg.norm(back - old_cartesian - translations @ original.lattice, axis=1)))
    basis = _fractions(np.eye(3, dtype=np.int64) if basis is None else basis)
    b = np.array([[float(x) for x in row] for row in basis])
    lattice_gap = float(np.max(np.abs(b @ original.lattice @ q.T - crystal.lattice)))
    if not residual <= EXACT_TOLERANCE or not lattice_gap <= EXACT_TOLERANCE:
        raise CrystalFourierError(
            f"{kind} ({label}) is not an exact re-description: atoms off by {residual:.3g} A, cell by "
            f"{lattice_gap:.3g} A (tolerance {EXACT_TOLERANCE} A); an exactly symmetric crystal is needed "
            "for this kind (use standardize(crystal).crystal)")
    for array in (atom_map, translations, q, origin):
        array.setflags(write=False)
    return Redescription(kind=kind, label=label, original=original, crystal=crystal, atom_map=atom_map,
                         translations=translations, rotation=q, origin=origin, basis=basis, residual=residual)


def permuted(crystal: Crystal, order: ArrayLike) -> Redescription:
    """The atoms listed in another ``order`` (new atom i is old atom ``order[i]``).

    Parameters
    ----------
    crystal : Crystal
        The crystal.
    order : array_like
        A permutation of 0..n_atoms-1.

    Returns
    -------
    Redescription

    Raises
    ------
    CrystalFourierError
        If ``order`` is not a permutation of the atoms.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0], [.5, .5, .5]], ["Cu", "Au"])
    >>> permuted(c, [1, 0]).crystal.symbols
    ('Au', 'Cu')
    """
    order = np.asarray(order, dtype=np.int64)
    if sorted(order.tolist()) != list(range(crystal.n_atoms)):
        raise CrystalFourierError(f"order must be a permutation of 0..{crystal.n_atoms - 1}, got {order.tolist()}")
    new = Crystal(crystal.lattice, crystal.positions[order], crystal.numbers[order])
    return _finish("permutation", f"order {order.tolist()}", crystal, new, order, origin=np.zeros(3))


def translated_atoms(crystal: Crystal, shifts: ArrayLike) -> Redescription:
    """Each atom moved by its own integer lattice vector ``shifts[i]`` (fractional, shape=(n_atoms, 3)).

    Parameters
    ----------
    crystal : Crystal
        The crystal.
    shifts : array_like
        shape=(n_atoms, 3), integers.

    Returns
    -------
    Redescription

    Raises
    ------
    CrystalFourierError
        If ``shifts`` has another shape or non-integer entries.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0], [.5, .5, .5]], ["Cu", "Au"])
    >>> translated_atoms(c, [[0, 0, 0], [1, -2, 0]]).translations.tolist()
    [[0, 0, 0], [1, -2, 0]]
    """
    shifts = np.asarray(shifts)
    if shifts.shape != (crystal.n_atoms, 3) or not np.array_equal(shifts, np.rint(shifts)):
        raise CrystalFourierError(f"shifts must be integer vectors, shape ({crystal.n_atoms}, 3)")
    new = Crystal(crystal.lattice, crystal.positions + shifts, crystal.numbers)
    return _finish("translation", f"max |n| = {int(np.abs(shifts).max())}", crystal, new,
                   np.arange(crystal.n_atoms), origin=np.zeros(3))


def origin_shifted(crystal: Crystal, shift: ArrayLike) -> Redescription:
    """Every atom moved by the same fractional ``shift`` (shape=(3,)): another origin.

    Parameters
    ----------
    crystal : Crystal
        The crystal.
    shift : array_like
        shape=(3,), fractional coordinates.

    Returns
    -------
    Redescription
        Its ``origin`` is the Cartesian shift (Angstrom).

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0]], ["Cu"])
    >>> origin_shifted(c, [.25, 0, 0]).origin.tolist()
    [0.75, 0.0, 0.0]
    """
    shift = np.asarray(shift, dtype=np.float64).reshape(3)
    new = Crystal(crystal.lattice, crystal.positions + shift, crystal.numbers)
    return _finish("origin", f"shift {np.round(shift, 4).tolist()}", crystal, new, np.arange(crystal.n_atoms),
                   origin=shift @ crystal.lattice)


def random_rotation(rng: np.random.Generator, *, proper: bool = True) -> np.ndarray:
    """A uniformly random orthogonal 3x3 matrix, det +1 (``proper``) or -1.

    Parameters
    ----------
    rng : numpy.random.Generator
        The random source.
    proper : bool, default True
        det +1 when True, -1 when False.

    Returns
    -------
    numpy.ndarray
        shape=(3, 3), float64.

    Examples
    --------
    >>> q = random_rotation(np.random.default_rng(0), proper=False)
    >>> round(float(np.linalg.det(q))), bool(np.allclose(q @ q.T, np.eye(3)))
    (-1, True)
    """
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if (np.linalg.det(q) > 0) != proper:
        q[:, 0] = -q[:, 0]
    return q


def _check_orthogonal(rotation) -> np.ndarray:
    q = np.asarray(rotation, dtype=np.float64)
    if q.shape != (3, 3) or not np.max(np.abs(q @ q.T - np.eye(3))) <= EXACT_TOLERANCE:
        raise CrystalFourierError("rotation must be an orthogonal 3x3 matrix (Q Q^T = I)")
    return q


def rotated(crystal: Crystal, rotation: ArrayLike) -> Redescription:
    """The crystal in a rotated Cartesian frame r' = Q r (Q proper orthogonal); same fractional coordinates.

    Parameters
    ----------
    crystal : Crystal
        The crystal.
    rotation : array_like
        shape=(3, 3), a proper orthogonal matrix Q.

    Returns
    -------
    Redescription

    Raises
    ------
    CrystalFourierError
        If ``rotation`` is not orthogonal with det +1.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0]], ["Cu"])
    >>> rotated(c, random_rotation(np.random.default_rng(1))).proper
    True
    """
    q = _check_orthogonal(rotation)
    if np.linalg.det(q) < 0:
        raise CrystalFourierError("rotated() takes a proper rotation (det +1); use reflected() for det -1")
    new = Crystal(crystal.lattice @ q.T, crystal.positions, crystal.numbers)
    return _finish("rotation", "random", crystal, new, np.arange(crystal.n_atoms), q, origin=np.zeros(3))


def reflected(crystal: Crystal, rotation: ArrayLike, *, right_handed: bool = True) -> Redescription:
    """The mirror image r' = Q r (Q improper orthogonal, det -1).

    The cell rows L Q^T are left-handed when L is right-handed; with ``right_handed`` the
    basis is then flipped (B = -I: rows -L Q^T, coordinates -x), so the mirror image is
    described in a right-handed cell and this kind tests reflection alone, not handedness
    of the basis (that is :func:`random_unimodular_basis` with det -1).

    Parameters
    ----------
    crystal : Crystal
        The crystal.
    rotation : array_like
        shape=(3, 3), an improper orthogonal matrix Q.
    right_handed : bool, default True
        Describe the mirror image in a right-handed cell.

    Returns
    -------
    Redescription

    Raises
    ------
    CrystalFourierError
        If ``rotation`` is not orthogonal with det -1.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3, [[0.1, 0.2, 0.3]], ["Cu"])
    >>> r = reflected(c, np.diag([-1.0, 1, 1]))
    >>> r.proper, r.left_handed
    (False, False)
    """
    q = _check_orthogonal(rotation)
    if np.linalg.det(q) > 0:
        raise CrystalFourierError("reflected() takes an improper orthogonal matrix (det -1)")
    sign = -1 if right_handed and np.linalg.det(crystal.lattice) > 0 else 1
    new = Crystal(sign * crystal.lattice @ q.T, sign * crystal.positions, crystal.numbers)
    return _finish("reflection", "right-handed cell" if sign < 0 else "cell as reflected", crystal, new,
                   np.arange(crystal.n_atoms), q, basis=sign * np.eye(3, dtype=np.int64), origin=np.zeros(3))
