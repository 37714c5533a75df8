"""The per-setting caches of the standardization are keyed by everything their values depend on.

Each cached table is recomputed here from its definition for two settings that share the other key
parts (the same linear parts, the same chunk), read in both orders, so a cache that dropped the
Hall number from its key (or the linear parts, the chunk bounds or ``proper``) would hand one
setting's entry to the other and fail.
"""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.derive import standard_hall_number
from crystal_fourier.runtime.symmetry._canonical_choice import (
    _candidates,
    _chunk_images,
    _chunk_phases,
    _score_frequencies,
)
from crystal_fourier.runtime.symmetry._normalizer import (
    _SHIFT_DEN,
    _group_table,
    _key_forms,
    _metric_keys,
    _normalizer_matrices,
    _origin_shifts,
)
from crystal_fourier.runtime.symmetry._symmetrization import _float_operations

IDENTITY = np.eye(3, dtype=np.int64)
MIRROR = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.int64)
# P-1, Pm-3m, Fm-3m, Ia-3d: non-polar settings whose origin shifts and absences all differ
SETTINGS = [standard_hall_number(number) for number in (2, 221, 225, 230)]


def _expected_candidates(hall: int, linear: np.ndarray):
    shifts = [_origin_shifts(hall, tuple(map(tuple, m.tolist()))) for m in linear]
    owner = np.concatenate([np.full(len(s), k) for k, s in enumerate(shifts)])
    return owner, np.concatenate(shifts) / _SHIFT_DEN


def _expected_images(hall: int, linear: np.ndarray, start: int, stop: int):
    chunk = _score_frequencies(hall)[start:stop]
    return chunk, np.einsum("fi,kij->kfj", chunk, linear)   # image of frequency f under M_k: row h M_k


@pytest.mark.parametrize("order", [1, -1])
def test_scoring_caches_are_keyed_by_setting_linear_parts_and_chunk(order):
    linear = np.stack([IDENTITY])
    for hall in SETTINGS[::order]:
        for stop in (8, 12):
            key = linear.tobytes()
            owner, origin = _candidates(hall, key)
            want_owner, want_origin = _expected_candidates(hall, linear)
            assert owner.tolist() == want_owner.tolist() and origin.tolist() == want_origin.tolist()
            vectors, images, flipped, chunk = _chunk_images(hall, key, 0, stop)
            frequencies, want = _expected_images(hall, linear, 0, stop)
            assert chunk.T.tolist() == frequencies.tolist()
            sign = np.where(flipped, -1, 1)[..., None]
            assert (sign * vectors.T[images]).tolist() == want.tolist()
            phases = _chunk_phases(hall, key, 0, stop)
            assert np.allclose(phases, np.exp(2j * np.pi * (want_origin @ frequencies.T)), atol=1e-12)


def test_chunk_images_depend_on_the_linear_parts():
    hall = SETTINGS[1]
    for linear in (np.stack([IDENTITY]), np.stack([IDENTITY, MIRROR]), np.stack([MIRROR])):
        vectors, images, flipped, _ = _chunk_images(hall, linear.tobytes(), 0, 8)
        want = _expected_images(hall, linear, 0, 8)[1]
        assert (np.where(flipped, -1, 1)[..., None] * vectors.T[images]).tolist() == want.tolist()


@pytest.mark.parametrize("proper", [True, False])
def test_metric_key_forms_are_keyed_by_setting_and_handedness(proper):
    rng = np.random.default_rng(3)
    basis = rng.normal(size=(3, 3))
    metric = basis @ basis.T
    for hall in (standard_hall_number(10), standard_hall_number(75), *SETTINGS):
        inverses = _normalizer_matrices(hall, proper)[1]
        forms = _key_forms(hall, proper)
        want = _metric_keys(np.transpose(inverses, (0, 2, 1)) @ metric @ inverses)
        assert forms.shape == (7, len(inverses), 9)
        assert np.allclose((forms @ metric.ravel()).T, want, rtol=1e-12, atol=1e-12)


def test_float_operations_are_the_settings_own():
    for hall in SETTINGS:
        rotations, translations = _float_operations(hall)
        table = _group_table(hall)
        assert rotations.tolist() == table.rotations.tolist()
        assert (translations * 24).round().astype(int).tolist() == table.translations_24.tolist()
