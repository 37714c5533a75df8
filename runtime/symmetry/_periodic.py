"""Minimum-image distances in a periodic cell, exact for any cell shape.

The distance between fractional points x and y of a crystal with lattice L (rows a, b, c) is
min over n in Z^3 of |(y - x + n) L|. Rounding the difference into [-1/2, 1/2) gives that
minimum only for cells close to orthogonal; here the cell is first Niggli-reduced (spglib, an
exact unimodular change of basis), the rounded difference gives an upper bound u, and every
lattice offset that could beat u is tried: an image at distance <= u has
|f_k| <= u |column k of L_reduced^-1| (f its fractional coordinates), so the search is finite
and the result exact.

Used by the random-crystal generator (spacing of atoms), the pretraining orbit distance and
the neighbour lists. Rounding-only nearest images stay where an upper bound is all that is
claimed (runtime/structure_io/_cif.py, see there).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._spglib import niggli_reduced
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["minimum_image_norms", "periodic_distances"]

def minimum_image_norms(lattice, delta, *, over_images: bool = False) -> np.ndarray:
    """min over n in Z^3 of |(delta + n) L| for every fractional difference ``delta``, exactly.

    Parameters
    ----------
    lattice : array_like
        shape=(3, 3), or (P, 3, 3) for one lattice per row of ``delta``; rows in Angstrom.
    delta : array_like
        Fractional differences, shape=(..., 3), or (P, ..., 3) with P lattices.
    over_images : bool
        With P lattices and ``delta`` of shape (P, G, 3): return the minimum over G as well,
        shape=(P,) (the distance between a point's G images and another point). The search
        is then bounded by that smaller minimum, so it is cheaper than the minimum of the
        element-wise result, and equal to it.

    Returns
    -------
    numpy.ndarray
        dtype=float64, shape ``delta.shape[:-1]`` (or (P,) with ``over_images``).

    Examples
    --------
    >>> skewed = np.array([[1.0, 0, 0], [10.0, 1.0, 0], [0, 0, 1.0]])   # b = 10 a + b'
    >>> minimum_image_norms(skewed, [[0.0, 0.4, 0.0]]).round(12).tolist()
    [0.4]
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    batched = lattice.ndim == 3
    if not batched:
        lattice, delta = lattice[None], delta[None]
    if lattice.shape[1:] != (3, 3) or delta.shape[-1:] != (3,) or delta.shape[0] != lattice.shape[0]:
        raise CrystalFourierError(f"lattice (3, 3) or (P, 3, 3) and differences (P, ..., 3) needed, got "
                                  f"{lattice.shape[-3:] if batched else lattice.shape[1:]} and "
                                  f"{delta.shape if batched else delta.shape[1:]}")
    count = lattice.shape[0]
    shape = delta.shape[:-1]
    flat = delta.reshape(count, -1, 3)
    # Reduce each distinct lattice once: reduced = U L, and a fractional row f becomes f U^-1.
    unique, inverse = np.unique(lattice.reshape(count, 9), axis=0, return_inverse=True)
    pairs = [niggli_reduced(row.reshape(3, 3)) for row in unique]
    reduced = np.stack([p[0] for p in pairs])[inverse.reshape(-1)]
    to_reduced = np.stack([np.linalg.inv(p[1]) for p in pairs])[inverse.reshape(-1)]
    fractional = np.einsum("pki,pij->pkj", flat, to_reduced)
    fractional -= np.rint(fractional)
    cartesian = np.einsum("pki,pij->pkj", fractional, reduced)
    best = np.linalg.norm(cartesian, axis=-1)   # (P, K): upper bounds
    bound = best.min(axis=1, initial=np.inf) if over_images else best.max(axis=1, initial=0.0)
    # |f_k| <= |r| |column k of reduced^-1| for r = f reduced, and |rounded f_k| <= 1/2.
    columns = np.linalg.norm(np.linalg.inv(reduced), axis=1)   # (P, 3): norms of the columns
    finite = np.isfinite(bound)
    reach = np.floor(bound[finite, None] * columns[finite] + 0.5 + 1e-9).astype(np.int64)
    reach = reach.max(axis=0) if len(reach) else np.zeros(3, dtype=np.int64)
    for offset in itertools.product(*(range(-int(r), int(r) + 1) for r in reach)):
        if not any(offset):
            continue
        shift = np.einsum("i,pij->pj", np.asarray(offset, dtype=np.float64), reduced)
        best = np.minimum(best, np.linalg.norm(cartesian + shift[:, None, :], axis=-1))
    if over_images:
        return best.min(axis=1)
    result = best.reshape(shape)
    return result if batched else result[0]


def periodic_distances(lattice: ArrayLike, positions_a: ArrayLike, positions_b: ArrayLike) -> np.ndarray:
    """Shortest Cartesian distances between fractional points over all lattice images, exactly.

    Parameters
    ----------
    lattice : array_like, shape=(3, 3), dtype=float64
    positions_a : array_like, shape=(n, 3), dtype=float64
    positions_b : array_like, shape=(m, 3), dtype=float64

    Returns
    -------
    numpy.ndarray, shape=(n, m), dtype=float64

    Examples
    --------
    >>> periodic_distances(np.eye(3) * 2, [[0.05, 0, 0]], [[0.95, 0, 0]]).round(6).tolist()
    [[0.2]]
    """
    a = np.asarray(positions_a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(positions_b, dtype=np.float64).reshape(-1, 3)
    return minimum_image_norms(lattice, a[:, None, :] - b[None, :, :])
