"""Batch ``predict`` and the one symprec default (issue 11).

``predict`` prints one row per input file, in input order; a file that fails gets an error
row naming the file, the others are still predicted, and the exit status is 1. The symprec a
model was trained with is stored in its config.json and reused by predict and evaluate unless
``--symprec`` overrides it; every default in the package is ``DEFAULT_SYMPREC``.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
from pathlib import Path

import pytest

from crystal_fourier.runtime import DEFAULT_SYMPREC

SIZES = ["--d-model", "16", "--heads", "2", "--layers", "1", "--d-route", "16", "--d-position", "16",
         "--no-progress", "--epochs", "1", "--batch-size", "4"]
# Two Cu atoms 0.06 A apart: spglib refuses them at symprec 0.1 (overlap), accepts them at 0.01.
CLOSE_ATOMS = "close\n1.0\n3 0 0\n0 3 0\n0 0 3\nCu\n2\nDirect\n0 0 0\n0.02 0 0\n"   # 0.06 A: no symmetry at 0.1
OVERLAPPING_ATOMS = "overlap\n1.0\n3 0 0\n0 3 0\n0 0 3\nCu\n2\nDirect\n0 0 0\n1e-7 0 0\n"  # none at any tolerance


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from crystal_fourier.runtime import random_crystal, write_cdvae_csv, write_cif, write_poscar

    folder = tmp_path_factory.mktemp("predict")
    rows = []
    for seed, number in enumerate((1, 2, 14, 62, 194, 225)):
        crystal = random_crystal(number, seed=seed, max_atoms=8).crystal
        rows.append({"material_id": f"m{seed}", "cif": write_cif(crystal), "spacegroup": number,
                     "energy": float(crystal.numbers.mean() / 40.0)})
        if seed == 5:
            (folder / "good.cif").write_text(write_cif(crystal))
            vasp5 = write_poscar(crystal, comment="a comment")
            (folder / "POSCAR_vasp5").write_text(vasp5)
            lines = vasp5.splitlines()
            symbols = lines[5]
            (folder / "POSCAR_vasp4").write_text("\n".join(lines[:5] + lines[6:]) + "\n")
            (folder / "POSCAR_vasp4_comment").write_text("\n".join([symbols] + lines[1:5] + lines[6:]) + "\n")
            (folder / "species.txt").write_text(symbols.replace("  ", ","))
    write_cdvae_csv(folder / "train.csv", rows)
    two_blocks = write_cif(random_crystal(225, seed=1).crystal, name="a") + write_cif(
        random_crystal(229, seed=1).crystal, name="b")
    (folder / "two_blocks.cif").write_text(two_blocks)
    (folder / "POSCAR_close").write_text(CLOSE_ATOMS)
    (folder / "POSCAR_overlap").write_text(OVERLAPPING_ATOMS)
    return folder


def _train(folder: Path, out: Path, *extra) -> Path:
    from crystal_fourier.cli import main

    assert main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(out),
                 *SIZES, *extra]) == 0
    return out


@pytest.fixture(scope="module")
def model(folder, tmp_path_factory):
    return _train(folder, tmp_path_factory.mktemp("model") / "m")


def _rows(text: str) -> list[list[str]]:
    """predict's rows without the frame column, which is empty for one-structure files."""
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["file", "frame"]
    assert all(row[1] == "" for row in rows[1:])
    return [row[:1] + row[2:] for row in rows]


def test_one_row_per_file_in_input_order_and_exit_1_when_some_fail(folder, model, capsys):
    from crystal_fourier.cli import main

    capsys.readouterr()
    files = [folder / "good.cif", folder / "absent.cif", folder / "POSCAR_vasp4", folder / "two_blocks.cif",
             folder / "POSCAR_overlap", folder / "POSCAR_vasp5"]
    assert main(["predict", "--model", str(model), *map(str, files)]) == 1
    captured = capsys.readouterr()
    rows = _rows(captured.out)
    assert rows[0] == ["file", "prediction", "error", "symprec"]
    assert [row[0] for row in rows[1:]] == [str(f) for f in files]
    good, absent, vasp4, blocks, close, vasp5 = rows[1:]
    assert good[2] == vasp5[2] == ""
    assert good[3] == vasp5[3] == "0.1"
    assert float(good[1]) == pytest.approx(float(vasp5[1]), abs=1e-6)
    for row in (absent, vasp4, blocks, close):
        assert row[1] == ""
        assert row[0] in row[2], row                    # the message names the file ...
        assert "structure '" not in row[2]               # ... never an index,
        assert "()" not in row[2]                         # no empty reason
    assert "does not exist" in absent[2]
    assert "no species line (VASP 4 format)" in vasp4[2]
    assert "--species" in vasp4[2]
    assert "2 data blocks hold structures ('a', 'b')" in blocks[2]
    assert "atom 1 (Cu) and atom 2 (Cu) are on one point" in close[2]  # refused by the reader (issue 31)
    assert "4 of 6 structure(s) failed" in captured.err


