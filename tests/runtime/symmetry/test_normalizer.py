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


@pytest.mark.parametrize("number", [2, 14, 148, 201, 225, 227], ids=lambda n: f"sg{n}")
def test_solved_shifts_are_the_grid_filter(number):
    """The closed-form shifts of an invertible I - R' equal the brute-force filter of the 48^3 grid."""
    from crystal_fourier.runtime.symmetry._normalizer import (
        _SHIFT_DEN,
        _encode,
        _normalizer_matrices,
        _shift_grid,
        _solved_shifts,
    )

    table = _group_table(standard_hall_number(number))
    grid = _shift_grid(())
    identity = np.eye(3, dtype=np.int64)
    checked = 0
    for m in _normalizer_matrices(standard_hall_number(number), False)[0][:6]:
        m_inv = np.rint(np.linalg.inv(m)).astype(np.int64)
        for rotation, t24 in zip(table.rotations, table.translations_24, strict=True):
            image = m @ rotation @ m_inv
            index = table.rotation_keys.get(image.tobytes())
            if index is None or round(abs(np.linalg.det(identity - image))) == 0:
                continue
            offset = 2 * (m @ t24)
            brute = grid[np.isin(_encode(offset + grid @ (identity - image).T, _SHIFT_DEN), table.allowed[index])]
            np.testing.assert_array_equal(_solved_shifts(identity - image, offset, table.allowed[index]), brute)
            checked += 1
    assert checked > 0


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
