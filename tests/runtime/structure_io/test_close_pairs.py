"""Bounded CIF reading: the close-pair grid equals all pairs, large files are n log n, and the atom limit refuses."""

from __future__ import annotations

import time

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io import _cif_expansion
from crystal_fourier.runtime.structure_io._cif import parse_cif
from crystal_fourier.runtime.structure_io._close_pairs import close_pairs


def _all_pairs(lattice, points, distance):
    gap = points[None, :, :] - points[:, None, :]
    gap -= np.round(gap)
    near = np.linalg.norm(gap @ lattice, axis=-1) < distance
    i, j = np.nonzero(np.triu(near, k=1))
    pairs = np.column_stack([i, j])
    return pairs[np.lexsort((pairs[:, 0], pairs[:, 1]))]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("distance", [0.3, 1.5, 4.0])  # 4 A in a ~6 A cell: one or two bins on an axis
def test_close_pairs_equal_all_pairs(seed, distance):
    rng = np.random.default_rng(seed)
    lattice = np.diag(rng.uniform(4, 12, 3)) + rng.normal(scale=2.0, size=(3, 3))  # skewed cells too
    points = rng.random((300, 3))
    points[:40] = points[40:80] + rng.normal(scale=0.02, size=(40, 3))  # near pairs, some across the cell edge
    points[80:90] = [0.999, 0.0, 0.5] + rng.normal(scale=0.001, size=(10, 3))
    np.testing.assert_array_equal(close_pairs(lattice, points, distance), _all_pairs(lattice, np.mod(points, 1),
                                                                                    distance))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("distance", [1e-3, 0.5, 3.0])
def test_small_sets_compare_every_pair_and_find_the_grid_pairs(seed, distance, monkeypatch):
    from crystal_fourier.runtime.structure_io import _close_pairs

    rng = np.random.default_rng(seed)
    lattice = np.diag(rng.uniform(4, 12, 3)) + rng.normal(scale=2.0, size=(3, 3))
    points = rng.random((90, 3))
    points[:30] = points[30:60] + rng.normal(scale=0.0001, size=(30, 3))  # some closer than 1e-3 A, some not
    points[60:64] = [0.9999, 0.0, 0.5] + rng.normal(scale=0.0002, size=(4, 3))
    every = close_pairs(lattice, points, distance)
    np.testing.assert_array_equal(every, _all_pairs(lattice, np.mod(points, 1), distance))
    monkeypatch.setattr(_close_pairs, "ALL_PAIRS_UP_TO", 1)  # the grid on the same points
    np.testing.assert_array_equal(close_pairs(lattice, points, distance), every)
    assert len(every) > 0


def test_a_crowd_of_coincident_points_is_refused_not_quadratic():
    assert close_pairs(np.eye(3) * 5, np.zeros((1000, 3)), 0.1, max_candidates=10_000) is None


def _p1_cif(n: int, seed: int = 0) -> str:
    side = (12.0 * n) ** (1 / 3)  # 12 A^3 per atom: no two atoms near each other
    grid = int(np.ceil(n ** (1 / 3)))
    cells = np.stack(np.unravel_index(np.arange(n), (grid, grid, grid)), axis=1)
    points = (cells + 0.5 + np.random.default_rng(seed).uniform(-0.2, 0.2, (n, 3))) / grid
    rows = "\n".join(f"Si{i} {x:.6f} {y:.6f} {z:.6f}" for i, (x, y, z) in enumerate(points))
    return (f"data_big\n_cell_length_a {side}\n_cell_length_b {side}\n_cell_length_c {side}\n"
            "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
            f"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n{rows}\n")


def test_large_cif_is_read_in_n_log_n():
    # 40,000 sites: the all-pairs merge took ~30 s here; the grid takes well under a second.
    text = _p1_cif(40_000)
    start = time.perf_counter()
    crystal = parse_cif(text)
    elapsed = time.perf_counter() - start
    assert crystal.n_atoms == 40_000
    assert elapsed < 10.0, f"reading 40,000 atoms took {elapsed:.1f} s"


def test_more_sites_than_the_atom_limit_are_refused(monkeypatch):
    monkeypatch.setattr(_cif_expansion, "MAX_CIF_ATOMS", 50)
    with pytest.raises(CrystalFourierError, match="at least 60 .*MAX_CIF_ATOMS = 50"):
        parse_cif(_p1_cif(60))
    assert parse_cif(_p1_cif(50)).n_atoms == 50


def test_expansion_past_the_atom_limit_is_refused(monkeypatch):
    monkeypatch.setattr(_cif_expansion, "MAX_CIF_ATOMS", 100)
    fm3m = _p1_cif(1).replace("data_big\n", "data_big\n_symmetry_space_group_name_H-M 'F m -3 m'\n")
    with pytest.raises(CrystalFourierError, match="expand to more than 100 .*MAX_CIF_ATOMS = 100"):
        parse_cif(fm3m)  # one site in the general position: 192 images
