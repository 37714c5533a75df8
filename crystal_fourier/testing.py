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
:func:`crystal_fourier.runtime.crystals_of` (a special and a general orbit).

``REPRESENTATIVE_GROUPS`` (group numbers) and ``REPRESENTATIVE_SETTINGS`` (Hall
numbers of non-standard settings) are the default-suite sets shared by the
project's tests, for users to parametrize their own tests over. Inputs may be numpy arrays or torch tensors; torch is
imported only when a torch tensor is passed in.

This module is the public face; the tolerances and conversions live in ``_test_numerics``, the
absence helper in ``_absence_assertions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._absence_assertions import assert_vanishes_on_absences
from crystal_fourier._test_numerics import (  # FLOAT_TOLERANCE: the default tolerances, read by the tests
    FLOAT_TOLERANCE,  # noqa: F401
    _like,
    _resolve_group,
    _to_numpy,
    operation_images,
    tolerance_for,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import torch
    from numpy.typing import ArrayLike

    from crystal_fourier.derive import Basis, SpaceGroup

__all__ = [
    "assert_invariant",
    "assert_vanishes_on_absences",
    "assert_generated_matches_symbolic",
    "REPRESENTATIVE_GROUPS",
    "REPRESENTATIVE_SETTINGS",
]

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
