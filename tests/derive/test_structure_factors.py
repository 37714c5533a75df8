"""Structure-factor forms (issue 30): Volume B's known forms, exact strings, and agreement with the operation sum."""

import cmath
import math
import random

import pytest
import sympy as sp

from crystal_fourier.derive import space_group, structure_factor_form
from crystal_fourier.derive._structure_factors import plain_factor_count

# Every crystal system and centring, screws 4_1, 6_1, d-glides, hexagonal and rhombohedral axes.
SAMPLE = (1, 2, 4, 14, 19, 43, 62, 76, 88, 141, 146, 166, 169, 194, 198, 212, 225, 227, 230)
MILLER = sp.symbols("h k l")
COORDINATES = sp.symbols("x y z")
TOLERANCE = 1e-9
"""Float64 check of the exact forms against the operation sum: values are O(|G|) <= 192, rounding ~1e-13."""


def _evaluate(expression, hkl, xyz) -> float:
    values = dict(zip(MILLER, hkl, strict=True)) | dict(zip(COORDINATES, xyz, strict=True))
    return float(expression.subs(values).evalf())


def _operation_sum(group, hkl, xyz) -> complex:
    total = 0j
    for op in group.operations:
        image = op.apply(xyz)
        total += cmath.exp(2j * math.pi * sum(a * b for a, b in zip(hkl, image, strict=True)))
    return total


def test_p21c_is_volume_b_form():
    """Vol. B A1.4.3, P2_1/c: k + l even A = 4 cos 2pi(hx + lz) cos 2pi ky; odd A = -4 sin sin; B = 0."""
    form = structure_factor_form("P2_1/c")
    assert [str(c) for c in form.conditions()] == ["Eq(Mod(k + l, 2), 0)", "Eq(Mod(k + l, 2), 1)"]
    assert [(str(a), str(b)) for a, b in form.expressions()] == [
        ("4*cos(2*pi*(k*y))*cos(2*pi*(h*x + l*z))", "0"),
        ("-4*sin(2*pi*(k*y))*sin(2*pi*(h*x + l*z))", "0"),
    ]
    assert [c.n_factors for c in form.classes] == [2, 2]
    assert form.n_factors == 4 == plain_factor_count(form.group) // 2


def test_p1bar_is_one_cosine():
    form = structure_factor_form(2)
    assert [(str(c), str(a), str(b)) for c, (a, b) in zip(form.conditions(), form.expressions(), strict=True)] == [
        ("True", "2*cos(2*pi*(h*x + k*y + l*z))", "0")]


def test_p212121_one_form_with_shifts_linear_in_h():
    """Vol. B's style for a non-centrosymmetric group: one form, A = 4 cos cos cos and B = -4 sin sin sin
    with arguments shifted by linear forms in h, k, l; without shifts, four parity classes."""
    form = structure_factor_form("P2_12_12_1")
    assert [str(c) for c in form.conditions()] == ["True"]
    (a, b), = form.expressions()
    assert str(a) == ("4*cos(2*pi*(h/4 + l*z + l/4))*cos(2*pi*(k*y + k/4 + l/4))"
                      "*cos(2*pi*(h*x - h/4 - k/4 + l/2))")
    assert str(b) == ("-4*sin(2*pi*(h/4 + l*z + l/4))*sin(2*pi*(k*y + k/4 + l/4))"
                      "*sin(2*pi*(h*x - h/4 - k/4 + l/2))")
    assert form.n_factors == 6
    parity = structure_factor_form("P2_12_12_1", shifts="never")
    assert len(parity.classes) == 4
    assert str(parity.conditions()[0]) == "Eq(Mod(h + l, 2), 0) & Eq(Mod(k + l, 2), 0)"
    assert [str(e) for e in parity.expressions()[0]] == [
        "4*cos(2*pi*(h*x))*cos(2*pi*(k*y))*cos(2*pi*(l*z))", "-4*sin(2*pi*(h*x))*sin(2*pi*(k*y))*sin(2*pi*(l*z))"]


