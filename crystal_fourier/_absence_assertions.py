"""The absence helper of :mod:`crystal_fourier.testing`: every Fourier coefficient of an invariant
function vanishes on every systematically absent frequency (exactly for a derived basis, numerically
for any function)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._test_numerics import _resolve_group, _to_numpy, tolerance_for
from crystal_fourier.derive._operations import DEN

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike

    from crystal_fourier.derive._bases import Basis
    from crystal_fourier.derive._frequency_sets import FrequencySet
    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["assert_vanishes_on_absences"]



def _absent_frequencies(operations, hkl: np.ndarray):
    """Absent rows of ``hkl`` and a witness per row, straight from the operations.

    Independent of the orbit code: k is absent iff some (R, t) has R^T k = k and
    24 (k.t) not divisible by 24 (CONVENTIONS.md).
    """
    rotations = np.array([op.rotation for op in operations], dtype=np.int64).reshape(-1, 3, 3)
    translations = np.array([op.translation_24 for op in operations], dtype=np.int64).reshape(-1, 3)
    images = np.einsum("ni,gij->ngj", hkl, rotations)            # row k times R = (R^T k)^T
    fixed = np.all(images == hkl[:, None, :], axis=-1)
    violates = fixed & ((hkl @ translations.T) % DEN != 0)
    absent = violates.any(axis=1)
    return absent, violates.argmax(axis=1)


def _is_zero_sum_of_roots(counts: np.ndarray) -> bool:
    """Exact test: sum_p counts[p] zeta_48^p == 0 (reduce modulo Phi_48 = z^16 - z^8 + 1)."""
    poly = [int(c) for c in counts]
    for degree in range(47, 15, -1):
        lead = poly[degree]
        if lead:
            poly[degree] = 0
            poly[degree - 8] += lead       # z^16 = z^8 - 1
            poly[degree - 16] -= lead
    return not any(poly[:16])


def _exact_absence_violations(basis):
    """(function, frequency index, |c_k|) for every nonzero coefficient on an absent k."""
    from crystal_fourier.derive._real_bases import PHASE_DEN

    real = basis.real
    hkl = basis.frequencies.hkl
    absent, _ = _absent_frequencies(basis.group.operations, hkl)
    negative = basis.frequencies.index(-hkl)
    # cos(2 pi m.x + 2 pi p/48) = (zeta_48^p e(m.x) + zeta_48^-p e(-m.x)) / 2:
    # c_m gets zeta^p / 2 and c_{-m} gets zeta^-p / 2; accumulate exact phase counts.
    counts = {}
    for function, frequency, phase in zip(real.term_function.tolist(), real.term_frequency.tolist(),
                                          real.term_phase_48.tolist(), strict=True):
        for k, p in ((frequency, phase), (int(negative[frequency]), -phase)):
            if k < 0 or not absent[k]:
                continue
            counts.setdefault((function, k), np.zeros(PHASE_DEN, dtype=np.int64))[p % PHASE_DEN] += 1
    violations = []
    roots = np.exp(2j * np.pi * np.arange(PHASE_DEN) / PHASE_DEN)
    for (function, k), phase_counts in sorted(counts.items()):
        if not _is_zero_sum_of_roots(phase_counts):
            violations.append((function, k, float(abs(phase_counts @ roots)) / 2))
    return violations


def assert_vanishes_on_absences(target: Basis | Callable[[np.ndarray], ArrayLike],
                                group: SpaceGroup | int | str | None = None,
                                frequencies: ArrayLike | FrequencySet | None = None, *, grid: int | None = None,
                                tolerance: float | None = None) -> np.ndarray:
    """Assert that every Fourier coefficient on every systematically absent k is 0.

    Absences are found directly from the group's operations (some (R, t) with
    R^T k = k and k.t not an integer, CONVENTIONS.md), independently of the
    orbit code; the message names the witness operation.

    Two modes:

    * ``target`` is a derive :class:`~crystal_fourier.derive.Basis`: **exact**. The
      coefficients of each real function sum_j cos(2 pi m_j.x + 2 pi p_j/48) are
      c_{m_j} += zeta_48^{p_j}/2 and c_{-m_j} += zeta_48^{-p_j}/2; each one on an
      absent k is tested to be exactly 0 in Z[zeta_48] (no floating point).
      ``group`` and ``frequencies`` default to the basis' own.
    * ``target`` is a callable f (positions shape=(n, 3) float64 -> values
      shape=(n,) or (n, dim)): **numerical**. c_k = N^-3 sum_x f(x) e(-k.x) by a
      discrete Fourier transform on the regular grid x in {0, 1/N, ..., (N-1)/N}^3.
      This is exact up to rounding for a trigonometric polynomial whose
      frequencies lie in [-(N - S - 1), N - S - 1]^3, S the largest |index| of
      ``frequencies`` (no aliasing); the default N = 2 S + 1 covers f with
      frequencies in the same shell. Pass a larger ``grid`` for higher frequencies.

    Parameters
    ----------
    target : Basis or callable
    group : SpaceGroup, optional
        Required for a callable.
    frequencies : np.ndarray or FrequencySet, optional
        shape=(m, 3), int: the k to check. Required for a callable.
    grid : int, optional
        N of the numerical mode.
    tolerance : float, optional
        Numerical mode only; default ``FLOAT_TOLERANCE[float64]`` times
        max(1, max |f|) on the grid.

    Returns
    -------
    np.ndarray
        shape=(m,), dtype=float64: max over functions of |c_k| for each k of
        ``frequencies`` that is absent, in order (exact mode: the magnitude of
        the exact coefficient, so 0.0 when the assertion passes).

    Raises
    ------
    AssertionError
        Naming the absent hkl, its witness operation, the function index and |c_k|.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> b = basis(4, 2, "box")  # P2_1: (0 k 0) with k odd is absent
    >>> assert_vanishes_on_absences(b).shape
    (2,)
    >>> assert_vanishes_on_absences(lambda p: np.cos(2 * np.pi * p[:, 1]), b.group, b.frequencies)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    AssertionError: nonzero Fourier coefficient on an absent frequency ...
    """
    __tracebackhide__ = True
    from crystal_fourier.derive._bases import Basis

    if isinstance(target, Basis):
        if group is not None or frequencies is not None:
            raise TypeError("a Basis carries its own group and frequencies; do not pass them")
        group = target.group
        hkl = np.asarray(target.frequencies.hkl, dtype=np.int64)
        absent, witness = _absent_frequencies(group.operations, hkl)
        magnitude = np.zeros(len(hkl))
        violations = _exact_absence_violations(target)
        for _, k, size in violations:
            magnitude[k] = max(magnitude[k], size)
        if violations:
            function, k, size = max(violations, key=lambda v: v[2])
            raise AssertionError(
                f"nonzero Fourier coefficient on an absent frequency of {group.symbol} (sg {group.number}): "
                f"function {function} ({target.real.part[function]}) has |c_k| = {size:.3e} (exact, not 0) "
                f"at hkl {tuple(int(v) for v in hkl[k])}, absent by witness "
                f"{group.operations[int(witness[k])].xyz}; {len(violations)} coefficient(s) fail")
        return magnitude[absent]

    if group is None or frequencies is None:
        raise TypeError("a callable needs group= and frequencies= (shape=(m, 3) int)")
    group = _resolve_group(group)
    hkl = np.asarray(getattr(frequencies, "hkl", frequencies), dtype=np.int64).reshape(-1, 3)
    absent, witness = _absent_frequencies(group.operations, hkl)
    span = int(np.abs(hkl).max(initial=0))
    n = 2 * span + 1 if grid is None else int(grid)
    axis = np.arange(n) / n
    points = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    values = _to_numpy(target(points)).reshape(len(points), -1)
    absent_hkl = hkl[absent]
    # c_k = mean_x f(x) e(-k.x); the integer phase k.(n x) mod n is exact, so no argument rounding.
    integer_points = np.rint(points * n).astype(np.int64)
    phases = (integer_points @ absent_hkl.T) % n
    plane_waves = np.exp(-2j * np.pi * phases / n)
    coefficients = plane_waves.T @ values.astype(np.complex128) / len(points)
    magnitudes = np.abs(coefficients)
    per_frequency = magnitudes.max(axis=1, initial=0.0)
    scale = max(1.0, float(np.abs(values).max(initial=0.0)))
    limit = tolerance if tolerance is not None else tolerance_for(np.float64) * scale
    if len(per_frequency):
        worst = int(np.argmax(np.where(np.isnan(per_frequency), np.inf, per_frequency)))
        if not per_frequency[worst] <= limit:
            function = int(np.argmax(magnitudes[worst]))
            operation = group.operations[int(witness[absent][worst])]
            raise AssertionError(
                f"nonzero Fourier coefficient on an absent frequency of {group.symbol} (sg {group.number}): "
                f"function {function} has |c_k| = {per_frequency[worst]:.3e} > tolerance {limit:.1e} "
                f"at hkl {tuple(int(v) for v in absent_hkl[worst])}, absent by witness {operation.xyz} "
                f"(DFT on a {n}^3 grid)")
    return per_frequency
