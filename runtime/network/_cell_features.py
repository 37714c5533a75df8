"""Frame-independent cell features, the only way a lattice enters the model, and their inverse.

:func:`lattice_features` maps a cell to six numbers that depend on its metric G = L L^T only (log
lengths over :data:`LENGTH_SCALE`, cosines of the angles); :func:`lattice_from_features` rebuilds a
lattice with that metric (its Cholesky factor). Imported by the batches
(:mod:`~crystal_fourier.runtime.network._batching`) and the neighbourhoods
(:mod:`~crystal_fourier.runtime.network._neighbourhood`), it imports neither, so they form no cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["N_LATTICE_FEATURES", "LENGTH_SCALE", "VOLUME_SCALE", "MAX_ATOMIC_NUMBER", "lattice_features",
           "lattice_from_features"]

N_LATTICE_FEATURES = 6
"""Length of :func:`lattice_features`."""
LENGTH_SCALE = 5.0
"""Angstrom; cell lengths enter as log(a / LENGTH_SCALE), so typical cells give O(1) features."""
VOLUME_SCALE = 15.0
"""Angstrom^3 per atom; the density enters as log(V / n / VOLUME_SCALE)."""
MAX_ATOMIC_NUMBER = 118
_DEGENERATE_VOLUME = 1e-8
"""Angstrom^3; a lattice whose |det| is below this has no volume and gives no features."""


def lattice_features(lattice: ArrayLike) -> np.ndarray:
    """Frame-independent cell features: log(a, b, c / LENGTH_SCALE) and cos(alpha, beta, gamma).

    They are functions of the metric tensor G = L L^T only, so a rotation of the
    Cartesian frame (L -> L Q^T) leaves them unchanged exactly (up to rounding).

    Parameters
    ----------
    lattice : array_like
        shape=(3, 3), rows are the cell vectors a, b, c in Angstrom.

    Returns
    -------
    np.ndarray
        shape=(6,), dtype=float64.

    Examples
    --------
    >>> lattice_features(np.diag([5.0, 5.0, 5.0])).round(6).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    if lattice.shape != (3, 3) or not np.all(np.isfinite(lattice)):
        raise CrystalFourierError(f"lattice must be a finite 3x3 matrix (rows a, b, c), got shape {lattice.shape}")
    metric = lattice @ lattice.T
    lengths = np.sqrt(np.diag(metric))
    if np.any(lengths <= 0) or abs(np.linalg.det(lattice)) < _DEGENERATE_VOLUME:
        raise CrystalFourierError("lattice is degenerate (zero volume)")
    a, b, c = lengths
    cosines = np.array([metric[1, 2] / (b * c), metric[0, 2] / (a * c), metric[0, 1] / (a * b)])
    return np.concatenate([np.log(lengths / LENGTH_SCALE), cosines])


def lattice_from_features(features: ArrayLike) -> np.ndarray:
    """A lattice (rows, Angstrom) with the metric of
    :func:`lattice_features`.

    The features (log lengths / LENGTH_SCALE, cosines of the angles) fix the metric
    G = L L^T; this returns its Cholesky factor, a rotated copy of the original cell, so
    every distance computed from it is the original's (up to rounding).

    Parameters
    ----------
    features : array_like
        Six numbers: log(a / LENGTH_SCALE), log(b / LENGTH_SCALE), log(c / LENGTH_SCALE), cos alpha,
        cos beta, cos gamma.

    Returns
    -------
    numpy.ndarray
        shape=(3, 3), float64: lower-triangular, rows = cell vectors in Angstrom.

    Examples
    --------
    >>> cell = np.array([[3.0, 0, 0], [1.0, 4.0, 0], [0.5, 0.2, 5.0]])
    >>> bool(np.allclose(lattice_from_features(lattice_features(cell))
    ...                  @ lattice_from_features(lattice_features(cell)).T, cell @ cell.T, rtol=0, atol=1e-12))
    True
    """
    features = np.asarray(features, dtype=np.float64).reshape(6)
    lengths = LENGTH_SCALE * np.exp(features[:3])
    cos_alpha, cos_beta, cos_gamma = features[3:]
    cosines = np.array([[1.0, cos_gamma, cos_beta], [cos_gamma, 1.0, cos_alpha], [cos_beta, cos_alpha, 1.0]])
    return np.linalg.cholesky(lengths[:, None] * cosines * lengths[None, :])
