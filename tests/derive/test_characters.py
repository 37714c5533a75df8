"""Exact arithmetic in Z[zeta_24] and the character formula for the dimension."""

from __future__ import annotations

import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crystal_fourier.derive import DEN, Operation, character_dimension, space_group
from crystal_fourier.derive._characters import cyclotomic_sum
from crystal_fourier.derive._frequency_sets import shell_frequencies
from crystal_fourier.derive._operations import operations_as_arrays
from crystal_fourier.errors import CrystalFourierError

ZERO = (0,) * 8


def _counts(*exponents, weights=None):
    counts = [0] * DEN
    for exponent, weight in zip(exponents, weights or [1] * len(exponents), strict=True):
        counts[exponent % DEN] += weight
    return counts


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([1] * 24, ZERO),                                            # all 24th roots sum to 0
        (_counts(12), (-1, 0, 0, 0, 0, 0, 0, 0)),                    # zeta^12 = -1
        (_counts(0, 4, 8, weights=[1, -1, 1]), ZERO),                # zeta^8 - zeta^4 + 1 = Phi_24(zeta) = 0
        (_counts(8, 16), (-1, 0, 0, 0, 0, 0, 0, 0)),                 # primitive cube roots: sum -1
        (_counts(0, 8, 16), ZERO),                                   # all cube roots: 0
        (_counts(6, 18), ZERO),                                      # i + (-i) = 0
        (_counts(4, 20), (1, 0, 0, 0, 0, 0, 0, 0)),                  # 2 cos(60 deg) = 1
        (_counts(*range(0, 24, 3)), ZERO),                           # all 8th roots
        (_counts(*range(0, 24, 2)), ZERO),                           # all 12th roots
        (_counts(0, 0, 0), (3, 0, 0, 0, 0, 0, 0, 0)),
        (_counts(1), (0, 1, 0, 0, 0, 0, 0, 0)),                      # zeta itself: the basis is 1..zeta^7
        (_counts(9), (0, -1, 0, 0, 0, 1, 0, 0)),                     # zeta^9 = zeta^5 - zeta
        (_counts(2, 22), (0, 0, 2, 0, 0, 0, -1, 0)),                 # zeta^2 + zeta^-2 = sqrt 3 = 2 zeta^2 - zeta^6
    ],
    ids=["all", "z12", "phi24", "prim3", "all3", "i", "cos60", "all8", "all12", "three", "z1", "z9", "sqrt3"],
)
def test_cyclotomic_sum_exact_identities(counts, expected):
    assert cyclotomic_sum(counts) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=DEN, max_size=DEN))
def test_cyclotomic_sum_is_the_value_of_the_sum(counts):
    """sum_i r_i zeta^i over the 8 reduced coefficients equals sum_p counts[p] zeta^p."""
    zeta = np.exp(2j * np.pi * np.arange(DEN) / DEN)
    reduced = cyclotomic_sum(counts)
    np.testing.assert_allclose(np.dot(reduced, zeta[:8]), np.dot(counts, zeta), rtol=0, atol=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-20, 20), min_size=DEN, max_size=DEN),
       st.lists(st.integers(-20, 20), min_size=DEN, max_size=DEN))
def test_cyclotomic_sum_is_linear(a, b):
    total = cyclotomic_sum([x + y for x, y in zip(a, b, strict=True)])
    assert total == tuple(x + y for x, y in zip(cyclotomic_sum(a), cyclotomic_sum(b), strict=True))


@pytest.mark.parametrize("length", [0, 8, 23, 25, 48])
def test_cyclotomic_sum_rejects_wrong_lengths(length):
    with pytest.raises(CrystalFourierError, match=f"got {length}"):
        cyclotomic_sum([0] * length)


@pytest.mark.parametrize(
    ("shell", "cutoff", "hexagonal"),
    [("ball", 5, False), ("box", 2, False), ("box", 4, True)],
)
def test_p1_and_p_1_dimensions(shell, cutoff, hexagonal):
    hkl = shell_frequencies(shell, cutoff, hexagonal)
    assert character_dimension(space_group(1), hkl) == len(hkl)
    assert character_dimension(space_group(2), hkl) == (len(hkl) + 1) // 2


@pytest.mark.parametrize(
    ("number", "hkl", "dim"),
    [
        (4, [[0, 1, 0]], 0),                     # absent: (1 + e(1/2)) / 2
        (4, [[0, 2, 0]], 1),
        (76, [[0, 0, 1]], 0),                    # (1 + i - 1 - i) / 4
        (76, [[0, 0, 4]], 1),
        (144, [[0, 0, 3], [0, 0, -3]], 2),
        (144, [[0, 0, 1], [0, 0, 2]], 0),
    ],
)
def test_character_dimension_small_exact_values(number, hkl, dim):
    assert character_dimension(space_group(number), np.array(hkl)) == dim


def test_character_formula_rejects_a_non_group():
    """The identity and a quarter screw -x,y+1/4,-z are not a group: on (0 1 0) the sum 1 + i
    is not a rational integer, so the formula refuses it rather than rounding."""
    rotations, translations = operations_as_arrays([Operation.identity(), Operation.parse("-x,y+1/4,-z")])
    fake = types.SimpleNamespace(arrays=(rotations, translations))
    with pytest.raises(CrystalFourierError, match=r"not a non-negative multiple of \|G\| = 2"):
        character_dimension(fake, np.array([[0, 1, 0]]))
