"""Property helpers for invariant functions, shipped so that users can test their own code.

Modelled on e3nn's ``assert_equivariant``, and each has a test proving it can fail: each helper iterates
**every** operation of the finite group G / Z^3 (CONVENTIONS.md, "Groups and
settings"), compares with ``abs`` against a named per-dtype tolerance, hides its
own frames from tracebacks, names the worst offender in its message, and returns
the measured errors so that a test can assert more than pass/fail.

* :func:`assert_invariant` -- f(g x) = f(x) for every operation g = (R, t).
* :func:`assert_vanishes_on_absences` -- every Fourier coefficient of f is 0 on
  every systematically absent frequency.
* :func:`assert_generated_matches_symbolic` -- a generated module (numpy or
  torch) agrees with the exact derivation's numpy reference ``basis.real``.

Test crystals of exactly one group come from :func:`crystal_fourier.runtime.crystal_of` /
:func:`~crystal_fourier.runtime.crystals_of`, the one builder the tests and benchmarks share.

``REPRESENTATIVE_GROUPS`` (group numbers) and ``REPRESENTATIVE_SETTINGS`` (Hall
numbers of non-standard settings) are the default-suite sets shared by the
project's tests. Inputs may be numpy arrays or torch tensors; torch is
imported only when a torch tensor is passed in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive import DEN, Operation

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import torch
    from numpy.typing import ArrayLike, DTypeLike

    from crystal_fourier.derive import Basis, FrequencySet, SpaceGroup

# The helpers a user's tests call. The tolerances, representative groups and operation images behind them are
# this module's own (the project's tests use them too) and stay outside the public list.
__all__ = [
    "assert_invariant",
    "assert_vanishes_on_absences",
    "assert_generated_matches_symbolic",
]

FLOAT_TOLERANCE = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
"""Absolute tolerance per floating dtype, for values of magnitude about 1.

Rationale: a basis function is a sum of cosines cos(2 pi (m.x) + phase) with
|m.x| up to about 3 R (R the cutoff). Rounding the argument costs about
eps * 2 pi * 3 R, i.e. 2e-14 in float64 and 1e-5 in float32 at R = 5 (float32's
eps = 1.2e-7 is already spent once by rounding the positions themselves), and
one image g x adds one more rounding of x. The worst float64 invariance error
measured over all 230 groups at R = 5 (32 random points in [-1, 1]^3) is
4.4e-14 before scaling, so 1e-12 leaves a margin of over 20 (the sweep in
``tests/test_testing.py`` keeps it at least 10) while any wrong phase gives an
error of order 1. Sums of many plane waves have values, and rounding errors, that
grow with the number of terms, so when no ``tolerance`` is given the helpers
scale this constant by max(1, max |reference value|); an explicit ``tolerance``
is used as given (absolute, unscaled). Complex dtypes use their real dtype.
"""

REPRESENTATIVE_GROUPS = (
    1, 2, 4, 5, 14, 15, 20, 22, 38, 43, 62, 70, 76, 91, 122, 141,
    144, 146, 148, 166, 169, 176, 194, 198, 210, 225, 227, 230,
)
"""Group numbers of the default test suite (the 230-group sweeps carry ``@pytest.mark.sweep``).

Every crystal system (1-2 triclinic, 4-15 monoclinic, 20-70 orthorhombic,
76-141 tetragonal, 144-166 trigonal, 169-194 hexagonal, 198-230 cubic); every
centring in the standard settings: P, A (38 Amm2), C (5, 15, 20), F (22, 43,
70, 210, 225, 227), I (122, 141, 230) and R on hexagonal axes (146, 148, 166);
the screws and glides whose phases are not 0 or 1/2, where a sign error in the
phase convention shows: 4_1 (76, 91, 141), 3_1 (144), 6_1 (169), 4_1 in F
(210), d-glides (43, 70, 122, 227) and 230 (Ia-3d).

