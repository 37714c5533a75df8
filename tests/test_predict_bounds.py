"""predict and evaluate: every input bounded, one error row for the bad one, the other files keep theirs (issue 31).

``predict --model M good.vasp deep.json good.vasp`` with deep.json nested 100,000 deep printed the header
and a RecursionError; one structure had no size limit (8,000 atoms took 3.4 GB); a 1e300 target was
evaluated to mae 3.3e298 with exit 0.
"""

from __future__ import annotations

import csv
import io
import math

import pytest

from crystal_fourier.runtime.learning import _prediction

SIZES = ["--d-model", "16", "--heads", "2", "--layers", "1", "--d-route", "16", "--d-position", "16",
         "--no-progress", "--epochs", "1", "--batch-size", "4"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from crystal_fourier.runtime import Crystal, random_crystal, write_cdvae_csv, write_cif, write_poscar

    folder = tmp_path_factory.mktemp("bounds")
    rows = []
    for seed, number in enumerate((1, 2, 14, 62, 194, 225)):
        crystal = random_crystal(number, seed=seed, max_atoms=8).crystal
        rows.append({"material_id": f"m{seed}", "cif": write_cif(crystal), "energy": float(crystal.numbers.mean())})
    write_cdvae_csv(folder / "train.csv", rows)
    small = random_crystal(225, seed=5, max_atoms=8).crystal
    (folder / "good.vasp").write_text(write_poscar(small))
    shifts = [(i, j, k) for i in range(3) for j in range(3) for k in range(3)]
    big = Crystal(small.lattice * 3, [(p + s) / 3 for s in shifts for p in small.positions],
                  list(small.numbers) * len(shifts))  # a 3x3x3 supercell: 27 times the atoms
    (folder / "big.vasp").write_text(write_poscar(big))
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    write_cdvae_csv(folder / "huge_target.csv", [{**rows[0], "energy": 1e300}, rows[1]])
    return folder


@pytest.fixture(scope="module")
def model(folder, tmp_path_factory):
    from crystal_fourier.cli import main

    out = tmp_path_factory.mktemp("model") / "m"
    assert main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(out), *SIZES]) == 0
    return out


def _rows(text: str) -> list[list[str]]:
    """predict's rows without the frame column, which is empty for one-structure files."""
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["file", "frame"]
    assert all(row[1] == "" for row in rows[1:])
    return [row[:1] + row[2:] for row in rows]


def test_a_deeply_nested_json_gets_its_own_row_and_the_others_keep_theirs(folder, model, capsys):
    from crystal_fourier.cli import main

    capsys.readouterr()
    files = [str(folder / "good.vasp"), str(folder / "deep.json"), str(folder / "good.vasp")]
    assert main(["predict", "--model", str(model), *files]) == 1
    rows = _rows(capsys.readouterr().out)
    assert [row[0] for row in rows[1:]] == files
    first, deep, last = rows[1:]
    assert math.isfinite(float(first[1]))
    assert float(first[1]) == pytest.approx(float(last[1]), abs=1e-4)
    assert deep[1] == ""
    assert "deep.json" in deep[2]
    assert "nested" in deep[2]


def test_a_structure_over_the_atom_limit_gets_its_own_row_unless_allowed(folder, model, capsys, monkeypatch):
    from crystal_fourier.cli import main

    # A limit between the small crystal (at most 8 atoms, conventional cell) and its 3x3x3 supercell
    monkeypatch.setattr(_prediction, "PREDICT_MEMORY_LIMIT", 7 * 2 * 20**2)  # 20 atoms at 2 heads
    capsys.readouterr()
    files = [str(folder / "good.vasp"), str(folder / "big.vasp"), str(folder / "good.vasp")]
    assert main(["predict", "--model", str(model), *files]) == 1
    rows = _rows(capsys.readouterr().out)[1:]
    assert rows[0][2] == rows[2][2] == ""
    assert rows[1][1] == ""
    assert "big.vasp" in rows[1][2]
    assert "more than the 20 one structure may have" in rows[1][2]
    assert "--allow-large" in rows[1][2]
    assert main(["predict", "--model", str(model), "--allow-large", *files]) == 0
    rows = _rows(capsys.readouterr().out)[1:]
    assert all(row[2] == "" for row in rows)
    assert float(rows[1][1]) == pytest.approx(float(rows[0][1]), abs=1e-4)  # a supercell: the same crystal


def test_a_huge_target_is_refused_with_its_value_in_evaluate(folder, model, capsys):
    from crystal_fourier.cli import main

    capsys.readouterr()
    assert main(["evaluate", "--model", str(model), "--data", str(folder / "huge_target.csv")]) == 2
    err = capsys.readouterr().err
    assert "1e+300" in err
    assert "m0" in err
