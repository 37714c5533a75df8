"""The ball and box shells of CONVENTIONS.md: counts, exact metric, order, closure, bad input."""

from __future__ import annotations

import itertools
import re
from fractions import Fraction

import numpy as np
import pytest

from crystal_fourier.derive import basis, frequency_set, space_group
from crystal_fourier.derive._frequency_sets import shell_frequencies
from crystal_fourier.derive._frequency_sets import FrequencySet, check_shell_cutoff, norm3
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.testing import REPRESENTATIVE_GROUPS

# Lattice points in the ball of radius R (OEIS A000605), cubic metric.
CUBIC_BALL = {0: 1, 1: 7, 2: 33, 3: 123, 4: 257, 5: 515, 6: 925, 7: 1419, 8: 2109}


@pytest.mark.parametrize(
    ("shell", "cutoff", "hexagonal", "count"),
    [
        ("ball", 5, False, 515),
        ("ball", 5, True, 419),
        ("box", 2, False, 125),
        ("box", 2, True, 95),
        ("box", 4, False, 729),
        ("box", 4, True, 549),
        ("ball", 0, False, 1),
        ("ball", 0, True, 1),
        ("box", 0, False, 1),
        ("box", 0, True, 1),
        ("ball", 1, True, 3),   # (0,0,0), (0,0,+-1): (1,0,0) has q = 4/3 > 1
        ("box", 1, True, 21),   # 7 hexagon points (h, k, h+k in -1..1) times 3 layers
    ],
)
def test_counts_quoted_in_conventions(shell, cutoff, hexagonal, count):
    assert len(shell_frequencies(shell, cutoff, hexagonal)) == count


@pytest.mark.parametrize("radius", sorted(CUBIC_BALL), ids=lambda r: f"R{r}")
def test_cubic_ball_counts_match_oeis(radius):
    assert len(shell_frequencies("ball", radius, False)) == CUBIC_BALL[radius]


def _brute_force(shell, cutoff, hexagonal):
    """Independent enumeration with exact rationals: q(k) = (4/3)(h^2+hk+k^2) + l^2 on hexagonal axes."""
    span = range(-2 * cutoff - 1, 2 * cutoff + 2)
    result = set()
    for h, k, l in itertools.product(span, span, span):
        if shell == "ball":
            q = Fraction(4, 3) * (h * h + h * k + k * k) + l * l if hexagonal else h * h + k * k + l * l
            keep = q <= cutoff * cutoff
        elif hexagonal:
            keep = max(abs(h), abs(k), abs(h + k)) <= cutoff and abs(l) <= cutoff
        else:
            keep = max(abs(h), abs(k), abs(l)) <= cutoff
        if keep:
            result.add((h, k, l))
    return result


@pytest.mark.parametrize("hexagonal", [False, True], ids=["cubic", "hexagonal"])
@pytest.mark.parametrize("shell", ["ball", "box"])
@pytest.mark.parametrize("cutoff", [0, 1, 2, 3, 5], ids=lambda c: f"cutoff{c}")
def test_shell_matches_exact_brute_force(shell, cutoff, hexagonal):
    hkl = shell_frequencies(shell, cutoff, hexagonal)
    assert {tuple(row) for row in hkl.tolist()} == _brute_force(shell, cutoff, hexagonal)
    assert len({tuple(row) for row in hkl.tolist()}) == len(hkl)


@pytest.mark.parametrize("hexagonal", [False, True], ids=["cubic", "hexagonal"])
def test_norm3_is_three_times_the_squared_norm(hexagonal):
    hkl = np.array([[1, 0, 0], [1, 1, 0], [2, -1, 0], [0, 0, 1], [1, 2, 3]])
    expected = [[3, 6, 15, 3, 42], [4, 12, 12, 3, 55]][hexagonal]
    assert norm3(hkl, hexagonal).tolist() == expected


@pytest.mark.parametrize("hexagonal", [False, True], ids=["cubic", "hexagonal"])
@pytest.mark.parametrize("shell", ["ball", "box"])
def test_canonical_order(shell, hexagonal):
    """k = 0 first, then by q, ties by (h, k, l) descending."""
    hkl = shell_frequencies(shell, 4, hexagonal)
    assert hkl[0].tolist() == [0, 0, 0]
    keys = [(int(q), tuple(-v for v in row)) for q, row in zip(norm3(hkl, hexagonal), hkl.tolist(), strict=False)]
    assert keys == sorted(keys)
    assert not hkl.flags.writeable
    assert hkl.dtype == np.int64


