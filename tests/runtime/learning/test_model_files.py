"""Saved models: data-only loading, checked configuration files, whole-directory writes, one writer at a time."""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.learning._model_files import check_device, load_torch_file
from crystal_fourier.runtime import fit, load_trained

from .test_training import tiny_config, tiny_samples


class Payload:
    """Unpickling this creates the file ``marker``: the proof that a load ran code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _hostile_torch_file(path, marker):
    torch.save({"config": {}, "model": Payload(marker)}, path)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One tiny trained model (2 epochs)."""
    out = tmp_path_factory.mktemp("saved") / "model"
    fit(tiny_samples(), tiny_config(epochs=2), out)
    return out


def _copy(saved, tmp_path, name="model"):
    import shutil

    return shutil.copytree(saved, tmp_path / name)


def test_the_checkpoint_loads_as_data_only(saved):
    checkpoint = torch.load(saved / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == 2
    assert checkpoint["rng"]["numpy"]["keys"].dtype == torch.int64
    assert checkpoint["rng"]["numpy"]["keys"].shape == (624,)
    assert checkpoint["rng"]["python"]["internal"].shape == (625,)


def test_a_crafted_checkpoint_runs_nothing_and_gives_one_error(saved, tmp_path, capsys):
    out = tmp_path / "model"
    out.mkdir()
    marker = tmp_path / "payload-ran"
    _hostile_torch_file(out / "checkpoint.pt", marker)
    with pytest.raises(CrystalFourierError, match="refused without running it"):
        fit(tiny_samples(), tiny_config(epochs=2), out, resume=True)
    assert not marker.exists()


def test_a_crafted_weights_file_is_refused_through_the_command_line(saved, tmp_path, capsys):
    from crystal_fourier.cli import main

    model = _copy(saved, tmp_path)
    marker = tmp_path / "payload-ran"
    _hostile_torch_file(model / "weights.pt", marker)
    data = tmp_path / "none.csv"
    data.write_text("material_id,cif,target\n")
    status = main(["evaluate", "--model", str(model), "--data", str(data)])
    err = capsys.readouterr().err
    assert status == 2
    assert not marker.exists()
    assert len(err.strip().splitlines()) == 1
    assert "weights.pt" in err
    assert "Traceback" not in err


def test_a_plain_pickle_of_the_payload_would_have_run(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))  # the control: the payload is real
    assert marker.exists()


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04truncated", b"\x80\x02garbage", b"not a torch file"])
@pytest.mark.parametrize("name", ["weights.pt", "checkpoint.pt"])
def test_empty_or_truncated_tensor_files_give_one_error(saved, tmp_path, name, content):
    model = _copy(saved, tmp_path)
    (model / name).write_bytes(content)
    if name == "weights.pt":
        with pytest.raises(CrystalFourierError, match=name):
            load_trained(model)
    else:
        with pytest.raises(CrystalFourierError, match=name):
            fit(tiny_samples(), tiny_config(epochs=2), model, resume=True)


def test_a_truncated_real_weights_file_gives_one_error(saved, tmp_path):
    model = _copy(saved, tmp_path)
    data = (model / "weights.pt").read_bytes()
    (model / "weights.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CrystalFourierError, match="weights.pt"):
        load_trained(model)


def _edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["train"]["model"].update(n_layers=100000), "n_layers must be an integer in 1-64"),
    (lambda d: d["train"]["model"].update(d_model=4096, d_ff=16384, n_heads=8, n_layers=64), "transformer parameters"),
    (lambda d: d["train"]["model"].update(n_heads="8"), "n_heads"),
    (lambda d: d.update(version="99.0"), "newer than this"),
    (lambda d: d.update(version="banana"), "unknown version"),
    (lambda d: d["train"].update(lr=-1), "learning rate"),
    (lambda d: d["train"].update(unknown_key=1), "training configuration has the keys"),
    (lambda d: d.pop("train"), "expected an object"),
    (lambda d: d["train"].update(holdout_groups=[999]), "held-out group"),
    (lambda d: d["train"].update(handedness="left"), "handedness must be canonical or keep"),
])
def test_bad_config_is_refused_before_anything_is_built(saved, tmp_path, change, message, monkeypatch):
    import crystal_fourier.runtime.network._model as model_module

    model = _copy(saved, tmp_path)
    _edit_json(model / "config.json", change)
    monkeypatch.setattr(model_module, "build_model", lambda config: pytest.fail("a model was built"))
    with pytest.raises(CrystalFourierError, match=message):
        load_trained(model)


