"""The printers: one per output format, dispatching on what they print; the basis JSON interface."""

import json

import pytest

from crystal_fourier.derive import basis, render, structure_factor_document, structure_factor_form, tensor_basis
from crystal_fourier.derive._plane_groups import plane_group_document
from crystal_fourier.derive._printers import FORMATS, PRINTERS, JsonPrinter, LatexPrinter, Printer, TextPrinter
from crystal_fourier.errors import CrystalFourierError


def test_json_has_the_documented_keys():
    doc = json.loads(render(basis(227, 2, "box"), "json"))
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
    doc = json.loads(render(basis(4, 1, "box"), "json"))
    absent = [o for o in doc["orbits"] if o["absent"]]
    assert [o["representative"] for o in absent] == [[0, 1, 0], [0, -1, 0]]
    assert all(doc["operations"][o["witness"]]["xyz"] == "-x,y+1/2,-z" for o in absent)
    assert all(o["witness"] is None for o in doc["orbits"] if not o["absent"])


def test_json_is_deterministic_and_keys_sorted():
    text = render(basis(194, 2, "box"), "json")
    assert text == render(basis(194, 2, "box"), "json")
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=1) + "\n"


def test_text_and_latex_of_a_basis():
    text = render(basis(4, 1, "box"), "text")
    assert "P2_1 (No. 4), Hall number 6" in text
    assert "absent, witness -x,y+1/2,-z" in text
    assert "f_1 [orbit 1, centric] = cos(2*pi*x)" in text
    assert render(basis(4, 1, "box"), quiet=True).splitlines()[:2] == ["f_0 = 1", "f_1 = cos(2*pi*x)"]
    latex = render(basis(4, 1, "box"), "latex")
    assert latex.count("f_{") == 13
    assert "\\begin{align*}" in latex


def test_factored_setting_reaches_text_and_json():
    doc = json.loads(render(basis(14, 1, "box"), "json", factored=True))
    assert all("factored" in f for f in doc["functions"])
    assert "factored" not in json.loads(render(basis(14, 1, "box"), "json"))["functions"][0]


def test_one_printer_per_format_each_printing_the_same_things():
    assert FORMATS == ("text", "latex", "json")
    assert [PRINTERS[f] for f in FORMATS] == [TextPrinter, LatexPrinter, JsonPrinter]
    methods = [{name for name in vars(printer) if name.startswith("_print_")} for printer in PRINTERS.values()]
    assert methods[0] == methods[1] == methods[2] == {"_print_Basis", "_print_TensorBasis",
                                                      "_print_StructureFactorForm", "_print_PlaneStructureFactorForm"}
    assert all(issubclass(printer, Printer) and printer.format == fmt for fmt, printer in PRINTERS.items())


def test_tensor_and_structure_factor_through_the_same_render():
    assert render(tensor_basis(225, "elastic")).splitlines()[1] == (
        "elastic stiffness tensor c_ijkl: 3 independent components: C11, C12, C44")
    assert json.loads(render(tensor_basis(221, "piezoelectric"), "json"))["dimension"] == 0
    form = structure_factor_form("P2_12_12_1", shifts="never")
    assert form.shifts == "never"
    assert json.loads(render(form, "json")) == structure_factor_document("P2_12_12_1", shifts="never")
    assert render(structure_factor_form(14)).splitlines()[2] == (
        "# 2 classes, 4 trigonometric factors (the plain operation sum has 8)")


def test_plane_group_forms_through_the_same_render():
    form = structure_factor_form("p4gm", shifts="never")
    assert (form.group.number, form.shifts) == (12, "never")
    assert json.loads(render(form, "json")) == plane_group_document("p4gm", shifts="never")
    assert render(form).splitlines()[0] == ("# Structure-factor forms of the plane group p4gm (No. 12): 8 operations: "
                                            "x,y; -y,x; -x,-y; y,-x; -x+1/2,y+1/2; y+1/2,x+1/2; x+1/2,-y+1/2; "
                                            "-y+1/2,-x+1/2")
    assert render(structure_factor_form("p2mm"), "latex").splitlines()[:3] == [
        "% Structure-factor forms of the plane group p2mm", r"\begin{align*}",
        r"&\text{if } \text{True}: & A &= 4 \cos{\left(2 \pi h x \right)} \cos{\left(2 \pi k y \right)}, & B &= 0"]


def test_dispatch_follows_the_class_hierarchy():
    class Special(TextPrinter):
        def _print_object(self, obj):
            return f"an object of type {type(obj).__name__}\n"

    assert Special().doprint(3) == "an object of type int\n"
    assert Special().doprint(tensor_basis(1, "symmetric2")).startswith("P1 (No. 1)")


def test_unknown_format_and_unprintable_object():
    with pytest.raises(CrystalFourierError, match="unknown format 'pdf': expected one of text, latex, json"):
        render(basis(1, 0), "pdf")
    with pytest.raises(CrystalFourierError, match="the latex printer cannot print a dict"):
        render({}, "latex")
