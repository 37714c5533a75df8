"""Faithful cutoffs: the paper's five unfaithful cubic groups at R = 5, and exact symmetry sets."""

import pytest

from crystal_fourier.derive import Operation, space_group
from crystal_fourier.derive._faithful import basis_symmetry, faithful_cutoff, holohedry_rotations, is_faithful

UNFAITHFUL_AT_R5 = (203, 209, 219, 226, 228)


@pytest.mark.parametrize("number", UNFAITHFUL_AT_R5, ids=lambda n: f"sg{n}")
def test_paper_groups_unfaithful_at_r5_and_faithful_at_r6(number):
    assert not is_faithful(number, 5)
    assert is_faithful(number, 6)


@pytest.mark.parametrize("number", [1, 2, 14, 76, 144, 166, 194, 225, 227, 230], ids=lambda n: f"sg{n}")
def test_other_groups_faithful_at_r5(number):
    assert is_faithful(number, 5)


@pytest.mark.sweep
def test_r5_unfaithful_set_is_exactly_the_papers():
    assert [n for n in range(1, 231) if not is_faithful(n, 5)] == list(UNFAITHFUL_AT_R5)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_ball_r6_is_faithful_for_every_group(number):
    assert faithful_cutoff(number) <= 6


def test_group_is_contained_in_basis_symmetry():
    group = space_group(91)
    symmetry = basis_symmetry(91, 3)
    assert set(group.operations) <= set(symmetry.operations)


def test_extra_symmetry_at_low_cutoff():
    # P1 at cutoff 0: only the constant survives, so every holohedry rotation (+-1) with every translation.
    symmetry = basis_symmetry(1, 0, "box")
    assert symmetry.index == 2 * 24**3
    assert Operation.parse("-x+1/24,-y,-z") in symmetry.operations
    # At box 1 the basis of P1 is already faithful.
    assert basis_symmetry(1, 1, "box").operations == (Operation.identity(),)


def test_unfaithful_witness_operation_for_226():
    group = space_group(226)
    extra = [op for op in basis_symmetry(226, 5).operations if op not in set(group.operations)]
    assert extra
    assert basis_symmetry(226, 5).index == 2


def test_holohedries():
    assert len(holohedry_rotations(space_group(225).hall_number)) == 48
    assert len(holohedry_rotations(space_group(194).hall_number)) == 24
    assert len(holohedry_rotations(space_group(166).hall_number)) == 24  # hexagonal axes: 6/mmm metric
    assert len(holohedry_rotations(space_group(14).hall_number)) == 4
    assert len(holohedry_rotations(space_group(1).hall_number)) == 2
    assert len(holohedry_rotations(space_group(62).hall_number)) == 8
    assert len(holohedry_rotations(space_group(91).hall_number)) == 16
