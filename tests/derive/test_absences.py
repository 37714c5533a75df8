"""Systematic absences with witnesses: exact reflection conditions and gemmi as an oracle."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.derive import Operation, absence_witness, basis, space_group, systematic_absences
from crystal_fourier.derive._absences import is_witness
from crystal_fourier.testing import REPRESENTATIVE_GROUPS


def _absent_set(b):
    d = b.decomposition
    return {tuple(row) for row in b.frequencies.hkl[d.absent[d.orbit_of]].tolist()}


def _witness_of(b, hkl):
    return dict(systematic_absences(b.decomposition)).get(tuple(hkl))


# ----------------------------------------------------------------------------- is_witness

@pytest.mark.parametrize(
    ("xyz", "hkl", "expected"),
    [
        ("-x,y+1/2,-z", (0, 1, 0), True),
        ("-x,y+1/2,-z", (0, 3, 0), True),
        ("-x,y+1/2,-z", (0, 2, 0), False),     # phase 1: integer
        ("-x,y+1/2,-z", (1, 1, 0), False),     # not fixed: R^T k = (-1, 1, 0)
        ("x+1/2,y+1/2,z+1/2", (1, 2, 4), True),
        ("x+1/2,y+1/2,z+1/2", (1, 2, 3), False),
        ("-y,x,z+1/4", (0, 0, 2), True),
        ("-y,x,z+1/4", (0, 0, 4), False),
        ("x,y,z", (1, 0, 0), False),
        ("y+3/4,-x,z+3/4", (0, 0, 2), True),
    ],
)
def test_is_witness_exact(xyz, hkl, expected):
    assert is_witness(Operation.parse(xyz), hkl) is expected


# ----------------------------------------------------------------------------- known rules

@pytest.mark.parametrize("k", range(-3, 4), ids=lambda k: f"k{k}")
def test_p2_1_screw(k, p2_1):
    """P2_1 (unique axis b): (0 k 0) absent iff k is odd, witness -x,y+1/2,-z."""
    b = basis(p2_1, 3, "box")
    absent = k % 2 == 1
    assert ((0, k, 0) in _absent_set(b)) is absent
    assert _witness_of(b, (0, k, 0)) == (Operation.parse("-x,y+1/2,-z") if absent else None)


@pytest.mark.parametrize(
    ("number", "period", "witness"),
    [(76, 4, "-y,x,z+1/4"), (144, 3, "-y,x-y,z+1/3"), (169, 6, "x-y,x,z+1/6"), (91, 4, "-y,x,z+1/4")],
    ids=["P4_1", "P3_1", "P6_1", "P4_122"],
)
@pytest.mark.parametrize("l", range(-6, 7), ids=lambda l: f"l{l}")
def test_screw_axis_along_c(number, period, witness, l):
    """(0 0 l) is absent iff l is not a multiple of the screw's period; the first screw witnesses it."""
    b = basis(number, 6, "box")
    absent = l % period != 0
    assert ((0, 0, l) in _absent_set(b)) is absent
    assert _witness_of(b, (0, 0, l)) == (Operation.parse(witness) if absent else None)


def _ita_fd3m_origin2(h, k, l):
    """ITA reflection conditions of Fd-3m: hkl all even or all odd; 0kl with k + l = 4n (and
    permutations; hhl: h + l = 2n and h00: h = 4n follow)."""
    if len({h % 2, k % 2, l % 2}) != 1:
        return True
    pairs = [(k, l), (h, l), (h, k)]
    return any(zero == 0 and (a + b) % 4 != 0 for zero, (a, b) in zip((h, k, l), pairs, strict=True))


def _ita_pnma(h, k, l):
    """Pnma (62): 0kl k + l = 2n; hk0 h = 2n; h00 h = 2n; 0k0 k = 2n; 00l l = 2n."""
    return ((h == 0 and (k + l) % 2) or (l == 0 and h % 2) or (h == 0 and l == 0 and k % 2)
            or (h == 0 and k == 0 and l % 2) or (k == 0 and l == 0 and h % 2)) != 0


def _ita_centring(letter):
    rules = {
        "I": lambda h, k, l: (h + k + l) % 2 != 0,
        "F": lambda h, k, l: len({h % 2, k % 2, l % 2}) != 1,
        "C": lambda h, k, l: (h + k) % 2 != 0,
        "A": lambda h, k, l: (k + l) % 2 != 0,
        "R": lambda h, k, l: (-h + k + l) % 3 != 0,     # obverse, hexagonal axes
    }
    return rules[letter]


