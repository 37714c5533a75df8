"""Random symmetric crystals: exact symmetry, metric constraints, distances, seeds, special positions."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import spglib

from crystal_fourier.derive import DEN, space_group
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.symmetry._random_crystals import (
    EMT_SPECIES,
    fixed_points,
    orbit,
    random_crystal,
    random_lattice,
)
from crystal_fourier.runtime.structure_io._structures import atomic_number, cell_parameters
from crystal_fourier.runtime.symmetry._periodic import periodic_distances
from crystal_fourier.testing import REPRESENTATIVE_GROUPS

MAX_ATOMS = 16


def images_match(positions, numbers, rotation, translation_24, tolerance=1e-9) -> bool:
    images = positions @ rotation.T + translation_24 / DEN
    difference = images[:, None, :] - positions[None, :, :]
    difference -= np.round(difference)
    distance = np.max(np.abs(difference), axis=-1)
    distance[numbers[:, None] != numbers[None, :]] = np.inf
    return bool(distance.min(axis=1).max() < tolerance)


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_random_crystal_has_the_requested_symmetry(number):
    made = random_crystal(number, seed=7, max_atoms=MAX_ATOMS)
    crystal = made.crystal
    assert made.requested == number
    assert 1 <= crystal.n_atoms <= MAX_ATOMS
    assert set(crystal.numbers.tolist()) <= {atomic_number(s) for s in EMT_SPECIES}
    # the group spglib finds is recorded ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # spglib's old-error-handling notice
        data = spglib.get_symmetry_dataset(crystal.spglib_cell, symprec=made.symprec)
    assert made.number == data.number
    # ... and the stored cell is exactly invariant under the operations of that group (the requested
    # one in its standard setting, or the larger one found, standardized)
    rotations, translations_24 = space_group(made.number).arrays
    assert all(images_match(crystal.positions, crystal.numbers, r, t)
               for r, t in zip(rotations, translations_24, strict=True))
    if made.number == number:
        distances = periodic_distances(crystal.lattice, crystal.positions, crystal.positions)
        np.fill_diagonal(distances, np.inf)
        assert distances.min() >= 2.0 - 1e-9


def test_symmetry_check_can_fail():
    crystal = random_crystal(221, seed=0, max_atoms=MAX_ATOMS).crystal
    rotations, translations_24 = space_group(221).arrays
    moved = crystal.positions.copy()
    moved[0] += 0.013
    assert not all(images_match(moved, crystal.numbers, r, t) for r, t in zip(rotations, translations_24, strict=True))


def test_same_seed_same_crystal_other_seed_other_crystal():
    a = random_crystal(62, seed=11)
    b = random_crystal(62, seed=11)
    c = random_crystal(62, seed=12)
    assert np.array_equal(a.crystal.positions, b.crystal.positions)
    assert np.array_equal(a.crystal.lattice, b.crystal.lattice)
    assert a.crystal.positions.shape != c.crystal.positions.shape or not np.allclose(a.crystal.positions,
                                                                                      c.crystal.positions)


def test_most_crystals_keep_exactly_the_requested_group():
    detected = [random_crystal(number, seed=seed, max_atoms=MAX_ATOMS).number
                for number in (14, 62, 99, 141, 194, 227) for seed in range(4)]
    requested = [number for number in (14, 62, 99, 141, 194, 227) for _ in range(4)]
    assert sum(d == r for d, r in zip(detected, requested, strict=True)) >= 0.6 * len(requested)


def test_special_positions_are_used():
    """Some orbits are smaller than the general position: atoms sit on symmetry elements."""
    multiplicity = len(space_group(225).operations)
    sizes = []
    for seed in range(5):
        crystal = random_crystal(225, seed=seed, max_atoms=MAX_ATOMS).crystal
        sizes.append(crystal.n_atoms)
    assert max(sizes) < multiplicity  # 192 atoms never fit: only special positions were possible


@pytest.mark.parametrize(
    ("number", "expected"),
    [(2, None), (12, "monoclinic"), (62, "orthorhombic"), (91, "tetragonal"), (166, "hexagonal"),
     (194, "hexagonal"), (230, "cubic")],
)
def test_lattices_obey_the_metric_constraints(number, expected):
    a, b, c, alpha, beta, gamma = cell_parameters(random_lattice(number, np.random.default_rng(number), volume=50.0))
    if expected == "monoclinic":
        assert (alpha, gamma) == pytest.approx((90, 90), abs=1e-9)
        assert beta >= 90
    elif expected == "orthorhombic":
        assert (alpha, beta, gamma) == pytest.approx((90, 90, 90), abs=1e-9)
    elif expected == "tetragonal":
        assert a == pytest.approx(b, abs=1e-12)
        assert (alpha, beta, gamma) == pytest.approx((90, 90, 90), abs=1e-9)
    elif expected == "hexagonal":
        assert a == pytest.approx(b, abs=1e-12)
        assert (alpha, beta, gamma) == pytest.approx((90, 90, 120), abs=1e-9)
    elif expected == "cubic":
        assert a == pytest.approx(b, abs=1e-12) == c
        assert (alpha, beta, gamma) == pytest.approx((90, 90, 90), abs=1e-9)
    else:
        assert len({round(a, 6), round(b, 6), round(c, 6)}) == 3


def test_fixed_points_are_exact():
    fd3m = space_group(227)
    inversion = next(op for op in fd3m.operations if op.xyz == "-x,-y,-z")
    x0, basis = fixed_points([(np.array(inversion.rotation), np.array(inversion.translation_24))])
    assert x0.tolist() == [0.0, 0.0, 0.0]
    assert basis.shape == (0, 3)
    threefold = next(op for op in space_group(166).operations if op.xyz == "-y,x-y,z")
    x0, basis = fixed_points([(np.array(threefold.rotation), np.array(threefold.translation_24) + [DEN, 0, 0])])
    assert basis.shape == (1, 3)
    assert abs(abs(basis[0, 2]) - 1) < 1e-12          # a line along c
    image = np.array(threefold.rotation) @ x0 + np.array(threefold.translation_24) / DEN
    np.testing.assert_allclose(np.mod(image - x0 + 0.5, 1) - 0.5, 0, atol=1e-12)
    assert fixed_points([(np.eye(3, dtype=int), [12, 0, 0])]) is None            # a pure translation fixes nothing


def test_orbit_sizes_match_wyckoff_multiplicities():
    assert len(orbit(225, [0.11, 0.23, 0.37])) == 192
    assert len(orbit(225, [0.5, 0.5, 0.5])) == 4      # 4b
    assert len(orbit(225, [0.25, 0.25, 0.25])) == 8   # 8c
    assert len(orbit(194, [1 / 3, 2 / 3, 0.25])) == 2  # 2c
    assert len(orbit(230, [0.125, 0.125, 0.125])) == 16  # 16b


def test_impossible_requests_are_clear_errors():
    with pytest.raises(CrystalFourierError, match="group 230 .*raise max_atoms"):
        random_crystal(230, seed=0, max_atoms=8)
    with pytest.raises(CrystalFourierError, match="unknown element symbol"):
        random_crystal(1, seed=0, species=["Unobtainium"])
    with pytest.raises(CrystalFourierError, match="1-230"):
        random_crystal(231, seed=0)


@pytest.mark.parametrize("number", [2, 14, 166, 227], ids=lambda n: f"sg{n}")
def test_crystal_of_has_exactly_the_group_and_no_close_atoms(number):
    from crystal_fourier.runtime import detect_group
    from crystal_fourier.runtime.symmetry._random_crystals import MIN_TEST_DISTANCE, crystal_of

    crystal = crystal_of(number)
    assert detect_group(crystal) == number
    assert set(crystal.numbers.tolist()) == {13, 29}  # a special orbit (Cu) and a general one (Al)
    gap = crystal.positions[:, None, :] - crystal.positions[None, :, :]
    gap -= np.round(gap)  # the documented measure: nearest image of each fractional difference
    distances = np.linalg.norm(gap @ crystal.lattice, axis=-1) + np.eye(crystal.n_atoms) * 1e9
    assert distances.min() >= MIN_TEST_DISTANCE


def test_crystal_of_is_deterministic_and_says_when_no_seed_fits():
    from crystal_fourier.runtime import crystal_of, crystals_of

    first = crystal_of(70)
    np.testing.assert_array_equal(first.positions, next(crystals_of(70)).positions)
    with pytest.raises(CrystalFourierError, match="no crystal of exactly group 70 in 0 seeds"):
        crystal_of(70, seeds=())
    with pytest.raises(CrystalFourierError, match="no crystal of exactly group 227"):
        crystal_of(227, min_distance=1e6)  # no seed passes: it refuses rather than return a crystal with close atoms
