"""Export: the JSON interface, text and LaTeX."""

import json

import pytest

from crystal_fourier.derive import basis
from crystal_fourier.derive._export import basis_document, render, to_json, to_latex, to_text
from crystal_fourier.errors import CrystalFourierError


def test_json_has_the_documented_keys():
    doc = json.loads(to_json(basis(227, 2, "box")))
    for key in ("sg", "hall_number", "shell", "cutoff", "operations", "orbits", "functions"):
        assert key in doc
    assert doc["sg"] == 227
    assert doc["hall_number"] == 526
    assert doc["shell"] == "box"
    assert doc["cutoff"] == 2
    assert len(doc["operations"]) == 192
    assert set(doc["operations"][0]) >= {"rotation", "translation24"}
    assert doc["operations"][0]["rotation"] == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    orbit = doc["orbits"][1]
    assert set(orbit) >= {"representative", "members", "absent", "witness", "centric"}
    assert len(doc["functions"]) == doc["dim"] == 4
    assert {f["part"] for f in doc["functions"]} <= {"re", "im", "centric"}
    assert all("sympy" in f and "latex" in f for f in doc["functions"])


def test_witness_indexes_operations():
    doc = basis_document(basis(4, 1, "box"))
    absent = [o for o in doc["orbits"] if o["absent"]]
    assert [o["representative"] for o in absent] == [[0, 1, 0], [0, -1, 0]]
    assert all(doc["operations"][o["witness"]]["xyz"] == "-x,y+1/2,-z" for o in absent)
    assert all(o["witness"] is None for o in doc["orbits"] if not o["absent"])


def test_json_is_deterministic():
    assert to_json(basis(194, 2, "box")) == to_json(basis(194, 2, "box"))


def test_text_and_latex():
    text = to_text(basis(4, 1, "box"))
    assert "P2_1 (No. 4), Hall number 6" in text
    assert "absent, witness -x,y+1/2,-z" in text
    assert "f_1 [orbit 1, centric] = cos(2*pi*x)" in text
    latex = to_latex(basis(4, 1, "box"))
    assert latex.count("f_{") == 13
    assert "\\begin{align*}" in latex


def test_unknown_format():
    with pytest.raises(CrystalFourierError, match="unknown format 'pdf'"):
        render(basis(1, 0), "pdf")
