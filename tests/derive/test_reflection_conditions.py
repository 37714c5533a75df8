"""Reflection conditions (issue 30): Volume A's notation, and agreement with gemmi and with our own absences."""

import itertools

import numpy as np
import pytest

from crystal_fourier.derive import basis, space_group
from crystal_fourier.derive._reflection_conditions import allowed_mask, reflection_conditions

BOX = np.array(list(itertools.product(range(-8, 9), repeat=3)), dtype=np.int64)
"""Every hkl with |h|, |k|, |l| <= 8 (issue 30's test box)."""
SAMPLE_HALLS = (6, 81, 90, 115, 297, 349, 360, 367, 377, 434, 458, 477, 485, 503, 525, 526, 530)


@pytest.mark.parametrize(("group", "expected"), [
    ("P2_1/c", ["h0l: l=2n", "0k0: k=2n", "00l: l=2n"]),
    ("C2/c", ["hkl: h+k=2n", "0kl: k=2n", "h0l: h,l=2n", "hk0: h+k=2n", "h00: h=2n", "0k0: k=2n", "00l: l=2n"]),
    ("P2_12_12_1", ["h00: h=2n", "0k0: k=2n", "00l: l=2n"]),
    ("Pnma", ["0kl: k+l=2n", "hk0: h=2n", "h00: h=2n", "0k0: k=2n", "00l: l=2n"]),
    ("I4_1/amd", ["hkl: h+k+l=2n", "0kl: k+l=2n", "hk0: h,k=2n", "hhl: 2h+l=4n", "hh0: h=2n", "h00: h=2n",
                  "00l: l=4n"]),
    ("P6_122", ["00l: l=2n; l=3n"]),
    ("R-3c", ["hkl: -h+k+l=3n", "0kl: l=2n; k+l=3n", "hk0: h-k=3n", "h00: h=3n", "00l: l=2n; l=3n"]),
    ("Fd-3m", ["hkl: h+k,h+l=2n", "0kl: k=2n; k+l=4n", "hhl: h+l=2n", "hh0: h=2n", "h00: h=4n"]),
    ("Ia-3d", ["hkl: h+k+l=2n", "0kl: k,l=2n", "hhl: 2h+l=4n", "hh0: h=2n", "hhh: h=4n", "h00: h=4n"]),
    ("P1", []),
])
def test_volume_a_notation(group, expected):
    assert [zone.text for zone in reflection_conditions(group)] == expected


def _gemmi_allowed(hall_number: int) -> np.ndarray:
    gemmi = pytest.importorskip("gemmi")
    ops = gemmi.symops_from_hall(space_group(hall_number=hall_number).hall_symbol)
    return ~np.asarray(ops.systematic_absences(BOX.astype(np.int32)), dtype=bool)


@pytest.mark.parametrize("hall", SAMPLE_HALLS, ids=lambda h: f"hall{h}")
def test_agrees_with_gemmi(hall):
    mine = allowed_mask(reflection_conditions(None, hall_number=hall), BOX)
    np.testing.assert_array_equal(mine, _gemmi_allowed(hall))


@pytest.mark.sweep
@pytest.mark.parametrize("hall", range(1, 531), ids=lambda h: f"hall{h}")
def test_agrees_with_gemmi_every_setting(hall):
    mine = allowed_mask(reflection_conditions(None, hall_number=hall), BOX)
    np.testing.assert_array_equal(mine, _gemmi_allowed(hall))


@pytest.mark.parametrize("number", [14, 62, 122, 167, 227], ids=lambda n: f"sg{n}")
def test_agrees_with_the_orbit_absences(number):
    derived = basis(number, 3, "box")
    conditions = reflection_conditions(number)
    absent = derived.decomposition.absent[derived.decomposition.orbit_of]
    np.testing.assert_array_equal(allowed_mask(conditions, derived.frequencies.hkl), ~absent)


def test_the_screw_conditions_of_one_group():
    conditions = reflection_conditions("P4_32_12")
    # the 4-fold makes 0k0 like h00 (k=2n); 00l: l=4n
    assert allowed_mask(conditions, [(0, 1, 0), (0, 0, 4), (0, 0, 2)]).tolist() == [False, True, False]


def test_a_wrong_condition_is_caught():
    """A condition dropped from a zone must show up as a disagreement with gemmi."""
    import dataclasses

    conditions = reflection_conditions("Fd-3m")
    broken = tuple(dataclasses.replace(z, congruences=z.congruences[:1]) if z.zone == "0kl" else z
                   for z in conditions)
    assert not np.array_equal(allowed_mask(broken, BOX), _gemmi_allowed(526))