Caveat: in a centrosymmetric group with the origin on an inversion centre (70,
141, 227 and 230 in their standard origin choice 2) every invariant function
has real Fourier coefficients, so a conjugated phase convention gives the very
same basis; there the sign is tested only through the non-centrosymmetric
groups and through Fd-3m in origin choice 1 (``REPRESENTATIVE_SETTINGS``).
"""

REPRESENTATIVE_SETTINGS = (434, 459, 525)
"""Hall numbers of non-standard settings in the default suite: R3 and R-3m on
rhombohedral axes (434, 459) and Fd-3m in origin choice 1 (525), whose origin
is not on an inversion centre."""


# --------------------------------------------------------------------------- conversions

def _is_torch(value) -> bool:
    return type(value).__module__.split(".")[0] == "torch"


def _to_numpy(value) -> np.ndarray:
    """A numpy view/copy of a numpy array or torch tensor (detached, on CPU)."""
    if _is_torch(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _like(array: np.ndarray, template):
    """``array`` (float64) converted to the kind, dtype and device of ``template``."""
    if _is_torch(template):
        import torch

        return torch.as_tensor(array, dtype=template.dtype, device=template.device)
    return np.asarray(array, dtype=np.asarray(template).dtype)


def tolerance_for(dtype: DTypeLike | torch.dtype) -> float:
    """The :data:`FLOAT_TOLERANCE` entry for a numpy or torch dtype.

    Parameters
    ----------
    dtype : numpy.typing.DTypeLike or torch.dtype
        A floating or complex type (complex: that of its real part).

    Returns
    -------
    float

    Raises
    ------
    TypeError
        For a type without an entry.

    Examples
    --------
    >>> tolerance_for(np.float64), tolerance_for(np.complex64)
    (1e-12, 1e-05)
    """
    if _is_torch(dtype):
        dtype = str(dtype).replace("torch.", "")
    numpy_dtype = np.dtype(dtype)
    if numpy_dtype.kind == "c":
        numpy_dtype = np.dtype(f"f{numpy_dtype.itemsize // 2}")
    if numpy_dtype not in FLOAT_TOLERANCE:
        raise TypeError(f"no tolerance for dtype {dtype}: expected one of "
                        f"{', '.join(str(d) for d in FLOAT_TOLERANCE)}, or pass tolerance=")
    return FLOAT_TOLERANCE[numpy_dtype]


def _resolve_group(group):
    from crystal_fourier.derive import SpaceGroup, space_group

    # A SpaceGroup is used as given (its own operations), so hand-built groups work too.
    return group if isinstance(group, SpaceGroup) else space_group(group)


def operation_images(operations: Sequence[Operation], positions: np.ndarray) -> np.ndarray:
    """Images R x + t of ``positions`` under every operation, in float64.

    Parameters
    ----------
    operations : sequence of Operation
    positions : np.ndarray
        shape=(n, 3), fractional coordinates.

    Returns
    -------
    np.ndarray
        shape=(n_operations, n, 3), dtype=float64, not wrapped into the cell.
        R is an integer matrix, so R x costs at most two roundings per
        coordinate, and t = t24 / 24 is correctly rounded: as exact as float64 allows.

    Examples
    --------
    >>> operation_images([Operation.parse("-y,x,z+1/4")], np.array([[0.1, 0.2, 0.3]]))
    array([[[-0.2 ,  0.1 ,  0.55]]])
    """
    x = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    rotations = np.array([op.rotation for op in operations], dtype=np.float64).reshape(-1, 3, 3)
    translations = np.array([op.translation_24 for op in operations], dtype=np.float64).reshape(-1, 3) / DEN
    return np.einsum("gij,nj->gni", rotations, x) + translations[:, None, :]


# --------------------------------------------------------------------------- invariance

def assert_invariant(fn: Callable[[np.ndarray], ArrayLike] | Callable[[torch.Tensor], torch.Tensor],
                     group: SpaceGroup | int | str, positions: np.ndarray | torch.Tensor, *,
                     tolerance: float | None = None) -> np.ndarray:
    """Assert f(g x) = f(x) for every operation g of ``group``; return the errors.

    Parameters
    ----------
    fn : callable
        Maps fractional positions shape=(n, 3) to values shape=(n, ...): numpy in,
        numpy out, or torch in, torch out (positions are passed as the kind, dtype
        and device of ``positions``). Called twice: once on ``positions`` and once
        on all images stacked, shape=(n_operations * n, 3).
    group : SpaceGroup or anything :func:`~crystal_fourier.derive.space_group` accepts
        A SpaceGroup is used as given, so its ``operations`` may be hand-built.
    positions : np.ndarray or torch.Tensor
        shape=(n, 3), fractional coordinates (float).
    tolerance : float, optional
        Absolute tolerance. Default: ``FLOAT_TOLERANCE`` of fn's output dtype,
        times max(1, max |fn(x)|).

    Returns
    -------
    np.ndarray
        shape=(n_operations,), dtype=float64: max |fn(g x) - fn(x)| per operation,
        in the group's operation order. The identity's entry is the evaluation's
        own reproducibility (fn may round differently on a larger batch), about 1e-15.

    Raises
    ------
    AssertionError
        Naming the worst operation as an xyz triplet, its error and the tolerance.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> b = basis(4, 2, "box")  # P2_1
    >>> x = np.random.default_rng(0).random((5, 3))
    >>> assert_invariant(b.real, b.group, x).shape
    (2,)
    >>> assert_invariant(lambda p: np.cos(2 * np.pi * p[:, 1]), b.group, x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    AssertionError: not invariant under P2_1 (sg 4, Hall 6): worst operation -x,y+1/2,-z ...
    """
    __tracebackhide__ = True
    group = _resolve_group(group)
    operations = group.operations
    x = _to_numpy(positions).astype(np.float64).reshape(-1, 3)
    n = len(x)
    images = operation_images(operations, x).reshape(-1, 3)
    reference = fn(positions)
    moved = fn(_like(images, positions))
    reference_np = _to_numpy(reference)
    moved_np = _to_numpy(moved)
    if moved_np.shape[:1] != (len(images),) or moved_np.shape[1:] != reference_np.shape[1:]:
        raise AssertionError(
            f"fn returned shape {moved_np.shape} for {len(images)} positions but {reference_np.shape} "
            f"for {n}: it must map shape=(n, 3) to shape=(n, ...)")
    moved_np = moved_np.reshape(len(operations), n, -1)
    reference_np = reference_np.reshape(1, n, -1)
    difference = np.abs(moved_np.astype(np.complex128 if np.iscomplexobj(moved_np) else np.float64)
                        - reference_np)
    # NaN counts as the largest error, so a NaN can never pass.
    errors = np.where(np.isnan(difference), np.inf, difference).max(axis=(1, 2), initial=0.0)
    scale = max(1.0, float(np.abs(reference_np).max(initial=0.0)))
    limit = tolerance if tolerance is not None else tolerance_for(moved_np.dtype) * scale
    worst = int(np.argmax(errors)) if len(errors) else 0
    if len(errors) and not errors[worst] <= limit:
        failing = int((~(errors <= limit)).sum())
        raise AssertionError(
            f"not invariant under {group.symbol} (sg {group.number}, Hall {group.hall_number}): "
            f"worst operation {operations[worst].xyz} (index {worst} of {len(operations)}) gives "
            f"max |fn(g x) - fn(x)| = {errors[worst]:.3e} > tolerance {limit:.1e} "
            f"({moved_np.dtype}); {failing} operation(s) fail")
    return errors


# --------------------------------------------------------------------------- absences

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
    phase_den = 48   # real.term_phase_48: phases in 48ths

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
            counts.setdefault((function, k), np.zeros(phase_den, dtype=np.int64))[p % phase_den] += 1
    violations = []
    roots = np.exp(2j * np.pi * np.arange(phase_den) / phase_den)
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
    from crystal_fourier.derive import Basis

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


# --------------------------------------------------------------------------- generated vs symbolic

def assert_generated_matches_symbolic(
        module_fn: Callable[[np.ndarray], ArrayLike] | Callable[[torch.Tensor], torch.Tensor], basis: Basis,
        positions: np.ndarray | torch.Tensor, tolerance: float | None = None, *,
        columns: ArrayLike | None = None) -> np.ndarray:
    """Assert that a generated module's output equals ``basis.real(positions)``.

    Parameters
    ----------
    module_fn : callable
        Maps positions shape=(n, 3) (numpy or torch, as given) to values
        shape=(n, dim') in the order of ``basis.real``'s functions.
    basis : Basis
        The exact derivation; ``basis.real`` (float64 numpy) is the reference.
    positions : np.ndarray or torch.Tensor
        shape=(n, 3), fractional coordinates.
    tolerance : float, optional
        Absolute tolerance; default ``FLOAT_TOLERANCE`` of the module's output
        dtype times max(1, max |reference|).
    columns : array-like of int, optional
        Reference columns the module produces (for example all but the constant
        function k = 0); default all.

    Returns
    -------
    np.ndarray
        shape=(dim',), dtype=float64: max |module - reference| per function.

    Raises
    ------
    AssertionError
        On a shape mismatch, or naming the worst function (index, part, orbit
        representative hkl), the position and the error.

    >>> from crystal_fourier.derive import basis
    >>> b = basis(227)  # Fd-3m at R = 5: 7 orbits without k = 0, 8 functions with it
    >>> x = np.random.default_rng(0).random((4, 3))
    >>> assert_generated_matches_symbolic(b.real, b, x).shape
    (8,)
    """
    __tracebackhide__ = True
    x = _to_numpy(positions).astype(np.float64).reshape(-1, 3)
    reference = basis.real(x)
    selected = np.arange(reference.shape[1]) if columns is None else np.asarray(columns, dtype=np.int64)
    reference = reference[:, selected]
    output = _to_numpy(module_fn(positions))
    if output.shape != reference.shape:
        raise AssertionError(
            f"module output has shape {output.shape}, the symbolic basis {reference.shape} "
            f"(n positions, dim functions) for {basis.group.symbol} (sg {basis.group.number})")
    difference = np.abs(output.astype(np.float64) - reference)
    difference = np.where(np.isnan(difference), np.inf, difference)
    errors = difference.max(axis=0, initial=0.0)
    scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
    limit = tolerance if tolerance is not None else tolerance_for(output.dtype) * scale
    if len(errors):
        worst = int(np.argmax(errors))
        if not errors[worst] <= limit:
            function = int(selected[worst])
            orbit = int(basis.real.orbit[function])
            representative = basis.frequencies.hkl[basis.decomposition.representative[orbit]]
            row = int(np.argmax(difference[:, worst]))
            raise AssertionError(
                f"generated module differs from the symbolic basis of {basis.group.symbol} "
                f"(sg {basis.group.number}): function {function} ({basis.real.part[function]}, orbit of "
                f"{tuple(int(v) for v in representative)}) at position {tuple(float(v) for v in x[row])}: "
                f"|module - symbolic| = {errors[worst]:.3e} > tolerance {limit:.1e} ({output.dtype}); "
                f"{int((~(errors <= limit)).sum())} function(s) fail")
    return errors
