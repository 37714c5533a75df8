"""The affine normalizer's exact tables (runtime/symmetry/_normalizer.py): polar axes and origin shifts."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.derive import standard_hall_number
from crystal_fourier.runtime.symmetry._normalizer import _group_table


def test_polar_directions_of_every_standard_setting_are_coordinate_axes():
    """The canonical choice slides only along coordinate axes; true for all 230 standard settings."""
    polar = {number: _group_table(standard_hall_number(number)).polar_axes for number in range(1, 231)}
    assert polar[1] == (0, 1, 2)
    assert polar[3] == (1,)       # P2, unique axis b
    assert polar[6] == (0, 2)     # Pm
    assert polar[76] == (2,)
    assert polar[146] == (2,)
    assert polar[2] == polar[225] == ()


def _congruences(number: int, polar_axes: tuple, count: int):
    """(I - R', offset, allowed, brute-force solutions over the grid of ``polar_axes``) of every rotation R of the
    group's standard setting under each of its first ``count`` normalizer matrices M (R' = M R M^-1 in G)."""
    from crystal_fourier.runtime.symmetry._normalizer import _SHIFT_DEN, _encode, _normalizer_matrices, _shift_grid

    table = _group_table(standard_hall_number(number))
    grid = _shift_grid(polar_axes)
    identity = np.eye(3, dtype=np.int64)
    for m in _normalizer_matrices(standard_hall_number(number), False)[0][:count]:
        m_inv = np.rint(np.linalg.inv(m)).astype(np.int64)
        for rotation, t24 in zip(table.rotations, table.translations_24, strict=True):
            image = m @ rotation @ m_inv
            index = table.rotation_keys.get(image.tobytes())
            if index is None:
                continue
            offset, allowed = 2 * (m @ t24), table.allowed[index]
            yield identity - image, offset, allowed, grid[np.isin(_encode(offset + grid @ (identity - image).T,
                                                                           _SHIFT_DEN), allowed)]


@pytest.mark.parametrize("number", [2, 14, 148, 201, 225, 227], ids=lambda n: f"sg{n}")
def test_solved_shifts_are_the_grid_filter(number):
    """The closed-form shifts of an invertible I - R' equal the brute-force filter of the 48^3 grid."""
    from crystal_fourier.runtime.symmetry._normalizer import _solved_shifts

    checked = 0
    for matrix, offset, allowed, brute in _congruences(number, (), 6):
        if round(abs(np.linalg.det(matrix))) != 0:
            np.testing.assert_array_equal(_solved_shifts(matrix, offset, allowed), brute)
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("number", [4, 16, 19, 24, 76, 89, 149, 177, 195, 214], ids=lambda n: f"sg{n}")
def test_grid_solutions_are_the_grid_filter(number):
    """The looked-up solutions of a congruence over the whole grid (singular I - R' included, polar grids too) equal
    the brute-force filter of the grid, row for row and in order, for every rotation and normalizer matrix."""
    from crystal_fourier.runtime.symmetry._normalizer import _grid_solutions

    polar_axes = _group_table(standard_hall_number(number)).polar_axes
    singular = 0
    for matrix, offset, allowed, brute in _congruences(number, polar_axes, 8):
        np.testing.assert_array_equal(_grid_solutions(polar_axes, matrix, offset, allowed), brute)
        singular += round(abs(np.linalg.det(matrix))) == 0
    assert singular > 0


@pytest.mark.parametrize("number", [1, 2, 4, 14, 17, 18, 19, 43, 146, 161, 227], ids=lambda n: f"sg{n}")
def test_shift_mask_is_closed_under_products(number):
    """_linear_parts reads _shift_mask[i] for matrices[i] @ reduction: sound because the linear parts that
    admit an origin shift form a group L, so for N in L, M N admits one exactly when M does. Checked on
    products of the listed matrices (all pairs, or the first 40 x 40 of P1 and P-1's 3,480)."""
    from crystal_fourier.runtime.symmetry._normalizer import _has_shifts, _normalizer_matrices, _shift_mask

    hall = standard_hall_number(number)
    for proper in (True, False):
        matrices = _normalizer_matrices(hall, proper)[0][:40]
        mask = _shift_mask(hall, proper)[:40]
        assert mask.tolist() == [_has_shifts(hall, m) for m in matrices]   # the shortcut of P1 and P-1 included
        for n in matrices[mask]:
            assert [_has_shifts(hall, m @ n) for m in matrices] == mask.tolist()
    if number in (17, 18):   # groups where some normalizing M admit no shift: the mask is not trivially true
        assert not _shift_mask(hall, True).all()


@pytest.mark.parametrize("proper", [True, False])
def test_metric_key_forms_are_keyed_by_setting_and_handedness(proper):
    """_key_forms (cached per Hall number and ``proper``) gives every normalizer matrix's _metric_keys of
    M^-T G M^-1; read for several settings in turn, so an entry keyed without the setting would fail."""
    from crystal_fourier.runtime.symmetry._normalizer import _key_forms, _metric_keys, _normalizer_matrices

    rng = np.random.default_rng(3)
    basis = rng.normal(size=(3, 3))
    metric = basis @ basis.T
    for number in (2, 10, 75, 221, 225, 230):
        hall = standard_hall_number(number)
        inverses = _normalizer_matrices(hall, proper)[1]
        forms = _key_forms(hall, proper)
        want = _metric_keys(np.transpose(inverses, (0, 2, 1)) @ metric @ inverses)
        assert forms.shape == (7, len(inverses), 9)
        assert np.allclose((forms @ metric.ravel()).T, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("number", [1, 2, 10, 15, 47, 68, 99, 146, 167, 191, 216, 227, 230], ids=lambda n: f"sg{n}")
def test_normalizer_matrices_equal_the_filter_over_every_rotation(number):
    """The matrices kept by testing the generators are those that map every rotation of P into P, in the same order
    (the filter written out over all rotations, membership by np.isin)."""
    from crystal_fourier.derive import DEN
    from crystal_fourier.runtime.symmetry._normalizer import (   # the candidates the module filters
        _encode,
        _matrix_keys,
        _normalizer_matrices,
        unimodular_matrices,
    )

    hall = standard_hall_number(number)
    table = _group_table(hall)
    for proper in (True, False):
        matrices, inverses = unimodular_matrices(proper=proper)
        images = np.einsum("mij,rjk,mkl->mril", matrices, table.rotations, inverses)   # M R M^-1, (m, r, 3, 3)
        normalizing = np.all((np.abs(images) <= 1).all(axis=(2, 3))
                             & np.isin(_matrix_keys(np.clip(images, -1, 1)), _matrix_keys(table.rotations)), axis=1)
        centrings = np.mod(table.centrings_24, DEN)
        kept = normalizing & np.all(np.isin(_encode(np.mod(centrings @ np.transpose(matrices, (0, 2, 1)), DEN), DEN),
                                            _encode(centrings, DEN)), axis=1)
        expected = {m.tobytes() for m in matrices[kept]}
        found = _normalizer_matrices(hall, proper)[0]
        # one per coset M P of the kept matrices: each found one is kept, and every kept one is M R of a found M
        assert {m.tobytes() for m in found} <= expected
        assert {(m @ r).tobytes() for m in found for r in table.rotations} >= expected
