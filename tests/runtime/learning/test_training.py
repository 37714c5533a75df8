"""The training harness: learning, checkpoints, resuming, hold-outs, saved models and the CLI."""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache

import numpy as np
import pytest
import torch

from crystal_fourier.derive import space_group
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import ModelConfig
from crystal_fourier.runtime.network._batching import sample_from_arrays
from crystal_fourier.runtime import predict_samples
from crystal_fourier.runtime.learning._evaluation import regression_metrics
from crystal_fourier.runtime.learning._splits import split_indices
from crystal_fourier.runtime.learning._training import training_split
from crystal_fourier.runtime.learning._training import (
    TrainConfig,
    fit,
    load_trained,
    warmup_cosine,
)

PREDICTION_TOLERANCE = 1e-6
"""Absolute; float32 predictions of O(1) computed by identical operations agree exactly, and
a reloaded model may differ only by the order of a few float32 sums."""

GROUPS = (1, 2, 4, 14, 62, 139, 166, 194, 225)


@lru_cache(maxsize=1)
def tiny_samples() -> tuple:
    """36 random crystals of 9 groups; the target depends on species and density."""
    from crystal_fourier.runtime import random_crystal

    samples = []
    for seed, number in enumerate(GROUPS * 4):
        made = random_crystal(number, seed=seed, max_atoms=8)  # in the setting of the group it really has
        crystal = made.crystal
        target = crystal.numbers.mean() / 40.0 + np.log(crystal.volume / crystal.n_atoms)
        samples.append(sample_from_arrays(crystal.lattice, crystal.positions, crystal.numbers,
                                          space_group(made.number).hall_number, made.number, target=float(target),
                                          id=f"c{seed}"))
    return tuple(samples)


def tiny_config(kind="sinusoidal", **changes) -> TrainConfig:
    model = ModelConfig(kind=kind, d_model=16, n_heads=2, n_layers=1, d_ff=32, d_route=16, d_position=16, d_head=16,
                        dropout=changes.pop("dropout", 0.0))
    return dataclasses.replace(TrainConfig(model=model, epochs=6, batch_size=8, lr=3e-3, progress=False), **changes)


def test_split_is_seeded_and_disjoint():
    train, val, test = split_indices(50, seed=4)
    assert (len(train), len(val), len(test)) == (40, 5, 5)
    assert len(set(train) | set(val) | set(test)) == 50
    again = split_indices(50, seed=4)
    for a, b in zip((train, val, test), again, strict=False):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(split_indices(50, seed=5)[0], train)


def test_holdout_groups_never_reach_training():
    samples = tiny_samples()
    config = tiny_config(holdout_groups=(2, 14, 225))
    split = training_split(samples, config)
    seen = {samples[i].number for i in np.concatenate([split["train"], split["val"]])}
    assert not seen & {2, 14, 225}
    # The test split is the same with and without the hold-out, so the two runs are comparable.
    np.testing.assert_array_equal(split["test"], training_split(samples, tiny_config())["test"])


def test_warmup_then_cosine():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = warmup_cosine(optimizer, total_steps=100, warmup_fraction=0.1)
    rates = []
    for _ in range(100):
        rates.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    assert rates[0] == pytest.approx(0.1)
    assert rates[9] == pytest.approx(1.0)
    assert rates[50] < rates[20]
    assert rates[-1] < 0.01


def test_metrics_per_group():
    metrics = regression_metrics([1.0, 2.0, 4.0], [1.0, 3.0, 2.0], [2, 2, 225])
    assert metrics["mae"] == pytest.approx(1.0)
    assert metrics["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert metrics["per_group"]["2"] == {"n": 2, "mae": 0.5, "rmse": pytest.approx(np.sqrt(0.5))}


@pytest.mark.parametrize("kind", ["cft", "sinusoidal"])
def test_loss_decreases(kind, tmp_path):
    result = fit(tiny_samples(), tiny_config(kind, epochs=8), tmp_path)
    losses = [row["train_loss"] for row in result.history]
    assert losses[-1] < 0.5 * losses[0], losses
    for name in ("config.json", "weights.pt", "normalization.json", "metrics.json", "checkpoint.pt"):
        assert (tmp_path / name).is_file()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["test"]["n"] == len(split_indices(len(tiny_samples()), 0)[2])
    assert set(metrics["test"]["per_group"]) <= {str(s.number) for s in tiny_samples()}


def test_resume_reproduces_an_uninterrupted_run(tmp_path):
    # Dropout and augmentation make the run depend on every piece of RNG state.
    config = tiny_config("augmented", epochs=4, dropout=0.1)
    straight = fit(tiny_samples(), config, tmp_path / "straight")
    fit(tiny_samples(), config, tmp_path / "resumed", stop_after=2)
    interrupted = json.loads((tmp_path / "resumed" / "metrics.json").read_text())
    assert interrupted["epochs_completed"] == 2
    assert not interrupted["finished"]
    resumed = fit(tiny_samples(), config, tmp_path / "resumed", resume=True)
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in straight.history]
    for name, value in straight.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[name], value, rtol=0, atol=0)


