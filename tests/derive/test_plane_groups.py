"""The 17 plane groups (issue 30): symbols as Volume A writes them, forms in h, k, x, y, certified."""

import copy

import pytest

from crystal_fourier.derive import plane_group
from crystal_fourier.derive._plane_groups import PLANE_GROUPS, plane_group_document
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


@pytest.mark.parametrize("symbol", list(PLANE_GROUPS))
def test_plane_reflection_conditions_match_the_absence_rule(symbol):
    """(h, k) is absent iff some operation fixes it with h.t not an integer; the conditions (on the listed
    zones and, as Volume A implies, on their images under the point group) say the same."""
    import itertools
    import re

    from crystal_fourier.derive._plane_groups import plane_reflection_conditions

    group = plane_group(symbol).embedding
    conditions = plane_reflection_conditions(symbol)

    def fails(h, k):
        for text in conditions:
            zone, rest = text.split(": ")
            if not {"hk": True, "h0": k == 0, "0k": h == 0, "hh": h == k}[zone]:
                continue
            for part in rest.split("; "):
                forms, modulus = re.fullmatch(r"(.+)=(\d+)n", part).groups()
                for form in forms.split(","):
                    coefficients = {"h": 0, "k": 0}
                    for sign, count, letter in re.findall(r"([+-]?)(\d*)([hk])", form):
                        coefficients[letter] += (-1 if sign == "-" else 1) * int(count or 1)
                    if (coefficients["h"] * h + coefficients["k"] * k) % int(modulus):
                        return True
        return False

    for h, k in itertools.product(range(-6, 7), repeat=2):
        images = {tuple(sum(r[j][i] * (h, k, 0)[j] for j in range(3)) for i in range(2)) for r in group.rotations}
        absent = any(tuple(sum(op.rotation[j][i] * (h, k, 0)[j] for j in range(3)) for i in range(3)) == (h, k, 0)
                     and (h * op.translation_24[0] + k * op.translation_24[1]) % 24 for op in group.operations)
        assert any(fails(*image) for image in images) == absent, (symbol, h, k, conditions)


def test_plane_reflection_conditions_volume_a():
    from crystal_fourier.derive._plane_groups import plane_reflection_conditions

    assert plane_reflection_conditions("pg") == ("0k: k=2n",)
    assert plane_reflection_conditions("p2gg") == ("h0: h=2n", "0k: k=2n")
    assert plane_reflection_conditions("c2mm") == ("hk: h+k=2n", "h0: h=2n", "0k: k=2n")
    assert plane_reflection_conditions("p6mm") == ()
