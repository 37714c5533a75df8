"""The resumable output file: whole lines, a torn last line cut, another run's file refused."""

from __future__ import annotations

import pytest

from crystal_fourier._journal import Journal
from crystal_fourier.errors import CrystalFourierError


def test_a_journal_writes_nothing_before_its_first_chunk(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("an older file\n")
    journal = Journal(path, "name,value")
    assert path.read_text() == "an older file\n"
    journal.append([])
    assert path.read_text() == "name,value\n"


def test_a_resumed_journal_keeps_whole_lines_and_cuts_a_torn_one(tmp_path):
    path = tmp_path / "out.csv"
    Journal(path, "name,value").append(["a,1", "b,2"])
    with path.open("a") as stream:
        stream.write("c,")  # a kill in the middle of a write
    resumed = Journal(path, "name,value", resume=True)
    assert resumed.records == ["a,1", "b,2"]
    assert path.read_text() == "name,value\na,1\nb,2\n"
    resumed.append(["c,3"])
    assert Journal(path, "name,value", resume=True).records == ["a,1", "b,2", "c,3"]
    assert Journal(tmp_path / "missing.csv", "name,value", resume=True).records == []


def test_a_journal_of_other_options_is_not_resumed(tmp_path):
    path = tmp_path / "out.jsonl"
    Journal(path, '{"seed": 0, "model": "ase:EMT"}').append(["{}"])
    with pytest.raises(CrystalFourierError, match=r"written with .*seed\": 0.*this run has .*seed\": 1"):
        Journal(path, '{"seed": 1, "model": "ase:EMT"}', resume=True)
    with pytest.raises(CrystalFourierError, match="one line"):
        Journal(path, "x").append(["two\nlines"])
