"""The factor-count goal of issue 30: counts per group, the lower bound no form can beat, and where the goal is out of
reach (factor_lower_bound's argument: f factors make a function of f linear forms)."""

import pytest

from crystal_fourier.derive import space_group, structure_factor_form
from crystal_fourier.derive._structure_factors import factor_lower_bound, plain_factor_count

# (group, shifts) -> (classes, factors, plain-sum factors), as derived today; a change in factoring must show here.
COUNTS = {
    (14, "auto"): (2, 4, 8),        # P2_1/c: Volume B's 2 classes, 2 factors each
    (19, "auto"): (1, 6, 8),        # P2_12_12_1: 4 cos cos cos and -4 sin sin sin, the lower bound
    (16, "always"): (1, 6, 8),      # P222
    (62, "always"): (1, 3, 16),     # Pnma
    (62, "auto"): (1, 3, 16),       # Volume B's choice (no shifts: 4 classes, 12 factors) misses the goal
    (62, "never"): (4, 12, 16),
    (126, "auto"): (1, 5, 32),      # P4/nnc: 8 classes and 40 factors without shifts
    (230, "auto"): (1, 18, 192),    # Ia-3d: 8 classes and 144 factors without shifts
    (99, "always"): (1, 10, 16),    # P4mm
    (194, "always"): (1, 7, 48),    # P6_3/mmc: 4 cos 2pi lz times a sum of six cosines
    (212, "always"): (1, 36, 48),   # P4_332
    (225, "always"): (1, 18, 384),  # Fm-3m: 32 times a sum over the six permutations of cos hx cos ky cos lz
    (227, "always"): (2, 42, 384),  # Fd-3m
}


@pytest.mark.parametrize(("key", "expected"), sorted(COUNTS.items()))
def test_factor_counts(key, expected):
    number, shifts = key
    form = structure_factor_form(number, shifts=shifts)
    present = [c for c in form.classes if not c.absent]
    assert (len(present), form.n_factors, plain_factor_count(form.group)) == expected


@pytest.mark.parametrize("number", [1, 2, 4, 14, 16, 19, 62, 75, 99, 143, 168, 194, 212, 225, 227, 230])
def test_no_class_beats_the_lower_bound(number):
    """A class with fewer factors than the bound would be a wrong form: the bound is a theorem."""
    group = space_group(number)
    bound = factor_lower_bound(group)
    for shifts in ("auto", "always", "never"):
        for parity_class in structure_factor_form(number, shifts=shifts).classes:
            if not parity_class.absent:
                assert parity_class.n_factors >= bound, (number, shifts)


def test_lower_bounds():
    # P1: one cosine and one sine of a 3D form (r = 3 but |P| = 1: the orbit spans 1 direction).
    assert [factor_lower_bound(space_group(n)) for n in (1, 2, 3, 16, 75, 143, 168, 221)] == [2, 1, 4, 6, 6, 6, 6, 3]


def test_the_goal_is_out_of_reach_exactly_for_the_primitive_non_centrosymmetric_groups_of_order_4():
    unreachable = [n for n in range(1, 231)
                   if len(space_group(n).operations) >= 4
                   and 2 * factor_lower_bound(space_group(n)) > plain_factor_count(space_group(n))]
    assert unreachable == [16, 17, 18, 19, *range(25, 35), 75, 76, 77, 78, 81]


def _meets(form):
    return 2 * form.n_factors <= plain_factor_count(form.group)


@pytest.mark.parametrize("number", [2, 14, 19, 47, 62, 92, 126, 212, 225, 227, 230])
def test_auto_is_volume_b_unless_it_misses_the_goal_and_the_other_mode_has_fewer_factors(number):
    group = space_group(number)
    volume_b, other = ("never", "always") if group.centrosymmetric else ("always", "never")
    expected = structure_factor_form(number, shifts=volume_b)
    alternative = structure_factor_form(number, shifts=other)
    if not _meets(expected) and alternative.n_factors < expected.n_factors:
        expected = alternative
    auto = structure_factor_form(number, shifts="auto")
    assert auto.expressions() == expected.expressions()
    assert auto.conditions() == expected.conditions()


def test_auto_keeps_volume_b_forms_that_meet_the_goal():
    """P2_1/c: Volume B's two classes (4 factors, the goal) although one shifted form has 2."""
    assert len(structure_factor_form(14).classes) == 2
    assert len(structure_factor_form(14, shifts="always").classes) == 1


@pytest.mark.sweep
def test_how_many_groups_meet_the_goal():
    """Of the 221 standard groups with >= 4 operations (19 of them out of reach); auto meets it wherever a mode does."""
    met = {"auto": 0, "always": 0, "never": 0}
    for number in range(1, 231):
        if len(space_group(number).operations) < 4:
            continue
        meets = {shifts: _meets(structure_factor_form(number, shifts=shifts)) for shifts in met}
        assert meets["auto"] == (meets["always"] or meets["never"]), number
        for shifts, ok in meets.items():
            met[shifts] += ok
    assert met == {"auto": 137, "always": 137, "never": 87}
