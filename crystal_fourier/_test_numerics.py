"""The numerics shared by the property helpers of :mod:`crystal_fourier.testing`: tolerances per dtype,
numpy/torch conversion, images of points under every operation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive._operations import DEN, Operation

if TYPE_CHECKING:
    from collections.abc import Sequence

    import torch
    from numpy.typing import DTypeLike

__all__ = ["FLOAT_TOLERANCE", "tolerance_for", "operation_images"]

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
    from crystal_fourier.derive._space_groups import SpaceGroup, space_group

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