def test_resume_refuses_another_configuration(tmp_path):
    fit(tiny_samples(), tiny_config(epochs=1), tmp_path)
    with pytest.raises(CrystalFourierError, match="another configuration"):
        fit(tiny_samples(), tiny_config(epochs=1, lr=1e-2), tmp_path, resume=True)


@pytest.mark.parametrize("kind", ["cft", "sinusoidal"])
def test_checkpoint_reloads_to_identical_predictions(kind, tmp_path):
    config = tiny_config(kind, epochs=2, log_target=True)
    samples = [s.with_target(np.exp(s.target)) for s in tiny_samples()]  # positive, as moduli are
    result = fit(samples, config, tmp_path)
    loaded = load_trained(tmp_path)
    expected = 10.0 ** result.normalizer.denormalize(predict_samples(result.model, samples))
    np.testing.assert_allclose(loaded.predict_samples(samples), expected, rtol=PREDICTION_TOLERANCE, atol=0)
    assert loaded.config == config


def test_log_target_needs_positive_values(tmp_path):
    samples = [s.with_target(-1.0) for s in tiny_samples()]
    with pytest.raises(CrystalFourierError, match="positive"):
        fit(samples, tiny_config(epochs=1, log_target=True), tmp_path)


def test_pretrained_encoder_must_not_have_seen_the_holdout(tmp_path):
    from crystal_fourier.runtime import PretrainConfig, pretrain

    config = tiny_config("cft", epochs=1, holdout_groups=(2, 225))
    pretrain(PretrainConfig(groups=(1, 2, 4), pairs_per_group=4, epochs=1, progress=False, model=config.model),
             tmp_path / "encoder")
    with pytest.raises(CrystalFourierError, match=r"saw held-out groups \[2\]"):
        fit(tiny_samples(), config, tmp_path / "model", pretrained=tmp_path / "encoder")
    pretrain(PretrainConfig(groups=(1, 2, 4), exclude=(2, 225), pairs_per_group=4, epochs=1, progress=False,
                            model=config.model), tmp_path / "clean")
    result = fit(tiny_samples(), config, tmp_path / "model", pretrained=tmp_path / "clean")
    assert result.metrics["pretrained"].endswith("clean")


def test_load_trained_names_missing_files(tmp_path):
    with pytest.raises(CrystalFourierError, match="not a saved model"):
        load_trained(tmp_path)


# --------------------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    """A CDVAE CSV of random crystals (P1 CIFs, as in carbon-24), plus one CIF and one POSCAR."""
    from crystal_fourier.runtime import random_crystal, write_cif, write_poscar
    from crystal_fourier.runtime.data._datasets import write_cdvae_csv

    folder = tmp_path_factory.mktemp("data")
    rows, crystals = [], []
    for seed, number in enumerate((1, 2, 14, 62, 194, 225) * 3):
        crystal = random_crystal(number, seed=seed, max_atoms=8).crystal
        crystals.append(crystal)
        rows.append({"material_id": f"m{seed}", "cif": write_cif(crystal), "spacegroup": number,
                     "energy": float(crystal.numbers.mean() / 40.0 + np.log(crystal.volume / crystal.n_atoms))})
    write_cdvae_csv(folder / "train.csv", rows)
    (folder / "one.cif").write_text(write_cif(crystals[0]))
    (folder / "POSCAR").write_text(write_poscar(crystals[5]))
    return folder, crystals


