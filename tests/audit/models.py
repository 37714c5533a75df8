"""Models for the audit tests: a correct pair potential and four broken ones that an audit must catch.

Importable as ``tests.audit.models:NAME`` is not needed: the CLI test loads them by file path.
"""

from __future__ import annotations

import itertools

import numpy as np

CUTOFF = 4.0   # Angstrom
STRENGTH = 0.1


def _pair_energy(distances: np.ndarray) -> float:
    """Sum of a smooth pair term (1 - r/rc)^3 over distances in (0, rc), halved (each pair counted twice)."""
    inside = distances[(distances > 1e-9) & (distances < CUTOFF)]
    return 0.5 * STRENGTH * float(np.sum((1.0 - inside / CUTOFF) ** 3))


def _images(lattice: np.ndarray, reach) -> np.ndarray:
    return np.array(list(itertools.product(*(range(-r, r + 1) for r in reach))), dtype=np.float64) @ lattice


def _heights_reach(lattice: np.ndarray) -> list[int]:
    """Images needed in each direction so that every neighbour within CUTOFF is seen (any cell shape)."""
    volume = abs(np.linalg.det(lattice))
    heights = [volume / np.linalg.norm(np.cross(lattice[(i + 1) % 3], lattice[(i + 2) % 3])) for i in range(3)]
    return [int(np.ceil(CUTOFF / h)) + 1 for h in heights]


def pair_potential(crystal, *, reach=None) -> dict:
    """Total energy of the pair potential; ``reach`` fixes the image range (None: enough for any cell)."""
    lattice = crystal.lattice
    shifts = _images(lattice, _heights_reach(lattice) if reach is None else reach)
    r = crystal.wrapped().cartesian_positions   # atoms in the cell, so that the images above suffice
    gap = r[None, :, None, :] - r[:, None, None, :] + shifts[None, None, :, :]
    return {"energy": _pair_energy(np.linalg.norm(gap, axis=-1).ravel())}


def short_neighbour_list(crystal) -> dict:
    """BROKEN: images n in {-1, 0, 1}^3 only, which misses neighbours in skewed cells."""
    return pair_potential(crystal, reach=(1, 1, 1))


def signed_volume(crystal) -> dict:
    """BROKEN: adds a term in the signed cell volume (flips with a left-handed basis)."""
    return {"energy": pair_potential(crystal)["energy"] + 1e-3 * float(np.linalg.det(crystal.lattice))}


def raw_fractional(crystal) -> dict:
    """BROKEN: a term in the raw fractional coordinates (not periodic, not basis-independent)."""
    return {"energy": pair_potential(crystal)["energy"] + 0.01 * float(np.sum(np.cos(crystal.positions)))}


def not_extensive(crystal) -> dict:
    """BROKEN for an extensive claim: energy per atom returned as the total."""
    return {"energy": pair_potential(crystal)["energy"] / crystal.n_atoms}


def lossy_float32(crystal) -> dict:
    """The pair potential on a cell and positions rounded to float16: a stand-in for a float32 network's
    round-off, made large enough (~1e-3) to exceed the float32 tolerance."""
    wrapped = crystal.wrapped()
    rounded = type(crystal)(wrapped.lattice.astype(np.float16), wrapped.positions.astype(np.float16), crystal.numbers)
    return pair_potential(rounded)
