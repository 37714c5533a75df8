"""iter_structures: directories, multi-frame extxyz, ASE databases, CSV files of CIFs and list files (issue 29).

Each source is checked against an independent reading of the same structures (ASE's own writer and
reader, ``load_cdvae_csv``, ``read_structure`` on single files); each bad input gets one item whose
``load`` raises one CrystalFourierError naming it, and the structures after it are still read.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import pickle
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import iter_structures, read_structure
from crystal_fourier.runtime.structure_io import _structure_files, _structure_sources

ase_io = pytest.importorskip("ase.io")
ase_db = pytest.importorskip("ase.db")
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"


def _frames():
    from ase.build import bulk

    return [bulk("Cu", "fcc", a=3.61, cubic=True), bulk("NaCl", "rocksalt", a=5.64), bulk("Si", "diamond", a=5.43),
            bulk("Fe", "bcc", a=2.87, cubic=True)]


def _outcomes(items) -> list[tuple[str, object, object]]:
    """(source, frame, formula or the error message) of every item."""
    outcomes = []
    for item in items:
        try:
            outcomes.append((item.source, item.frame, item.load().formula))
        except CrystalFourierError as error:
            outcomes.append((item.source, item.frame, f"error: {error}"))
    return outcomes


def _same(first, second) -> None:
    np.testing.assert_array_equal(first.lattice, second.lattice)
    np.testing.assert_array_equal(first.positions, second.positions)
    np.testing.assert_array_equal(first.numbers, second.numbers)


@pytest.fixture
def trajectory(tmp_path) -> Path:
    path = tmp_path / "t.extxyz"
    ase_io.write(path, _frames(), format="extxyz")
    return path


# --------------------------------------------------------------------------- extended XYZ trajectories
def test_every_frame_of_an_ase_trajectory_is_the_frame_read_alone(trajectory, tmp_path):
    items = list(iter_structures(str(trajectory)))
    assert [(item.source, item.frame, item.label) for item in items] == [(str(trajectory), n, "frame")
                                                                         for n in range(4)]
    assert [item.name for item in items][:2] == [f"{trajectory}, frame 0", f"{trajectory}, frame 1"]
    for number, (item, atoms) in enumerate(zip(items, _frames(), strict=True)):
        single = tmp_path / f"single{number}.extxyz"
        ase_io.write(single, atoms, format="extxyz")
        _same(item.load(), read_structure(single))
        np.testing.assert_allclose(item.load().cartesian_positions, atoms.positions, rtol=0, atol=1e-7)
        assert item.load().numbers.tolist() == atoms.numbers.tolist()


def test_a_gzipped_trajectory_reads_as_the_plain_one(trajectory, tmp_path):
    packed = tmp_path / "t.xyz.gz"
    packed.write_bytes(gzip.compress(trajectory.read_bytes()))
    for plain, zipped in zip(iter_structures(trajectory), iter_structures(packed), strict=True):
        assert plain.frame == zipped.frame
        _same(plain.load(), zipped.load())


def test_a_corrupt_frame_gets_its_own_item_and_later_frames_are_read(trajectory, tmp_path):
    lines = trajectory.read_text().splitlines()
    second = int(lines[0]) + 2                       # the count line of frame 1
    third = second + int(lines[second]) + 2          # of frame 2
    broken = list(lines)
    broken[second] = "four"                          # frame 1: no count
    broken[third + 2] = "Si 0 zero 0"                 # frame 2: a bad number in an atom line
    path = tmp_path / "broken.extxyz"
    path.write_text("\n".join(broken) + "\n")
    outcomes = _outcomes(iter_structures(path))
    assert [frame for _, frame, _ in outcomes] == [0, 1, 2, 3]
    assert outcomes[0][2] == "Cu4"
    assert outcomes[3][2] == "Fe2"
    assert outcomes[1][2] == (f"error: {path}, frame 1 (line {second + 1}): expected the number of atoms of a frame, "
                              "got 'four'")
    assert outcomes[2][2].startswith(f"error: {path}, frame 2 (line {third + 1}): atom line 1: position is not numeric")


def test_a_frame_cut_short_ends_the_file_with_its_error(trajectory, tmp_path):
    path = tmp_path / "cut.extxyz"
    path.write_text("\n".join(trajectory.read_text().splitlines()[:-1]) + "\n")   # the last atom line lost
    outcomes = _outcomes(iter_structures(path))
    assert [formula for _, _, formula in outcomes[:3]] == ["Cu4", "ClNa", "Si2"]
    assert outcomes[3][1] == 3
    assert "the frame announces 2 atoms but the file ends first" in outcomes[3][2]


def test_the_file_cap_does_not_refuse_a_long_trajectory_each_frame_is_bounded(trajectory, monkeypatch):
    size = trajectory.stat().st_size
    monkeypatch.setattr(_structure_files, "MAX_STRUCTURE_FILE_BYTES", size // 4)   # the file is 4 caps long
    with pytest.raises(CrystalFourierError, match="more than MAX_STRUCTURE_FILE_BYTES"):
        read_structure(trajectory)
    assert [formula for _, _, formula in _outcomes(iter_structures(trajectory))] == ["Cu4", "ClNa", "Si2", "Fe2"]
    lines = trajectory.read_text().splitlines()
    first_frame = sum(len(line) for line in lines[:int(lines[0]) + 2])
    monkeypatch.setattr(_structure_sources, "MAX_FRAME_BYTES", first_frame - 1)   # frame 0 (4 atoms) is too long
    outcomes = _outcomes(iter_structures(trajectory))
    assert "more than MAX_FRAME_BYTES" in outcomes[0][2]
    assert [formula for _, _, formula in outcomes[1:]] == ["ClNa", "Si2", "Fe2"]


def test_an_empty_trajectory_and_a_missing_one_are_one_item_each(tmp_path):
    (tmp_path / "empty.extxyz").write_text("\n")
    outcomes = _outcomes(iter_structures([tmp_path / "empty.extxyz", tmp_path / "absent.xyz"]))
    assert outcomes == [(str(tmp_path / "empty.extxyz"), None, f"error: {tmp_path / 'empty.extxyz'} holds no frame "
                                                                "(an empty extended XYZ file)"),
                        (str(tmp_path / "absent.xyz"), None,
                         f"error: structure file {str(tmp_path / 'absent.xyz')!r} does not exist")]


def test_an_item_made_by_hand_reads_its_file(trajectory, tmp_path):
    from crystal_fourier.runtime import StructureItem

    ase_io.write(tmp_path / "one.cif", _frames()[1])
    assert StructureItem(str(tmp_path / "one.cif"), None).load().formula == "ClNa"


def test_items_pickle_for_worker_processes(trajectory):
    for item in iter_structures(trajectory):
        copy = pickle.loads(pickle.dumps(item))
        assert (copy.source, copy.frame, copy.name) == (item.source, item.frame, item.name)
        _same(copy.load(), item.load())


# --------------------------------------------------------------------------- directories and list files
def test_a_directory_is_its_structure_files_sorted_not_recursive(trajectory, tmp_path):
    folder = tmp_path / "structures"
    (folder / "deeper").mkdir(parents=True)
    atoms = _frames()
    ase_io.write(folder / "b.cif", atoms[1])
    ase_io.write(folder / "POSCAR", atoms[0], format="vasp")
    ase_io.write(folder / "a.extxyz", atoms[2:], format="extxyz")
    ase_io.write(folder / "deeper" / "c.cif", atoms[0])      # not searched
    ase_io.write(folder / ".hidden.cif", atoms[0])           # skipped
    (folder / "notes.txt").write_text("not a structure")     # skipped
    assert _outcomes(iter_structures(folder)) == [(str(folder / "POSCAR"), None, "Cu4"),
                                                  (str(folder / "a.extxyz"), 0, "Si2"),
                                                  (str(folder / "a.extxyz"), 1, "Fe2"),
                                                  (str(folder / "b.cif"), None, "ClNa")]


def test_an_empty_directory_is_one_item_that_says_so(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (outcome,) = _outcomes(iter_structures(str(tmp_path / "empty")))
    assert outcome[:2] == (str(tmp_path / "empty"), None)
    assert "a directory with no structure files" in outcome[2]
    assert "subdirectories are not searched" in outcome[2]


def test_a_list_file_names_sources_one_per_line(trajectory, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ase_io.write(tmp_path / "one.cif", _frames()[1])
    (tmp_path / "paths.txt").write_text("# structures\none.cif\n\n  t.extxyz  \n@paths.txt\n")
    outcomes = _outcomes(iter_structures(["@paths.txt", "one.cif"]))
    assert [(source, frame) for source, frame, _ in outcomes] == [
        ("one.cif", None), ("t.extxyz", 0), ("t.extxyz", 1), ("t.extxyz", 2), ("t.extxyz", 3),
        ("@paths.txt", None), ("one.cif", None)]
    assert outcomes[5][2] == "error: structure file '@paths.txt' does not exist"   # no nested lists
    assert [formula for _, _, formula in outcomes[:5]] == ["ClNa", "Cu4", "ClNa", "Si2", "Fe2"]


def test_a_missing_or_empty_list_file_is_one_item(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.txt").write_text("\n# nothing\n")
    outcomes = _outcomes(iter_structures(["@absent.txt", "@empty.txt"]))
    assert outcomes == [("@absent.txt", None, "error: list file @absent.txt: structure file 'absent.txt' does not "
                                              "exist"),
                        ("@empty.txt", None, "error: list file @empty.txt lists no sources (one path per line)")]


# --------------------------------------------------------------------------- ASE databases
@pytest.mark.parametrize("suffix", [".db", ".json"])
def test_every_row_of_an_ase_database_by_id(tmp_path, suffix, monkeypatch):
    from ase import Atoms

    monkeypatch.setattr(_structure_sources, "DATABASE_PAGE_ROWS", 2)   # pages of 2 rows: 5 rows span 3 pages
    path = tmp_path / f"rows{suffix}"
    database = ase_db.connect(path)
    frames = _frames()
    for atoms in frames:
        database.write(atoms)
    database.write(Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]], cell=[5, 5, 5], pbc=False))   # a molecule
    outcomes = _outcomes(iter_structures(path))
    assert [(source, frame) for source, frame, _ in outcomes] == [(str(path), n) for n in range(1, 6)]
    assert [formula for _, _, formula in outcomes[:4]] == ["Cu4", "ClNa", "Si2", "Fe2"]
    assert outcomes[4][2] == (f"error: {path}, id 5: not periodic in 3 directions (pbc=[False, False, False]); "
                              "a crystal needs a full cell")
    items = list(iter_structures(path))
    for item, atoms in zip(items, frames, strict=False):
        np.testing.assert_allclose(item.load().lattice, atoms.cell[:], rtol=0, atol=1e-12)
        np.testing.assert_allclose(item.load().cartesian_positions, atoms.positions, rtol=0, atol=1e-12)


def test_an_unreadable_database_is_one_item_and_a_foreign_sqlite_file_is_left_untouched(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 10)
    foreign = tmp_path / "foreign.db"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE t (x INTEGER)")
    connection.commit()
    connection.close()
    before = foreign.read_bytes()
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"1": {"numbers": [')
    outcomes = _outcomes(iter_structures([garbage, foreign, bad_json]))
    assert [frame for _, frame, _ in outcomes] == [None, None, None]
    assert outcomes[0][2] == f"error: {garbage}: not an SQLite file, so not an ASE .db database"
    assert outcomes[1][2] == f"error: {foreign}: an SQLite file without ASE's 'systems' table, not an ASE database"
    assert outcomes[2][2].startswith(f"error: {bad_json}: not a readable ASE database (")
    assert foreign.read_bytes() == before


def test_a_database_without_ase_says_how_to_install_it(tmp_path, monkeypatch):
    path = tmp_path / "rows.db"
    ase_db.connect(path).write(_frames()[0])
    monkeypatch.setitem(__import__("sys").modules, "ase.db", None)   # import ase.db raises ImportError
    (outcome,) = _outcomes(iter_structures(path))
    assert outcome == (str(path), None, f"error: {path}: reading an ASE database needs ASE: pip install ase "
                                        "(or 'crystal-fourier[structures]')")


def test_a_pymatgen_json_is_still_one_structure_file(tmp_path):
    from crystal_fourier.runtime import Crystal

    pytest.importorskip("pymatgen")
    path = tmp_path / "nacl.json"
    path.write_text(Crystal.from_ase(_frames()[1]).to_pymatgen().to_json())
    assert _outcomes(iter_structures(path)) == [(str(path), None, "ClNa")]


# --------------------------------------------------------------------------- CSV files of CIFs
def _cdvae_rows(count: int) -> list[dict]:
    from crystal_fourier.runtime import Crystal, write_cif

    return [{"material_id": f"m{n}", "cif": write_cif(Crystal.from_ase(atoms)), "energy": -float(n)}
            for n, atoms in enumerate(_frames()[:count])]


def test_a_csv_of_cifs_is_read_as_load_cdvae_csv_reads_it(tmp_path):
    from crystal_fourier.runtime import write_cdvae_csv
    from crystal_fourier.runtime.data._datasets import load_cdvae_csv

    path = tmp_path / "set.csv"
    write_cdvae_csv(path, _cdvae_rows(4))
    items = list(iter_structures(path))
    records = load_cdvae_csv(path)
    assert [(item.frame, item.label, item.name) for item in items][:1] == [("m0", "material_id", f"{path}, "
                                                                                                 "material_id m0")]
    assert [item.frame for item in items] == [record.id for record in records]
    for item, record in zip(items, records, strict=True):
        _same(item.load(), record.crystal)


def test_a_real_cdvae_csv_slice(tmp_path):
    from crystal_fourier.runtime.data._datasets import load_cdvae_csv

    source = SHARED / "perov_5" / "test.csv"
    if not source.is_file():
        pytest.skip(f"{source} is not here (the real data sets live in ../shared/data, never in the repository)")
    with open(source, newline="") as handle:
        rows = list(itertools.islice(csv.reader(handle), 21))   # the header and 20 rows
    path = tmp_path / "slice.csv.gz"
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    path.write_bytes(gzip.compress(text.getvalue().encode()))
    items = list(iter_structures(path))
    records = load_cdvae_csv(path)
    assert len(items) == len(records) == 20
    assert [item.frame for item in items] == [record.id for record in records] == [row[1] for row in rows[1:]]
    for item, record in zip(items, records, strict=True):
        _same(item.load(), record.crystal)


def test_csv_without_material_id_rows_are_numbered_and_a_bad_cif_is_its_own_item(tmp_path):
    rows = _cdvae_rows(3)
    rows[1]["cif"] = "data_broken\n_cell_length_a 3\n"
    path = tmp_path / "plain.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["cif", "energy"])
        writer.writerows([[row["cif"], row["energy"]] for row in rows])
        writer.writerow(["", "1"])
    outcomes = _outcomes(iter_structures(path))
    assert [(frame, formula) for _, frame, formula in outcomes][::2] == [(0, "Cu4"), (2, "Si2")]
    assert outcomes[1][1] == 1
    assert outcomes[1][2].startswith(f"error: {path}, row 1")
    assert outcomes[3][1] == 3
    assert outcomes[3][2].endswith("the row has no CIF in column 'cif'")


def test_a_csv_without_the_cif_column_is_one_clear_item(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("material_id,energy\nm0,1.0\n")
    assert _outcomes(iter_structures(path)) == [(str(path), None, (
        f"error: {path}: no 'cif' column; a CSV of structures holds one CIF per row in a column named cif (the "
        "CDVAE format: material_id, cif, properties); found 'material_id', 'energy'"))]


def test_a_csv_row_over_the_bound_ends_the_csv_with_one_item(tmp_path, monkeypatch):
    from crystal_fourier.runtime import write_cdvae_csv

    path = tmp_path / "set.csv"
    write_cdvae_csv(path, _cdvae_rows(2))
    monkeypatch.setattr(_structure_sources, "MAX_FRAME_BYTES", 200)   # each CIF is longer
    (outcome,) = _outcomes(iter_structures(path))
    assert outcome[1] == 0
    assert "more than MAX_FRAME_BYTES = 200 bytes; the rows after it are not read" in outcome[2]
