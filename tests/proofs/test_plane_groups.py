"""The 17 plane groups in basis, graph, summary and verify (issue 30): (h, k) and (x, y) only, certified."""

import copy
import json
import re

import numpy as np
import pytest

from crystal_fourier.cli import main
from crystal_fourier.derive import basis, closed_forms, plane_group
from crystal_fourier.derive._plane_groups import PLANE_GROUPS
from crystal_fourier.proofs import certificate
from crystal_fourier.proofs._certificates import PLANE_CHECKS
from crystal_fourier.proofs._verify import verify_group

# dim of each plane group at box cutoff 3 (a 7 x 7 square or the 37-point hexagon), k = 0 included. Counted
# by hand from Burnside's lemma where there are no absences (the rotations fix only k = 0, each mirror the 7 points
# of its line): p2 (49 + 1)/2 = 25, p4 (49 + 3)/4 = 13, p4mm (49 + 3 + 4*7)/8 = 10, p3 (37 + 2)/3 = 13,
# p6 (37 + 5)/6 = 7.
DIMS_BOX_3 = {"p1": 49, "p2": 25, "pm": 28, "pg": 24, "cm": 14, "p2mm": 16, "p2mg": 14, "p2gg": 12, "c2mm": 8,
              "p4": 13, "p4mm": 10, "p4gm": 8, "p3": 13, "p3m1": 10, "p31m": 8, "p6": 7, "p6mm": 6}


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("symbol", list(PLANE_GROUPS))
def test_every_plane_group_is_certified(symbol):
    """Dimension = character formula, absences with witnesses, Volume A's conditions, structure-factor forms."""
    derived = basis(symbol, 3, "box")
    document = certificate(derived)
    assert document["ok"], [name for name in document if isinstance(document[name], dict)
                            and not document[name]["ok"]]
    assert document["plane_group"] == plane_group(symbol).number
    assert document["symbol"] == symbol
    assert derived.dim == document["completeness"]["character_formula"] == DIMS_BOX_3[symbol]
    assert all(name in document for name in PLANE_CHECKS)
    assert not derived.frequencies.hkl[:, 2].any()
    assert all("z" not in str(expression) for expression in closed_forms(derived))


def test_plane_basis_is_the_embedding_on_l_zero():
    """The plane group's functions are the embedding's functions whose frequencies have l = 0."""
    plane, space = basis("p2gg", 4, "box"), basis(None, 4, "box", hall_number=PLANE_GROUPS["p2gg"])
    planar = [f for f in space.real.functions() if not any(m[2] for m in f.frequencies)]
    assert [f.frequencies for f in plane.real.functions()] == [f.frequencies for f in planar]
    assert [f.phases_48 for f in plane.real.functions()] == [f.phases_48 for f in planar]


def test_a_wrong_plane_condition_is_caught(monkeypatch):
    """Dropping p2gg's conditions makes the reflection-condition check fail, naming an absent (h, 0)."""
    from crystal_fourier.derive import _plane_groups

    derived = basis("p2gg", 3, "box")
    monkeypatch.setattr(_plane_groups, "plane_zone_conditions", lambda group: ())
    document = certificate(derived)
    assert not document["reflection_conditions"]["ok"]
    assert not document["ok"]
    failures = document["reflection_conditions"]["failures"]
    assert [1, 0] in failures
    assert all(h % 2 or k % 2 for h, k in failures)


def test_a_wrong_plane_form_fails_verify(monkeypatch):
    from crystal_fourier.derive import _plane_groups
    from crystal_fourier.derive._plane_groups import plane_group_document as original

    def broken(group, shifts="auto"):
        document = copy.deepcopy(original(group, shifts=shifts))
        document["classes"][0]["A"] = "2*" + document["classes"][0]["A"]
        return document

    monkeypatch.setattr(_plane_groups, "plane_group_document", broken)
    result = verify_group("p4gm", 2, "box")
    assert result.failed == ("structure_factor",)


def test_basis_text(capsys):
    status, out, _ = run(capsys, "basis", "p4gm", "--cutoff", "2", "--shell", "box")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "p4gm (plane group No. 12), the action on (x, y) of P4bm, Hall number 377"
    assert "  (5) -x+1/2,y+1/2" in lines
    assert "  h0: h=2n" in lines
    assert "  [1] (1 0)  x4  absent, witness x+1/2,-y+1/2" in lines
    assert "basis functions f_i(x, y):" in lines
    assert "  f_2 [orbit 3, centric] = cos(4*pi*x) + cos(4*pi*y)" in lines
    assert "z" not in out.split("basis functions")[1]


