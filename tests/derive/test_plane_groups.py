"""The 17 plane groups (issue 30): symbols as Volume A writes them, forms in h, k, x, y, certified."""

import copy

import pytest

from crystal_fourier.derive import PLANE_GROUPS, plane_group, plane_group_document
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.proofs import structure_factor_certificate


@pytest.mark.parametrize("shifts", ["auto", "always", "never"])
@pytest.mark.parametrize("symbol", list(PLANE_GROUPS))
def test_every_plane_group_is_certified(symbol, shifts):
    document = plane_group_document(symbol, shifts=shifts)
    text = " ".join(c["condition"] + c["A"] + c["B"] for c in document["classes"])
    assert "l" not in text.replace("Eq", "").replace("pi", "")
    assert "z" not in text
    result = structure_factor_certificate(document, plane=True)
    assert result["ok"], result["failures"]


def test_numbers_symbols_and_operations():
    assert [plane_group(n).symbol for n in (1, 9, 12, 15, 17)] == ["p1", "c2mm", "p4gm", "p31m", "p6mm"]
    assert plane_group("p2mg").operations == ("x,y", "-x,-y", "-x+1/2,y", "x+1/2,-y")
    assert len(plane_group("c2mm").operations) == 8
    assert plane_group("p31m").operations[3] == "y,x"
    assert plane_group("p3m1").operations[3] == "-y,-x"


def test_known_forms():
    c2mm = plane_group_document("c2mm")["classes"]
    assert [(c["condition"], c["A"], c["B"]) for c in c2mm] == [
        ("Eq(Mod(h + k, 2), 0)", "8*cos(2*pi*h*x)*cos(2*pi*k*y)", "0"), ("Eq(Mod(h + k, 2), 1)", "0", "0")]
    assert plane_group_document("p2mm")["classes"][0]["A"] == "4*cos(2*pi*h*x)*cos(2*pi*k*y)"


def test_a_wrong_plane_form_fails():
    broken = copy.deepcopy(plane_group_document("p4gm"))
    broken["classes"][0]["A"] = broken["classes"][0]["A"].replace("h/2", "-h/2", 1)
    assert not structure_factor_certificate(broken, plane=True)["ok"]


@pytest.mark.parametrize("bad", ["p5", "P4gm", 0, 18])
def test_unknown_plane_group(bad):
    with pytest.raises(CrystalFourierError, match="plane"):
        plane_group(bad)
