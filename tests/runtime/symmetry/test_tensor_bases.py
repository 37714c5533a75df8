"""The run-time tensor bases (read from generated/tensor_bases.py) equal derive's exact ones."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from crystal_fourier.derive import TENSOR_KINDS, tensor_basis
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.testing import FLOAT_TOLERANCE
from crystal_fourier.runtime import cartesian_tensor_basis
from crystal_fourier.runtime.symmetry._tensor_bases import crystal_tensor_basis

# Every crystal system, every centring, both rhombohedral settings, monoclinic unique axes b and c,
# origin choices 1 and 2.
SAMPLE = [1, 2, 3, 4, 5, 18, 57, 108, 125, 227, 349, 355, 392, 400, 430, 433, 434, 458, 459, 484, 488,
          500, 523, 525, 526]


def _lattice(hall_number: int) -> np.ndarray:
    """A general (not metric-respecting) lattice: the identity of the two forms needs no symmetry."""
    return np.random.default_rng(hall_number).normal(size=(3, 3)) + 3 * np.eye(3)


def _compare(hall_number: int, kind: str) -> None:
    lattice = _lattice(hall_number)
    expected = tensor_basis(hall_number=hall_number, kind=kind)
    np.testing.assert_array_equal(crystal_tensor_basis(hall_number, kind), expected.array())
    np.testing.assert_allclose(cartesian_tensor_basis(hall_number, lattice, kind), expected.cartesian(lattice),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("hall_number", SAMPLE, ids=lambda h: f"hall{h}")
@pytest.mark.parametrize("kind", TENSOR_KINDS)
def test_tables_equal_the_derivation(hall_number, kind):
    _compare(hall_number, kind)


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_tables_equal_the_derivation_in_every_setting(hall_number):
    for kind in TENSOR_KINDS:
        _compare(hall_number, kind)


def test_comparison_can_fail():
    with pytest.raises(AssertionError):
        np.testing.assert_array_equal(crystal_tensor_basis(488, "elastic"), tensor_basis(hall_number=523,
                                                                                         kind="elastic").array())


def test_run_time_reads_tables_without_sympy_or_derivation():
    code = ("import sys, numpy as np; from crystal_fourier.runtime import cartesian_tensor_basis as f; "
            "f(488, np.eye(3), 'elastic'); "
            "print('sympy' in sys.modules, 'crystal_fourier.derive._tensor_tables' in sys.modules)")
    import subprocess

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_hexagonal_elastic_basis_in_cartesian_form_is_transversely_isotropic():
    a, c = 3.2, 5.2
    lattice = np.array([[a, 0, 0], [-a / 2, a * np.sqrt(3) / 2, 0], [0, 0, c]])
    basis = cartesian_tensor_basis(488, lattice, "elastic")
    assert basis.shape == (5, 3, 3, 3, 3)
    # every allowed tensor has C66 = (C11 - C12) / 2 in the frame with c along z, a along x
    np.testing.assert_allclose(basis[:, 0, 1, 0, 1], (basis[:, 0, 0, 0, 0] - basis[:, 0, 0, 1, 1]) / 2,
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(basis[:, 0, 0, 0, 0], basis[:, 1, 1, 1, 1], rtol=0, atol=1e-9)


def test_tables_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        crystal_tensor_basis(1, "elastic")[0, 0, 0, 0, 0] = 2.0


@pytest.mark.parametrize(("hall_number", "kind", "message"), [
    (0, "elastic", "1-530"), (531, "elastic", "1-530"), (True, "elastic", "1-530"),
    (1, "stiffness", "unknown tensor kind"),
])
def test_bad_input_is_one_error(hall_number, kind, message):
    with pytest.raises(CrystalFourierError, match=message):
        cartesian_tensor_basis(hall_number, np.eye(3), kind)


def test_bad_lattice_is_one_error():
    with pytest.raises(CrystalFourierError, match="3x3"):
        cartesian_tensor_basis(1, np.full((3, 3), np.nan), "elastic")


@pytest.mark.parametrize("number", [2, 14, 62, 139, 148, 166, 186, 194, 227])
def test_standardized_frame_carries_symmetric_tensors(number):
    """In the frame of runtime.standardize, the Cartesian basis is kept by the crystal's Cartesian rotations."""
    from crystal_fourier.derive import space_group
    from crystal_fourier.runtime import random_crystal, standardize

    standardized = standardize(random_crystal(number, seed=number, max_atoms=12).crystal)
    lattice = standardized.lattice
    basis = cartesian_tensor_basis(standardized.hall_number, lattice, "elastic")
    scale = np.abs(basis).max()
    for rotation in space_group(hall_number=standardized.hall_number).rotations:
        q = lattice.T @ np.array(rotation, dtype=float) @ np.linalg.inv(lattice.T)
        moved = basis
        for axis in range(1, 5):
            moved = np.moveaxis(np.tensordot(moved, q, axes=([axis], [1])), -1, axis)
        # spglib symmetrizes the standardized cell, so only round-off remains (measured <= 3e-16)
        np.testing.assert_allclose(moved / scale, basis / scale, rtol=0, atol=FLOAT_TOLERANCE[np.dtype(np.float64)])
