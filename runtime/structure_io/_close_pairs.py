"""Pairs of points closer than a distance in a periodic cell, by a grid of bins: O(n log n), not O(n^2).

The distance of two points is the one the CIF reader has always used: the fractional difference
reduced to [-1/2, 1/2] per axis (``gap - round(gap)``), then made Cartesian. The grid finds exactly
the pairs that an all-pairs comparison with that distance finds: a pair closer than ``distance``
differs by at most ``distance * |column i of inv(lattice)|`` in fractional coordinate i, so it lies
in the same or a neighbouring bin when the bins are at least that wide.
"""

from __future__ import annotations

from itertools import product

import numpy as np

__all__ = ["close_pairs"]

ALL_PAIRS_UP_TO = 96
"""Up to this many points every pair is compared (4,560 pairs at most), with the grid's distance; the grid
examines at most these pairs too, so the result is the same pairs and ``max_candidates`` (always
over the n^2 / 2 pairs of callers that allow thousands per point) is never reached."""
_MAX_BINS_PER_AXIS = 1024
"""Bins per axis at most (1024**3 keys fit int64); wider bins only mean more candidates per bin."""


def close_pairs(lattice, positions, distance: float, *, max_candidates: int | None = None) -> np.ndarray:
    """Index pairs ``(i, j)``, ``i < j``, of ``positions`` closer than ``distance``.

    Parameters
    ----------
    lattice : array_like, shape=(3, 3), dtype=float64
        Row vectors (Angstrom).
    positions : array_like, shape=(n, 3), dtype=float64
        Fractional coordinates (any real values; taken modulo 1).
    distance : float
        Angstrom; pairs strictly closer count.
    max_candidates : int, optional
        Most candidate pairs (points sharing a bin or neighbouring bins) to examine; more
        returns None instead of working quadratically on a crowd of coincident points.

    Returns
    -------
    numpy.ndarray, shape=(n_pairs, 2), dtype=int64, or None
        Sorted by ``j``, then ``i``; None when ``max_candidates`` is exceeded.

    Examples
    --------
    >>> close_pairs(np.eye(3) * 10, [[0.0, 0, 0], [0.999, 0, 0], [0.5, 0, 0]], 0.05).tolist()
    [[0, 1]]
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    points = np.mod(np.asarray(positions, dtype=np.float64).reshape(-1, 3), 1.0)
    n = len(points)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if n <= ALL_PAIRS_UP_TO:  # the grid's 27 bin shifts cost ~1 ms of numpy calls; these few pairs ~0.05 ms
        first, second = np.triu_indices(n, 1)
        return _sorted([_near(lattice, points, first, second, distance)])
    reach = distance * np.linalg.norm(np.linalg.inv(lattice), axis=0)  # fractional extent per axis
    bins = np.clip(np.floor(1.0 / np.maximum(reach, 1e-300)), 1, _MAX_BINS_PER_AXIS).astype(np.int64)
    cell = np.minimum((points * bins).astype(np.int64), bins - 1)
    keys = (cell[:, 0] * bins[1] + cell[:, 1]) * bins[2] + cell[:, 2]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    shifts = [sorted({s % int(b) for s in (-1, 0, 1)}) for b in bins]
    found = []
    examined = 0
    for shift in product(*shifts):
        neighbour = (cell + np.array(shift)) % bins
        neighbour_keys = (neighbour[:, 0] * bins[1] + neighbour[:, 1]) * bins[2] + neighbour[:, 2]
        low = np.searchsorted(sorted_keys, neighbour_keys, side="left")
        high = np.searchsorted(sorted_keys, neighbour_keys, side="right")
        counts = high - low
        total = int(counts.sum())
        examined += total
        if max_candidates is not None and examined > max_candidates:
            return None
        if total == 0:
            continue
        first = np.repeat(np.arange(n), counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        second = order[np.repeat(low, counts) + offsets]
        keep = first < second
        found.append(_near(lattice, points, first[keep], second[keep], distance))
    # The shifts are distinct modulo the bins, so each pair is found once.
    return _sorted(found)


def _near(lattice: np.ndarray, points: np.ndarray, first: np.ndarray, second: np.ndarray,
          distance: float) -> np.ndarray:
    """The candidate pairs (first, second) closer than ``distance``, shape=(m, 2): one distance for both paths."""
    gap = points[second] - points[first]
    gap -= np.round(gap)
    near = np.linalg.norm(gap @ lattice, axis=-1) < distance
    return np.column_stack([first[near], second[near]])


def _sorted(found: list) -> np.ndarray:
    pairs = np.concatenate(found) if found else np.zeros((0, 2), dtype=np.int64)
    return pairs[np.lexsort((pairs[:, 0], pairs[:, 1]))].astype(np.int64)
