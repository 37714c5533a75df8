"""Completeness by the character formula, computed independently of the orbits.

dim = (1/|G/Z^3|) sum_{(R,t)} sum_{k in U, R^T k = k} e(k.t)   (CONVENTIONS.md)

The sum of 24th roots of unity is evaluated exactly in Z[zeta_24]: counts of
each phase form an integer polynomial in zeta, reduced modulo the cyclotomic
polynomial Phi_24(z) = z^8 - z^4 + 1. No floating point is involved, and no
code is shared with the orbit computation (fixed points are found by direct
comparison, not through the dual graph's lookup table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive._operations import DEN
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["character_dimension", "cyclotomic_sum"]

# Phi_24(z) = z^8 - z^4 + 1, coefficients from z^0 upwards.
_PHI_24 = (1, 0, 0, 0, -1, 0, 0, 0, 1)


def cyclotomic_sum(counts: ArrayLike) -> tuple[int, ...]:
    """Reduce sum_p counts[p] zeta_24^p to its canonical form in Z[zeta_24].

    Returns the 8 integer coefficients of the remainder modulo Phi_24 (a basis
    of Z[zeta_24]); the sum is a rational integer n iff the result is
    (n, 0, ..., 0).

    Parameters
    ----------
    counts : array_like
        24 integers; ``counts[p]`` is the multiplicity of zeta_24^p.

    Returns
    -------
    tuple of int
        The 8 coefficients of the canonical remainder, from z^0 upwards.

    Raises
    ------
    CrystalFourierError
        If ``counts`` does not have exactly 24 entries.

    Examples
    --------
    >>> cyclotomic_sum([0] * 12 + [1] + [0] * 11)   # zeta^12 = -1
    (-1, 0, 0, 0, 0, 0, 0, 0)
    >>> cyclotomic_sum([1] * 24)                    # all roots sum to 0
    (0, 0, 0, 0, 0, 0, 0, 0)
    """
    poly = [int(c) for c in counts]
    if len(poly) != DEN:
        raise CrystalFourierError(f"expected {DEN} phase counts, got {len(poly)}")
    for degree in range(len(poly) - 1, 7, -1):
        lead = poly[degree]
        if lead:
            # z^d = z^(d-8) * z^8 and z^8 = z^4 - 1 modulo Phi_24.
            for offset, coefficient in enumerate(_PHI_24):
                poly[degree - 8 + offset] -= lead * coefficient
    return tuple(poly[:8])


def character_dimension(group: SpaceGroup, hkl: np.ndarray) -> int:
    """Dimension of the invariant space on frequencies ``hkl`` (shape=(n, 3), int).

    Valid when the set is closed under the point group (both shells are).

    Parameters
    ----------
    group : SpaceGroup
        The space group, centring operations included.
    hkl : numpy.ndarray
        shape=(n, 3), integer frequencies, closed under the point group.

    Returns
    -------
    int
        The complex dimension of the G-invariant functions spanned by e(k.x), k in ``hkl`` (exact,
        from the character sum in Z[zeta_24]).

    Raises
    ------
    CrystalFourierError
        If the exact sum is not a non-negative integer multiple of |G/Z^3|
        (which would mean the operations are not a group).

    Examples
    --------
    >>> from crystal_fourier.derive import space_group
    >>> from crystal_fourier.derive._frequency_sets import shell_frequencies
    >>> character_dimension(space_group(1), shell_frequencies("box", 2, False))
    125
    >>> character_dimension(space_group(227), shell_frequencies("ball", 5, False)) - 1
    7
    """
    rotations, translations_24 = group.arrays
    hkl = np.asarray(hkl, dtype=np.int64)
    counts = np.zeros(DEN, dtype=np.int64)
    for rotation, translation in zip(rotations, translations_24, strict=True):
        fixed = np.all(hkl @ rotation == hkl, axis=1)
        phases = (hkl[fixed] @ translation) % DEN
        counts += np.bincount(phases, minlength=DEN)
    reduced = cyclotomic_sum(counts)
    total, rest = reduced[0], reduced[1:]
    order = len(rotations)
    if any(rest) or total % order or total < 0:
        raise CrystalFourierError(
            f"{group}: character sum {reduced} is not a non-negative multiple of |G| = {order}")
    return total // order
