"""Property test: a reader given any bytes reads them correctly or raises one CrystalFourierError.

Random bytes, and random mutations (bytes flipped, inserted, deleted, the file cut
short) of valid CDVAE CSV, extxyz, matbench JSON, CIF and POSCAR files. Any other exception (a
UnicodeDecodeError, an IndexError, a TypeError) would reach the user as a traceback.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import read_structure, write_cif
from crystal_fourier.runtime.data._datasets import Record, load_cdvae_csv, load_extxyz, load_matbench_json, write_extxyz
from crystal_fourier.runtime import Crystal, write_poscar

_CRYSTAL = Crystal.from_arrays(3.6 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [29] * 4)


def _valid_files() -> dict[str, bytes]:
    folder = Path(tempfile.mkdtemp())
    csv_text = ("material_id,cif,energy\nm0,\"" + write_cif(_CRYSTAL) + "\",-0.25\nm1,\"" + write_cif(_CRYSTAL)
                + "\",1.5\n")
    write_extxyz(folder / "a.extxyz",
                 [Record("x0", _CRYSTAL, {"energy": -0.25}), Record("x1", _CRYSTAL, {"energy": 2.0})])
    site = {"species": [{"element": "Cu", "occu": 1}], "abc": [0, 0, 0]}
    structure = {"lattice": {"matrix": [[3.6, 0, 0], [0, 3.6, 0], [0, 0, 3.6]]}, "sites": [site]}
    table = {"index": ["mb-1", "mb-2"], "columns": ["structure", "e_form"],
             "data": [[structure, -0.25], [structure, 1]]}
    return {".csv": csv_text.encode(), ".extxyz": (folder / "a.extxyz").read_bytes(),
            ".json": json.dumps(table).encode(), ".cif": write_cif(_CRYSTAL).encode(),
            ".vasp": write_poscar(_CRYSTAL).encode()}


def _read_one(path):
    return [Record(path.suffix, read_structure(path), {})]


VALID = _valid_files()
READERS = {".csv": load_cdvae_csv, ".extxyz": load_extxyz, ".json": load_matbench_json, ".cif": _read_one,
           ".vasp": _read_one}


def _read(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(data)
        refusal = None
        try:
            records = READERS[suffix](path)
        except CrystalFourierError as error:  # the one error allowed; a data-file reader names the file
            refusal = str(error)
        if refusal is not None:
            if suffix not in (".cif", ".vasp"):
                assert str(path) in refusal or "data file" in refusal
            return
        for record in records:  # a read is a read of crystals and finite-or-NaN numbers
            assert isinstance(record.crystal, Crystal)
            assert all(isinstance(v, float) for v in record.targets.values())


@st.composite
def mutated(draw, suffix):
    data = bytearray(VALID[suffix])
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "cut", "replace"]))
        position = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(
                [b",", b"\"", b"\n", b"nan", b"1e999", b"-", b"{", b"]", b"null", b"\xff", b" 0 ", b"=", b"'"]))
        elif kind == "delete":
            del data[position:position + draw(st.integers(1, 16))]
        elif kind == "cut":
            del data[position:]
        elif kind == "replace":
            for old, new in ((b"Cu", b"Xx"), (b"x, y, z", b"x+1/0, y, z"), (b"1.0", b"0"), (b"Direct", b"Cart"),
                             (b"3.6", b"-1"), (b"0.5", b"abc"), (b"-0.25", b"\"\""),
                             (b"[", b"{"), (b"4\n", b"99999\n"), (b"pbc=\"T T T\"", b"pbc=\"F\"")):
                if draw(st.booleans()):
                    data = bytearray(bytes(data).replace(old, new, 1))
    return bytes(data)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("suffix", sorted(READERS))
def test_the_valid_files_read(suffix):
    assert len(READERS[suffix](_write(suffix, VALID[suffix]))) == (1 if suffix in (".cif", ".vasp") else 2)


def _write(suffix, data):
    path = Path(tempfile.mkdtemp()) / f"valid{suffix}"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("suffix", sorted(READERS))
@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_give_a_read_or_one_error(suffix, data):
    _read(suffix, data)


@pytest.mark.parametrize("suffix", sorted(READERS))
@SETTINGS
@given(data=st.data())
def test_mutated_files_give_a_read_or_one_error(suffix, data):
    _read(suffix, data.draw(mutated(suffix)))
