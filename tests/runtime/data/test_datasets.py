"""Loaders: CDVAE CSV, extxyz (own parser), matbench / pymatgen JSON; and the shared real data."""

from __future__ import annotations

import csv
import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import write_cif
from crystal_fourier.runtime.data._datasets import (
    Record,
    load_cdvae_csv,
    load_dataset,
    load_extxyz,
    load_matbench_json,
    write_cdvae_csv,
    write_extxyz,
)
from crystal_fourier.runtime import Crystal
from crystal_fourier.runtime.structure_io._structures import cell_parameters
from crystal_fourier.runtime.structure_io._pymatgen_dicts import structure_from_dict

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
FCC = [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]]


@pytest.fixture
def crystals():
    rng = np.random.default_rng(0)
    return [Crystal(3.6 * np.eye(3), FCC, [29] * 4),
            Crystal(np.diag([3.0, 4.0, 5.0]) + rng.normal(scale=0.2, size=(3, 3)), rng.random((3, 3)), [13, 47, 79])]


def test_cdvae_csv_round_trip_ignores_group_and_text_columns(tmp_path, crystals):
    rows = [{"": i, "material_id": f"m{i}", "cif": write_cif(c), "formula": c.formula, "spacegroup": 999,
             "energy_per_atom": -1.25 * (i + 1), "band_gap": "" if i else 0.5} for i, c in enumerate(crystals)]
    path = tmp_path / "set.csv"
    write_cdvae_csv(path, rows,
                    columns=["", "material_id", "cif", "formula", "spacegroup", "energy_per_atom", "band_gap"])
    records = load_cdvae_csv(path)
    assert [r.id for r in records] == ["m0", "m1"]
    assert list(records[0].targets) == ["energy_per_atom", "band_gap"]   # no index, formula or spacegroup
    assert records[0].targets["energy_per_atom"] == -1.25
    assert records[1].targets["energy_per_atom"] == -2.5
    assert records[0].targets["band_gap"] == 0.5
    assert math.isnan(records[1].targets["band_gap"])
    for record, crystal in zip(records, crystals, strict=True):
        np.testing.assert_allclose(cell_parameters(record.crystal.lattice), cell_parameters(crystal.lattice), atol=1e-9)
        np.testing.assert_allclose(record.crystal.positions, np.mod(crystal.positions, 1), atol=1e-11)
    only = load_cdvae_csv(path, targets="band_gap", limit=1)
    assert len(only) == 1
    assert dict(only[0].targets) == {"band_gap": 0.5}
    with pytest.raises(TypeError):
        records[0].targets["x"] = 1.0  # read-only


@pytest.mark.parametrize("name", ["bom.csv", "bom.csv.gz"])
def test_cdvae_csv_with_a_byte_order_mark_keeps_its_first_column(tmp_path, crystals, name):
    plain = tmp_path / "plain.csv"
    write_cdvae_csv(plain, [{"material_id": "m0", "cif": write_cif(crystals[0]), "energy": -1.5}])
    data = b"\xef\xbb\xbf" + plain.read_bytes()  # as Excel and PowerShell save UTF-8 CSVs
    path = tmp_path / name
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    records = load_cdvae_csv(path)
    assert [(r.id, r.crystal.formula, dict(r.targets)) for r in records] == [("m0", "Cu4", {"energy": -1.5})]


def test_cdvae_csv_errors_name_the_problem(tmp_path, crystals):
    path = tmp_path / "bad.csv"
    write_cdvae_csv(path, [{"material_id": "a", "cif": "data_x\n_cell_length_a 1\n", "e": 1.0}])
    with pytest.raises(CrystalFourierError, match="material_id a, CSV row 2.*has atom sites"):
        load_cdvae_csv(path)
    write_cdvae_csv(path, [{"material_id": "a", "structure": "x"}], columns=["material_id", "structure"])
    with pytest.raises(CrystalFourierError, match="no 'cif' column"):
        load_cdvae_csv(path)
    write_cdvae_csv(path, [{"material_id": "a", "cif": write_cif(crystals[0]), "e": 1.0}])
    with pytest.raises(CrystalFourierError, match="no column 'gap'; the numeric columns are e"):
        load_cdvae_csv(path, targets=["gap"])


def test_extxyz_own_parser(tmp_path, crystals):
    path = tmp_path / "frames.extxyz"
    write_extxyz(path, [Record("a", crystals[0], {"energy": -3.5}), Record("b", crystals[1], {"energy": 1.25})])
    records = load_extxyz(path)
    assert [(r.id, dict(r.targets)) for r in records] == [("a", {"energy": -3.5}), ("b", {"energy": 1.25})]
    for record, crystal in zip(records, crystals, strict=True):
        np.testing.assert_allclose(record.crystal.lattice, crystal.lattice, atol=1e-11)
        np.testing.assert_allclose(record.crystal.positions, crystal.positions, atol=1e-11)


