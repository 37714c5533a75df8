"""Every pair of atoms within a cutoff in a periodic crystal, all lattice images included, exactly.

The pairs (i, j, n) with 0 < d_ij^n = |(x_j + n - x_i) L| < cutoff (L the cell vectors as rows, j = i
included for the atom's own images), found in any cell: the cell is Niggli-reduced with the reduction of
:func:`crystal_fourier.runtime.learning._pretraining.orbit_distance`, and the lattice images searched are
bounded by the cell's reciprocal lengths, as there. The features of
:mod:`~crystal_fourier.runtime.network._neighbourhood` are functions of this list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["DEFAULT_CUTOFF", "NeighbourList", "neighbour_list"]

DEFAULT_CUTOFF = 6.0
"""Angstrom; about the second to third neighbour shell of typical inorganic crystals."""
_PAIR_BLOCK = 1 << 16
"""Candidate pairs (centre, atom, lattice image) :func:`neighbour_list` tests at once (bounds its memory)."""
_DEGENERATE_VOLUME = 1e-8
"""Angstrom^3; a lattice whose |det| is below this has no volume (no neighbour list)."""


@dataclass(frozen=True, eq=False)
class NeighbourList:
    """All pairs (i, j, n) with 0 < |(x_j + n - x_i) L| < cutoff, sorted by centre, then distance.

    Attributes (P pairs)
    --------------------
    centres : np.ndarray, shape=(P,), dtype=int64
        The atom i whose neighbourhood the pair belongs to.
    neighbours : np.ndarray, shape=(P,), dtype=int64
        The atom j (i itself for its own lattice images).
    distances : np.ndarray, shape=(P,), dtype=float64
        Angstrom.
    n_atoms : int
    cutoff : float
    """

    centres: np.ndarray
    neighbours: np.ndarray
    distances: np.ndarray
    n_atoms: int
    cutoff: float

    def __len__(self) -> int:
        return len(self.distances)

    def nearest(self) -> np.ndarray:
        """shape=(n_atoms,): each atom's nearest-neighbour distance (inf when none within the cutoff)."""
        out = np.full(self.n_atoms, np.inf)
        np.minimum.at(out, self.centres, self.distances)
        return out