@pytest.mark.parametrize(("text", "message"), [
    ('{"mean": NaN, "std": 1.0, "log_target": false}', "NaN is not a number JSON allows"),
    ('{"mean": 1.0, "std": 0, "log_target": false}', "std must be a finite number"),
    ('{"mean": 1.0, "std": -2, "log_target": false}', "std must be a finite number"),
    ('{"mean": 1.0, "std": 1e999, "log_target": false}', "Infinity is not a number|std must be"),
    ('{"mean": 1.0, "std": 1.0, "log_target": "yes"}', "log_target must be true or false"),
    ('{"mean": 1.0, "std": 1.0}', "exactly the keys"),
    ('[1, 2]', "exactly the keys"),
    ('\x00\x01 not json', "not valid JSON"),
])
def test_bad_normalization_is_refused(saved, tmp_path, text, message):
    model = _copy(saved, tmp_path)
    (model / "normalization.json").write_text(text)
    with pytest.raises(CrystalFourierError, match=message):
        load_trained(model)


def test_an_existing_model_is_not_overwritten_without_a_flag(saved, tmp_path):
    model = _copy(saved, tmp_path)
    before = {p.name: p.read_bytes() for p in model.iterdir()}
    with pytest.raises(CrystalFourierError, match="already holds a model.*--overwrite"):
        fit(tiny_samples(), tiny_config(epochs=1, seed=3), model)
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before
    with pytest.raises(CrystalFourierError, match="give one of them"):
        fit(tiny_samples(), tiny_config(epochs=1, seed=3), model, resume=True, overwrite=True)
    fit(tiny_samples(), tiny_config(epochs=1, seed=3), model, overwrite=True)
    assert json.loads((model / "config.json").read_text())["train"]["seed"] == 3
    assert json.loads((model / "metrics.json").read_text())["epochs_completed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary left


def test_a_directory_with_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CrystalFourierError, match=r"not a model's \(notes.txt\)"):
        fit(tiny_samples(), tiny_config(epochs=1), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("x")
    with pytest.raises(CrystalFourierError, match="not a directory"):
        fit(tiny_samples(), tiny_config(epochs=1), tmp_path / "file")
    with pytest.raises(CrystalFourierError, match="name the model directory"):
        fit(tiny_samples(), tiny_config(epochs=1), tmp_path / "sub" / "..")


KILLED_TRAINER = textwrap.dedent("""
    import importlib.util, os, signal, sys
    from crystal_fourier import _atomic as atomic
    from crystal_fourier.runtime.learning._training import fit

    spec = importlib.util.spec_from_file_location("test_training", sys.argv[2])
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    tiny_config, tiny_samples = helpers.tiny_config, helpers.tiny_samples

    def exchange(first, second):
        os.kill(os.getpid(), signal.SIGKILL)

    atomic._exchange = exchange
    fit(tiny_samples(), tiny_config(epochs=1, seed=7, lr=1e-2), sys.argv[1], overwrite=True)
""")


def test_a_trainer_killed_at_the_final_rename_leaves_the_old_model_whole(saved, tmp_path):
    model = _copy(saved, tmp_path)
    expected = load_trained(model).predict_samples(tiny_samples()[:4])
    helpers = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_training.py")
    run = subprocess.run([sys.executable, "-c", KILLED_TRAINER, str(model), helpers], capture_output=True,
                         timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False)
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()[-2000:]
    reloaded = load_trained(model)
    assert reloaded.config.seed == 0
    assert reloaded.config.epochs == 2
    np.testing.assert_array_equal(reloaded.predict_samples(tiny_samples()[:4]), expected)


def test_unsupported_devices_are_one_error():
    with pytest.raises(CrystalFourierError, match="not supported"):
        check_device("xpu")
    with pytest.raises(CrystalFourierError, match="unknown device"):
        check_device("warp-drive")
    assert check_device("cpu") == "cpu"
    with pytest.raises(CrystalFourierError, match="cannot read"):
        load_torch_file("/nonexistent/weights.pt")


def test_a_huge_target_is_refused_not_trained_to_infinity(tmp_path):
    import dataclasses

    samples = list(tiny_samples())
    samples[0] = dataclasses.replace(samples[0], target=1e300)
    with pytest.raises(CrystalFourierError, match="magnitude 1e\\+300"):
        fit(samples, tiny_config(epochs=1), tmp_path / "m")
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())
    from crystal_fourier.runtime.learning._training import Normalizer

    with pytest.raises(CrystalFourierError, match="overflow"):
        Normalizer.fit([1e300, -1e300, 1.0])


def test_evaluate_refuses_another_target_than_the_trained_one(saved, tmp_path, capsys):
    from crystal_fourier.cli import main

    status = main(["evaluate", "--model", str(saved), "--data", str(tmp_path / "x.csv"), "--target", "bulk_modulus"])
    err = capsys.readouterr().err
    assert status == 2
    assert "predicts 'target'; scoring it against 'bulk_modulus'" in err


