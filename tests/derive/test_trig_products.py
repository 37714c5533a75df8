"""Unit tests of the factoring of plane-wave sums: canonical factors and a sum that must factor."""

import math
from fractions import Fraction

from crystal_fourier.derive._trig_products import TrigFactor, canonical_factor, factor_plane_wave_sum

TOLERANCE = 1e-12
"""Float64 comparison of cos/sin values of order 1."""


def test_canonical_factor_identities():
    """sign * factor == function(2 pi (form + shift)), checked at sample points."""
    form = (1, 0, 0, 0, 2, 0, 0, 0, -1)
    for function in ("cos", "sin"):
        for numerator in range(-8, 9):
            shift = numerator / 8
            sign, factor = canonical_factor(function, form, Fraction(numerator, 8))
            assert isinstance(factor, TrigFactor)
            assert -0.25 < factor.shift < 0.25
            for u in (0.1, 0.37):
                value = 2 * math.pi * (u + shift)
                original = math.cos(value) if function == "cos" else math.sin(value)
                f = math.cos if factor.function == "cos" else math.sin
                sign_u = 1 if factor.form[0] > 0 else -1
                assert abs(sign * f(2 * math.pi * (sign_u * u + float(factor.shift))) - original) <= TOLERANCE
                assert factor.form[0] > 0




def test_mmm_sum_is_a_product_of_three_cosines():
    """sum over the 8 sign matrices of e(h^T M x) = 8 cos 2pi hx cos 2pi ky cos 2pi lz."""
    signs = [((a, 0, 0), (0, b, 0), (0, 0, c)) for a in (1, -1) for b in (1, -1) for c in (1, -1)]
    result = factor_plane_wave_sum({m: (Fraction(1), Fraction(0)) for m in signs}, tuple(signs))
    assert len(result) == 1
    (rho, phase), factors = result[0]
    assert (rho, phase) == (Fraction(8), Fraction(0))
    assert sorted(f.form for _, f in factors) == [(0, 0, 0, 0, 0, 0, 0, 0, 1), (0, 0, 0, 0, 1, 0, 0, 0, 0),
                                                   (1, 0, 0, 0, 0, 0, 0, 0, 0)]
    assert {f.function for _, f in factors} == {"cos"}
