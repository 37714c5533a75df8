"""Crystal structures as they enter the runtime: a lattice, fractional positions, atomic numbers.

A :class:`Crystal` is the one structure type of the runtime. Every reader (CIF,
POSCAR, extxyz, pymatgen JSON) and every constructor (plain arrays, pymatgen
``Structure``, ASE ``Atoms``) returns one, validated once, here. Lattice rows
are the cell vectors in Angstrom (spglib's and ASE's convention); positions are
fractional coordinates of those vectors (CONVENTIONS.md, "Coordinates at run
time"). Nothing about the space group is stored: it is detected later
(:mod:`crystal_fourier.runtime.symmetry._standardization`). Element symbols and their parsing are in
:mod:`~crystal_fourier.runtime.structure_io._elements`.
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._elements import ELEMENTS, atomic_number

if TYPE_CHECKING:
    from ase import Atoms
    from numpy.typing import ArrayLike
    from pymatgen.core import Structure

__all__ = [
    "MAX_CELL_LENGTH",
    "MIN_CELL_VOLUME",
    "Crystal",
    "cell_parameters",
    "lattice_from_parameters",
]

MIN_CELL_VOLUME = 1e-3
"""Smallest accepted cell volume in Angstrom^3. A cell this small is singular for any
purpose here (one atom needs about 5 A^3); the bound only catches degenerate input."""

MAX_CELL_LENGTH = 1e5
"""Largest accepted lattice entry in Angstrom (10 micrometres): beyond it a value is a unit or scale-factor
mistake, and cell lengths, volumes and distances computed from it overflow (1e200 A gave "a=inf")."""

_FLAT_CELL = 1e-12
"""Bound on sin(gamma) and on (c_z / c)^2 at or below which cell parameters describe a flat cell."""


def cell_parameters(lattice: ArrayLike) -> np.ndarray:
    """Cell lengths and angles ``(a, b, c, alpha, beta, gamma)`` of a lattice (Angstrom, degrees).

    They are unchanged by any rotation (proper or improper) of the Cartesian frame.

    Parameters
    ----------
    lattice : array_like, shape=(3, 3), dtype=float64
        Cell vectors as rows.

    Returns
    -------
    numpy.ndarray, shape=(6,), dtype=float64

    Examples
    --------
    >>> cell_parameters([[2.0, 0, 0], [0, 3.0, 0], [0, 0, 4.0]]).tolist()
    [2.0, 3.0, 4.0, 90.0, 90.0, 90.0]
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    lengths = np.sqrt(np.add.reduce(lattice * lattice, axis=1))   # np.linalg.norm(lattice, axis=1), its arithmetic
    pairs = ((1, 2), (0, 2), (0, 1))
    cosines = np.array([np.dot(lattice[i], lattice[j]) / (lengths[i] * lengths[j]) for i, j in pairs])
    angles = np.degrees(np.arccos(np.minimum(np.maximum(cosines, -1.0), 1.0)))   # np.clip, without its wrapper
    return np.concatenate([lengths, angles])


def lattice_from_parameters(a: float, b: float, c: float, alpha: float, beta: float, gamma: float) -> np.ndarray:
    """Lattice rows in the canonical frame: a along x, b in the xy plane, c with positive z.

    Two cells with the same parameters get the same matrix, so this is the
    rotation-free form of a lattice: ``lattice_from_parameters(*cell_parameters(L))``
    equals ``L`` rotated into the canonical frame (for right-handed ``L``).

    Parameters
    ----------
    a, b, c : float
        Cell lengths in Angstrom, positive.
    alpha, beta, gamma : float
        Cell angles in degrees (alpha between b and c, beta between a and c, gamma between a and b).

    Returns
    -------
    numpy.ndarray, shape=(3, 3), dtype=float64

    Raises
    ------
    CrystalFourierError
        If the lengths are not positive or the angles cannot close a cell.

    Examples
    --------
    >>> np.round(lattice_from_parameters(3, 3, 5, 90, 90, 120), 6).tolist()
    [[3.0, 0.0, 0.0], [-1.5, 2.598076, 0.0], [0.0, 0.0, 5.0]]
    """
    values = np.array([a, b, c, alpha, beta, gamma], dtype=np.float64)
    floats = values.tolist()
    # the checks in Python floats (math.isfinite is np.isfinite), cheaper than numpy's calls on six numbers
    if not all(map(math.isfinite, floats)) or min(floats[:3]) <= 0:
        raise CrystalFourierError(f"cell lengths must be finite and positive, got {floats[:3]}")
    # numpy's cos and sin on the float64 values; the rest in Python floats (the same IEEE arithmetic as numpy's
    # float64 scalars, without their overhead)
    cos_alpha, cos_beta, cos_gamma = np.cos(np.radians(values[3:])).tolist()
    sin_gamma = float(np.sin(np.radians(values[5])))
    length_a, length_b, length_c = floats[:3]
    cx = cos_beta
    cy = (cos_alpha - cos_beta * cos_gamma) / sin_gamma if abs(sin_gamma) > _FLAT_CELL else math.nan
    cz2 = 1.0 - cx * cx - cy * cy
    if not math.isfinite(cz2) or cz2 <= _FLAT_CELL:
        raise CrystalFourierError(
            f"cell angles alpha={values[3]}, beta={values[4]}, gamma={values[5]} do not form a cell "
            "(the volume would be zero or imaginary)")
    return np.array([
        [length_a, 0.0, 0.0],
        [length_b * cos_gamma, length_b * sin_gamma, 0.0],
        [length_c * cx, length_c * cy, length_c * math.sqrt(cz2)],
    ])


