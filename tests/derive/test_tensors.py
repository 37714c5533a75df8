"""Tensor bases (Neumann's principle): textbook counts per point group, exact invariance, Cartesian forms."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

import spglib
from crystal_fourier.derive import TENSOR_KINDS, TensorBasis, space_group, tensor_basis
from crystal_fourier.derive._space_groups import all_space_groups
from crystal_fourier.derive._tensors import tensor_components
from crystal_fourier.errors import CrystalFourierError

# point group (spglib's symbol) -> (first space group with it, textbook counts of
# symmetric2, piezoelectric, elastic, axial2): Nye, "Physical Properties of Crystals", tables 8, 9, 12;
# optical activity (axial2) in the 15 non-centrosymmetric classes other than 3m, 4mm, 6mm, -6, -6m2, -43m.
POINT_GROUPS = {
    "1": (1, (6, 18, 21, 6)), "-1": (2, (6, 0, 21, 0)),
    "2": (3, (4, 8, 13, 4)), "m": (6, (4, 10, 13, 2)), "2/m": (10, (4, 0, 13, 0)),
    "222": (16, (3, 3, 9, 3)), "mm2": (25, (3, 5, 9, 1)), "mmm": (47, (3, 0, 9, 0)),
    "4": (75, (2, 4, 7, 2)), "-4": (81, (2, 4, 7, 2)), "4/m": (83, (2, 0, 7, 0)),
    "422": (89, (2, 1, 6, 2)), "4mm": (99, (2, 3, 6, 0)), "-42m": (111, (2, 2, 6, 1)),
    "4/mmm": (123, (2, 0, 6, 0)),
    "3": (143, (2, 6, 7, 2)), "-3": (147, (2, 0, 7, 0)), "32": (149, (2, 2, 6, 2)),
    "3m": (156, (2, 4, 6, 0)), "-3m": (162, (2, 0, 6, 0)),
    "6": (168, (2, 4, 5, 2)), "-6": (174, (2, 2, 5, 0)), "6/m": (175, (2, 0, 5, 0)),
    "622": (177, (2, 1, 5, 2)), "6mm": (183, (2, 3, 5, 0)), "-6m2": (187, (2, 1, 5, 0)),
    "6/mmm": (191, (2, 0, 5, 0)),
    "23": (195, (1, 1, 3, 1)), "m-3": (200, (1, 0, 3, 0)), "432": (207, (1, 0, 3, 1)),
    "-43m": (215, (1, 1, 3, 0)), "m-3m": (221, (1, 0, 3, 0)),
}


def _point_group_symbol(hall_number: int) -> str:
    return spglib.get_spacegroup_type(hall_number).pointgroup_international.strip()


def _expected(hall_number: int) -> dict[str, int]:
    _, counts = POINT_GROUPS[_point_group_symbol(hall_number)]
    return dict(zip(("symmetric2", "piezoelectric", "elastic", "axial2"), counts, strict=True))


def _act(rotation, tensor: np.ndarray, axial: bool) -> np.ndarray:
    """(R ⊗ ... ⊗ R) T on an exact object array, times det R when axial."""
    rotation = np.array(rotation, dtype=object)
    result = tensor
    for axis in range(tensor.ndim):
        result = np.moveaxis(np.tensordot(rotation, result, axes=([1], [axis])), 0, axis)
    if axial:
        result = result * int(round(np.linalg.det(np.array(rotation, dtype=float))))
    return result


def test_the_table_covers_the_32_point_groups():
    assert len(POINT_GROUPS) == 32
    assert len({number for number, _ in POINT_GROUPS.values()}) == 32


@pytest.mark.parametrize("point_group", sorted(POINT_GROUPS), ids=lambda s: f"pg{s}")
def test_dimension_equals_the_textbook_count(point_group):
    number, counts = POINT_GROUPS[point_group]
    group = space_group(number)
    assert _point_group_symbol(group.hall_number) == point_group
    assert tuple(tensor_basis(number, kind).dimension for kind in TENSOR_KINDS) == counts


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_every_setting_has_its_point_groups_count(hall_number):
    expected = _expected(hall_number)
    assert {kind: tensor_basis(hall_number=hall_number, kind=kind).dimension for kind in TENSOR_KINDS} == expected


@pytest.mark.parametrize("hall_number", [1, 3, 8, 115, 430, 433, 434, 458, 459, 484, 488, 523, 526],
                         ids=lambda h: f"hall{h}")
@pytest.mark.parametrize("kind", TENSOR_KINDS)
def test_basis_tensors_are_exactly_invariant_and_in_row_echelon_form(hall_number, kind):
    basis = tensor_basis(hall_number=hall_number, kind=kind)
    assert basis.dimension == _expected(hall_number)[kind]
    for row, pivot in zip(basis.components, basis.pivots, strict=True):
        assert row[pivot] == 1
        assert all(other[pivot] == 0 for other in basis.components if other is not row)
    for tensor in basis.tensors:
        exact = np.array(tensor, dtype=object)
        assert exact.shape == (3,) * basis.rank
        for rotation in space_group(hall_number=hall_number).rotations:
            assert np.array_equal(_act(rotation, exact, kind == "axial2"), exact), rotation


def test_invariance_check_can_fail():
    # x -> R x with the 4-fold about c does not keep an orthorhombic-only tensor.
    tensor = np.array([[Fraction(1), 0, 0], [0, Fraction(2), 0], [0, 0, Fraction(3)]], dtype=object)
    assert not np.array_equal(_act(((0, -1, 0), (1, 0, 0), (0, 0, 1)), tensor, False), tensor)


def test_triclinic_basis_is_every_component():
    basis = tensor_basis(1, "elastic")
    assert basis.pivots == tuple(range(21))
    assert basis.components == tuple(tuple(Fraction(int(i == j)) for j in range(21)) for i in range(21))


def test_hexagonal_axes_give_rational_but_non_diagonal_crystal_components():
    basis = tensor_basis(191, "symmetric2")
    # T^11 = T^22 = 2 T^12: the inverse metric of a = b, gamma = 120 degrees, up to scale.
    assert basis.tensors[0] == ((1, Fraction(1, 2), 0), (Fraction(1, 2), 1, 0), (0, 0, 0))
    assert basis.tensors[1] == ((0, 0, 0), (0, 0, 0), (0, 0, 1))


def _rotated_lattice(lattice: np.ndarray, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return lattice @ q.T


def _lattice(a, b, c, alpha, beta, gamma) -> np.ndarray:
    alpha, beta, gamma = np.radians([alpha, beta, gamma])
    cx = np.cos(beta)
    cy = (np.cos(alpha) - np.cos(beta) * np.cos(gamma)) / np.sin(gamma)
    return np.array([[a, 0, 0], [b * np.cos(gamma), b * np.sin(gamma), 0],
                     [c * cx, c * cy, c * np.sqrt(1 - cx ** 2 - cy ** 2)]])


@pytest.mark.parametrize(("hall_number", "parameters"), [
    (6, (3.1, 4.2, 5.3, 90, 101, 90)),        # P2_1, unique axis b
    (4, (3.1, 4.2, 5.3, 90, 90, 97)),         # P2, unique axis c
    (430, (3.0, 3.0, 5.0, 90, 90, 120)),      # P3
    (433, (3.0, 3.0, 7.0, 90, 90, 120)),      # R3, hexagonal axes
    (434, (4.0, 4.0, 4.0, 71, 71, 71)),       # R3, rhombohedral axes
    (488, (3.0, 3.0, 5.0, 90, 90, 120)),      # P6/mmm
    (523, (4.0, 4.0, 4.0, 90, 90, 90)),       # Fm-3m
])
@pytest.mark.parametrize("kind", TENSOR_KINDS)
def test_cartesian_basis_is_invariant_under_the_cartesian_rotations(hall_number, parameters, kind):
    lattice = _rotated_lattice(_lattice(*parameters), hall_number)
    basis = tensor_basis(hall_number=hall_number, kind=kind)
    cartesian = basis.cartesian(lattice)
    assert cartesian.shape == (basis.dimension,) + (3,) * basis.rank
    for rotation in space_group(hall_number=hall_number).rotations:
        # x -> R x in fractional coordinates is r -> Q r with Q = L^T R L^-T in Cartesian ones.
        q = lattice.T @ np.array(rotation, dtype=float) @ np.linalg.inv(lattice.T)
        np.testing.assert_allclose(q @ q.T, np.eye(3), rtol=0, atol=1e-12)
        sign = np.linalg.det(q) if kind == "axial2" else 1.0
        moved = cartesian
        for axis in range(1, basis.rank + 1):
            moved = np.moveaxis(np.tensordot(moved, q, axes=([axis], [1])), -1, axis)
        np.testing.assert_allclose(sign * moved, cartesian, rtol=0, atol=1e-9)


def test_cartesian_of_the_identity_lattice_is_the_crystal_form():
    basis = tensor_basis(194, "elastic")
    np.testing.assert_array_equal(basis.cartesian(np.eye(3)), basis.array())
    assert basis.array()[basis.dimension - 1].shape == (3, 3, 3, 3)


def test_components_are_voigt_labels():
    assert tensor_components("symmetric2") == ((1,), (2,), (3,), (4,), (5,), (6,))
    assert len(tensor_components("piezoelectric")) == 18
    assert tensor_components("elastic")[-1] == (6, 6)


@pytest.mark.parametrize("bad", ["stiffness", "", None])
def test_unknown_kind_is_one_clear_error(bad):
    with pytest.raises(CrystalFourierError, match="unknown tensor kind .*symmetric2, piezoelectric, elastic, axial2"):
        tensor_basis(225, bad)


def test_bad_group_and_lattice_are_errors():
    with pytest.raises(CrystalFourierError, match="1-230"):
        tensor_basis(231, "elastic")
    with pytest.raises(CrystalFourierError, match="3x3"):
        tensor_basis(225, "elastic").cartesian(np.eye(2))


def test_invalid_basis_is_refused():
    with pytest.raises(ValueError, match="rank 4"):
        TensorBasis("elastic", 1, 3, 0, (), ())


def test_settings_of_one_point_group_share_the_cache_but_keep_their_hall_number():
    standard, other = tensor_basis(hall_number=458, kind="elastic"), tensor_basis(hall_number=459, kind="elastic")
    assert (standard.hall_number, other.hall_number) == (458, 459)
    assert standard.dimension == other.dimension == 6


def test_all_space_groups_are_covered_quickly():
    assert sum(tensor_basis(group, "symmetric2").dimension == 1 for group in all_space_groups()) == 36
