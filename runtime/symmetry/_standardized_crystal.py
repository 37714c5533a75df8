"""The result of :func:`~crystal_fourier.runtime.symmetry._standardization.standardize` and the vocabulary of
its handedness rule: :class:`StandardizedCrystal`, :data:`HANDEDNESS`, :data:`ENANTIOMORPHIC_PARTNERS`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crystal_fourier.derive._space_groups import SpaceGroup, space_group
from crystal_fourier.runtime.structure_io._structures import Crystal, cell_parameters

__all__ = ["ENANTIOMORPHIC_PARTNERS", "HANDEDNESS", "StandardizedCrystal"]

HANDEDNESS = ("canonical", "keep")
"""The choices of ``standardize(..., handedness=)``: one standardized description for a crystal
and its mirror image (the default), or the input's own hand (for targets that change sign or
value under a mirror: optical activity, circular dichroism)."""

ENANTIOMORPHIC_PARTNERS = {78: 76, 95: 91, 96: 92, 145: 144, 153: 151, 154: 152, 170: 169, 172: 171,
                           179: 178, 181: 180, 213: 212}
"""The 11 enantiomorphic pairs of space-group types: the mirror image of a crystal of the key is a
crystal of the value (P4_3 -> P4_1, P4_3 2_1 2 -> P4_1 2_1 2, P4_3 32 -> P4_1 32, ...).
``handedness="canonical"`` maps the higher number to the lower."""

@dataclass(frozen=True, eq=False)
class StandardizedCrystal:
    """A crystal in the conventional cell of a setting of its group, canonically placed.

    Attributes
    ----------
    crystal : Crystal
        Conventional cell: lattice rows in the canonical frame of
        :func:`~crystal_fourier.runtime.structure_io._structures.lattice_from_parameters` (a along x,
        b in the xy plane), so it carries no trace of the input's orientation;
        positions in [0, 1) in the setting ``hall_number``, exactly invariant under
        its operations; atoms sorted by atomic number, then z, y, x.
    number : int
        Space-group number 1-230 detected by spglib.
    hall_number : int
        The setting (1-530); by default the ITA standard one of CONVENTIONS.md.
    symprec : float
        The tolerance used, in Angstrom: the requested one, or the first of
        :data:`~crystal_fourier.runtime.SYMPREC_RETRY_SEQUENCE` below it at which spglib found the symmetry.
    transformation : numpy.ndarray, shape=(3, 3), dtype=float64
    origin_shift : numpy.ndarray, shape=(3,), dtype=float64
        x_std = transformation @ x_in + origin_shift (mod the lattice, before
        symmetrization), for a position x_in of the input crystal. det(transformation)
        is negative exactly when the lattices' handedness says the map is improper.
    reflected : bool
        True when the standardized crystal is the mirror image of the input: the Cartesian map
        from the input's frame to the standardized frame is improper (det -1), so polar vectors
        (forces) map back with a reflection, and pseudoscalars (optical rotation) change sign.
        Only ``handedness="canonical"`` reflects, and only chiral crystals (Sohncke groups) or
        the higher-numbered member of an enantiomorphic pair.

    Examples
    --------
    >>> from crystal_fourier.runtime import standardize
    >>> primitive = 2.82 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])   # rock salt, primitive cell
    >>> s = standardize(Crystal.from_arrays(primitive, [[0, 0, 0], [0.5, 0.5, 0.5]], ["Na", "Cl"]))
    >>> s.number, s.hall_number, s.n_atoms, s.cell_parameters.round(3).tolist()
    (225, 523, 8, [5.64, 5.64, 5.64, 90.0, 90.0, 90.0])
    """

    crystal: Crystal
    number: int
    hall_number: int
    symprec: float
    transformation: np.ndarray
    origin_shift: np.ndarray
    reflected: bool = False

    @property
    def lattice(self) -> np.ndarray:
        """Rotation-free conventional lattice, shape=(3, 3), dtype=float64, rows in Angstrom."""
        return self.crystal.lattice

    @property
    def positions(self) -> np.ndarray:
        """Fractional positions in the conventional cell, shape=(n_atoms, 3), dtype=float64, in [0, 1)."""
        return self.crystal.positions

    @property
    def numbers(self) -> np.ndarray:
        """Atomic numbers, shape=(n_atoms,), dtype=int64."""
        return self.crystal.numbers

    @property
    def n_atoms(self) -> int:
        """Atoms in the conventional cell."""
        return self.crystal.n_atoms

    @property
    def group(self) -> SpaceGroup:
        """The space group in the setting ``hall_number``."""
        return space_group(hall_number=self.hall_number)

    @property
    def cell_parameters(self) -> np.ndarray:
        """``(a, b, c, alpha, beta, gamma)`` in Angstrom and degrees, shape=(6,), dtype=float64."""
        return cell_parameters(self.crystal.lattice)

    @property
    def metric(self) -> np.ndarray:
        """Metric tensor G = L L^T of the conventional cell, shape=(3, 3), dtype=float64, Angstrom^2."""
        return self.crystal.lattice @ self.crystal.lattice.T

    def __repr__(self) -> str:
        return (f"StandardizedCrystal({self.crystal.formula}, number={self.number}, "
                f"hall_number={self.hall_number}, n_atoms={self.n_atoms})")