def _check_lattice(lattice: np.ndarray, *, triangular: bool = False) -> None:
    """Shape (3, 3), finite entries of at most MAX_CELL_LENGTH, volume at least MIN_CELL_VOLUME; else one error.
    ``triangular``: the lattice is lower triangular (:func:`lattice_from_parameters`), its volume the product of
    its diagonal (no determinant)."""
    if lattice.shape != (3, 3):
        raise CrystalFourierError(f"lattice must have shape (3, 3) (cell vectors as rows), got {lattice.shape}")
    if not np.all(np.isfinite(lattice)):
        raise CrystalFourierError(f"lattice contains NaN or infinite values: {lattice.tolist()}")
    largest = float(np.abs(lattice).max())
    if largest > MAX_CELL_LENGTH:
        raise CrystalFourierError(f"lattice entry {largest:.6g} A is beyond MAX_CELL_LENGTH = {MAX_CELL_LENGTH:g} A: "
                                  "check the units and the scale factor")
    volume = abs(float(lattice.diagonal().prod() if triangular else np.linalg.det(lattice)))
    if volume < MIN_CELL_VOLUME:
        raise CrystalFourierError(
            f"lattice is singular (cell volume {volume:.3g} A^3 < {MIN_CELL_VOLUME} A^3): "
            "the three cell vectors must be linearly independent")


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def _handed_over(array: np.ndarray) -> np.ndarray:
    """``array`` itself, made read-only: for arrays made for one crystal alone (no copy needed)."""
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Crystal:
    """A periodic crystal: lattice rows (Angstrom), fractional positions and atomic numbers.

    Arrays are copied, converted and made read-only at construction. Positions
    are kept as given (not wrapped into [0, 1)); readers and standardization wrap
    where they need to.

    Parameters
    ----------
    lattice : array_like, shape=(3, 3), dtype=float64
        Cell vectors as rows, in Angstrom; any handedness, non-singular.
    positions : array_like, shape=(n_atoms, 3), dtype=float64
        Fractional coordinates of the atoms, finite.
    numbers : array_like, shape=(n_atoms,), dtype=int64
        Atomic numbers 1-118 (element symbols are accepted and converted).

    Raises
    ------
    CrystalFourierError
        Wrong shapes, mismatched lengths, no atoms, NaN/inf values, a singular
        lattice, or an unknown element.

    Examples
    --------
    >>> nacl = Crystal.from_arrays(5.64 * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], ["Na", "Cl"])
    >>> nacl.n_atoms, nacl.numbers.tolist(), nacl.formula
    (2, [11, 17], 'ClNa')
    >>> round(nacl.volume, 3)
    179.406
    """

    lattice: np.ndarray
    positions: np.ndarray
    numbers: np.ndarray

    def __post_init__(self) -> None:
        try:
            lattice = np.asarray(self.lattice, dtype=np.float64)
            positions = np.asarray(self.positions, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise CrystalFourierError(f"lattice and positions must be numeric arrays: {error}") from None
        _check_lattice(lattice)
        if positions.ndim == 1 and positions.size == 0:
            positions = positions.reshape(0, 3)
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise CrystalFourierError(f"positions must have shape (n_atoms, 3), got {positions.shape}")
        if len(positions) == 0:
            raise CrystalFourierError("the crystal has no atoms: give at least one position")
        bad = ~np.all(np.isfinite(positions), axis=1)
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise CrystalFourierError(
                f"position of atom {index} is not finite: {positions[index].tolist()} "
                f"({int(bad.sum())} atom(s) with NaN or infinite coordinates)")
        raw = np.asarray(self.numbers, dtype=object).reshape(-1) if not isinstance(self.numbers, np.ndarray) \
            else self.numbers.reshape(-1)
        if len(raw) != len(positions):
            raise CrystalFourierError(
                f"got {len(positions)} positions but {len(raw)} atomic numbers: one species per atom is needed")
        if isinstance(raw, np.ndarray) and raw.dtype.kind in "iu":
            numbers = raw.astype(np.int64)
            if numbers.min() < 1 or numbers.max() >= len(ELEMENTS):
                raise CrystalFourierError(
                    f"atomic numbers must lie in 1-{len(ELEMENTS) - 1}, got values {sorted(set(numbers.tolist()))}")
        else:
            numbers = np.array([atomic_number(_as_species(v)) for v in raw], dtype=np.int64)
        object.__setattr__(self, "lattice", _readonly(lattice))
        object.__setattr__(self, "positions", _readonly(positions))
        object.__setattr__(self, "numbers", _readonly(numbers))

    # ----------------------------------------------------------------- constructors
    @classmethod
    def _checked(cls, lattice: np.ndarray, positions: np.ndarray, numbers: np.ndarray, *,
                 owned: bool = False) -> "Crystal":
        """A Crystal from arrays that already pass every check of the constructor (a finite non-singular
        float64 lattice, finite float64 positions of shape (n, 3), int64 numbers 1-118, one per atom),
        e.g. another Crystal's arrays reordered: copied and made read-only, not checked again (~25 us
        a crystal, paid twice per ``standardize``). ``owned``: each array was made for this crystal alone
        (or is read-only already), so it is made read-only in place instead of copied."""
        keep = _handed_over if owned else _readonly
        crystal = object.__new__(cls)
        object.__setattr__(crystal, "lattice", keep(lattice))
        object.__setattr__(crystal, "positions", keep(positions))
        object.__setattr__(crystal, "numbers", keep(numbers))
        return crystal

    @classmethod
    def _standardized(cls, lattice: np.ndarray, positions: np.ndarray, numbers: np.ndarray) -> "Crystal":
        """A Crystal from a lower-triangular lattice (:func:`lattice_from_parameters`) with float64 positions and
        int64 numbers made from another Crystal's: the lattice's bounds and the positions' finiteness are checked
        (with the constructor's errors), the numbers are not checked again. The arrays must be made for this
        crystal alone: they are made read-only in place, not copied."""
        if not np.isfinite(positions).all():
            return cls(lattice, positions, numbers)   # raises the constructor's error
        _check_lattice(lattice, triangular=True)
        return cls._checked(lattice, positions, numbers, owned=True)

    @classmethod
    def from_arrays(cls, lattice: ArrayLike, positions: ArrayLike, numbers: ArrayLike, *,
                    cartesian: bool = False) -> "Crystal":
        """Build from plain arrays; ``cartesian=True`` takes positions in Angstrom.

        Parameters
        ----------
        lattice : array_like
            shape=(3, 3), rows = cell vectors in Angstrom.
        positions : array_like
            shape=(n, 3): fractional coordinates, or Cartesian (Angstrom) with ``cartesian``.
        numbers : array_like
            shape=(n,): atomic numbers or element symbols.
        cartesian : bool, default False
            Positions are Cartesian.

        Returns
        -------
        Crystal

        Examples
        --------
        >>> Crystal.from_arrays(2 * np.eye(3), [[1.0, 0, 0]], [29], cartesian=True).positions.tolist()
        [[0.5, 0.0, 0.0]]
        """
        lattice = np.asarray(lattice, dtype=np.float64)
        positions = np.asarray(positions, dtype=np.float64)
        if cartesian:
            cls(lattice, positions, numbers)  # validate shapes before solving
            positions = np.linalg.solve(lattice.T, positions.reshape(-1, 3).T).T
        return cls(lattice, positions, numbers)

    @classmethod
    def from_pymatgen(cls, structure: Structure) -> "Crystal":
        """Build from a pymatgen ``Structure`` (ordered: one element per site).

        Parameters
        ----------
        structure : pymatgen.core.Structure
            An ordered structure.

        Returns
        -------
        Crystal

        Raises
        ------
        CrystalFourierError
            If pymatgen is not installed, the object is not a ``Structure``, or a site is disordered.
        """
        try:
            from pymatgen.core import Structure
        except ImportError:  # pragma: no cover - depends on the environment
            raise CrystalFourierError(
                "Crystal.from_pymatgen needs pymatgen: pip install 'crystal-fourier[structures]'") from None
        if not isinstance(structure, Structure):
            raise CrystalFourierError(f"expected a pymatgen Structure, got {type(structure).__name__}")
        if not structure.is_ordered:
            raise CrystalFourierError("the pymatgen Structure is disordered (partial occupancies); "
                                      "only ordered structures are supported")
        numbers = [site.specie.Z for site in structure]
        return cls(structure.lattice.matrix, structure.frac_coords, numbers)

    @classmethod
    def from_ase(cls, atoms: Atoms) -> "Crystal":
        """Build from an ASE ``Atoms`` object with a full 3-d cell.

        Parameters
        ----------
        atoms : ase.Atoms
            Periodic in all three directions.

        Returns
        -------
        Crystal

        Raises
        ------
        CrystalFourierError
            If ASE is not installed, the object is not ``Atoms``, or the cell is not 3-d periodic.

        Examples
        --------
        >>> from ase.build import bulk
        >>> Crystal.from_ase(bulk("Cu", "fcc", a=3.6)).numbers.tolist()
        [29]
        """
        try:
            from ase import Atoms
        except ImportError:  # pragma: no cover - depends on the environment
            raise CrystalFourierError("Crystal.from_ase needs ASE: pip install 'crystal-fourier[structures]'") from None
        if not isinstance(atoms, Atoms):
            raise CrystalFourierError(f"expected an ase.Atoms, got {type(atoms).__name__}")
        if not all(atoms.pbc):
            raise CrystalFourierError(f"the Atoms object must be periodic in 3 directions, pbc={atoms.pbc.tolist()}")
        lattice = np.asarray(atoms.cell[:], dtype=np.float64)
        if abs(np.linalg.det(lattice)) < MIN_CELL_VOLUME:
            raise CrystalFourierError("the Atoms object has no full 3-d cell (singular or missing cell vectors)")
        positions = np.linalg.solve(lattice.T, atoms.positions.T).T
        return cls(lattice, positions, atoms.numbers)

    # ----------------------------------------------------------------- conversions
    def to_ase(self) -> Atoms:
        """An ASE ``Atoms`` with the same cell (rows), positions and numbers, periodic in 3-d."""
        try:
            from ase import Atoms
        except ImportError:  # pragma: no cover - depends on the environment
            raise CrystalFourierError("Crystal.to_ase needs ASE: pip install ase") from None
        return Atoms(numbers=self.numbers, scaled_positions=self.positions, cell=self.lattice, pbc=True)

    def to_pymatgen(self) -> Structure:
        """A pymatgen ``Structure`` with the same lattice, positions and species."""
        try:
            from pymatgen.core import Lattice, Structure
        except ImportError:  # pragma: no cover - depends on the environment
            raise CrystalFourierError("Crystal.to_pymatgen needs pymatgen: pip install pymatgen") from None
        return Structure(Lattice(self.lattice), self.numbers.tolist(), self.positions)

    # ----------------------------------------------------------------- derived values
    @property
    def n_atoms(self) -> int:
        """Number of atoms in the cell."""
        return int(len(self.numbers))

    @property
    def volume(self) -> float:
        """Cell volume in Angstrom^3 (positive)."""
        return float(abs(np.linalg.det(self.lattice)))

    @property
    def cartesian_positions(self) -> np.ndarray:
        """Positions in Angstrom, shape=(n_atoms, 3), dtype=float64."""
        return self.positions @ self.lattice

    @property
    def symbols(self) -> tuple[str, ...]:
        """Element symbol of each atom."""
        return tuple(ELEMENTS[z] for z in self.numbers)

    @property
    def formula(self) -> str:
        """Hill-ordered-by-symbol formula with counts, e.g. ``'Al2Cu'`` (alphabetical; '1' omitted)."""
        symbols, counts = np.unique(np.array(self.symbols), return_counts=True)
        return "".join(f"{s}{c if c > 1 else ''}" for s, c in zip(symbols.tolist(), counts.tolist(), strict=True))

    @property
    def spglib_cell(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(lattice, positions, numbers)`` in the form spglib takes."""
        return (np.array(self.lattice), np.array(self.positions), np.array(self.numbers))

    def wrapped(self) -> "Crystal":
        """The same crystal with positions reduced into [0, 1)."""
        positions = np.mod(self.positions, 1.0)
        positions[positions >= 1.0] = 0.0  # -1e-17 % 1 == 1.0 in floating point
        return Crystal(self.lattice, positions, self.numbers)

    def __repr__(self) -> str:
        a, b, c, alpha, beta, gamma = cell_parameters(self.lattice)
        return (f"Crystal({self.formula}, n_atoms={self.n_atoms}, a={a:.4g}, b={b:.4g}, c={c:.4g}, "
                f"alpha={alpha:.4g}, beta={beta:.4g}, gamma={gamma:.4g})")


def _as_species(value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