@pytest.mark.parametrize(
    ("number", "rule"),
    [
        (227, _ita_fd3m_origin2),
        (62, _ita_pnma),
        (229, _ita_centring("I")),      # Im-3m: symmorphic, only the centring
        (225, _ita_centring("F")),
        (65, _ita_centring("C")),       # Cmmm
        (38, _ita_centring("A")),       # Amm2
        (146, _ita_centring("R")),
        (166, _ita_centring("R")),
        (1, lambda h, k, l: False),
        (2, lambda h, k, l: False),
    ],
    ids=lambda value: f"sg{value}" if isinstance(value, int) else "",
)
def test_reflection_conditions_from_the_tables(number, rule):
    b = basis(number, 4, "box")
    expected = {row for row in map(tuple, b.frequencies.hkl.tolist()) if rule(*row)}
    assert _absent_set(b) == expected


@pytest.mark.parametrize(("number", "hkl"), [(122, (1, 2, 4)), (230, (1, 2, 4)), (225, (1, 2, 3)), (227, (1, 2, 3))])
def test_general_reflections_are_witnessed_by_a_centring_translation(number, hkl):
    """A general hkl is fixed only by pure translations, so the witness must be a centring vector."""
    b = basis(number, 4, "box")
    witness = _witness_of(b, hkl)
    assert witness is not None
    assert witness.rotation == Operation.identity().rotation
    assert is_witness(witness, hkl)


# ----------------------------------------------------------------------------- API

@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_every_absence_has_a_valid_witness(number):
    b = basis(number)
    d = b.decomposition
    pairs = systematic_absences(d)
    assert [k for k, _ in pairs] == [tuple(row) for row in b.frequencies.hkl[d.absent[d.orbit_of]].tolist()]
    assert all(is_witness(op, k) for k, op in pairs)
    assert all(op in b.group.operations for _, op in pairs)


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_absence_witness_per_orbit(number):
    d = basis(number).decomposition
    hkl = d.graph.frequencies.hkl
    witnesses = [absence_witness(d, i) for i in range(len(d))]
    assert [w is None for w in witnesses] == (~d.absent).tolist()
    assert all(is_witness(w, hkl[d.representative[i]]) for i, w in enumerate(witnesses) if w is not None)


# ----------------------------------------------------------------------------- gemmi oracle

def _compare_with_gemmi(group):
    """Every hkl with max(|h|, |k|, |l|) <= 3. On hexagonal axes that cube is not a shell of its
    own, so it is cut from the hexagonal box K = 6, which contains it."""
    gemmi = pytest.importorskip("gemmi")
    b = basis(group, 6 if group.hexagonal_axes else 3, "box")
    d = b.decomposition
    cube = np.abs(b.frequencies.hkl).max(axis=1) <= 3
    hkl = b.frequencies.hkl[cube]
    ours = d.absent[d.orbit_of][cube]
    # gemmi parses the same Hall symbol into its own operations (centring included) and applies
    # the same rule: some op fixes hkl with a non-integer phase; test_space_groups checks the ops agree.
    ops = gemmi.symops_from_hall(b.group.hall_symbol)
    theirs = np.asarray(ops.systematic_absences(np.ascontiguousarray(hkl, dtype=np.int32)))
    disagree = ours != theirs
    assert not disagree.any(), (f"{b.group}: absences disagree with gemmi at {hkl[disagree].tolist()[:10]} "
                                f"(ours: {ours[disagree].tolist()[:10]})")
    assert len(hkl) == 343


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_absences_agree_with_gemmi(number):
    _compare_with_gemmi(space_group(number))


@pytest.mark.parametrize("hall_number", [7, 87, 228, 434, 459, 525], ids=lambda h: f"hall{h}")
def test_absences_agree_with_gemmi_non_standard_settings(hall_number):
    _compare_with_gemmi(space_group(hall_number=hall_number))


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_absences_agree_with_gemmi_every_group(number):
    _compare_with_gemmi(space_group(number))


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_absences_agree_with_gemmi_every_setting(hall_number):
    _compare_with_gemmi(space_group(hall_number=hall_number))