def test_basis_quiet_factored(capsys):
    status, out, _ = run(capsys, "basis", "c2mm", "--cutoff", "2", "--shell", "box", "--quiet", "--form", "factored")
    assert status == 0
    # A rectangular lattice: (2, 0) and (0, 2) lie in different orbits; (1, 0) and (2, 1) are absent (h + k odd).
    assert out.splitlines() == ["f_0 = 1", "f_1 = 2*cos(2*pi*x)*cos(2*pi*y)", "f_2 = cos(4*pi*x)", "f_3 = cos(4*pi*y)",
                                "f_4 = 2*cos(4*pi*x)*cos(4*pi*y)"]


def test_basis_json(capsys):
    status, out, _ = run(capsys, "basis", "p31m", "--cutoff", "1", "--shell", "box", "--format", "json")
    assert status == 0
    document = json.loads(out)
    assert (document["plane_group"], document["symbol"], document["embedding_hall_number"]) == (15, "p31m", 447)
    assert "sg" not in document
    assert "hall_symbol" not in document
    assert document["operations"][3] == {"rotation": [[0, 1], [1, 0]], "translation24": [0, 0], "xyz": "y,x"}
    assert all(len(m) == 2 for orbit in document["orbits"] for m in orbit["members"])
    assert document["dim"] == len(document["functions"]) == 2   # k = 0 and the one orbit of the six (h, k) != 0


def test_graph(capsys):
    status, out, _ = run(capsys, "graph", "p4gm", "--cutoff", "1", "--shell", "box")
    assert status == 0
    assert out.startswith('digraph "p4gm" {')
    assert 'n1 [label="1 0", group="orbit1", style=dashed];' in out
    status, out, _ = run(capsys, "graph", "pg", "--cutoff", "1", "--shell", "box", "--format", "json")
    document = json.loads(out)
    assert (document["plane_group"], document["symbol"]) == (4, "pg")
    assert document["nodes"][:3] == [[0, 0], [1, 0], [0, 1]]
    assert document["operations"] == ["x,y", "-x,y+1/2"]


def test_summary(capsys):
    status, out, _ = run(capsys, "summary", "--groups", "14,p2gg,c2mm", "--cutoff", "3", "--shell", "box",
                         "--conditions", "--format", "csv")
    assert status == 0
    assert out.splitlines()[2:] == ["8,161,p2gg,4,49,41,12,4,12,h0: h=2n | 0k: k=2n",
                                    "9,173,c2mm,8,49,25,8,8,8,hk: h+k=2n | h0: h=2n | 0k: k=2n"]
    status, out, _ = run(capsys, "summary", "--groups", "plane", "--cutoff", "3", "--shell", "box",
                         "--format", "json")
    rows = json.loads(out)
    assert {row["symbol"]: row["dim"] for row in rows} == DIMS_BOX_3


def test_verify(capsys, tmp_path):
    status, out, _ = run(capsys, "verify", "--groups", "p6mm,p2mg", "--cutoff", "2", "--out", str(tmp_path))
    assert status == 0
    assert re.search(r"^ +7 +p2mg +137 +4 .* ok$", out, re.M)
    assert "structure-factor forms" in out
    written = json.loads((tmp_path / "plane17_p6mm_ball2.json").read_text())
    assert written["ok"]
    assert written["structure_factor"]["ok"]
    assert written["symbol"] == "p6mm"


@pytest.mark.parametrize(("argv", "message"), [
    (["basis", "p4gm", "--hall", "3"], "one setting"),
    (["faithful", "p4gm"], "p4gm is a plane group; plane groups are accepted by basis"),
    (["basis", "P4gm"], "unknown space-group symbol"),
    (["summary", "--groups", "p5"], "unknown space-group symbol"),
])
def test_bad_plane_input(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert not out
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_plane_evaluation_is_two_dimensional():
    """Functions evaluated at (x, y, z) do not depend on z."""
    derived = basis("p6", 3)
    points = np.random.default_rng(0).random((5, 3))
    moved = points.copy()
    moved[:, 2] += 0.37
    assert np.allclose(derived.real(points), derived.real(moved), atol=1e-12)