def test_vasp4_species_from_the_option_or_the_comment_line(folder, model, capsys):
    from crystal_fourier.cli import main

    species = (folder / "species.txt").read_text().strip()
    capsys.readouterr()
    assert main(["predict", "--model", str(model), "--species", species, str(folder / "POSCAR_vasp4"),
                 str(folder / "POSCAR_vasp4_comment"), str(folder / "good.cif")]) == 0
    rows = _rows(capsys.readouterr().out)[1:]
    values = [float(row[1]) for row in rows]
    assert values[0] == pytest.approx(values[2], abs=1e-6)
    assert values[1] == pytest.approx(values[2], abs=1e-6)
    assert main(["predict", "--model", str(model), "--species", "Xx", str(folder / "good.cif")]) == 2
    assert "'Xx' does not start with an element symbol" in capsys.readouterr().err


def test_symprec_is_stored_in_the_model_and_reused_unless_overridden(folder, model, tmp_path, capsys):
    from crystal_fourier.cli import main

    assert json.loads((model / "config.json").read_text())["train"]["symprec"] == DEFAULT_SYMPREC
    close = str(folder / "POSCAR_close")
    capsys.readouterr()
    assert main(["predict", "--model", str(model), close]) == 0          # the model's 0.1 fails: retried at 0.01
    assert _rows(capsys.readouterr().out)[1][2:] == ["", "0.01"]
    assert main(["predict", "--model", str(model), "--symprec", "0.001", close]) == 0   # overridden
    assert _rows(capsys.readouterr().out)[1][2:] == ["", "0.001"]
    fine = _train(folder, tmp_path / "fine", "--symprec", "0.01")
    assert json.loads((fine / "config.json").read_text())["train"]["symprec"] == 0.01
    capsys.readouterr()
    assert main(["predict", "--model", str(fine), close]) == 0                         # its stored 0.01
    capsys.readouterr()
    assert main(["evaluate", "--model", str(fine), "--data", str(folder / "train.csv")]) == 0
    assert json.loads(capsys.readouterr().out)["symprec"] == 0.01
    assert main(["evaluate", "--model", str(fine), "--data", str(folder / "train.csv"), "--symprec", "0.1"]) == 0
    assert json.loads(capsys.readouterr().out)["symprec"] == 0.1


def test_every_symprec_default_is_the_one_constant():
    import importlib
    import pkgutil

    from crystal_fourier import runtime
    from crystal_fourier.runtime import DEFAULT_SYMPREC as reexported, TrainConfig

    assert DEFAULT_SYMPREC == reexported == 0.1
    assert TrainConfig().symprec == DEFAULT_SYMPREC
    assert "0.1 Angstrom" in TrainConfig.__doc__
    assert "0.01" not in TrainConfig.__doc__.split("symprec")[1][:40]
    checked = set()
    for info in pkgutil.walk_packages(runtime.__path__, prefix="crystal_fourier.runtime."):
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            parameter = inspect.signature(function).parameters.get("symprec")
            if parameter is not None and isinstance(parameter.default, float):
                assert parameter.default == DEFAULT_SYMPREC, f"{info.name}.{name} defaults to {parameter.default}"
                checked.add(f"{function.__module__}.{function.__qualname__}")
    assert {"crystal_fourier.runtime.symmetry._standardization.standardize",
            "crystal_fourier.runtime.symmetry._standardization.detect_group",
            "crystal_fourier.runtime.learning._samples.prepare_samples"} <= checked


@pytest.mark.parametrize("command", ["train", "predict", "evaluate", "demo"])
def test_every_command_that_standardizes_has_symprec(command):
    from crystal_fourier.cli import help_texts

    text = " ".join(help_texts()[command].split())
    assert "--symprec A" in text
    if command in ("train", "demo"):
        assert f"(default {DEFAULT_SYMPREC})" in text
        assert "0.01" not in text
    else:
        assert "default: the one the model was trained with" in text