def test_extxyz_variants_and_errors(tmp_path):
    text = ('2\nLattice="3 0 0 0 3 0 0 0 3" Properties=Z:I:1:pos:R:3:forces:R:3 stress="1 2 3" '
            'energy=-7.0 converged name=x pbc="T T T"\n'
            "29 0 0 0 0.1 0.2 0.3\n79 1.5 1.5 1.5 0 0 0\n")
    path = tmp_path / "z.xyz"
    path.write_text(text)
    (record,) = load_extxyz(path)
    assert record.crystal.numbers.tolist() == [29, 79]
    assert dict(record.targets) == {"energy": -7.0}      # strings, flags and vectors are not targets
    np.testing.assert_allclose(record.crystal.positions[1], [0.5, 0.5, 0.5])
    path.write_text(text.replace('pbc="T T T"', 'pbc="T T F"'))
    with pytest.raises(CrystalFourierError, match="periodic in 3 directions"):
        load_extxyz(path)
    path.write_text(text.replace('Lattice="3 0 0 0 3 0 0 0 3" ', ""))
    with pytest.raises(CrystalFourierError, match="no Lattice"):
        load_extxyz(path)
    path.write_text(text.replace("2\n", "3\n", 1))
    with pytest.raises(CrystalFourierError, match="announces 3 atoms but the file ends first"):
        load_extxyz(path)
    path.write_text(text.replace("79 1.5 1.5 1.5 0 0 0", "79 1.5 1.5"))
    with pytest.raises(CrystalFourierError, match="atom line 2 has 3 fields, Properties announces 7"):
        load_extxyz(path)


def test_extxyz_matches_ase_when_available(tmp_path, crystals):
    ase_io = pytest.importorskip("ase.io")
    path = tmp_path / "by_ase.extxyz"
    atoms = crystals[1].to_ase()
    atoms.info["energy_per_atom"] = -0.75
    ase_io.write(path, atoms, format="extxyz")
    (record,) = load_extxyz(path)
    np.testing.assert_allclose(record.crystal.positions, crystals[1].positions, atol=1e-7)
    assert record.targets["energy_per_atom"] == -0.75


def pymatgen_dict(crystal: Crystal) -> dict:
    return {"@module": "pymatgen.core.structure", "@class": "Structure",
            "lattice": {"matrix": crystal.lattice.tolist()},
            "sites": [{"species": [{"element": s, "occu": 1}], "abc": p.tolist(), "label": s}
                      for s, p in zip(crystal.symbols, crystal.positions, strict=True)]}


def test_matbench_table_list_single_and_gzip(tmp_path, crystals):
    table = {"index": ["mb-0", "mb-1"], "columns": ["structure", "e_form"],
             "data": [[pymatgen_dict(c), -0.5 * i] for i, c in enumerate(crystals)]}
    path = tmp_path / "matbench_x.json.gz"
    with gzip.open(path, "wt") as handle:
        json.dump(table, handle)
    records = load_dataset(path)
    assert [(r.id, dict(r.targets)) for r in records] == [("mb-0", {"e_form": -0.0}), ("mb-1", {"e_form": -0.5})]
    np.testing.assert_allclose(records[1].crystal.positions, crystals[1].positions)
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"structure": pymatgen_dict(c), "material_id": f"L{i}", "k": i, "note": "x"}
                                  for i, c in enumerate(crystals)]))
    assert [(r.id, dict(r.targets)) for r in load_matbench_json(listed)] == [("L0", {"k": 0.0}), ("L1", {"k": 1.0})]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(pymatgen_dict(crystals[0])))
    assert load_matbench_json(single)[0].crystal.formula == "Cu4"


def test_pymatgen_dict_errors():
    good = pymatgen_dict(Crystal(3 * np.eye(3), [[0, 0, 0]], [29]))
    good["sites"][0]["species"] = [{"element": "Cu", "occu": 0.5}, {"element": "Au", "occu": 0.5}]
    with pytest.raises(CrystalFourierError, match="site 0 is disordered"):
        structure_from_dict(good)
    with pytest.raises(CrystalFourierError, match="needs 'lattice' and 'sites'"):
        structure_from_dict({"sites": []})


def test_pymatgen_dict_matches_pymatgen_when_available(crystals):
    pytest.importorskip("pymatgen.core", reason="pymatgen is an optional extra")
    structure = crystals[1].to_pymatgen()
    crystal = structure_from_dict(structure.as_dict())
    np.testing.assert_allclose(crystal.positions, crystals[1].positions, atol=1e-12)


def test_unknown_extension_is_an_error(tmp_path):
    with pytest.raises(CrystalFourierError, match="cannot tell the format"):
        load_dataset(tmp_path / "data.parquet")


# ----------------------------------------------------------------------------- the shared real data
@pytest.mark.parametrize("name", ["carbon_24/val.csv", "carbon_24/test.csv", "perov_5/val.csv", "perov_5/test.csv"])
def test_shared_cdvae_csv_first_rows(name):
    path = SHARED / name
    if not path.is_file():
        pytest.skip(f"{path} is not here (the real data sets live in ../shared/data, never in the repository)")
    records = load_cdvae_csv(path, limit=20)
    assert len(records) == 20
    expected = {"energy_per_atom"} if name.startswith("carbon") else {"heat_all", "heat_ref", "dir_gap", "ind_gap"}
    assert set(records[0].targets) == expected
    csv.field_size_limit(2**31 - 1)
    with open(path, newline="") as handle:
        rows = [row for _, row in zip(range(20), csv.DictReader(handle), strict=False)]  # the first 20 rows
    for record, row in zip(records, rows, strict=True):
        assert record.id == row["material_id"]
        # the cell matches the CIF's parameters and the atom count its site loop
        text = row["cif"]
        a = float(text.split("_cell_length_a")[1].split()[0])
        assert cell_parameters(record.crystal.lattice)[0] == pytest.approx(a, abs=1e-8)
        assert record.crystal.n_atoms == text.count("  1  ") - 1 + (0 if "'x, y, z'" in text else 1)
        if name.startswith("perov"):
            assert record.crystal.n_atoms == 5
        else:
            assert 6 <= record.crystal.n_atoms <= 24
            assert set(record.crystal.numbers.tolist()) == {6}
