"""Unit tests of the site lookup and the assignment of atoms to ideal sites (runtime/symmetry/_symmetrization.py).

The symmetrization itself is checked end to end by test_canonical_choice.py and test_standardization.py.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import spglib

from crystal_fourier import runtime
from crystal_fourier.audit import supercell
from crystal_fourier.derive import space_group, standard_hall_number
from crystal_fourier.runtime import Crystal
from crystal_fourier.runtime import random_crystal
from crystal_fourier.runtime.symmetry._symmetrization import (
    _LOOKUP_GRID,
    _assign_to_sites,
    _site_index,
    residual_exceeds,
    symmetry_residual,
)


def test_site_lookup_finds_every_site_across_cell_walls_and_periodic_images():
    rng = np.random.default_rng(0)
    sites = rng.random((500, 3))
    sites[:100] = np.round(sites[:100] * _LOOKUP_GRID) / _LOOKUP_GRID   # exactly on cell walls
    sites[100:110] = 0.0 + np.arange(10)[:, None] * 1e-3                  # near the origin
    sites[110:160] = (np.floor(sites[110:160] * _LOOKUP_GRID) + 0.5) / _LOOKUP_GRID   # halfway between grid points
    sites[160:170] = np.arange(10)[:, None] / 48.0 + [0.0, 0.5, 1.0 - 2.0**-50]       # special coordinates
    order = rng.permutation(len(sites))
    noise = rng.uniform(-1e-7, 1e-7, size=sites.shape)
    points = sites[order] + noise + rng.integers(-2, 3, size=sites.shape)
    assert _site_index(points, sites, tolerance=1e-6).tolist() == order.tolist()
    assert _site_index(points + [0, 0, 3e-6], sites, tolerance=1e-6).tolist() == [-1] * len(sites)


def test_assignment_without_spglib_mappings_gives_the_same_sites():
    """The chunked fallback (all sites of a species as candidates) agrees with the mapping path."""
    crystal = supercell(runtime.crystal_of(227), (2, 1, 1)).crystal
    rng = np.random.default_rng(1)
    noisy = Crystal(crystal.lattice, crystal.positions + rng.normal(scale=2e-4, size=crystal.positions.shape),
                    crystal.numbers)
    hall = standard_hall_number(227)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        data = spglib.get_symmetry_dataset(noisy.spglib_cell, symprec=0.1, hall_number=hall)
    transformation = np.asarray(data.transformation_matrix, dtype=float)
    raw = noisy.positions @ transformation.T + np.asarray(data.origin_shift)
    lattice = np.linalg.inv(transformation).T @ noisy.lattice
    ideal, types = np.asarray(data.std_positions), np.asarray(data.std_types)
    rotations, translations_24 = space_group(hall_number=hall).arrays
    centrings = translations_24[np.all(rotations == np.eye(3, dtype=rotations.dtype), axis=(1, 2))]  # F: 4
    assert len(centrings) == 4
    mapped = _assign_to_sites(raw, noisy.numbers, ideal, types, lattice, centrings, data)
    brute = _assign_to_sites(raw, noisy.numbers, ideal, types, lattice, centrings, SimpleNamespace())
    assert mapped[0].tolist() == brute[0].tolist()
    np.testing.assert_allclose(mapped[1], brute[1], rtol=0, atol=1e-12)
    assert np.bincount(mapped[0], minlength=len(ideal)).min() > 0


def test_symmetry_residual_measures_the_displacement():
    """0 (to round-off) for an exact crystal; between the displacement and 4x it when one atom is moved."""
    made = random_crystal(139, seed=1, max_atoms=24).crystal

    def dataset(crystal):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return spglib.get_symmetry_dataset(crystal.spglib_cell, symprec=0.1)

    assert symmetry_residual(made, dataset(made)) < 1e-9
    moved = made.positions.copy()
    moved[0] += np.array([0.03, 0.0, 0.0]) / np.linalg.norm(made.lattice[0])   # 0.03 A along a
    shifted = Crystal(made.lattice, moved, made.numbers)
    data = dataset(shifted)
    assert data.number == 139
    assert 0.03 <= symmetry_residual(shifted, data) <= 0.12


def test_residual_exceeds_answers_as_the_residual_does():
    """residual_exceeds(t) == (symmetry_residual > t) at thresholds on both sides of the residual, one ulp away
    included: for an exact crystal (the strain bound decides), a moved atom (2 d decides) and a strained cell
    (the SVD decides)."""
    made = random_crystal(139, seed=1, max_atoms=24).crystal
    moved = made.positions.copy()
    moved[0] += np.array([0.03, 0.0, 0.0]) / np.linalg.norm(made.lattice[0])
    strained = made.lattice @ np.array([[1.0, 0.002, 0.0], [0.002, 1.0, 0.0], [0.0, 0.0, 1.0]])
    for crystal in (made, Crystal(made.lattice, moved, made.numbers), Crystal(strained, made.positions, made.numbers)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            data = spglib.get_symmetry_dataset(crystal.spglib_cell, symprec=0.1)
        residual = symmetry_residual(crystal, data)
        for threshold in (0.0, 0.025, np.inf, residual, np.nextafter(residual, 0), np.nextafter(residual, 1),
                          residual / 2, 2 * residual):
            assert residual_exceeds(crystal, data, threshold) == (residual > threshold)


def test_float_operation_tables_are_the_settings_own():
    """_float_operations is cached per Hall number: each setting reads its own rotations and translations."""
    from crystal_fourier.runtime.symmetry import _symmetrization

    for number in (2, 221, 225, 230, 2):
        hall = standard_hall_number(number)
        rotations, translations = _symmetrization._float_operations(hall)
        table = _symmetrization._group_table(hall)
        assert rotations.tolist() == table.rotations.tolist()
        assert (translations * 24).round().astype(int).tolist() == table.translations_24.tolist()


def test_cached_inverse_and_determinant_are_numpys_bytes_per_matrix():
    from crystal_fourier.runtime.symmetry._symmetrization import determinant_3x3, inverse_3x3

    rng = np.random.default_rng(5)
    matrices = [np.eye(3), np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]) / 2, rng.normal(size=(3, 3)), -np.eye(3)]
    for _ in range(2):   # the second pass reads the cache
        for matrix in matrices:
            assert inverse_3x3(matrix).tobytes() == np.linalg.inv(matrix).tobytes()
            assert determinant_3x3(matrix) == float(np.linalg.det(matrix))


def test_generator_steps_compose_every_operation_once():
    """_generator_steps: composing the generators level by level gives each operation of the setting exactly
    once (mod the lattice), each from operations of earlier levels, for all 530 settings."""
    from crystal_fourier.runtime.symmetry._symmetrization import _generator_steps

    for hall in range(1, 531):
        rotations, translations_24 = space_group(hall_number=hall).arrays
        generator_rotations, generator_translations, steps = _generator_steps(hall)
        assert rotations[steps[0][0][0]].tolist() == np.eye(3).tolist()
        done = {int(steps[0][0][0])}
        for operations, generators, previous in steps[1:]:
            assert set(previous.tolist()) <= done
            assert not set(operations.tolist()) & done
            rotation = generator_rotations[generators] @ rotations[previous]      # x -> R_g (R_p x + t_p) + t_g
            translation = np.einsum("kij,kj->ki", generator_rotations[generators], translations_24[previous])
            translation += generator_translations[generators] * 24
            assert (rotation == rotations[operations]).all()
            assert (np.round(translation - translations_24[operations]) % 24 == 0).all()
            done |= set(operations.tolist())
        assert done == set(range(len(rotations)))
