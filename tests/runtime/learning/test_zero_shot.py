"""Hold-out sets, the GB-Gap, and the zero-shot study end to end on a tiny data set."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from crystal_fourier.derive import space_group
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.learning._zero_shot import centrosymmetric_groups, gb_gap, holdout_groups, zero_shot_report


def test_centrosymmetric_groups_are_those_with_inversion():
    groups = set(centrosymmetric_groups())
    # The 11 Laue classes' groups: 92 of the 230 contain -1.
    assert len(groups) == 92
    for number in (2, 14, 62, 139, 166, 194, 225, 227, 230):
        assert number in groups
    for number in (1, 4, 19, 43, 76, 146, 173, 198, 216):
        assert number not in groups
    # Cross-check by a different route: an operation x -> -x + t exists.
    for number in (2, 15, 148, 221, 1, 160):
        rotations = space_group(number).arrays[0]
        has = any((r == -np.eye(3, dtype=np.int64)).all() for r in rotations)
        assert has == (number in groups)


def test_holdout_parsing():
    assert holdout_groups("centrosymmetric") == centrosymmetric_groups()
    assert holdout_groups("1-3, Fm-3m") == (1, 2, 3, 225)
    assert holdout_groups([225, 2, 2]) == (2, 225)
    assert holdout_groups(None) == ()
    with pytest.raises(CrystalFourierError):
        holdout_groups("Xq-9z")
    with pytest.raises(CrystalFourierError):
        holdout_groups([0, 5])


def test_gb_gap_is_the_mean_absolute_difference():
    assert gb_gap({2: 0.3, 14: 0.5, 99: 1.0}, {2: 0.1, 14: 0.6}) == pytest.approx(0.15, abs=1e-12)
    assert math.isnan(gb_gap({}, {2: 0.1}))


def test_report_rows_and_gap():
    zs = {"per_group": {"2": {"n": 3, "mae": 0.4, "rmse": 0.5}, "1": {"n": 2, "mae": 0.1, "rmse": 0.1}}}
    alld = {"per_group": {"2": {"n": 3, "mae": 0.1, "rmse": 0.2}, "1": {"n": 2, "mae": 0.1, "rmse": 0.1}}}
    report = zero_shot_report(zs, alld, holdout=(2, 14))
    assert [row["group"] for row in report["groups"]] == [2]  # 14 has no test crystals
    assert report["groups"][0]["delta_mae"] == pytest.approx(0.3, abs=1e-12)
    assert report["gb_gap"] == pytest.approx(0.3, abs=1e-12)
    json.dumps(report)


def test_zero_shot_study_end_to_end(tmp_path):
    from crystal_fourier.runtime import ModelConfig, PretrainConfig, random_crystal
    from crystal_fourier.runtime.learning._pretraining import load_pretrained
    from crystal_fourier.runtime.network._batching import sample_from_arrays
    from crystal_fourier.runtime import TrainConfig
    from crystal_fourier.runtime.learning._zero_shot import run_zero_shot

    samples = []
    for seed, number in enumerate([1, 2, 4, 14, 62, 194, 225] * 4):
        made = random_crystal(number, seed=seed, max_atoms=8)
        crystal, group = made.crystal, space_group(made.number)
        samples.append(sample_from_arrays(crystal.lattice, crystal.positions, crystal.numbers, group.hall_number,
                                          group.number, target=float(crystal.numbers.mean() / 50.0)))
    model = ModelConfig(kind="cft", d_model=16, n_heads=2, n_layers=1, d_ff=16, d_route=16, d_position=16, d_head=16)
    config = TrainConfig(model=model, epochs=2, batch_size=8, progress=False, split=(0.6, 0.2, 0.2))
    pretraining = PretrainConfig(pairs_per_group=8, epochs=1, progress=False, groups=(1, 2, 4, 14, 62, 194, 225))
    report = run_zero_shot(samples, config, "centrosymmetric", tmp_path, pretrain_config=pretraining)
    reported = {row["group"] for row in report["groups"]}
    assert reported
    assert reported <= set(centrosymmetric_groups())
    assert math.isfinite(report["gb_gap"])
    _, summary = load_pretrained(tmp_path / "zero-shot" / "pretrained")
    assert not set(summary["groups_used"]) & set(centrosymmetric_groups())
    saved = json.loads((tmp_path / "zero-shot" / "metrics.json").read_text())
    assert saved["holdout_groups"] == list(centrosymmetric_groups())
    assert (tmp_path / "zero_shot.json").is_file()