def test_train_evaluate_predict_from_the_command_line(data_files, tmp_path, capsys):
    from crystal_fourier.cli import main

    folder, crystals = data_files
    out = tmp_path / "model"
    sizes = ["--d-model", "16", "--heads", "2", "--layers", "1", "--d-route", "16", "--d-position", "16",
             "--no-progress"]
    assert main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(out),
                 "--epochs", "2", "--batch-size", "4", *sizes]) == 0
    assert "test MAE" in capsys.readouterr().out
    for name in ("config.json", "weights.pt", "normalization.json", "metrics.json"):
        assert (out / name).is_file()

    assert main(["evaluate", "--model", str(out), "--data", str(folder / "train.csv")]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["n"] == len(crystals)
    assert metrics["target"] == "energy"
    assert "per_group" in metrics

    files = [str(folder / "one.cif"), str(folder / "POSCAR")]
    assert main(["predict", "--model", str(out), *files]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "file,frame,prediction,error,symprec"
    assert [line.split(",")[:2] for line in lines[1:]] == [[file, ""] for file in files]
    expected = load_trained(out).predict_crystals([crystals[0], crystals[5]])
    np.testing.assert_allclose([float(line.split(",")[2]) for line in lines[1:]], expected, rtol=1e-6, atol=0)


def test_command_line_errors_are_one_line(data_files, tmp_path, capsys):
    from crystal_fourier.cli import main

    folder, _ = data_files
    base = ["train", "--data", str(folder / "train.csv"), "--out", str(tmp_path / "m"), "--no-progress"]
    assert main([*base, "--target", "nonexistent"]) == 2
    assert "nonexistent" in capsys.readouterr().err
    assert main([*base, "--target", "energy", "--device", "warp-drive"]) == 2
    assert "unknown device" in capsys.readouterr().err
    assert main([*base, "--target", "energy", "--compare-all-data"]) == 2
    assert "needs --holdout-groups" in capsys.readouterr().err
    assert main(["predict", "--model", str(tmp_path / "none"), str(folder / "one.cif")]) == 2
    assert "not a saved model" in capsys.readouterr().err


def test_zero_shot_report_from_the_command_line(data_files, tmp_path, capsys):
    from crystal_fourier.cli import main

    folder, _ = data_files
    out = tmp_path / "study"
    assert main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(out),
                 "--epochs", "1", "--batch-size", "4", "--d-model", "16", "--heads", "2", "--layers", "1",
                 "--d-route", "16", "--d-position", "16", "--no-progress",
                 "--holdout-groups", "centrosymmetric", "--compare-all-data"]) == 0
    assert "GB-Gap" in capsys.readouterr().out
    report = json.loads((out / "zero_shot.json").read_text())
    assert report["groups"]
    zero_shot = json.loads((out / "zero-shot" / "metrics.json").read_text())
    assert zero_shot["holdout_groups"]
    assert not json.loads((out / "all-data" / "metrics.json").read_text())[
        "holdout_groups"]


def test_early_stopping_keeps_the_best_epoch_and_resumes_to_the_same_stop(tmp_path, monkeypatch):
    from crystal_fourier.runtime.learning import _training as training

    scores = iter([0.5, 0.3, 0.4, 0.35, 0.2] * 4)   # best at epoch 2; epochs 3 and 4 are worse
    evaluate = training.evaluate_samples

    def scripted(model, normalizer, samples, device="cpu", target=None):
        metrics = evaluate(model, normalizer, samples, device, target)
        if samples and samples[0].id == "val-marker":
            metrics["mae"] = next(scores)
        return metrics

    samples = list(tiny_samples())
    val = training.training_split(samples, tiny_config())["val"]
    samples[val[0]] = dataclasses.replace(samples[val[0]], id="val-marker")
    monkeypatch.setattr(training, "evaluate_samples", scripted)
    result = fit(samples, tiny_config(epochs=10, patience=2), tmp_path / "straight")
    assert [row["val_mae"] for row in result.history] == [0.5, 0.3, 0.4, 0.35]
    metrics = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    assert metrics["stopped_early"]
    assert metrics["finished"]
    assert metrics["epochs_completed"] == 4
    assert metrics["best_val"] == 0.3
    # Interrupted after 3 epochs and resumed: it stops after epoch 4 as well (each fit also evaluates the
    # validation set once at the end, which takes one more score).
    scores = iter([0.5, 0.3, 0.4, 0.4])
    fit(samples, tiny_config(epochs=10, patience=2), tmp_path / "resumed", stop_after=3)
    scores = iter([0.35, 0.3])
    resumed = fit(samples, tiny_config(epochs=10, patience=2), tmp_path / "resumed", resume=True)
    assert [row["val_mae"] for row in resumed.history] == [0.5, 0.3, 0.4, 0.35]
    with pytest.raises(CrystalFourierError, match="patience must be an integer"):
        tiny_config(patience=0)