def test_species_option_is_on_predict():
    from crystal_fourier.cli import help_texts

    assert "--species LIST" in help_texts()["predict"]


def test_a_trajectory_predicts_as_its_frames_given_as_single_files(folder, model, tmp_path, capsys):
    """Issue 29: every frame of a multi-frame extxyz (written by ASE) gets the row its frame gets as a file of
    its own, with the same numbers (the same crystals in the same order make the same batches: exact); a
    corrupt frame gets its own row and the frames after it are predicted."""
    ase_io = pytest.importorskip("ase.io")
    from crystal_fourier.cli import main
    from crystal_fourier.runtime import random_crystal

    atoms = [random_crystal(number, seed=seed, max_atoms=8).crystal.to_ase()
             for seed, number in enumerate((2, 14, 62, 225))]
    trajectory = tmp_path / "t.extxyz"
    ase_io.write(trajectory, atoms, format="extxyz")
    singles = []
    for index, frame in enumerate(atoms):
        singles.append(str(tmp_path / f"frame{index}.extxyz"))
        ase_io.write(singles[-1], frame, format="extxyz")
    capsys.readouterr()
    assert main(["predict", "--model", str(model), str(trajectory)]) == 0
    framed = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert main(["predict", "--model", str(model), *singles]) == 0
    alone = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert framed[0] == alone[0] == ["file", "frame", "prediction", "error", "symprec"]
    assert [row[:2] for row in framed[1:]] == [[str(trajectory), str(n)] for n in range(4)]
    assert [row[:2] for row in alone[1:]] == [[single, "0"] for single in singles]
    assert [row[2:] for row in framed[1:]] == [row[2:] for row in alone[1:]]
    assert all(row[3] == "" and row[2] for row in framed[1:])

    lines = trajectory.read_text().splitlines()
    second = int(lines[0]) + 2
    lines[second] = "two"                                    # frame 1 loses its count line
    broken = tmp_path / "broken.extxyz"
    broken.write_text("\n".join(lines) + "\n")
    assert main(["predict", "--model", str(model), str(broken)]) == 1
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))[1:]
    assert [row[:2] for row in rows] == [[str(broken), str(n)] for n in range(4)]
    assert rows[1][2] == ""
    assert rows[1][3] == f"{broken}, frame 1 (line {second + 1}): expected the number of atoms of a frame, got 'two'"
    kept = [float(row[2]) for row in (rows[0], rows[2], rows[3])]   # three crystals batched, not four: float32
    assert kept == pytest.approx([float(framed[n][2]) for n in (1, 3, 4)], abs=1e-5)
    assert "1 of 4 structure(s) failed" in captured.err


def test_directories_databases_csv_and_list_files_in_one_call(folder, model, tmp_path, capsys, monkeypatch):
    ase_db = pytest.importorskip("ase.db")
    from crystal_fourier.cli import main
    from crystal_fourier.runtime import read_structure

    monkeypatch.chdir(tmp_path)
    crystal = read_structure(folder / "good.cif")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "good.cif").write_text((folder / "good.cif").read_text())
    (tmp_path / "empty").mkdir()
    ase_db.connect(tmp_path / "rows.db").write(crystal.to_ase())
    (tmp_path / "labels.csv").write_text("material_id,energy\nm0,1\n")
    (tmp_path / "paths.txt").write_text(f"{folder / 'train.csv'}\n")
    capsys.readouterr()
    assert main(["predict", "--model", str(model), "dir", "empty", "rows.db", "labels.csv", "@paths.txt"]) == 1
    captured = capsys.readouterr()
    rows = list(csv.reader(io.StringIO(captured.out)))[1:]
    assert [row[:2] for row in rows] == [["dir/good.cif", ""], ["empty", ""], ["rows.db", "1"], ["labels.csv", ""],
                                         *[[str(folder / "train.csv"), f"m{n}"] for n in range(6)]]
    assert float(rows[2][2]) == pytest.approx(float(rows[0][2]), abs=1e-5)   # the same crystal, another batch
    assert "a directory with no structure files" in rows[1][3]
    assert "labels.csv: no 'cif' column" in rows[3][3]
    assert all(row[3] == "" for row in rows[4:])
    assert "2 of 10 structure(s) failed" in captured.err
