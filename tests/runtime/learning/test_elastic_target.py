"""The elastic-tensor target: exact symmetry, equivariance, training (the one ``fit``), resume and saved models."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

pytest.importorskip("ase")

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.data._datasets import load_cdvae_csv
from crystal_fourier.runtime.data._elastic import rotate_stiffness, symmetry_projector, symmetry_violation
from crystal_fourier.runtime import make_dataset, collate, load_trained, fit, prepare_samples, predict_samples
from crystal_fourier.runtime.learning._elastic_target import project_predictions, tensor_metrics
from crystal_fourier.runtime import Crystal, ModelConfig, TrainConfig, build_model
from crystal_fourier.runtime.network._cell_features import lattice_from_features

SMALL = ModelConfig(d_model=16, n_heads=2, n_layers=1, d_ff=32, d_route=16, d_position=16, d_head=16, n_rbf=8)
RELATIVE_FLOAT32 = 1e-6
"""Relative symmetry violation allowed for float32 outputs (round-off of a few float32 operations)."""


@pytest.fixture(scope="module")
def elastic_set(tmp_path_factory):
    path = tmp_path_factory.mktemp("elastic") / "set.csv"
    make_dataset(path, groups=[1, 12, 166, 194, 225], size=15, max_atoms=8, progress=False, target="elastic_tensor")
    samples = prepare_samples(load_cdvae_csv(path), "elastic_tensor")
    return (samples, np.array([s.target for s in samples])), load_cdvae_csv(path)


def _config(**changes) -> TrainConfig:
    return TrainConfig(**{"target": "elastic_tensor", "model": dataclasses.replace(SMALL, tensor_head="symmetric"),
                          "epochs": 2, "batch_size": 8, "lr": 3e-3, "progress": False, **changes})


@pytest.fixture(scope="module")
def trained(elastic_set, tmp_path_factory):
    (samples, tensors), _ = elastic_set
    out = tmp_path_factory.mktemp("model") / "m"
    result = fit(samples, _config(), out)
    return result, load_trained(out)


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


@pytest.mark.parametrize("head", ["symmetric", "free"])
def test_symmetric_head_output_lies_in_the_allowed_tensors_and_free_head_does_not(elastic_set, head):
    (samples, _), _ = elastic_set
    torch.manual_seed(0)
    model = build_model(dataclasses.replace(SMALL, tensor_head=head)).eval()
    with torch.no_grad():
        out = model(collate(samples, neighbours=SMALL.neighbour_spec)).double().numpy()
    assert out.shape == (len(samples), 6, 6)
    relative = np.array([symmetry_violation(c, symmetry_projector(s.hall_number, lattice_from_features(s.lattice)),
                                            relative=True) for c, s in zip(out, samples, strict=True)])
    non_triclinic = np.array([s.number > 2 for s in samples])
    assert non_triclinic.sum() >= 10
    if head == "symmetric":
        assert relative.max() < RELATIVE_FLOAT32
    else:
        assert relative[non_triclinic].min() > 1e-2


def test_projection_after_the_fact_makes_the_free_predictions_allowed(elastic_set):
    (samples, tensors), _ = elastic_set
    rng = np.random.default_rng(1)
    noisy = tensors + rng.normal(scale=5.0, size=tensors.shape)
    noisy = (noisy + np.swapaxes(noisy, 1, 2)) / 2
    before = tensor_metrics(noisy, tensors, samples)
    after = tensor_metrics(project_predictions(noisy, samples), tensors, samples)
    assert before["violation_mean"] > 1.0
    assert after["violation_max"] < 1e-9
    assert after["component_mae"] < before["component_mae"]   # projection removes error outside the subspace
    assert tensor_metrics(tensors, tensors, samples)["component_mae"] == 0.0


def test_training_writes_a_model_that_loads_and_predicts_the_same(trained, elastic_set):
    result, loaded = trained
    (samples, tensors), _ = elastic_set
    assert loaded.config.model.tensor_head == "symmetric"
    upper = np.triu_indices(6)
    scale = float(np.sqrt(np.mean(tensors[result.split["train"]][:, upper[0], upper[1]] ** 2)))
    assert (loaded.normalizer.mean, loaded.normalizer.std) == (0.0, pytest.approx(scale, rel=1e-15))
    assert result.metrics["scale"] == loaded.normalizer.std
    np.testing.assert_allclose(loaded.predict_samples(samples),
                               predict_samples(result.model, samples) * scale, rtol=0, atol=1e-9 * scale)
    assert result.metrics["test"]["violation_max"] < RELATIVE_FLOAT32 * np.abs(tensors).max() * 10
    assert np.isfinite(result.metrics["test"]["component_mae"])


def test_predictions_rotate_with_the_input_frame(trained, elastic_set):
    _, loaded = trained
    _, records = elastic_set
    crystals = [r.crystal for r in records[:6]]
    q = _rotation(7)
    turned = [Crystal(c.lattice @ q.T, c.positions, c.numbers) for c in crystals]
    shifted = [Crystal(c.lattice, c.positions[::-1] + [0.13, 0.0, 0.0], c.numbers[::-1]) for c in crystals]
    base = loaded.predict_crystals(crystals)
    assert base.shape == (6, 6, 6)
    scale = np.abs(base).max()
    np.testing.assert_allclose(loaded.predict_crystals(turned), rotate_stiffness(base, q), rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(loaded.predict_crystals(shifted)[[0, 1]], base[[0, 1]], rtol=0, atol=1e-5 * scale)
    assert np.abs(rotate_stiffness(base, q) - base).max() > 1e-3 * scale   # the rotation is not trivial


def test_tensor_training_refuses_a_scalar_model_and_old_configs_load_as_scalar(elastic_set):
    (samples, tensors), _ = elastic_set
    with pytest.raises(CrystalFourierError, match="tensor head"):
        fit(samples, TrainConfig(target="elastic_tensor", model=SMALL, epochs=1, progress=False))
    with pytest.raises(CrystalFourierError, match="one number per crystal"):
        fit(samples, _config(target="elastic_c11"))
    old = {k: v for k, v in SMALL.to_dict().items() if k != "tensor_head"}
    assert ModelConfig.from_dict(old).tensor_head is None
    with pytest.raises(CrystalFourierError, match="tensor_head"):
        dataclasses.replace(SMALL, tensor_head="cubic")


def test_cli_dataset_make_and_train_elastic_tensor(tmp_path, capsys):
    from crystal_fourier.cli import main

    data, out = tmp_path / "e.csv", tmp_path / "model"
    assert main(["dataset", "make", "--groups", "225,194", "--size", "6", "--max-atoms", "6", "--out", str(data),
                 "--target", "elastic_tensor", "--no-progress"]) == 0
    assert main(["train", "--data", str(data), "--target", "elastic_tensor", "--out", str(out), "--epochs", "1",
                 "--d-model", "16", "--heads", "2", "--layers", "1", "--d-route", "16", "--d-position", "16",
                 "--radial-functions", "8", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "symmetric head" in printed
    assert load_trained(out).config.model.tensor_head == "symmetric"
    assert main(["train", "--data", str(data), "--target", "elastic_tensor", "--out", str(tmp_path / "m2"),
                 "--epochs", "1", "--log-target"]) == 2
    assert "--log-target is not supported" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(out), "--data", str(data)]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["n"] == 6
    assert np.isfinite(scored["component_mae"])
    assert scored["violation_max"] < 1e-3


def test_an_interrupted_tensor_run_resumes_to_the_uninterrupted_model(elastic_set, tmp_path):
    (samples, _), _ = elastic_set
    straight = fit(samples, _config(epochs=3, patience=2), tmp_path / "straight")
    fit(samples, _config(epochs=3, patience=2), tmp_path / "resumed", stop_after=1)
    assert json.loads((tmp_path / "resumed" / "metrics.json").read_text())["epochs_completed"] == 1
    resumed = fit(samples, _config(epochs=3, patience=2), tmp_path / "resumed", resume=True)
    assert resumed.history == straight.history
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]
    assert all(np.isfinite(row["val_component_mae"]) for row in resumed.history)
    np.testing.assert_array_equal(load_trained(tmp_path / "resumed").predict_samples(samples),
                                  load_trained(tmp_path / "straight").predict_samples(samples))


def test_cli_resumes_a_tensor_model(tmp_path, capsys):
    from crystal_fourier.cli import main

    data, out = tmp_path / "e.csv", tmp_path / "model"
    assert main(["dataset", "make", "--groups", "225,194", "--size", "6", "--max-atoms", "6", "--out", str(data),
                 "--target", "elastic_tensor", "--no-progress"]) == 0
    options = ["train", "--data", str(data), "--target", "elastic_tensor", "--out", str(out), "--epochs", "2",
               "--d-model", "16", "--heads", "2", "--layers", "1", "--d-route", "16", "--d-position", "16",
               "--radial-functions", "8", "--no-progress", "--tensor-head", "free", "--patience", "3"]
    assert main(options) == 0
    first = json.loads((out / "metrics.json").read_text())
    assert main([*options, "--resume"]) == 0
    assert "free head" in capsys.readouterr().out
    again = json.loads((out / "metrics.json").read_text())
    assert again["history"] == first["history"]
    assert again["test"] == first["test"]
    assert (again["tensor_head"], again["epochs_completed"]) == ("free", 2)


def test_comparison_scores_every_model_on_one_split_with_the_held_out_groups(elastic_set):
    from crystal_fourier.runtime import compare_tensor_models
    from crystal_fourier.runtime.learning._training import training_split

    (samples, tensors), _ = elastic_set
    config = TrainConfig(target="elastic_tensor", model=SMALL, epochs=1, batch_size=8, progress=False,
                         split=(0.6, 0.1, 0.3), holdout_groups=(225,))
    test = training_split(samples, config)["test"]
    heldout = [i for i in test if samples[i].number == 225]
    assert 0 < len(heldout) < len(test)
    models = ["cft-symmetric", "cft-free", "cft-free+projection", "ridge+distance"]
    results = compare_tensor_models(samples, config, models)
    assert list(results) == models
    assert {r["test"]["n"] for r in results.values()} == {len(test)}
    assert {r["heldout"]["n"] for r in results.values()} == {len(heldout)}
    assert results["cft-free+projection"]["test"]["violation_max"] < 1e-9
    assert results["cft-free"]["test"]["violation_max"] > 1e-3
    assert results["cft-symmetric"]["test"]["violation_max"] < RELATIVE_FLOAT32 * np.abs(tensors).max() * 10
    with pytest.raises(CrystalFourierError, match="unknown tensor models"):
        compare_tensor_models(samples, config, ["cft-cubic"])


def test_cli_predict_writes_each_files_tensor_in_its_own_frame(trained, elastic_set, tmp_path, capsys):
    from crystal_fourier.cli import main
    from crystal_fourier.runtime.data._datasets import Record, write_extxyz
    from crystal_fourier.runtime.data._elastic import ELASTIC_COLUMNS

    _, loaded = trained
    _, records = elastic_set
    crystal = records[3].crystal
    q = _rotation(8)
    paths = []
    for name, lattice in (("a", crystal.lattice), ("b", crystal.lattice @ q.T)):
        path = tmp_path / f"{name}.extxyz"
        write_extxyz(path, [Record(name, Crystal(lattice, crystal.positions, crystal.numbers), {})])
        paths.append(str(path))
    (tmp_path / "bad.cif").write_text("not a cif")
    assert main(["predict", "--model", str(loaded.directory), *paths, str(tmp_path / "bad.cif")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(",") == ["file", "frame", *ELASTIC_COLUMNS, "error", "symprec"]
    assert [line.split(",")[1] for line in lines[1:]] == ["0", "0", ""]   # extxyz frames are numbered
    rows = [np.array([float(v) for v in line.split(",")[2:23]]) for line in lines[1:3]]
    upper = np.triu_indices(6)
    expected = loaded.predict_crystals([Crystal(crystal.lattice @ q.T, crystal.positions, crystal.numbers)])[0]
    np.testing.assert_allclose(rows[1], expected[upper], rtol=1e-6, atol=1e-5)
    assert np.abs(rows[1] - rows[0]).max() > 1e-3   # the rotated file gets the rotated tensor
    assert lines[3].split(",")[2] == ""
    assert main(["evaluate", "--model", str(loaded.directory), "--data", paths[0]]) == 2


def test_the_audit_checks_a_tensor_model_as_an_equivariant_rank_4_tensor(trained, elastic_set):
    from crystal_fourier.audit import Claim, SavedModel, audit

    _, loaded = trained
    _, records = elastic_set
    crystals = [records[i].crystal for i in (0, 7, 13)]   # groups 1, 166, 225 of the set
    report = audit(SavedModel(loaded.directory), crystals, per_kind=1, claim=Claim(energy="intensive"),
                   kinds="rotation,reflection,permutation,supercell,group")
    report.assert_ok()
    assert {check.quantity for check in report.checks} == {"energy", "elastic"}
    assert {check.kind for check in report.checks if check.quantity == "elastic"} == {
        "rotation", "reflection", "permutation", "supercell", "group"}
    outputs = SavedModel(loaded.directory).evaluate(crystals[0])
    assert outputs["elastic"].shape == (3, 3, 3, 3)
    voigt = loaded.predict_crystals(crystals[:1])[0]
    assert outputs["elastic"][0, 0, 1, 2] == voigt[0, 3]   # C_xxyz = C14 (Voigt pair yz = 4)
    assert outputs["energy"] == pytest.approx((voigt[:3, :3].sum()) / 9.0, rel=1e-12)
