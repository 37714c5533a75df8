"""read_structure: what a path is, bounded reads, compressed files, messages that say what is wrong (issue 31).

stdin ('-'), a pipe, a FIFO, a directory and a symlink loop all said "does not exist"; .cif.gz and
POSCAR.gz were parsed as POSCAR text; a 2 GB file was read whole before any check; a JSON file
nested 100,000 deep raised RecursionError; a 1e200 A cell was reported as "a=inf".
"""

from __future__ import annotations

import bz2
import gzip
import os
import tracemalloc

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal, read_structure, write_cif, write_poscar
from crystal_fourier.runtime.structure_io import _structure_files

COPPER = Crystal(3.6 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [29] * 4)


def refused(path, match: str) -> str:
    __tracebackhide__ = True
    with pytest.raises(CrystalFourierError, match=match) as caught:
        read_structure(path)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_standard_input_is_named_as_such():
    refused("-", r"'-' \(standard input\) is not read")


def test_a_fifo_is_named_as_a_pipe_and_never_opened(tmp_path):
    fifo = tmp_path / "structure.cif"
    os.mkfifo(fifo)  # opening it would block: the check must not open it
    refused(fifo, r"structure\.cif is a pipe \(FIFO\), not a regular file")


def test_a_directory_is_named_as_a_directory(tmp_path):
    refused(tmp_path, "is a directory, not a structure file")


def test_a_symlink_loop_is_named_as_a_loop(tmp_path):
    os.symlink(tmp_path / "b.cif", tmp_path / "a.cif")
    os.symlink(tmp_path / "a.cif", tmp_path / "b.cif")
    refused(tmp_path / "a.cif", "is a loop of symbolic links")


def test_a_dangling_symlink_and_a_missing_file(tmp_path):
    os.symlink(tmp_path / "gone.cif", tmp_path / "link.cif")
    refused(tmp_path / "link.cif", "is a symbolic link to .*gone.cif, which does not exist")
    refused(tmp_path / "absent.cif", "does not exist")


@pytest.mark.parametrize(("name", "text"), [("cu.cif.gz", write_cif(COPPER)), ("POSCAR.gz", write_poscar(COPPER)),
                                            ("no_extension.gz", write_cif(COPPER))])
def test_gzip_files_are_read_transparently(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()))
    crystal = read_structure(path)
    assert crystal.formula == "Cu4"
    np.testing.assert_allclose(crystal.lattice, COPPER.lattice, rtol=0, atol=1e-9)


def test_other_compressed_files_are_refused_as_compressed(tmp_path):
    path = tmp_path / "cu.cif.bz2"
    path.write_bytes(bz2.compress(write_cif(COPPER).encode()))
    refused(path, r"is compressed \(bzip2\); decompress it first")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(_structure_files, "MAX_STRUCTURE_FILE_BYTES", 1000)
    path = tmp_path / "big.cif"
    path.write_text(write_cif(COPPER) + "#" * 2000 + "\n")
    message = refused(path, r"big\.cif: .* bytes, more than MAX_STRUCTURE_FILE_BYTES = 1,000")
    assert "refused unread" in message


def test_a_gzip_bomb_is_refused_while_it_is_inflated(tmp_path, monkeypatch):
    monkeypatch.setattr(_structure_files, "MAX_STRUCTURE_FILE_BYTES", 1 << 20)
    path = tmp_path / "bomb.cif.gz"
    path.write_bytes(gzip.compress(b"#" * (64 << 20)))
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        refused(path, "inflates to more than MAX_STRUCTURE_FILE_BYTES")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20


def test_a_large_file_of_zeros_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "zeros.vasp"
    with path.open("wb") as handle:  # sparse: costs no disk
        handle.truncate(_structure_files.MAX_STRUCTURE_FILE_BYTES + 1)
    tracemalloc.start()
    try:
        refused(path, "more than MAX_STRUCTURE_FILE_BYTES")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_deeply_nested_json_is_one_line(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    refused(path, r"deep\.json: .*nested")


def test_a_huge_cell_is_refused_with_its_value():
    with pytest.raises(CrystalFourierError, match=r"1e\+200") as caught:
        Crystal(1e200 * np.eye(3), [[0, 0, 0]], [29])
    assert "inf" not in str(caught.value)


def test_a_huge_cell_in_a_file_is_refused_with_its_value(tmp_path):
    path = tmp_path / "POSCAR"
    path.write_text(write_poscar(COPPER).replace("\n1.0\n", "\n1e200\n", 1))  # the scale factor
    message = refused(path, r"e\+200")
    assert "inf" not in message
