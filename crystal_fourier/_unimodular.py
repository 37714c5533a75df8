"""Every 3x3 integer matrix with entries in {-1, 0, 1} and determinant +-1: lattice symmetries and short changes of
basis, exact.

It sits at the foundation of the package (numpy only) because three layers use it: derive (faithful cutoffs),
runtime (the Euclidean normalizer of a setting) and the audit (random unimodular bases).
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np

__all__ = ["unimodular_matrices"]


@lru_cache(maxsize=2)
def unimodular_matrices(*, proper: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Every 3x3 integer matrix with entries in {-1, 0, 1} and determinant +-1, and its inverse.

    The candidates for lattice symmetries and changes of basis between reduced cells. Both
    arrays are exact (the determinant and the adjugate in integer arithmetic), read-only,
    in the lexicographic order of the nine entries (row by row, -1 < 0 < 1), and satisfy
    ``matrices[i] @ inverses[i] == identity``.

    Parameters
    ----------
    proper : bool
        Keep only determinant +1.

    Returns
    -------
    matrices, inverses : numpy.ndarray
        shape=(n, 3, 3), dtype=int64; n = 6960, or 3480 when ``proper``.

    Examples
    --------
    >>> matrices, inverses = unimodular_matrices()
    >>> len(matrices), len(unimodular_matrices(proper=True)[0])
    (6960, 3480)
    >>> bool((matrices @ inverses == np.eye(3, dtype=np.int64)).all())
    True
    """
    m = np.array(list(product((-1, 0, 1), repeat=9)), dtype=np.int64).reshape(-1, 3, 3)
    # Adjugate rows: cofactors, transposed; det = row 0 of m dotted with column 0 of the adjugate.
    adjugate = np.stack([
        np.cross(m[:, 1], m[:, 2]), np.cross(m[:, 2], m[:, 0]), np.cross(m[:, 0], m[:, 1])], axis=2)
    determinants = np.einsum("nj,nj->n", m[:, 0], adjugate[:, :, 0])
    keep = determinants == 1 if proper else np.abs(determinants) == 1
    matrices = m[keep]
    inverses = adjugate[keep] * determinants[keep][:, None, None]
    matrices.setflags(write=False)
    inverses.setflags(write=False)
    return matrices, inverses