def test_shifts_always_merges_p21c_into_one_form():
    form = structure_factor_form("P2_1/c", shifts="always")
    assert [str(c) for c in form.conditions()] == ["True"]
    assert form.n_factors == 2


def test_unknown_shifts_is_an_error():
    from crystal_fourier.errors import CrystalFourierError

    with pytest.raises(CrystalFourierError, match="shifts must be one of auto, always, never"):
        structure_factor_form(14, shifts="sometimes")


def test_fm3m_sum_over_six_permutations_and_absent_class():
    """Fm-3m: h, k, l unmixed: A = 32 sum over the 6 permutations of cos hx cos ky cos lz; mixed: absent."""
    form = structure_factor_form("Fm-3m")
    (condition, absent_condition) = (str(c) for c in form.conditions())
    assert condition == "Eq(Mod(h + l, 2), 0) & Eq(Mod(k + l, 2), 0)"
    assert absent_condition == "Ne(Mod(h + l, 2), 0) | Ne(Mod(k + l, 2), 0)"
    (a, b), (a_absent, b_absent) = form.expressions()
    assert str(a).startswith("32*(cos(2*pi*(h*x))*cos(2*pi*(k*y))*cos(2*pi*(l*z)) + ")
    assert str(a).count("cos") == 18
    assert (str(b), str(a_absent), str(b_absent)) == ("0", "0", "0")
    assert form.classes[1].absent


def test_hexagonal_common_factor_is_pulled_out():
    """P6_3/mmc, l even: A = 4 cos 2pi lz * (sum of six cosines of the hexagonal forms)."""
    form = structure_factor_form("P6_3/mmc")
    a, _ = form.expressions()[0]
    assert str(form.conditions()[0]) == "Eq(Mod(l, 2), 0)"
    assert str(a).startswith("4*(cos(2*pi*(h*x + k*y)) + cos(2*pi*(h*y + k*x)) + ")
    assert str(a).endswith("*cos(2*pi*(l*z))")
    assert form.classes[0].n_factors == 7


@pytest.mark.parametrize("shifts", ["auto", "always", "never"])
@pytest.mark.parametrize("number", SAMPLE, ids=lambda n: f"sg{n}")
def test_forms_equal_the_operation_sum_numerically(number, shifts):
    """An independent float check (the exact one is the certificate): random hkl in every class, random x."""
    form = structure_factor_form(number, shifts=shifts)
    conditions = form.conditions()
    expressions = form.expressions()
    rng = random.Random(number)
    for _ in range(6):
        hkl = tuple(rng.randint(-7, 7) for _ in range(3))
        xyz = tuple(rng.random() for _ in range(3))
        holding = [i for i, c in enumerate(conditions) if bool(c.subs(dict(zip(MILLER, hkl, strict=True))))]
        assert len(holding) == 1, (hkl, holding)
        a, b = expressions[holding[0]]
        expected = _operation_sum(form.group, hkl, xyz)
        assert abs(_evaluate(a, hkl, xyz) - expected.real) <= TOLERANCE, (hkl, "A", TOLERANCE)
        assert abs(_evaluate(b, hkl, xyz) - expected.imag) <= TOLERANCE, (hkl, "B", TOLERANCE)


@pytest.mark.parametrize("hall", [525, 434, 92], ids=lambda h: f"hall{h}")
def test_other_settings(hall):
    form = structure_factor_form(None, hall_number=hall)
    assert form.group.hall_number == hall
    assert form.classes
    assert sum(len(c.residues) for c in form.classes) == math.prod(form.modulus)


def test_modulus_and_factor_counts():
    assert structure_factor_form(169).modulus == (1, 1, 6)        # 6_1: l mod 6
    assert structure_factor_form(227).modulus == (4, 4, 4)        # d-glides: quarters
    fm3m = structure_factor_form(225)
    assert (fm3m.n_factors, plain_factor_count(fm3m.group)) == (18, 384)


def test_space_group_argument_forms_agree():
    assert structure_factor_form(14) is structure_factor_form("P 1 21/c 1")
    assert structure_factor_form(space_group(14)).group.number == 14