def test_a_zip_bomb_weights_file_is_refused_before_it_is_unpacked(saved, tmp_path, monkeypatch):
    import zipfile

    model = _copy(saved, tmp_path)
    huge = 64 << 20  # deflates to ~64 kB; the tiny model's tensors are far smaller
    with zipfile.ZipFile(model / "weights.pt", "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("weights/data/bomb", "w", force_zip64=True) as entry:
            for _ in range(huge >> 20):
                entry.write(bytes(1 << 20))
    assert (model / "weights.pt").stat().st_size < 1 << 20
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load reached the zip bomb"))
    with pytest.raises(CrystalFourierError, match="declares .* bytes unpacked, more than"):
        load_trained(model)


def test_the_size_check_lets_the_real_weights_through(saved):
    from crystal_fourier.runtime.learning._model_files import check_archive_size, expected_tensor_bytes

    trained = load_trained(saved)
    data = (saved / "weights.pt").read_bytes()
    check_archive_size("weights.pt", data, 2 * expected_tensor_bytes(trained.model) + (1 << 20))
    with pytest.raises(CrystalFourierError, match="declares"):
        check_archive_size("weights.pt", data, expected_tensor_bytes(trained.model) // 2)


def test_a_deeply_nested_config_is_one_error(saved, tmp_path):
    model = _copy(saved, tmp_path)
    (model / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CrystalFourierError, match="nested deeper"):
        load_trained(model)


@pytest.mark.parametrize(("values", "message"), [
    (["inf", "1.0"], "1 of 2 targets of 'target' are not finite \\(first: 'm0' = inf\\)"),
    (["-inf", "-inf"], "2 of 2 targets of 'target' are not finite"),
    (["nan", "nan"], "no labelled structures to evaluate 'target'"),
])
def test_evaluate_refuses_non_finite_targets(saved, tmp_path, capsys, values, message):
    from crystal_fourier.cli import main
    from crystal_fourier.runtime import Crystal, write_cif
    from crystal_fourier.runtime.data._datasets import write_cdvae_csv

    copper = Crystal(3.6 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [29] * 4)
    path = tmp_path / "labelled.csv"
    write_cdvae_csv(path, [{"material_id": f"m{i}", "cif": write_cif(copper), "target": value}
                           for i, value in enumerate(values)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows without a value (NaN) are skipped with a warning
        status = main(["evaluate", "--model", str(saved), "--data", str(path)])
    captured = capsys.readouterr()
    assert status == 2
    assert "mae" not in captured.out
    assert len(captured.err.strip().splitlines()) == 1
    assert re.search(message, captured.err)


KILLED_AFTER_AN_EPOCH = textwrap.dedent("""
    import importlib.util, os, signal, sys
    from crystal_fourier.runtime.learning import _training
    from crystal_fourier.runtime.learning._training import fit

    spec = importlib.util.spec_from_file_location("test_training", sys.argv[2])
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    real = _training.atomic_write

    def write_then_die(path, data):  # the first epoch's checkpoint is written, then the trainer is killed
        real(path, data)
        os.kill(os.getpid(), signal.SIGKILL)

    _training.atomic_write = write_then_die
    fit(helpers.tiny_samples(), helpers.tiny_config(epochs=3, seed=7, lr=1e-2), sys.argv[1], overwrite=True)
""")


def test_an_overwrite_killed_after_an_epoch_leaves_the_old_model_untouched(saved, tmp_path):
    model = _copy(saved, tmp_path)
    before = {path.name: path.read_bytes() for path in model.iterdir()}
    helpers = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test_training.py")
    run = subprocess.run([sys.executable, "-c", KILLED_AFTER_AN_EPOCH, str(model), helpers], capture_output=True,
                         timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False)
    assert run.returncode == -signal.SIGKILL, run.stderr.decode()[-2000:]
    assert {path.name: path.read_bytes() for path in model.iterdir()} == before  # checkpoint.pt included
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == [".model.checkpoint.tmp"]
    # A new --overwrite run replaces the killed run's checkpoint, finishes a whole model and leaves no temporary.
    fit(tiny_samples(), tiny_config(epochs=1, seed=7, lr=1e-2), model, overwrite=True)
    assert torch.load(model / "checkpoint.pt", weights_only=True)["config"]["seed"] == 7
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_saved_handedness_decides_whether_mirror_images_agree(saved, tmp_path):
    """config.json's handedness reaches predict_crystals: canonical (the default, also for models saved
    before the option existed) gives a chiral crystal and its mirror image one prediction; keep tells them apart."""
    from crystal_fourier.runtime import Crystal, random_crystal

    crystal = random_crystal(92, seed=0, max_atoms=24).crystal
    mirror = Crystal(crystal.lattice, -crystal.positions, crystal.numbers)
    model = _copy(saved, tmp_path)
    _edit_json(model / "config.json", lambda d: d["train"].pop("handedness", None))
    canonical = load_trained(model).predict_crystals([crystal, mirror])
    np.testing.assert_allclose(canonical[0], canonical[1], rtol=0, atol=1e-5)
    _edit_json(model / "config.json", lambda d: d["train"].update(handedness="keep"))
    kept = load_trained(model)
    assert kept.config.handedness == "keep"
    values = kept.predict_crystals([crystal, mirror])
    assert abs(values[0] - values[1]) > 1e-5