@pytest.mark.parametrize("shell", ["ball", "box"])
@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_closed_under_the_point_group(number, shell):
    group = space_group(number)
    fs = frequency_set(group, 4, shell)
    rotations = np.array([op.rotation for op in group.operations])
    images = np.einsum("ni,gij->ngj", fs.hkl, rotations).reshape(-1, 3)     # (R^T k)^T = k^T R
    np.testing.assert_array_equal(np.unique(images, axis=0), np.unique(fs.hkl, axis=0))
    assert fs.hexagonal == group.hexagonal_axes


@pytest.mark.sweep
@pytest.mark.parametrize("shell", ["ball", "box"])
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_closed_under_the_point_group_every_setting(hall_number, shell):
    group = space_group(hall_number=hall_number)
    fs = frequency_set(group, 5, shell)
    rotations, _ = group.arrays
    images = np.einsum("ni,gij->ngj", fs.hkl, rotations)
    assert np.all(fs.index(images) >= 0)


def test_index_is_exact_lookup():
    fs = frequency_set(space_group(1), 2, "box")
    hkl = np.array([[0, 0, 0], [2, -2, 1], [3, 0, 0], [-7, 9, 100], [-2, -2, -2]])
    positions = fs.index(hkl)
    assert positions[[2, 3]].tolist() == [-1, -1]
    assert fs.hkl[positions[[0, 1, 4]]].tolist() == [[0, 0, 0], [2, -2, 1], [-2, -2, -2]]
    assert fs.index(fs.hkl).tolist() == list(range(len(fs)))


def test_hexagonal_set_is_not_closed_for_a_cubic_group():
    """A hand-built set that does not serve the group is refused (no orbit may be cut)."""
    wrong = FrequencySet("ball", 2, True, shell_frequencies("ball", 2, True))
    from crystal_fourier.derive import dual_graph

    with pytest.raises(CrystalFourierError, match="not closed"):
        dual_graph(space_group(221), wrong)


@pytest.mark.parametrize(
    ("cutoff", "shell", "fragment"),
    [
        (-1, "ball", "got -1"),
        (-3, "box", "got -3"),
        (True, "ball", "got True"),
        (2.5, "ball", "got 2.5"),
        ("3", "box", "got '3'"),
        (2, "sphere", "unknown shell 'sphere'"),
        (2, "", "unknown shell ''"),
    ],
)
def test_bad_cutoff_or_shell_raises(cutoff, shell, fragment):
    with pytest.raises(CrystalFourierError, match=re.escape(fragment)):
        frequency_set(space_group(1), cutoff, shell)
    with pytest.raises(CrystalFourierError, match=re.escape(fragment)):
        basis(1, cutoff, shell)


# ----------------------------------------------------------------------------- the one shell/cutoff check


def _callers():
    from crystal_fourier.derive import basis
    from crystal_fourier.derive._bases import work_estimate
    from crystal_fourier.derive._codegen import iter_directory
    from crystal_fourier.runtime import CutoffSpec, RoutingEncoder, invariant_basis

    return {
        "check_shell_cutoff": check_shell_cutoff,
        "shell_frequencies": lambda shell, cutoff: shell_frequencies(shell, cutoff, False),
        "basis": lambda shell, cutoff: basis(1, cutoff, shell),
        "work_estimate": lambda shell, cutoff: work_estimate(1, cutoff, shell),
        "codegen.iter_directory": lambda shell, cutoff: next(iter(iter_directory(shell, cutoff, [1]))),
        "invariant_basis": lambda shell, cutoff: invariant_basis(1, cutoff, shell),
        "CutoffSpec": CutoffSpec,
        "RoutingEncoder": lambda shell, cutoff: RoutingEncoder(4, cutoff=cutoff, shell=shell),
    }


@pytest.mark.parametrize("caller", sorted(_callers()))
@pytest.mark.parametrize(("shell", "cutoff", "message"), [
    ("sphere", 2, "unknown shell 'sphere': expected one of ball, box"),
    ("ball", -1, "cutoff must be an integer >= 0, got -1"),
    ("box", True, "cutoff must be an integer >= 0, got True"),
    ("ball", 2.0, "cutoff must be an integer >= 0, got 2.0"),
])
def test_every_shell_cutoff_check_is_the_one_in_frequency_sets(caller, shell, cutoff, message):
    with pytest.raises(CrystalFourierError, match=f"^{re.escape(message)}$"):
        _callers()[caller](shell, cutoff)


def test_check_shell_cutoff_accepts_numpy_integers_and_returns_an_int():
    value = check_shell_cutoff("box", np.int32(3))
    assert (value, type(value)) == (3, int)
