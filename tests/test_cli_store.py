"""`dataset prepare` and `train --data STORE`: the model the data file gives; a bad store is one line, status 2."""

from __future__ import annotations

import pytest

from crystal_fourier.cli import main

SIZES = ["--d-model", "16", "--heads", "2", "--layers", "1", "--d-route", "16", "--d-position", "16",
         "--no-progress", "--epochs", "2", "--batch-size", "4"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from crystal_fourier.runtime import random_crystal, write_cdvae_csv, write_cif

    folder = tmp_path_factory.mktemp("store")
    rows = []
    for seed in range(12):
        number = (1, 2, 14, 62, 194, 225)[seed % 6]
        crystal = random_crystal(number, seed=seed, max_atoms=8).crystal
        rows.append({"material_id": f"m{seed}", "cif": write_cif(crystal), "spacegroup": number,
                     "energy": float(crystal.numbers.mean() / 40.0)})
    write_cdvae_csv(folder / "train.csv", rows)
    assert main(["dataset", "prepare", "--data", str(folder / "train.csv"), "--target", "energy",
                 "--out", str(folder / "store"), "--no-progress"]) == 0
    return folder


def _one_line_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_training_from_the_store_equals_training_from_the_file(data, tmp_path, capsys):
    assert main(["train", "--data", str(data / "train.csv"), "--target", "energy", "--out", str(tmp_path / "file"),
                 *SIZES]) == 0
    assert main(["train", "--data", str(data / "store"), "--target", "energy", "--out", str(tmp_path / "store"),
                 *SIZES]) == 0
    for name in ("metrics.json", "weights.pt", "normalization.json"):
        assert (tmp_path / "file" / name).read_bytes() == (tmp_path / "store" / name).read_bytes(), name
    out = capsys.readouterr().out.splitlines()
    assert out[0].split(";")[0] == out[1].split(";")[0]


@pytest.mark.parametrize(("option", "message"), [
    (["--target", "bulk_modulus"], "was prepared with --target energy, training asks for bulk_modulus"),
    (["--target", "energy", "--symprec", "0.01"], "was prepared with --symprec 0.1, training asks for 0.01"),
    (["--target", "energy", "--handedness", "keep"], "prepared with --handedness canonical, training asks for keep"),
])
def test_a_store_of_another_target_or_symprec_is_refused(data, tmp_path, capsys, option, message):
    err = _one_line_error(capsys, ["train", "--data", str(data / "store"), "--out", str(tmp_path / "m"), *option,
                                   *SIZES])
    assert message in err


def test_a_damaged_store_is_one_line(data, tmp_path, capsys):
    import shutil

    shutil.copytree(data / "store", tmp_path / "copy")
    (tmp_path / "copy" / "targets.npy").write_bytes((tmp_path / "copy" / "targets.npy").read_bytes()[:-8])
    err = _one_line_error(capsys, ["train", "--data", str(tmp_path / "copy"), "--target", "energy",
                                   "--out", str(tmp_path / "m"), *SIZES])
    assert "targets.npy" in err
    assert "(truncated or damaged)" in err
    assert not (tmp_path / "m" / "metrics.json").exists()


def test_prepare_replaces_only_a_store_and_only_when_asked(data, tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    argv = ["dataset", "prepare", "--data", str(data / "train.csv"), "--target", "energy", "--no-progress",
            "--no-neighbourhood"]
    assert "exists and is not a sample store" in _one_line_error(capsys, [*argv, "--out", str(tmp_path / "mine")])
    assert "pass --overwrite to replace a store" in _one_line_error(capsys, [*argv, "--out", str(data / "store")])
    again = tmp_path / "again"
    assert main([*argv, "--out", str(again)]) == 0
    assert main([*argv, "--out", str(again), "--overwrite"]) == 0
    assert "wrote 12 samples of energy" in capsys.readouterr().out
    _one_line_error(capsys, [*argv, "--out", str(tmp_path / "x"), "--target", "nothing"])
    assert not (tmp_path / "x").exists()


def test_prepare_streams_the_same_store_with_workers(data, tmp_path):
    """Two workers (the engine's, two chunks each in flight) write the bytes one process writes."""
    argv = ["dataset", "prepare", "--data", str(data / "train.csv"), "--target", "energy", "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "two"), "--workers", "2"]) == 0
    one = {p.name: p.read_bytes() for p in (data / "store").iterdir()}
    assert {p.name: p.read_bytes() for p in (tmp_path / "two").iterdir()} == one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["two"]
