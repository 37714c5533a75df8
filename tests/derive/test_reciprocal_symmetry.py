"""Reciprocal-space symmetry (issue 30): epsilon factors and centric flags against gemmi, restricted phases."""

import cmath
import itertools
import math
import random

import numpy as np
import pytest

from crystal_fourier.derive import space_group
from crystal_fourier.derive._reciprocal_symmetry import (
    centric_flags,
    centric_zones,
    epsilon_factors,
    equivalent_reflections,
    restricted_phase,
)

BOX = np.array(list(itertools.product(range(-8, 9), repeat=3)), dtype=np.int64)
NONZERO = np.any(BOX != 0, axis=1)
SAMPLE_HALLS = (1, 2, 81, 90, 115, 297, 349, 367, 434, 458, 485, 503, 525, 526, 530)
TOLERANCE = 1e-9
"""Float64 sums of <= 192 unit phasors."""


def _check_against_gemmi(hall):
    gemmi = pytest.importorskip("gemmi")
    group = space_group(hall_number=hall)
    ops = gemmi.symops_from_hall(group.hall_symbol)
    box = BOX.astype(np.int32)
    np.testing.assert_array_equal(epsilon_factors(group, BOX, with_centring=True),
                                  np.asarray(ops.epsilon_factor_array(box)))
    # gemmi counts (0,0,0) twice in centrosymmetric groups without centring (gemmi issue 46): h != 0 here.
    np.testing.assert_array_equal(epsilon_factors(group, BOX)[NONZERO],
                                  np.asarray(ops.epsilon_factor_without_centering_array(box))[NONZERO])
    np.testing.assert_array_equal(centric_flags(group, BOX), np.asarray(ops.centric_flag_array(box), dtype=bool))


@pytest.mark.parametrize("hall", SAMPLE_HALLS, ids=lambda h: f"hall{h}")
def test_epsilon_and_centric_agree_with_gemmi(hall):
    _check_against_gemmi(hall)


@pytest.mark.sweep
@pytest.mark.parametrize("hall", range(1, 531), ids=lambda h: f"hall{h}")
def test_epsilon_and_centric_agree_with_gemmi_every_setting(hall):
    _check_against_gemmi(hall)


@pytest.mark.parametrize("number", [14, 19, 92, 169, 227, 230], ids=lambda n: f"sg{n}")
def test_restricted_phase_holds_for_a_random_structure(number):
    """F(h) = sum over the orbit of random atoms; at a centric h its phase is pi h.t or pi h.t + pi."""
    group = space_group(number)
    rng = random.Random(number)
    atoms = [tuple(rng.random() for _ in range(3)) for _ in range(3)]
    for h in [(1, 0, 2), (0, 2, 1), (2, 0, 0), (0, 0, 3), (1, 1, 0), (1, 2, 3), (2, 2, 1)]:
        phase = restricted_phase(group, h)
        structure_factor = sum(cmath.exp(2j * math.pi * sum(a * b for a, b in zip(h, op.apply(x), strict=True)))
                               for x in atoms for op in group.operations)
        if phase is None:
            continue
        rotated = structure_factor * cmath.exp(-2j * math.pi * float(phase))
        assert abs(rotated.imag) <= TOLERANCE, (h, phase, structure_factor)


def test_centric_zone_texts():
    assert [z.text for z in centric_zones("P2_1/c")] == ["hkl: phi = 0 or pi"]
    assert [z.text for z in centric_zones("P2_12_12_1")] == [
        "0kl: phi = pi*k/2 mod pi", "h0l: phi = pi*l/2 mod pi", "hk0: phi = pi*h/2 mod pi"]
    assert centric_zones("P1") == ()


def test_equivalent_reflections_carry_phase_shifts():
    reflections = dict(equivalent_reflections(space_group("P2_12_12_1"), (1, 2, 3)))
    assert len(reflections) == 4
    # (x+1/2, -y+1/2, -z): h -> (h, -k, -l) with shift -(h/2 + k/2) = -3/2 = 1/2 mod 1
    from fractions import Fraction

    assert reflections[(1, -2, -3)] == Fraction(1, 2)