def neighbour_list(lattice: ArrayLike, positions: ArrayLike, cutoff: float = DEFAULT_CUTOFF) -> NeighbourList:
    """Every neighbour of every atom within ``cutoff``, all lattice images included; exact in any cell.

    Parameters
    ----------
    lattice : array_like, shape=(3, 3), dtype=float64
        Rows a, b, c in Angstrom.
    positions : array_like, shape=(n, 3), dtype=float64
        Fractional coordinates (any integer offsets; they are reduced).
    cutoff : float
        Angstrom; pairs at distance < cutoff are listed, the atom itself (d = 0, n = 0) never.

    Returns
    -------
    NeighbourList
        Its ``nearest()`` equals the minimum-image distance of
        ``orbit_distance(space_group(1), lattice, x_i, x_j)`` over j != i and the shortest lattice
        vector, where that is below the cutoff.

    Examples
    --------
    >>> nl = neighbour_list(np.eye(3) * 2.0, [[0.0, 0.0, 0.0]], cutoff=2.5)   # simple cubic, a = 2
    >>> len(nl), nl.distances[:6].round(12).tolist()
    (6, [2.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    """
    from crystal_fourier._spglib import niggli_reduced as _niggli

    lattice = np.asarray(lattice, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    if lattice.shape != (3, 3) or not _finite_volume(lattice.tolist()):
        raise CrystalFourierError(f"lattice must be a finite non-degenerate 3x3 matrix, got {lattice.tolist()}")
    if not (math.isfinite(cutoff) and cutoff > 0):
        raise CrystalFourierError(f"cutoff must be a positive number of Angstrom, got {cutoff}")
    n = len(positions)
    reduced, unimodular = _niggli(lattice)   # reduced = U L; a fractional row f becomes f U^-1
    fractional = positions @ np.linalg.inv(unimodular)
    delta = fractional[None, :, :] - fractional[:, None, :]   # (i, j): x_j - x_i
    delta -= np.rint(delta)
    cartesian = delta @ reduced   # (n, n, 3)
    # |f_k| <= |r| |column k of reduced^-1| for r = f reduced, and |delta_k| <= 1/2.
    reach = np.floor(cutoff * np.linalg.norm(np.linalg.inv(reduced), axis=0) + 0.5 + 1e-9).astype(np.int64)
    offsets, float_offsets = _image_offsets(*reach.tolist())
    shifts = float_offsets @ reduced   # (K, 3)
    # image n can hold a pair only if |n L| < cutoff + max |delta L| (|delta_k| <= 1/2); kept ones keep their order
    reach_cartesian = cutoff + 0.5 * float(np.sum(np.linalg.norm(reduced, axis=1))) + 1e-9
    keep = np.linalg.norm(shifts, axis=1) < reach_cartesian
    offsets, shifts = offsets[keep], shifts[keep]
    zero = int(np.flatnonzero(~offsets.any(axis=1))[0])
    # First test |c + s|^2 = |c|^2 + 2 c.s + |s|^2 < cutoff^2 + a margin over its round-off (one matrix product);
    # kept pairs get d = sqrt(add.reduce(v * v)), v = c + s, as np.linalg.norm computes it, and the exact d < cutoff.
    loose = cutoff * cutoff + 1e-9 * (cutoff + reach_cartesian) ** 2
    shift_squared = np.sum(shifts * shifts, axis=1)
    centres, neighbours, distances = [], [], []
    rows = max(1, _PAIR_BLOCK // max(1, n * len(shifts)))   # centres per block: memory O(_PAIR_BLOCK), not n^2 K
    for start in range(0, n, rows):
        block = cartesian[start:start + rows].reshape(-1, 3)                      # (rows n, 3)
        estimate = (np.sum(block * block, axis=1)[:, None] + 2.0 * (block @ shifts.T)
                    + shift_squared[None, :])                                      # (rows n, K)
        pair, k = np.nonzero(estimate < loose)
        i, j = np.divmod(pair, n)
        gaps = cartesian[i + start, j] + shifts[k]
        d = np.sqrt(np.add.reduce(gaps * gaps, axis=-1))
        inside = (d < cutoff) & ~((i + start == j) & (k == zero))
        centres.append(i[inside] + start)
        neighbours.append(j[inside])
        distances.append(d[inside])
    centres, neighbours, distances = (np.concatenate(a) if a else np.zeros(0) for a in (centres, neighbours, distances))
    # The pairs come in the order (centre, neighbour, image) (np.nonzero is row-major over rows i n + j, blocks in
    # order), and lexsort is stable: sorting by (centre, distance) leaves equal distances in neighbour order, the
    # same permutation as lexsort((neighbours, distances, centres)) with one key pass less.
    order = np.lexsort((distances, centres))
    return NeighbourList(centres=centres[order].astype(np.int64), neighbours=neighbours[order].astype(np.int64),
                         distances=distances[order].astype(np.float64), n_atoms=n, cutoff=float(cutoff))


def _finite_volume(rows: list) -> bool:
    """Whether the 3x3 lattice ``rows`` (Python floats) is finite with |det| >= _DEGENERATE_VOLUME: a check, so
    Python floats (the cofactor expansion) rather than numpy's calls on a 3x3 array."""
    (a, b, c), (d, e, f), (g, h, i) = rows
    if not all(math.isfinite(x) for x in (a, b, c, d, e, f, g, h, i)):
        return False
    return abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)) >= _DEGENERATE_VOLUME


@lru_cache(maxsize=64)
def _image_offsets(reach_a: int, reach_b: int, reach_c: int) -> tuple[np.ndarray, np.ndarray]:
    """The lattice images n with |n_k| <= reach_k, in meshgrid ("ij") order: shape=(K, 3), as int64 and as float64
    (read-only). A function of three small integers that repeat from crystal to crystal, so built once each."""
    axes = (np.arange(-r, r + 1) for r in (reach_a, reach_b, reach_c))
    offsets = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    as_float = offsets.astype(np.float64)
    offsets.setflags(write=False)
    as_float.setflags(write=False)
    return offsets, as_float
