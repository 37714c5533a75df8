"""runtime/symmetry/_periodic.py: minimum-image distances, exact for any cell shape."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.symmetry._periodic import minimum_image_norms, niggli_reduced, periodic_distances

DISTANCE_TOLERANCE = 1e-10
"""Angstrom; float64 distances of a few Angstrom computed two ways agree to ~1e-14."""


def brute_force(lattice, delta, reach: int) -> np.ndarray:
    """min over every image n in [-reach, reach]^3 of |(delta + n) L|, by enumeration."""
    images = np.array(list(itertools.product(range(-reach, reach + 1), repeat=3)), dtype=np.float64)
    delta = np.asarray(delta, dtype=np.float64)
    return np.linalg.norm((delta[..., None, :] + images) @ lattice, axis=-1).min(axis=-1)


def skewed_lattice(rng) -> np.ndarray:
    """A cell whose basis is a reduced one times a random unimodular shear with entries up to 4."""
    reduced = np.diag(rng.uniform(3.0, 6.0, 3)) + rng.uniform(-0.5, 0.5, (3, 3))
    shear = np.eye(3)
    shear[np.triu_indices(3, 1)] = rng.integers(-4, 5, 3)
    return shear @ reduced


def test_periodic_distances_see_lattice_images_in_skewed_cells():
    lattice = np.array([[3.0, 0, 0], [2.9, 1.0, 0], [0, 0, 5.0]])   # gamma about 19 degrees
    distance = periodic_distances(lattice, [[0, 0, 0]], [[0.0, 1.0, 0]])[0, 0]
    assert distance == pytest.approx(0.0, abs=1e-12)
    distance = periodic_distances(lattice, [[0, 0, 0]], [[-0.1, 0.1, 0]])[0, 0]
    assert distance == pytest.approx(np.linalg.norm(0.1 * (lattice[1] - lattice[0])), abs=1e-12)


def test_exact_where_rounding_and_two_cells_are_not_enough():
    # b = 10 a + b': the point 0.4 b' = (-4, 0.4, 0) in fractional coordinates is 0.4 A away;
    # rounding the difference and trying the images -2..2 (the old periodic_distances) gives |(2, 0.4, 0)|.
    lattice = np.array([[1.0, 0, 0], [10.0, 1.0, 0], [0, 0, 1.0]])
    delta = np.array([[-4.0, 0.4, 0.0]])
    old = brute_force(lattice, delta - np.round(delta), reach=2)
    assert old[0] == pytest.approx(np.sqrt(4.16), abs=1e-12)
    np.testing.assert_allclose(minimum_image_norms(lattice, delta), [0.4], rtol=0, atol=DISTANCE_TOLERANCE)


@pytest.mark.parametrize("seed", range(6))
def test_minimum_image_norms_equal_brute_force(seed):
    rng = np.random.default_rng(seed)
    lattice = skewed_lattice(rng)
    delta = rng.uniform(-3, 3, (40, 3))
    np.testing.assert_allclose(minimum_image_norms(lattice, delta), brute_force(lattice, delta, reach=14),
                               rtol=0, atol=DISTANCE_TOLERANCE)
    a, b = rng.random((5, 3)), rng.random((4, 3))
    np.testing.assert_allclose(periodic_distances(lattice, a, b), brute_force(lattice, a[:, None] - b[None], 14),
                               rtol=0, atol=DISTANCE_TOLERANCE)


def test_batched_lattices_and_the_minimum_over_images():
    rng = np.random.default_rng(7)
    lattices = np.stack([skewed_lattice(rng) for _ in range(3)] + [np.eye(3) * 4.0])
    delta = rng.uniform(-1, 1, (4, 6, 3))
    elementwise = minimum_image_norms(lattices, delta)
    assert elementwise.shape == (4, 6)
    for p in range(4):
        np.testing.assert_allclose(elementwise[p], brute_force(lattices[p], delta[p], reach=14), rtol=0,
                                   atol=DISTANCE_TOLERANCE)
    np.testing.assert_allclose(minimum_image_norms(lattices, delta, over_images=True), elementwise.min(axis=1),
                               rtol=0, atol=DISTANCE_TOLERANCE)


def test_niggli_reduced_is_a_unimodular_change_of_basis():
    lattice = np.array([[1.0, 0, 0], [10.0, 1.0, 0], [0, 3.0, 1.0]])
    reduced, unimodular = niggli_reduced(lattice)
    np.testing.assert_allclose(reduced, unimodular @ lattice, rtol=0, atol=1e-12)
    assert np.array_equal(unimodular, np.rint(unimodular))
    assert abs(round(np.linalg.det(unimodular))) == 1
    np.testing.assert_allclose(np.sort(np.linalg.norm(reduced, axis=1)), [1.0, 1.0, 1.0], rtol=0, atol=1e-12)


def test_shapes_are_checked():
    with pytest.raises(CrystalFourierError, match=r"got \(2, 3\) and \(3,\)"):
        minimum_image_norms(np.eye(3)[:2], [0.1, 0.2, 0.3])