def test_a_model_saved_before_the_neighbourhood_option_still_loads(tmp_path):
    config = dataclasses.replace(tiny_config("cft", epochs=1),
                                 model=dataclasses.replace(tiny_config("cft").model, neighbourhood=False,
                                                           atom_readout=False, frequency_damping=None))
    result = fit(tiny_samples(), config, tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    for key in ("neighbourhood", "neighbour_cutoff", "n_rbf", "atom_readout", "frequency_damping"):
        del saved["train"]["model"][key]
    del saved["train"]["patience"]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    loaded = load_trained(tmp_path)
    assert loaded.config.model.neighbourhood is False
    assert loaded.config.patience is None
    expected = result.normalizer.denormalize(predict_samples(result.model, list(tiny_samples())))
    np.testing.assert_allclose(loaded.predict_samples(list(tiny_samples())), expected, rtol=PREDICTION_TOLERANCE,
                               atol=0)


def test_model_and_stopping_options_reach_the_saved_model(data_files, tmp_path, capsys):
    from crystal_fourier.cli import main

    folder, _ = data_files
    out = tmp_path / "model"
    assert main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(out),
                 "--epochs", "3", "--batch-size", "4", "--d-model", "16", "--heads", "2", "--layers", "1",
                 "--d-route", "16", "--d-position", "16", "--no-progress", "--no-neighbourhood",
                 "--neighbour-cutoff", "4.5", "--radial-functions", "8", "--no-atom-readout",
                 "--frequency-damping", "none", "--patience", "1"]) == 0
    saved = json.loads((out / "config.json").read_text())
    model = saved["train"]["model"]
    assert (model["neighbourhood"], model["neighbour_cutoff"], model["n_rbf"], model["atom_readout"]) == (
        False, 4.5, 8, False)
    assert model.get("frequency_damping") is None
    assert saved["train"]["patience"] == 1
    capsys.readouterr()
    for bad in (["--frequency-damping", "-1"], ["--radial-functions", "0"], ["--patience", "0"]):
        with pytest.raises(SystemExit) as stop:
            main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(tmp_path / "x"),
                  *bad])
        assert stop.value.code == 2
        assert bad[0] in capsys.readouterr().err


def test_evaluate_reports_the_classical_baselines_beside_the_model(data_files, tmp_path, capsys):
    from crystal_fourier.cli import main
    from crystal_fourier.runtime import fit_classical, load_dataset, load_trained, prepare_samples
    from crystal_fourier.runtime.learning._classical import CLASSICAL_KINDS

    folder, crystals = data_files
    out = tmp_path / "model"
    assert main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(out),
                 "--epochs", "1", "--batch-size", "4", "--d-model", "16", "--heads", "2", "--layers", "1",
                 "--d-route", "16", "--d-position", "16", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(folder / "train.csv"),
                 "--baselines-from", str(folder / "train.csv")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["baselines"]) == set(CLASSICAL_KINDS)
    trained_on = json.loads((out / "metrics.json").read_text())["train"]["n"]
    for kind, metrics in report["baselines"].items():
        assert metrics["n"] == len(crystals), kind
        assert metrics["n_train"] == trained_on, kind   # the model's own split
        assert np.isfinite(metrics["mae"]), kind
    # The same number as fitting the baseline through the Python API on the same file and split.
    samples = prepare_samples(load_dataset(folder / "train.csv", targets=["energy"]), "energy",
                              symprec=load_trained(out).config.symprec)
    fitted = fit_classical(samples, load_trained(out).config, "gbm+distance")
    expected = np.abs(fitted.predict_samples(samples) - np.array([s.target for s in samples])).mean()
    assert report["baselines"]["gbm+distance"]["mae"] == pytest.approx(expected, rel=1e-12)


def test_predict_crystals_names_the_crystal_that_fails(data_files, tmp_path, capsys):
    from crystal_fourier.cli import main
    from crystal_fourier.runtime import Crystal, load_trained

    folder, crystals = data_files
    out = tmp_path / "model"
    assert main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(out),
                 "--epochs", "1", "--batch-size", "4", "--d-model", "16", "--heads", "2", "--layers", "1",
                 "--d-route", "16", "--d-position", "16", "--no-progress"]) == 0
    model = load_trained(out)
    overlapping = Crystal.from_arrays(np.eye(3) * 4, [[0, 0, 0], [0, 0, 0]], [13, 13])
    with pytest.raises(CrystalFourierError, match="structure 'broken.cif'"):
        model.predict_crystals([crystals[0], overlapping], names=["fine.cif", "broken.cif"])
    with pytest.raises(CrystalFourierError, match="structure '1'"):
        model.predict_crystals([crystals[0], overlapping])
    with pytest.raises(CrystalFourierError, match="1 names for 2 crystals"):
        model.predict_crystals([crystals[0], crystals[1]], names=["one"])
    named = model.predict_crystals([crystals[0], crystals[1]], names=["a", "b"])
    np.testing.assert_array_equal(named, model.predict_crystals([crystals[0], crystals[1]]))
