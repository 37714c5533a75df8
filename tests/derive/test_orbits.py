"""Orbits of frequencies under the point group: anchors, partition, phases, completeness."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.derive import DEN, Orbit, basis, character_dimension, space_group
from crystal_fourier.derive._absences import is_witness
from crystal_fourier.testing import REPRESENTATIVE_GROUPS


def _rotations(group):
    return np.array([op.rotation for op in group.operations], dtype=np.int64)


def _present(decomposition):
    return ~decomposition.absent


# ----------------------------------------------------------------------------- anchors

@pytest.mark.parametrize(("cutoff", "shell", "count"), [(5, "ball", 515), (2, "box", 125), (4, "box", 729)])
def test_p1_has_one_orbit_per_frequency(cutoff, shell, count):
    d = basis(1, cutoff, shell).decomposition
    assert len(d) == count
    assert d.orbit_of.tolist() == list(range(count))
    assert not d.absent.any()
    assert not d.phase_24.any()
    assert d.centric.tolist() == [True] + [False] * (count - 1)       # only k = 0 has -O = O


def test_p_1_pairs_k_with_minus_k():
    b = basis(2)
    d = b.decomposition
    assert len(d) == (515 - 1) // 2 + 1 == 258
    assert d.centric.all()
    assert not d.absent.any()
    hkl = b.frequencies.hkl
    negative = b.frequencies.index(-hkl)
    np.testing.assert_array_equal(d.orbit_of[negative], d.orbit_of)
    assert np.bincount(d.orbit_of).tolist() == [1] + [2] * 257


@pytest.mark.parametrize(
    ("number", "present_frequencies", "present_orbits"),
    [(225, 136, 9), (227, 106, 7)],
    ids=["Fm-3m", "Fd-3m"],
)
def test_cubic_anchors_without_k0(number, present_frequencies, present_orbits):
    """CONVENTIONS.md: at R = 5 without k = 0, Fm-3m keeps 136 frequencies in 9 orbits, Fd-3m 106 in 7."""
    d = basis(number).decomposition
    present = _present(d)
    assert int(present[d.orbit_of].sum()) - 1 == present_frequencies
    assert int(present.sum()) - 1 == present_orbits


def test_orbit_values_of_p2_1(p2_1):
    d = basis(p2_1, 1, "box").decomposition
    hkl = d.graph.frequencies

    def orbit_of(index):
        return d.orbit(int(d.orbit_of[hkl.index([index])[0]]))

    assert orbit_of((0, 1, 0)) == Orbit((0, 1, 0), ((0, 1, 0),), None, True, 1, False)
    assert orbit_of((0, -1, 0)) == Orbit((0, -1, 0), ((0, -1, 0),), None, True, 1, False)
    assert orbit_of((1, 1, 0)) == Orbit((1, 1, 0), ((1, 1, 0), (-1, 1, 0)), (0, 12), False, None, False)
    assert orbit_of((1, 0, 0)) == Orbit((1, 0, 0), ((1, 0, 0), (-1, 0, 0)), (0, 0), False, None, True)
    assert d.orbits()[0] == Orbit((0, 0, 0), ((0, 0, 0),), (0,), False, None, True)


# ----------------------------------------------------------------------------- structure

@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_orbits_are_the_point_group_orbits(number):
    """Same partition as {R^T k : R in P}, computed from the operations by sorting images."""
    b = basis(number)
    d = b.decomposition
    hkl = b.frequencies.hkl
    images = np.einsum("ni,gij->ngj", hkl, _rotations(b.group))                 # (n, g, 3): R^T k
    base = 2 * int(np.abs(hkl).max()) + 1
    packed = ((images[..., 0] * base) + images[..., 1]) * base + images[..., 2]  # injective on the set
    _, label = np.unique(np.sort(packed, axis=1), axis=0, return_inverse=True)
    pairs = np.unique(np.stack([label.reshape(-1), d.orbit_of], axis=1), axis=0)
    assert len(pairs) == len(d) == label.max() + 1


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_representatives_and_order(number):
    d = basis(number).decomposition
    first_member = np.full(len(d), np.iinfo(np.int64).max)
    np.minimum.at(first_member, d.orbit_of, np.arange(len(d.orbit_of)))
    np.testing.assert_array_equal(d.representative, first_member)
    assert np.all(np.diff(d.representative) > 0)                    # numbered in canonical order
    assert d.representative[0] == 0                                 # k = 0 is orbit 0, present
    assert not d.absent[0]


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_orbit_stabilizer(number):
    """|O| * |stabilizer of k in P| = |P| for every k."""
    b = basis(number)
    rotations = np.unique(_rotations(b.group), axis=0)
    hkl = b.frequencies.hkl
    stabilizer = np.all(np.einsum("ni,gij->ngj", hkl, rotations) == hkl[:, None, :], axis=2).sum(axis=1)
    sizes = np.bincount(b.decomposition.orbit_of)[b.decomposition.orbit_of]
    np.testing.assert_array_equal(sizes * stabilizer, len(rotations))


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_centric_and_partner(number):
    """-O = O iff some R^T maps k to -k; the partner of O holds -k0; partners pair up."""
    b = basis(number)
    d = b.decomposition
    hkl = b.frequencies.hkl
    images = np.einsum("ni,gij->ngj", hkl[d.representative], _rotations(b.group))
    np.testing.assert_array_equal(d.centric, np.all(images == -hkl[d.representative][:, None, :], axis=2).any(axis=1))
    np.testing.assert_array_equal(d.orbit_of[b.frequencies.index(-hkl[d.representative])], d.partner)
    np.testing.assert_array_equal(d.partner[d.partner], np.arange(len(d)))
    np.testing.assert_array_equal(d.absent[d.partner], d.absent)    # Friedel: k absent iff -k absent


@pytest.mark.parametrize("number", [1, 4, 76, 144, 169, 198, 210], ids=lambda n: f"sg{n}")
def test_no_friedel_pairing_without_inversion(number):
    """For a non-centrosymmetric point group a general k and -k lie in different orbits."""
    b = basis(number)
    d = b.decomposition
    k = b.frequencies.index([[1, 2, 3], [-1, -2, -3]])
    assert d.orbit_of[k[0]] != d.orbit_of[k[1]]
    assert not d.centric[d.orbit_of[k[0]]]


# ----------------------------------------------------------------------------- phases and absences

@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_member_phases_satisfy_the_invariance_constraint(number):
    """c_{R^T k} = e(k.t) c_k with c_m = e(phi_m / 24), exactly, for every present k and operation."""
    b = basis(number)
    d, graph = b.decomposition, b.graph
    present = _present(d)[d.orbit_of]
    phase = d.phase_24
    expected = (phase[:, None] + graph.phase_24) % DEN
    np.testing.assert_array_equal(phase[graph.image][present], expected[present])
    assert not phase[d.representative].any()                       # phi_{k0} = 0
    assert not phase[~present].any()


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_absence_is_a_property_of_the_whole_orbit(number):
    """Every member of an absent orbit is fixed by an operation with a non-integer phase, and no
    member of a present orbit is."""
    b = basis(number)
    d = b.decomposition
    hkl = b.frequencies.hkl
    rotations = _rotations(b.group)
    translations = np.array([op.translation_24 for op in b.group.operations])
    fixed = np.all(np.einsum("ni,gij->ngj", hkl, rotations) == hkl[:, None, :], axis=2)
    own = (fixed & (hkl @ translations.T % DEN != 0)).any(axis=1)
    np.testing.assert_array_equal(own, d.absent[d.orbit_of])
    witnesses = [(tuple(hkl[d.representative[i]]), b.group.operations[d.witness[i]]) for i in np.flatnonzero(d.absent)]
    assert all(is_witness(op, k) for k, op in witnesses)
    assert (d.witness[~d.absent] == -1).all()


# ----------------------------------------------------------------------------- completeness

def _check_character_formula(group, cutoff, shell):
    b = basis(group, cutoff, shell)
    present_orbits = int(_present(b.decomposition).sum())
    assert present_orbits == character_dimension(b.group, b.frequencies.hkl) == b.dim


@pytest.mark.parametrize(("cutoff", "shell"), [(5, "ball"), (2, "box")], ids=["ball5", "box2"])
@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_orbit_count_equals_character_formula(number, cutoff, shell):
    _check_character_formula(number, cutoff, shell)


@pytest.mark.parametrize("hall_number", [7, 87, 228, 434, 459, 525], ids=lambda h: f"hall{h}")
def test_orbit_count_equals_character_formula_non_standard_settings(hall_number):
    _check_character_formula(space_group(hall_number=hall_number), 5, "ball")


@pytest.mark.sweep
@pytest.mark.parametrize(("cutoff", "shell"), [(5, "ball"), (8, "ball"), (4, "box")], ids=["ball5", "ball8", "box4"])
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_orbit_count_equals_character_formula_every_group(number, cutoff, shell):
    _check_character_formula(number, cutoff, shell)


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_orbit_count_equals_character_formula_every_setting(hall_number):
    _check_character_formula(space_group(hall_number=hall_number), 5, "ball")
