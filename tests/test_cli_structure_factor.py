"""crystal-fourier structure-factor: the JSON contract of issue 30, text and LaTeX, bad input."""

import cmath
import json
import math

import pytest
import sympy as sp

from crystal_fourier.cli import main
from crystal_fourier.derive import space_group

SYMBOLS = {name: sp.Symbol(name) for name in "hklxyz"}
TOLERANCE = 1e-9
"""Float64 evaluation of exact forms of size <= |G| = 192."""


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(("group", "hall"), [("P2_1/c", None), ("Fd-3m", None), (None, "525"), ("P6_1", None)])
def test_json_contract(capsys, group, hall):
    argv = ["structure-factor", *([group] if group else []), *(["--hall", hall] if hall else []), "--format", "json"]
    status, out, _ = run(capsys, *argv)
    assert status == 0
    document = json.loads(out)
    classes = [(sp.sympify(c["condition"], locals=SYMBOLS), sp.sympify(c["A"], locals=SYMBOLS),
                sp.sympify(c["B"], locals=SYMBOLS)) for c in document["classes"]]
    g = space_group(None, hall_number=document["hall_number"])
    for hkl in [(0, 0, 0), (1, 0, 0), (0, 1, 1), (1, 1, 1), (2, -1, 3), (-3, 2, 5), (4, 4, 2)]:
        values = dict(zip((SYMBOLS["h"], SYMBOLS["k"], SYMBOLS["l"]), hkl, strict=True))
        holding = [c for c in classes if bool(sp.sympify(c[0]).subs(values) if not isinstance(c[0], bool) else c[0])]
        assert len(holding) == 1, hkl
        _, a, b = holding[0]
        xyz = (0.123, 0.456, 0.789)
        point = values | dict(zip((SYMBOLS["x"], SYMBOLS["y"], SYMBOLS["z"]), xyz, strict=True))
        expected = sum(cmath.exp(2j * math.pi * sum(p * q for p, q in zip(hkl, op.apply(xyz), strict=True)))
                       for op in g.operations)
        assert abs(float(sp.sympify(a).subs(point)) - expected.real) <= TOLERANCE
        assert abs(float(sp.sympify(b).subs(point)) - expected.imag) <= TOLERANCE


def test_text_and_latex(capsys):
    status, out, _ = run(capsys, "structure-factor", "14")
    assert status == 0
    assert "Eq(Mod(k + l, 2), 0):\n  A = 4*cos(2*pi*(k*y))*cos(2*pi*(h*x + l*z))\n  B = 0" in out
    assert "2 classes, 4 trigonometric factors (the plain operation sum has 8)" in out
    status, out, _ = run(capsys, "structure-factor", "14", "--format", "latex")
    assert status == 0
    assert r"\left(k + l\right) \bmod 2 = 0" in out
    assert r"\begin{align*}" in out


@pytest.mark.parametrize("argv", [["structure-factor", "Xyz"], ["structure-factor", "--hall", "531"],
                                  ["structure-factor"], ["structure-factor", "14", "--hall", "1"]])
def test_bad_input_is_one_line_and_exit_2(capsys, argv):
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "error:" in err


def test_basis_quiet_factored_and_operations_one_per_line(capsys):
    status, out, _ = run(capsys, "basis", "Fm-3m", "--cutoff", "2", "--shell", "box", "--quiet", "--form", "factored")
    assert status == 0
    assert out.splitlines()[:2] == ["f_0 = 1", "f_1 = 4*cos(2*pi*x)*cos(2*pi*y)*cos(2*pi*z)"]
    status, out, _ = run(capsys, "basis", "C2/c", "--cutoff", "1", "--shell", "box")
    lines = out.splitlines()
    assert "4 x 2 operations: (0,0,0)+ (1/2,1/2,0)+" in lines
    assert "  (4) x,-y,z+1/2" in lines
    assert "  h0l: h,l=2n" in lines
    status, out, _ = run(capsys, "basis", "14", "--cutoff", "1", "--shell", "box", "--format", "json", "--form",
                         "factored")
    document = json.loads(out)
    assert document["reflection_conditions"] == ["h0l: l=2n", "0k0: k=2n", "00l: l=2n"]
    assert all("factored" in f for f in document["functions"])


def test_summary_conditions_column(capsys):
    status, out, _ = run(capsys, "summary", "--groups", "14,227", "--cutoff", "1", "--format", "json", "--conditions")
    rows = json.loads(out)
    assert status == 0
    assert rows[0]["reflection_conditions"] == "h0l: l=2n | 0k0: k=2n | 00l: l=2n"
    assert rows[1]["reflection_conditions"].startswith("hkl: h+k,h+l=2n | 0kl: k=2n; k+l=4n")


def test_structure_factor_shifts_option(capsys):
    status, out, _ = run(capsys, "structure-factor", "P2_12_12_1", "--shifts", "never", "--format", "json")
    assert status == 0
    assert len(json.loads(out)["classes"]) == 4
    status, out, _ = run(capsys, "structure-factor", "P2_12_12_1", "--format", "json")
    assert [c["condition"] for c in json.loads(out)["classes"]] == ["True"]


def test_plane_group_command(capsys):
    status, out, _ = run(capsys, "structure-factor", "c2mm")
    assert status == 0
    assert "plane group c2mm (No. 9)" in out
    assert "Eq(Mod(h + k, 2), 0):\n  A = 8*cos(2*pi*h*x)*cos(2*pi*k*y)" in out
    status, out, _ = run(capsys, "structure-factor", "p4gm", "--format", "json")
    assert json.loads(out)["embedding_hall_number"] == 377
