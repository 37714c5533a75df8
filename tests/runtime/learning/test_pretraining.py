"""Exact orbit distances and the self-supervised pretraining task."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from crystal_fourier.derive import space_group
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import ModelConfig
from crystal_fourier.runtime.learning._pretraining import (
    PretrainConfig,
    load_pretrained,
    orbit_distance,
    pair_dataset,
    pretrain,
    random_metric_lattice,
)
from crystal_fourier.testing import REPRESENTATIVE_GROUPS

DISTANCE_TOLERANCE = 1e-9
"""Angstrom; float64 distances of a few Angstrom computed two ways agree to ~1e-14."""

# A strongly skewed triclinic cell: angles far from 90 degrees, so the nearest image of a
# wrapped difference is often not among its 27 neighbours in this basis.
SKEWED = np.array([[1.0, 0.0, 0.0], [0.93, 0.25, 0.0], [0.61, 0.55, 0.12]]) * 6.0


def brute_force(group, lattice, x1, x2, reach: int) -> np.ndarray:
    """min over all operations and every image n in [-reach, reach]^3, by enumeration."""
    rotations, translations_24 = group.arrays
    images = np.array(list(itertools.product(range(-reach, reach + 1), repeat=3)), dtype=np.float64)
    out = []
    for a, b in zip(np.atleast_2d(x1), np.atleast_2d(x2), strict=False):
        orbit = rotations @ a + translations_24 / 24.0
        cartesian = (orbit[:, None, :] + images[None] - b) @ lattice
        out.append(np.linalg.norm(cartesian, axis=-1).min())
    return np.array(out)


def test_p_1_point_and_its_inverse_are_one_orbit(p_1):
    cell = np.diag([4.0, 5.0, 6.0])
    x = np.random.default_rng(0).random((20, 3))
    np.testing.assert_allclose(orbit_distance(p_1, cell, x, -x), 0.0, rtol=0, atol=DISTANCE_TOLERANCE)
    np.testing.assert_allclose(orbit_distance(p_1, cell, x, 1.0 - x), 0.0, rtol=0, atol=DISTANCE_TOLERANCE)


def test_hand_computed_distances(p1, p_1, fm3m):
    cubic = np.eye(3) * 4.0
    # P1: the nearest image of 0.9 is -0.1 across the cell face.
    np.testing.assert_allclose(orbit_distance(p1, cubic, [0.1, 0, 0], [0.9, 0, 0]), [0.8], rtol=0,
                               atol=DISTANCE_TOLERANCE)
    # P-1: x = (0.1, 0.2, 0.3) and y = (-0.12, -0.2, -0.3): -x is 0.02 a away from y.
    np.testing.assert_allclose(orbit_distance(p_1, cubic, [0.1, 0.2, 0.3], [-0.12, -0.2, -0.3]), [0.08],
                               rtol=0, atol=DISTANCE_TOLERANCE)
    # Fm-3m: the orbit of the origin includes (1/2, 1/2, 0), a/2 from (1/2, 1/2, 1/2).
    np.testing.assert_allclose(orbit_distance(fm3m, cubic, [0, 0, 0], [0.5, 0.5, 0.5]), [2.0], rtol=0,
                               atol=DISTANCE_TOLERANCE)
    # Fm-3m: a point and any image of it under the group are at distance 0.
    np.testing.assert_allclose(orbit_distance(fm3m, cubic, [0.1, 0.2, 0.3], [0.8, 0.4, 0.2]), [0.0], rtol=0,
                               atol=DISTANCE_TOLERANCE)


@pytest.mark.parametrize("number", [1, 2], ids=lambda n: f"sg{n}")
def test_skewed_triclinic_matches_brute_force(number):
    group = space_group(number)
    rng = np.random.default_rng(number)
    x1, x2 = rng.random((40, 3)), rng.random((40, 3))
    exact = orbit_distance(group, SKEWED, x1, x2)
    np.testing.assert_allclose(exact, brute_force(group, SKEWED, x1, x2, reach=8), rtol=0, atol=DISTANCE_TOLERANCE)
    # The naive answer (wrap to [-1/2, 1/2) in this basis, no image search) is wrong here:
    # the test would catch an implementation that skipped the search.
    rotations, translations_24 = group.arrays
    naive = []
    for a, b in zip(x1, x2, strict=False):
        d = rotations @ a + translations_24 / 24.0 - b
        d -= np.rint(d)
        naive.append(np.linalg.norm(d @ SKEWED, axis=-1).min())
    assert np.max(np.array(naive) - exact) > 0.1


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_random_metric_cells_match_brute_force(number):
    group = space_group(number)
    rng = np.random.default_rng(1000 + number)
    cells = np.stack([random_metric_lattice(number, rng) for _ in range(6)])
    x1, x2 = rng.random((6, 3)), rng.random((6, 3))
    exact = orbit_distance(group, cells, x1, x2)
    expected = np.array([brute_force(group, cells[i], x1[i], x2[i], reach=2)[0] for i in range(6)])
    np.testing.assert_allclose(exact, expected, rtol=0, atol=DISTANCE_TOLERANCE)


@pytest.mark.parametrize("number", [14, 166, 227], ids=lambda n: f"sg{n}")
def test_distance_is_invariant_under_the_group(number):
    group = space_group(number)
    rng = np.random.default_rng(number)
    cell = random_metric_lattice(number, rng)
    x1, x2 = rng.random((5, 3)), rng.random((5, 3))
    reference = orbit_distance(group, cell, x1, x2)
    rotations, translations_24 = group.arrays
    for rotation, t24 in zip(rotations, translations_24, strict=False):
        moved = x1 @ rotation.T + t24 / 24.0 + rng.integers(-2, 3, size=(5, 3))
        np.testing.assert_allclose(orbit_distance(group, cell, moved, x2), reference, rtol=0,
                                   atol=DISTANCE_TOLERANCE)


def test_bad_shapes_raise(p1):
    with pytest.raises(CrystalFourierError, match="equal shapes"):
        orbit_distance(p1, np.eye(3), np.zeros((2, 3)), np.zeros((3, 3)))


def test_excluded_groups_never_appear_in_pairs():
    centrosymmetric = (2, 14, 225)
    data = pair_dataset((1, 2, 4, 14, 225, 227), pairs_per_group=8, seed=0, exclude=centrosymmetric)
    halls = {space_group(hall_number=int(h)).number for h in np.unique(data.hall_numbers)}
    assert halls == {1, 4, 227}
    assert len(data) == 24
    with pytest.raises(CrystalFourierError, match="no groups left"):
        pair_dataset((2,), pairs_per_group=4, exclude=(2,))


def test_pair_dataset_is_seeded():
    a = pair_dataset((1, 194), pairs_per_group=6, seed=3)
    b = pair_dataset((1, 194), pairs_per_group=6, seed=3)
    np.testing.assert_array_equal(a.positions1, b.positions1)
    np.testing.assert_array_equal(a.distance, b.distance)


TINY = ModelConfig(d_model=32, n_heads=4, n_layers=1, d_ff=32, d_route=32, d_position=32, d_head=16)


def test_pretraining_lowers_the_loss_and_saves(tmp_path):
    config = PretrainConfig(groups=(2, 194, 225), exclude=(225,), pairs_per_group=48, epochs=5,
                            batch_size=32, lr=1e-2, progress=False, model=TINY)
    encoder, summary = pretrain(config, tmp_path)
    losses = summary["loss_history"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert summary["groups_used"] == [2, 194]
    state, saved = load_pretrained(tmp_path)
    assert saved["groups_used"] == [2, 194]
    for name, value in encoder.state_dict().items():
        torch.testing.assert_close(state[name], value, rtol=0, atol=0)


def test_load_pretrained_rejects_other_directories(tmp_path):
    with pytest.raises(CrystalFourierError, match="not a pretrained encoder"):
        load_pretrained(tmp_path)


def test_pretrain_command_excludes_groups(tmp_path, capsys):
    from crystal_fourier.cli import main

    out = tmp_path / "encoder"
    assert main(["pretrain", "--out", str(out), "--groups", "1,2,4,225", "--exclude-groups", "centrosymmetric",
                 "--pairs-per-group", "8", "--epochs", "1", "--d-model", "16", "--heads", "2", "--layers", "1",
                 "--d-route", "16", "--d-position", "16", "--no-progress"]) == 0
    assert "pretrained on 2 groups" in capsys.readouterr().out
    _, summary = load_pretrained(out)
    assert summary["groups_used"] == [1, 4]
