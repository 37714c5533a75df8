"""One rule for every reader: two atoms on one point are refused, with one message.

Two atoms are *on one point* when their periodic distance (the Cartesian length of the
fractional difference reduced to the nearest lattice image) is below :data:`COINCIDENT_DISTANCE`.
For distances this small the per-axis reduction of
:func:`~crystal_fourier.runtime.structure_io._close_pairs.close_pairs` finds the nearest image
exactly, in any cell. POSCAR, extended XYZ, pymatgen JSON and CIF readers all apply it; the CIF
reader first merges what is one atom written several times (a site's own symmetry images within
its ``MERGE_TOLERANCE``, and images of two sites of the same species within
:data:`COINCIDENT_DISTANCE`), so what it refuses is two different species on one point.
"""

from __future__ import annotations

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._close_pairs import close_pairs
from crystal_fourier.runtime.structure_io._elements import ELEMENTS
from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["COINCIDENT_DISTANCE", "check_no_coincident_atoms", "coincident_atoms_error", "periodic_gap"]

COINCIDENT_DISTANCE = 1e-3
"""Angstrom. Two atoms closer than this (periodic distance) are on one point. Far below any bond
(H-H, 0.74 A) and below the 0.0066 A of the nearly coincident F pairs of spglib's KSbF8 test
structure, which pymatgen, gemmi and ASE read as distinct atoms; far above the round-off of
coordinates printed with 8 or more digits."""

_CANDIDATES_PER_ATOM = 64
"""Most candidate pairs examined per atom; more means a crowd of atoms on a few points."""


def periodic_gap(lattice, first, second) -> float:
    """Periodic distance in Angstrom of two fractional positions (nearest image per axis; exact below 1/2 cell).

    >>> round(periodic_gap(10 * np.eye(3), [0.0, 0, 0], [0.9999, 0, 0]), 6)
    0.001
    """
    gap = np.asarray(second, dtype=np.float64) - np.asarray(first, dtype=np.float64)
    gap -= np.round(gap)
    return float(np.linalg.norm(gap @ np.asarray(lattice, dtype=np.float64)))


def coincident_atoms_error(where: str, first: str, second: str, distance: float) -> CrystalFourierError:
    """The one message of every reader for two atoms on one point.

    ``first`` and ``second`` describe the atoms as the format names them ("atom 1 (Na)", "site 'Cl1' (Cl)").

    >>> error = coincident_atoms_error("x.vasp", "atom 1 (Na)", "atom 2 (Cl)", 0.0)
    >>> str(error)[:66]
    'x.vasp: atom 1 (Na) and atom 2 (Cl) are on one point (0 A apart, p'
    """
    return CrystalFourierError(
        f"{where}: {first} and {second} are on one point ({distance:.2g} A apart, periodic distance; atoms closer "
        f"than {COINCIDENT_DISTANCE} A are refused): remove one, or fix the coordinates")


def check_no_coincident_atoms(crystal: Crystal, where: str) -> Crystal:
    """``crystal`` unchanged when no two of its atoms are closer than :data:`COINCIDENT_DISTANCE`; else one error.

    Linear in the atoms for real crystals (a grid of bins, n log n).

    Raises
    ------
    CrystalFourierError
        Naming the first pair (1-based atom numbers, in file order) and their distance.

    Examples
    --------
    >>> nacl = Crystal(5.64 * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], ["Na", "Cl"])
    >>> check_no_coincident_atoms(nacl, "nacl.vasp").n_atoms
    2
    """
    pairs = close_pairs(crystal.lattice, crystal.positions, COINCIDENT_DISTANCE,
                        max_candidates=_CANDIDATES_PER_ATOM * max(crystal.n_atoms, 1))
    if pairs is None:
        raise CrystalFourierError(f"{where}: many of the {crystal.n_atoms:,} atoms are on a few points (closer than "
                                  f"{COINCIDENT_DISTANCE} A, periodic distance); atoms are repeated or the cell is "
                                  "wrong")
    if len(pairs):
        i, j = (int(k) for k in pairs[0])
        raise coincident_atoms_error(
            where, f"atom {i + 1} ({ELEMENTS[crystal.numbers[i]]})", f"atom {j + 1} ({ELEMENTS[crystal.numbers[j]]})",
            periodic_gap(crystal.lattice, crystal.positions[i], crystal.positions[j]))
    return crystal
