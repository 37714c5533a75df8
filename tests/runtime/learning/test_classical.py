"""Classical baselines: invariant descriptors, learning a learnable target, same split as the transformers."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._batching import sample_from_arrays
from crystal_fourier.runtime.learning._classical import (
    CLASSICAL_KINDS,
    N_BASE_FEATURES,
    N_DISTANCE_BINS,
    composition_features,
    distance_features,
    feature_matrix,
    fit_classical,
)
from crystal_fourier.runtime import TrainConfig, random_crystal
from crystal_fourier.runtime.network._cell_features import lattice_from_features
from crystal_fourier.runtime.network._neighbourhood import INVARIANCE_TOLERANCE
from crystal_fourier.runtime.learning._training import training_split

TOL = INVARIANCE_TOLERANCE[np.float64]


def _rotation(rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q


def test_descriptors_are_invariant_under_re_descriptions():
    crystal = random_crystal(2, seed=0, species=("Cu", "Au"), max_atoms=16).crystal
    lattice, positions, numbers = crystal.lattice, crystal.positions, crystal.numbers
    base = distance_features(lattice, positions, numbers)
    assert base.shape == (2 * N_DISTANCE_BINS + 4,)
    assert base[N_DISTANCE_BINS:2 * N_DISTANCE_BINS].sum() > 0.1   # unlike pairs present
    rng = np.random.default_rng(0)
    order = rng.permutation(len(numbers))
    described = {
        "permutation": (lattice, positions[order], numbers[order]),
        "lattice translation": (lattice, positions + rng.integers(-3, 4, size=positions.shape), numbers),
        "origin shift": (lattice, positions + rng.random(3), numbers),
        "rotation": (lattice @ _rotation(rng).T, positions, numbers),
        "change of basis": (np.array([[1, 2, 0], [0, 1, 0], [1, 1, 1]]) @ lattice,
                            positions @ np.linalg.inv([[1, 2, 0], [0, 1, 0], [1, 1, 1]]), numbers),
        "supercell 1x2x1": (np.diag([1, 2, 1]) @ lattice,
                            np.concatenate([positions * [1, 0.5, 1], positions * [1, 0.5, 1] + [0, 0.5, 0]]),
                            np.concatenate([numbers, numbers])),
    }
    for name, (lat, pos, num) in described.items():
        difference = np.abs(distance_features(lat, pos, num) - base).max()
        assert difference < TOL, f"{name}: distance features changed by {difference:.1e} (tolerance {TOL})"
        assert np.abs(composition_features(num) - composition_features(numbers)).max() < 1e-15, name


def test_nearest_neighbour_statistics_on_rock_salt():
    a = 5.64
    positions = [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]]
    f = distance_features(a * np.eye(3), positions, [11] * 4 + [17] * 4)
    np.testing.assert_allclose(f[-4:], [a / 2, a / 2, a / 2, 0.0], rtol=0, atol=1e-12)
    # A lone atom in a 7 A cube has no neighbour within 6 A: its nearest is its own image at 7 A.
    np.testing.assert_allclose(distance_features(7.0 * np.eye(3), [[0, 0, 0]], [6])[-4:], [7, 7, 7, 0], atol=1e-12)


@pytest.fixture(scope="module")
def synthetic():
    """150 random P1-described crystals of two metals with varied density; targets they determine."""
    rng = np.random.default_rng(5)
    samples = []
    seed = 0
    while len(samples) < 150:
        seed += 1
        try:
            made = random_crystal(int(rng.integers(1, 231)), seed=seed, species=("Cu", "Au"), max_atoms=16,
                                  volume_per_atom=float(rng.uniform(12.0, 24.0))).crystal
        except CrystalFourierError:   # no orbit of that group fits in 16 atoms at 2 A
            continue
        samples.append(sample_from_arrays(made.lattice, made.positions, made.numbers, 1, 1, id=str(seed)))
    features = feature_matrix(samples)
    return samples, features


def test_feature_matrix_layout(synthetic):
    samples, features = synthetic
    assert features.shape == (150, N_BASE_FEATURES + 2 * N_DISTANCE_BINS + 4)
    s = samples[7]
    expected = distance_features(lattice_from_features(s.lattice), s.positions, s.numbers)
    np.testing.assert_array_equal(features[7, N_BASE_FEATURES:], np.round(expected, 9))
    assert features[7, 28] == round(np.mean(s.numbers == 29), 9)
    assert features[7, 118] == round(s.log_volume_per_atom, 9)


def _mean_predictor_mae(samples, config):
    y = np.array([s.target for s in samples])
    split = training_split(samples, config)
    return np.abs(y[split["test"]] - y[split["train"]].mean()).mean()


@pytest.mark.parametrize("kind", CLASSICAL_KINDS)
def test_baselines_learn_a_composition_and_density_target(synthetic, kind):
    samples, features = synthetic
    y = [0.8 * np.mean(s.numbers == 29) + 0.5 * s.log_volume_per_atom ** 2 for s in samples]
    labelled = [s.with_target(t) for s, t in zip(samples, y, strict=True)]
    config = TrainConfig(seed=1)
    result = fit_classical(labelled, config, kind, features=features)
    assert result.metrics["test"]["n"] == 15
    assert result.metrics["test"]["mae"] < 0.5 * _mean_predictor_mae(labelled, config)


def test_distance_features_learn_what_composition_cannot(synthetic):
    """Target: the mean nearest-neighbour distance (the crystals are random arrangements at random density)."""
    samples, features = synthetic
    nearest_mean = features[:, N_BASE_FEATURES + 2 * N_DISTANCE_BINS + 1]
    labelled = [s.with_target(t) for s, t in zip(samples, nearest_mean, strict=True)]
    config = TrainConfig(seed=0)
    mean_mae = _mean_predictor_mae(labelled, config)
    mae = {kind: fit_classical(labelled, config, kind, features=features).metrics["test"]["mae"]
           for kind in CLASSICAL_KINDS}
    assert mae["gbm+distance"] < 0.2 * mean_mae
    assert mae["gbm+distance"] < 0.2 * mae["gbm"]
    # 120 training crystals for ~1,900 quadratic monomials: ridge interpolates, so it gains less.
    assert mae["ridge+distance"] < 0.5 * mean_mae
    assert mae["ridge+distance"] < 0.5 * mae["ridge"]


def test_same_split_as_training_and_reproducible(synthetic):
    samples, features = synthetic
    labelled = [s.with_target(float(np.mean(s.numbers == 29))) for s in samples]
    config = TrainConfig(seed=3, holdout_groups=())
    first = fit_classical(labelled, config, "gbm+distance", features=features)
    again = fit_classical(labelled, config, "gbm+distance", features=features)
    np.testing.assert_array_equal(first.predictions, again.predictions)
    split = training_split(labelled, config)
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(first.split[part], split[part])
    other = fit_classical(labelled, TrainConfig(seed=4), "gbm+distance", features=features)
    assert not np.array_equal(other.split["test"], first.split["test"])
    # The fitted model predicts new rows and samples as in the fit.
    np.testing.assert_allclose(first.predict(features[:5]), first.predictions[:5], rtol=0, atol=1e-12)
    np.testing.assert_allclose(first.predict_samples(labelled[5:8]), first.predictions[5:8], rtol=0, atol=1e-12)
    # Featurizing inside fit gives the same model as the shared matrix.
    inside = fit_classical(labelled, config, "ridge")
    np.testing.assert_allclose(inside.predictions, fit_classical(labelled, config, "ridge", features=features)
                               .predictions, rtol=0, atol=1e-12)


def test_errors():
    s = sample_from_arrays(np.eye(3) * 3, [[0, 0, 0]], [29], 1, 1, target=1.0)
    with pytest.raises(CrystalFourierError, match="unknown classical baseline 'lasso'"):
        fit_classical([s] * 10, TrainConfig(), "lasso")
    with pytest.raises(CrystalFourierError, match="shape"):
        fit_classical([s] * 10, TrainConfig(), "ridge+distance", features=np.zeros((10, N_BASE_FEATURES)))


@pytest.mark.parametrize("n_train", [30, 400])   # fewer and more crystals than quadratic monomials (65)
def test_ridge_path_equals_scikit_learn_ridge(n_train):
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    from crystal_fourier.runtime.learning._classical import _ridge

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n_train + 100, 10))
    y = x[:, 0] * x[:, 1] + 0.1 * rng.normal(size=len(x))
    train, val = slice(0, n_train), slice(n_train, n_train + 50)
    predictions, chosen, _ = _ridge(x[train], y[train], x[val], y[val], x)
    reference = make_pipeline(StandardScaler(), PolynomialFeatures(2, include_bias=False), StandardScaler(),
                              Ridge(alpha=chosen["alpha"])).fit(x[train], y[train])
    np.testing.assert_allclose(predictions, reference.predict(x), rtol=0, atol=1e-8)
    if n_train == 400:   # it learned x0 x1 (noise MAE 0.08; mean predictor about 0.7)
        assert np.abs(predictions[n_train + 50:] - y[n_train + 50:]).mean() < 0.15


def test_zero_shot_report_like_the_transformers(synthetic):
    import dataclasses

    from crystal_fourier.runtime.learning._classical import classical_zero_shot

    samples, features = synthetic
    labelled = [dataclasses.replace(s.with_target(float(np.mean(s.numbers == 29))), number=2 if k % 3 == 0 else 1)
                for k, s in enumerate(samples)]
    config = TrainConfig(seed=0)
    reports = classical_zero_shot(labelled, config, "2", kinds=("ridge", "gbm"), features=features)
    for kind, report in reports.items():
        all_data = fit_classical(labelled, config, kind, features=features)
        zero_shot = fit_classical(labelled, dataclasses.replace(config, holdout_groups=(2,)), kind, features=features)
        assert 2 not in {labelled[i].number for i in zero_shot.split["train"]}
        assert report["test_mae_all_data"] == all_data.metrics["test"]["mae"]
        row = report["groups"][0]
        assert row["group"] == 2
        assert row["mae_zero_shot"] == zero_shot.metrics["test"]["per_group"]["2"]["mae"]
        assert report["gb_gap"] == pytest.approx(abs(row["mae_zero_shot"] - row["mae_all_data"]), abs=1e-12)


def test_our_classical_baseline_features_pass_every_audit_kind():
    from crystal_fourier.audit import KINDS, Claim, audit
    from crystal_fourier.runtime import prepare_samples

    crystals = [random_crystal(n, seed=n, max_atoms=12).crystal for n in (2, 14, 19, 148)]

    head = np.random.default_rng(0).normal(size=177)

    def baseline(crystal):
        sample = prepare_samples([(crystal, {}, "x")], None)[0]
        return {"energy": float((feature_matrix([sample]) @ head)[0])}

    # continuity: its features come from the standardization, and jump as the CFT's do (0.55 on sg166)
    kinds = [k for k in KINDS if k != "continuity"]
    report = audit(baseline, crystals, per_kind=1, claim=Claim(energy="intensive"), kinds=kinds)
    report.assert_ok()
    assert not audit(baseline, crystals, per_kind=1, claim=Claim(energy="intensive"), kinds="continuity").ok
