"""The real basis: invariance under every operation, the phase-sign convention, independence,
completeness and the centric / Re-Im structure."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crystal_fourier.derive import (
    DEN,
    DualGraph,
    basis,
    character_dimension,
    orbit_decomposition,
    real_basis,
    space_group,
)
from crystal_fourier.derive._real_bases import PHASE_DEN
from crystal_fourier.testing import assert_invariant
from crystal_fourier.testing import REPRESENTATIVE_GROUPS, REPRESENTATIVE_SETTINGS

INVARIANCE_TOLERANCE = 1e-12
"""Absolute, float64, unscaled: the issue's bound. Measured worst case 4.4e-14 at R = 5
for points in [-1, 1]^3 (see crystal_fourier.testing.FLOAT_TOLERANCE)."""

POSITIONS = arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.just(3)),
    elements=st.floats(-1, 1, allow_nan=False, allow_infinity=False, width=64),
)
"""Hypothesis draws fractional positions only; the group action is iterated over all operations."""

GROUPS = [*REPRESENTATIVE_GROUPS, *(space_group(hall_number=h) for h in REPRESENTATIVE_SETTINGS)]


def _group_id(group):
    return f"sg{group}" if isinstance(group, int) else f"hall{group.hall_number}"


def _conjugated(b):
    """The basis derived with the wrong sign convention c_{R^T k} = e(-k.t) c_k."""
    graph = b.graph
    wrong = DualGraph(graph.group, graph.frequencies, graph.image, (-graph.phase_24) % DEN)
    return real_basis(orbit_decomposition(wrong))


# ----------------------------------------------------------------------------- invariance

@pytest.mark.parametrize("group", GROUPS, ids=_group_id)
@settings(max_examples=25, deadline=None)
@given(positions=POSITIONS)
def test_every_function_is_invariant_under_every_operation(group, positions):
    b = basis(group)
    errors = assert_invariant(b.real, b.group, positions, tolerance=INVARIANCE_TOLERANCE)
    assert errors.shape == (len(b.group.operations),)


@pytest.mark.parametrize(("cutoff", "shell"), [(2, "box"), (8, "ball")], ids=["box2", "ball8"])
@pytest.mark.parametrize("number", [76, 144, 169, 210, 227], ids=lambda n: f"sg{n}")
@settings(max_examples=5, deadline=None)
@given(positions=POSITIONS)
def test_invariance_at_other_cutoffs(number, cutoff, shell, positions):
    b = basis(number, cutoff, shell)
    assert_invariant(b.real, b.group, positions, tolerance=INVARIANCE_TOLERANCE)


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
@settings(max_examples=3, deadline=None)
@given(positions=POSITIONS)
def test_every_function_is_invariant_every_setting(hall_number, positions):
    b = basis(None, hall_number=hall_number)
    assert_invariant(b.real, b.group, positions, tolerance=INVARIANCE_TOLERANCE)


# ----------------------------------------------------------------------------- the sign convention

@pytest.mark.parametrize(
    "group",
    [76, 91, 144, 169, 210, space_group("Fd-3m:1"), 43, 122],
    ids=["P4_1", "P4_122", "P3_1", "P6_1", "F4_132", "Fd-3m:1", "Fdd2", "I-42d"],
)
def test_a_conjugated_phase_fails_invariance(group):
    """A sign error in the phase convention must not pass: the helper names a screw or glide."""
    b = basis(group)
    positions = np.random.default_rng(0).uniform(-1, 1, size=(8, 3))
    with pytest.raises(AssertionError, match=r"worst operation (\S+) ") as info:
        assert_invariant(_conjugated(b), b.group, positions, tolerance=INVARIANCE_TOLERANCE)
    named = info.value.args[0].split("worst operation ")[1].split(" ")[0]
    operation = next(op for op in b.group.operations if op.xyz == named)
    # Only translations that are not 0 or 1/2 (mod 1) tell e(k.t) from e(-k.t).
    assert any(t not in (0, DEN // 2) for t in operation.translation_24)


@pytest.mark.parametrize("number", [1, 2, 14, 62, 194, 225, 70, 141, 227, 230], ids=lambda n: f"sg{n}")
def test_a_conjugated_phase_is_invisible_in_these_groups(number):
    """Why the representative set needs 4_1, 3_1, 6_1 and non-centrosymmetric d-glides: with
    translations of 0 or 1/2 only, or with the origin on an inversion centre (real
    coefficients; 70, 141, 227, 230 in origin choice 2), both conventions give the same basis."""
    b = basis(number)
    wrong = _conjugated(b)
    np.testing.assert_array_equal(wrong.term_frequency, b.real.term_frequency)
    np.testing.assert_array_equal(wrong.term_phase_48, b.real.term_phase_48)


# ----------------------------------------------------------------------------- dimension and independence

@pytest.mark.parametrize("group", GROUPS, ids=_group_id)
def test_dimension_equals_character_formula(group):
    b = basis(group)
    assert len(b.real) == b.dim == character_dimension(b.group, b.frequencies.hkl) \
        == int((~b.decomposition.absent).sum())


@pytest.mark.parametrize("group", GROUPS, ids=_group_id)
def test_features_are_linearly_independent(group):
    b = basis(group)
    features = b.real(np.random.default_rng(1).random((b.dim + 10, 3)))
    assert features.shape == (b.dim + 10, b.dim)
    assert np.linalg.matrix_rank(features) == b.dim


@pytest.mark.parametrize(("number", "cutoff", "shell", "dim"),
                         [(1, 5, "ball", 515), (1, 2, "box", 125), (2, 5, "ball", 258)])
def test_dimension_anchors(number, cutoff, shell, dim):
    assert basis(number, cutoff, shell).dim == dim


# ----------------------------------------------------------------------------- structure

@pytest.mark.parametrize("group", GROUPS, ids=_group_id)
def test_centric_and_pair_structure(group):
    """One 'centric' function per centric present orbit; an adjacent 're', 'im' pair per pair
    O != -O, attached to whichever of O, -O comes first; absent orbits give nothing."""
    b = basis(group)
    d, real = b.decomposition, b.real
    parts = list(real.part)
    orbit = real.orbit
    present = np.flatnonzero(~d.absent)
    expected = []
    for o in present:                       # build the expected listing from the decomposition
        if d.centric[o]:
            expected += [(o, "centric")]
        elif d.partner[o] > o:
            expected += [(o, "re"), (o, "im")]
    assert list(zip(orbit.tolist(), parts, strict=True)) == expected
    covered = set(orbit.tolist()) | set(d.partner[orbit].tolist())
    assert covered == set(present.tolist())
    assert len(real) == len(present)        # real dimension = complex dimension


@pytest.mark.parametrize("group", GROUPS, ids=_group_id)
def test_terms_are_the_orbit_phases(group):
    """'re': p = 2 phi_m; 'im': p = 2 phi_m - 12 (sin = cos shifted by a quarter turn);
    'centric': one m of each pair {m, -m}, p = 2 phi_m - phi_{-k0}."""
    b = basis(group)
    d, real, hkl = b.decomposition, b.real, b.frequencies.hkl
    phi = d.phase_24[real.term_frequency]
    part = np.array(real.part)[real.term_function]
    orbit = real.orbit[real.term_function]
    negative_rep = b.frequencies.index(-hkl[d.representative[orbit]])
    expected = np.select(
        [part == "re", part == "im", part == "centric"],
        [2 * phi, 2 * phi - 12, 2 * phi - d.phase_24[negative_rep]],
    ) % PHASE_DEN
    np.testing.assert_array_equal(real.term_phase_48, expected)
    np.testing.assert_array_equal(d.orbit_of[real.term_frequency], orbit)
    sizes = np.bincount(real.term_function)
    orbit_sizes = np.bincount(d.orbit_of)[real.orbit]
    np.testing.assert_array_equal(np.where(np.array(real.part) == "centric", (orbit_sizes + 1) // 2, orbit_sizes),
                                  sizes)


@pytest.mark.parametrize("group", GROUPS, ids=_group_id)
def test_functions_are_re_im_of_the_orbit_sums(group):
    """Numerically: re/im = Re/Im psi_O, centric = e(-c/48) psi_O / 2 (real), k = 0 gives 1."""
    b = basis(group)
    d, real, hkl = b.decomposition, b.real, b.frequencies.hkl
    x = np.random.default_rng(2).uniform(-1, 1, size=(6, 3))
    waves = np.exp(2j * np.pi * (x @ hkl.T + d.phase_24 / DEN))                  # (n, n_frequencies)
    psi = np.zeros((len(x), len(d)), dtype=complex)
    np.add.at(psi.T, d.orbit_of, waves.T)
    values = real(x)
    parts = np.array(real.part)
    c = d.phase_24[b.frequencies.index(-hkl[d.representative[real.orbit]])]
    rotated = np.exp(-2j * np.pi * c / PHASE_DEN) * psi[:, real.orbit] / 2
    expected = np.select([parts == "re", parts == "im"], [psi[:, real.orbit].real, psi[:, real.orbit].imag],
                         rotated.real)
    expected[:, real.orbit == 0] = 1.0
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-11)
    centric = (parts == "centric") & (real.orbit != 0)
    np.testing.assert_allclose(rotated[:, centric].imag, 0.0, rtol=0, atol=1e-11)


def test_p2_1_functions_by_hand(p2_1):
    """P2_1, orbit {(1,1,0), (-1,1,0)} with phases 0, 1/2: psi = e(x+y) - e(-x+y)."""
    b = basis(p2_1, 1, "box")
    k = int(b.frequencies.index([[1, 1, 0]])[0])
    index = [i for i, o in enumerate(b.real.orbit) if o == b.decomposition.orbit_of[k]]
    re, im = (b.real.function(i) for i in index)
    assert (re.part, re.frequencies, re.phases_48) == ("re", ((1, 1, 0), (-1, 1, 0)), (0, 24))
    assert (im.part, im.frequencies, im.phases_48) == ("im", ((1, 1, 0), (-1, 1, 0)), (36, 12))
    x, y, z = np.random.default_rng(3).random((3, 5))
    positions = np.stack([x, y, z], axis=1)
    np.testing.assert_allclose(re(positions), np.cos(2 * np.pi * (x + y)) - np.cos(2 * np.pi * (y - x)), atol=1e-13)
    np.testing.assert_allclose(im(positions), np.sin(2 * np.pi * (x + y)) - np.sin(2 * np.pi * (y - x)), atol=1e-13)
    # The orbit {(1,0,0), (-1,0,0)} is centric with phases 0: the function is cos(2 pi x).
    orbit = b.decomposition.orbit_of[b.frequencies.index([[1, 0, 0]])[0]]
    cos_x = b.real.function(b.real.orbit.tolist().index(orbit))
    assert (cos_x.part, cos_x.frequencies, cos_x.phases_48) == ("centric", ((1, 0, 0),), (0,))


@pytest.mark.parametrize("group", [1, 76, 227], ids=_group_id)
def test_evaluation_paths_agree(group):
    """RealBasis.__call__ (all at once) equals each RealFunction.__call__, also on (..., 3) input."""
    b = basis(group)
    x = np.random.default_rng(4).uniform(-1, 1, size=(2, 3, 3))
    together = b.real(x.reshape(-1, 3))
    separately = np.stack([f(x).reshape(-1) for f in b.real.functions()], axis=1)
    np.testing.assert_allclose(together, separately, rtol=0, atol=1e-12)


def test_arrays_are_read_only(fd3m):
    real = basis(fd3m).real
    for array in (real.orbit, real.term_function, real.term_frequency, real.term_phase_48):
        assert not array.flags.writeable
        assert array.dtype == np.int64
    assert real.term_phase_48.min() >= 0
    assert real.term_phase_48.max() < PHASE_DEN
