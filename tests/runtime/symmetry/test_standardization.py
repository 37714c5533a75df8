"""Standardization: spglib in our Hall setting, then a canonical choice among normalizer images.

Every description of the same crystal must give the same standardized cell: same cell
parameters and the same set of positions (a G-invariant set, so "the same up to the
operations of G" is "the same set"). Checked on random crystals of groups that cover
every crystal system, centring, the rhombohedral groups on hexagonal axes, polar axes,
enantiomorphic screws and the two-origin groups; and on a real DFT structure when the
shared data exist.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pytest
import spglib

from crystal_fourier.derive import DEN, space_group, standard_hall_number
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import random_crystal
from crystal_fourier.runtime.symmetry._random_crystals import orbit
from crystal_fourier.runtime.symmetry._standardization import (
    DEFAULT_SYMPREC,
    SYMPREC_RETRY_SEQUENCE,
    detect_group,
    standardize,
)
from crystal_fourier.runtime import Crystal
from crystal_fourier.runtime.structure_io._structures import lattice_from_parameters

# triclinic, monoclinic P and C, orthorhombic P and F (two origins), tetragonal polar chiral,
# tetragonal I with two origins, trigonal R (hexagonal axes), hexagonal, cubic P/F/I
GROUPS = (1, 2, 14, 15, 62, 70, 76, 141, 146, 166, 186, 194, 205, 227, 230)
POSITION_TOLERANCE = 1e-9   # fractional; exact inputs give round-off differences only
CELL_TOLERANCE = 1e-9       # Angstrom and degrees


@lru_cache(maxsize=None)
def made(number: int) -> Crystal:
    """A random crystal whose detected group is exactly ``number`` (the first seed that gives one)."""
    for seed in range(100):
        result = random_crystal(number, seed=seed, max_atoms=16)
        if result.number == number:
            return result.crystal
    raise AssertionError(f"no random crystal of exactly group {number} in 100 seeds")


def assert_same(a, b, tolerance=POSITION_TOLERANCE):
    __tracebackhide__ = True
    assert (a.number, a.hall_number, a.n_atoms) == (b.number, b.hall_number, b.n_atoms)
    np.testing.assert_allclose(a.cell_parameters, b.cell_parameters, rtol=0, atol=CELL_TOLERANCE)
    assert a.numbers.tolist() == b.numbers.tolist()
    difference = a.positions[:, None, :] - b.positions[None, :, :]
    difference -= np.round(difference)
    distance = np.max(np.abs(difference), axis=-1)
    distance[a.numbers[:, None] != b.numbers[None, :]] = np.inf
    worst = max(distance.min(axis=0).max(), distance.min(axis=1).max())
    assert worst < tolerance, f"positions differ by {worst:.3g} (tolerance {tolerance})"


def rotation(rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def change_basis(crystal: Crystal, matrix) -> Crystal:
    """The same crystal in the basis (new rows) = matrix @ (old rows); x_new = matrix^-T x_old."""
    matrix = np.asarray(matrix, dtype=float)
    return Crystal(matrix @ crystal.lattice, crystal.positions @ np.linalg.inv(matrix), crystal.numbers)


BASIS_CHANGES = {
    "sheared-basis": [[1, 1, 0], [0, 1, 0], [0, -1, 1]],
    "cyclic-axes": [[0, 1, 0], [0, 0, 1], [1, 0, 0]],
    "flipped-axes": [[1, 0, 0], [0, -1, 0], [0, 0, -1]],
}
"""The descriptions that choose other axes: the new basis rows in terms of the old (change_basis)."""


def describe(crystal: Crystal, how: str, rng) -> Crystal:
    lattice, positions, numbers = crystal.lattice, crystal.positions, crystal.numbers
    if how == "permuted":
        order = rng.permutation(len(numbers))
        return Crystal(lattice, positions[order], numbers[order])
    if how == "lattice-translated":
        return Crystal(lattice, positions + rng.integers(-3, 4, size=positions.shape), numbers)
    if how == "rotated":
        return Crystal(lattice @ rotation(rng).T, positions, numbers)
    if how == "origin-shifted":
        return Crystal(lattice, positions + rng.random(3), numbers)
    if how == "primitive":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)   # spglib's old-error-handling notice
            cell = spglib.find_primitive(crystal.spglib_cell, symprec=1e-5)
        return Crystal(*cell)
    if how in BASIS_CHANGES:
        return change_basis(crystal, BASIS_CHANGES[how])
    raise AssertionError(how)


HOWS = ("permuted", "lattice-translated", "rotated", "origin-shifted", "primitive", "sheared-basis",
        "cyclic-axes", "flipped-axes")


@pytest.mark.parametrize("number", GROUPS, ids=lambda n: f"sg{n}")
def test_standardized_cell_is_the_same_for_every_description(number):
    crystal = made(number)
    reference = standardize(crystal)
    rng = np.random.default_rng(number)
    for how in HOWS:
        other = standardize(describe(crystal, how, rng))
        try:
            assert_same(reference, other)
        except AssertionError as error:
            raise AssertionError(f"sg{number}, {how}: {error}") from None


@pytest.mark.parametrize("number", [48, 70, 141, 227], ids=lambda n: f"sg{n}")
def test_origin_choice_1_input_gives_the_origin_choice_2_cell(number):
    """The crystal written in origin choice 1 (shifted by the o1 -> o2 offset) standardizes the same."""
    crystal = made(number)
    origin_1 = standard_hall_number(number) - 1
    assert space_group(hall_number=origin_1).choice == "1"
    in_origin_1 = standardize(crystal, hall_number=origin_1)
    shifted = Crystal(in_origin_1.lattice, in_origin_1.positions, in_origin_1.numbers)
    assert_same(standardize(crystal), standardize(shifted))
    # and the origin-choice-1 cell is invariant under the origin-choice-1 operations, not the standard ones
    assert is_invariant(in_origin_1.positions, in_origin_1.numbers, space_group(hall_number=origin_1))


def is_invariant(positions, numbers, group, tolerance=1e-9) -> bool:
    rotations, translations_24 = group.arrays
    for r, t in zip(rotations, translations_24, strict=True):
        images = positions @ r.T + t / DEN
        difference = images[:, None, :] - positions[None, :, :]
        difference -= np.round(difference)
        distance = np.max(np.abs(difference), axis=-1)
        distance[numbers[:, None] != numbers[None, :]] = np.inf
        if distance.min(axis=1).max() > tolerance:
            return False
    return True


@pytest.mark.parametrize("number", GROUPS, ids=lambda n: f"sg{n}")
def test_standardized_positions_are_exactly_invariant_under_the_group(number):
    result = standardize(made(number))
    assert result.hall_number == standard_hall_number(result.number)
    assert is_invariant(result.positions, result.numbers, result.group)
    assert np.all((result.positions >= 0) & (result.positions < 1))


def test_invariance_check_can_fail():
    result = standardize(made(194))
    moved = result.positions.copy()
    moved[0] += [0.01, 0, 0]
    assert not is_invariant(moved, result.numbers, result.group)


def test_diamond_comes_out_in_origin_choice_2():
    fcc = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    diamond = Crystal(3.567 * np.eye(3), np.vstack([fcc, fcc + 0.25]), [6] * 8)   # origin choice 1: 8a at 0,0,0
    result = standardize(diamond)
    assert (result.number, result.hall_number) == (227, 526)
    as_set = {tuple(np.round(p * 8).astype(int) % 8) for p in result.positions}
    site_8a = {tuple(np.round(p * 8).astype(int) % 8) for p in orbit(227, [1 / 8, 1 / 8, 1 / 8])}
    site_8b = {tuple(np.round(p * 8).astype(int) % 8) for p in orbit(227, [3 / 8, 3 / 8, 3 / 8])}
    assert as_set in (site_8a, site_8b)  # the two sublattices are the normalizer twins of origin choice 2
    assert (0, 0, 0) not in as_set       # not the origin-choice-1 description
    np.testing.assert_allclose(result.positions * 8, np.round(result.positions * 8), rtol=0, atol=1e-12)
    # spglib asked for our Hall number puts 8a at 1/8: the origin-choice-2 table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset(diamond.spglib_cell, symprec=1e-3, hall_number=526)
    assert {tuple(np.round(p * 8).astype(int) % 8) for p in data.std_positions} in (site_8a, site_8b)


def test_hexagonal_and_rhombohedral_cells_have_hexagonal_metric():
    for number in (146, 166, 194):
        parameters = standardize(made(number)).cell_parameters
        assert parameters[0] == pytest.approx(parameters[1], abs=1e-9)
        np.testing.assert_allclose(parameters[3:], [90, 90, 120], rtol=0, atol=1e-9)


def test_lattice_is_rotation_free():
    result = standardize(made(62))
    np.testing.assert_allclose(result.lattice, lattice_from_parameters(*result.cell_parameters), rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.metric, result.lattice @ result.lattice.T, rtol=0, atol=1e-12)


def test_transformation_maps_input_positions_onto_the_standardized_cell():
    crystal = describe(made(141), "sheared-basis", np.random.default_rng(0))
    result = standardize(crystal)
    mapped = crystal.positions @ result.transformation.T + result.origin_shift
    difference = mapped[:, None, :] - result.positions[None, :, :]
    difference -= np.round(difference)
    assert np.max(np.min(np.max(np.abs(difference), axis=-1), axis=1)) < 1e-9


def test_noisy_structure_is_symmetrized_and_still_canonical():
    rng = np.random.default_rng(5)
    crystal = made(166)
    noisy = Crystal(crystal.lattice + rng.normal(scale=1e-3, size=(3, 3)),
                    crystal.positions + rng.normal(scale=1e-4, size=crystal.positions.shape), crystal.numbers)
    reference = standardize(noisy)
    assert reference.number == 166
    assert is_invariant(reference.positions, reference.numbers, reference.group)
    for how in HOWS:
        assert_same(reference, standardize(describe(noisy, how, rng)), tolerance=1e-9)


def test_declared_group_must_be_the_detected_one():
    crystal = made(194)
    assert standardize(crystal, declared="P6_3/mmc").number == 194
    with pytest.raises(CrystalFourierError, match=r"declared space group 225 \(Fm-3m\).*finds 194 \(P6_3/mmc\)"):
        standardize(crystal, declared=225)
    with pytest.raises(CrystalFourierError, match=r"declared space group 186 .*finds 194 .*larger point group"):
        standardize(crystal, declared=186)


def test_another_setting_on_request():
    crystal = made(14)
    result = standardize(crystal, hall_number=82)   # P 1 1 21/c: unique axis c
    assert (result.number, result.hall_number) == (14, 82)
    assert is_invariant(result.positions, result.numbers, space_group(hall_number=82))
    assert_same(result, standardize(describe(crystal, "origin-shifted", np.random.default_rng(1)), hall_number=82))
    with pytest.raises(CrystalFourierError, match="hall_number=526 is a setting of group 227"):
        standardize(crystal, hall_number=526)


def test_spglib_failure_is_a_clear_error():
    crystal = Crystal(3 * np.eye(3), [[0, 0, 0], [1e-7, 0, 0]], [29, 29])   # 3e-7 A apart: fails at every tolerance
    with pytest.raises(CrystalFourierError, match=r"spglib could not determine the symmetry.*"
                                                  r"symprec = 0\.1, 0\.01, 0\.001, 0\.0001, 1e-05 A"):
        standardize(crystal, symprec=0.1)
    with pytest.raises(CrystalFourierError, match="symprec must be a positive"):
        detect_group(made(2), symprec=-1.0)


def test_default_symprec_is_documented_value():
    assert DEFAULT_SYMPREC == 0.1


def test_tolerance_retry_sequence():
    """Two atoms 0.003 A apart: spglib finds no symmetry at 0.1 or 0.01 A, and does at 1e-3, which is recorded."""
    assert SYMPREC_RETRY_SEQUENCE == (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)
    crystal = Crystal(3 * np.eye(3), [[0, 0, 0], [0.001, 0, 0]], [29, 29])
    result = standardize(crystal)
    assert (result.symprec, result.number, result.n_atoms) == (1e-3, 123, 2)
    assert standardize(crystal, symprec=0.05).symprec == 1e-3
    assert standardize(made(194)).symprec == DEFAULT_SYMPREC   # no retry needed: the requested tolerance
    with pytest.raises(CrystalFourierError, match=r"at symprec=0\.1 A \(.*\); check for overlapping atoms or try"):
        standardize(crystal, retry=False)
    with pytest.raises(CrystalFourierError, match="symprec must be a positive"):
        standardize(crystal, symprec=float("nan"))


# ------------------------------------------------------------------ the re-orderings only for near ties
# (the near-tie crystals themselves: tests/runtime/symmetry/test_atom_order.py)
def _same(a, b) -> bool:
    return ((a.number, a.hall_number, a.n_atoms) == (b.number, b.hall_number, b.n_atoms)
            and np.allclose(a.cell_parameters, b.cell_parameters, rtol=0, atol=1e-9)
            and a.numbers.tolist() == b.numbers.tolist()
            and np.allclose(a.positions, b.positions, rtol=0, atol=1e-9))


def _with_fraction(monkeypatch, fraction, crystal, symprec=0.1):
    """standardize with NEAR_TIE_FRACTION = fraction: 0 tries the re-orderings for every crystal (the rule
    before the gate), inf never."""
    from crystal_fourier.runtime.symmetry import _standardization

    with monkeypatch.context() as patch:
        patch.setattr(_standardization, "NEAR_TIE_FRACTION", fraction)
        return standardize(crystal, symprec=symprec)


def test_exact_crystals_make_one_spglib_call(monkeypatch):
    """Far from any threshold (exact positions) one spglib call is made, and the answer is the full rule's."""
    from crystal_fourier.runtime.symmetry import _standardization

    calls = []
    dataset = _standardization._dataset
    monkeypatch.setattr(_standardization, "_dataset", lambda *a, **k: calls.append(a) or dataset(*a, **k))
    for number in (2, 14, 38, 62, 139, 166, 194, 225):   # no origin choice 1 default, no enantiomorphic partner
        crystal = random_crystal(number, seed=number, max_atoms=24).crystal
        calls.clear()
        result = standardize(crystal)
        assert len(calls) == 1
        assert _same(result, _with_fraction(monkeypatch, 0.0, crystal))
