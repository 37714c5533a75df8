"""Closed forms of the allowed tensors: textbook Voigt matrices (Nye), exact Cartesian bases, exports."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from crystal_fourier.derive import (
    TENSOR_KINDS,
    exact_cartesian_basis,
    render,
    space_group,
    tensor_basis,
    voigt_form,
)
from crystal_fourier.derive._tensor_export import tensor_document
from crystal_fourier.derive._tensor_forms import standard_lattice
from crystal_fourier.errors import CrystalFourierError


def _s(text: str) -> sp.Expr:
    """A SymPy expression in real component symbols."""
    names = {name: sp.Symbol(name, real=True) for name in text.replace("(", " ").replace(")", " ").replace("-", " ")
             .replace("/", " ").replace("*", " ").replace("+", " ").split() if not name.isdigit()}
    return sp.sympify(text, locals=names)


# (group or hall, kind) -> (independent names, {dependent: value}); Nye tables 9 and 12 in the frame of
# lattice_from_parameters (c along z, a along x; monoclinic 2-fold along y for unique axis b).
TEXTBOOK = {
    (225, "elastic"): (("C11", "C12", "C44"),
                       {"C22": "C11", "C33": "C11", "C13": "C12", "C23": "C12", "C55": "C44", "C66": "C44"}),
    (194, "elastic"): (("C11", "C12", "C13", "C33", "C44"),
                       {"C22": "C11", "C23": "C13", "C55": "C44", "C66": "(C11 - C12)/2"}),
    (166, "elastic"): (("C11", "C12", "C13", "C14", "C33", "C44"),
                       {"C22": "C11", "C23": "C13", "C24": "-C14", "C55": "C44", "C56": "C14",
                        "C66": "(C11 - C12)/2"}),
    (123, "elastic"): (("C11", "C12", "C13", "C33", "C44", "C66"), {"C22": "C11", "C23": "C13", "C55": "C44"}),
    (83, "elastic"): (("C11", "C12", "C13", "C16", "C33", "C44", "C66"),
                      {"C22": "C11", "C23": "C13", "C26": "-C16", "C55": "C44"}),
    (14, "elastic"): (("C11", "C12", "C13", "C15", "C22", "C23", "C25", "C33", "C35", "C44", "C46", "C55",
                       "C66"), {}),
    (62, "elastic"): (("C11", "C12", "C13", "C22", "C23", "C33", "C44", "C55", "C66"), {}),
    (216, "piezoelectric"): (("e14",), {"e25": "e14", "e36": "e14"}),
    (152, "piezoelectric"): (("e11", "e14"), {"e12": "-e11", "e25": "-e14", "e26": "-e11"}),  # quartz
    (186, "piezoelectric"): (("e15", "e31", "e33"), {"e24": "e15", "e32": "e31"}),  # wurtzite
    (99, "piezoelectric"): (("e15", "e31", "e33"), {"e24": "e15", "e32": "e31"}),
    (62, "symmetric2"): (("eps11", "eps22", "eps33"), {}),
    (14, "symmetric2"): (("eps11", "eps22", "eps33", "eps13"), {}),
    (194, "symmetric2"): (("eps11", "eps33"), {"eps22": "eps11"}),
    (152, "axial2"): (("g11", "g33"), {"g22": "g11"}),
    (81, "axial2"): (("g11", "g12"), {"g22": "-g11"}),
}


@pytest.mark.parametrize(("group", "kind"), sorted(TEXTBOOK), ids=str)
def test_voigt_form_is_the_textbook_one(group, kind):
    names, relations = TEXTBOOK[(group, kind)]
    form = voigt_form(group, kind)
    assert form.names == names
    assert {name: sp.expand(value) for name, value in form.relations} == \
        {name: sp.expand(_s(value)) for name, value in relations.items()}


def test_voigt_matrix_of_hexagonal_stiffness():
    c11, c12, c13, c33, c44 = voigt_form(194, "elastic").symbols
    expected = sp.Matrix([[c11, c12, c13, 0, 0, 0], [c12, c11, c13, 0, 0, 0], [c13, c13, c33, 0, 0, 0],
                          [0, 0, 0, c44, 0, 0], [0, 0, 0, 0, c44, 0], [0, 0, 0, 0, 0, (c11 - c12) / 2]])
    assert sp.simplify(voigt_form(194, "elastic").matrix - expected) == sp.zeros(6, 6)


def test_standard_lattice_is_exact_with_surds():
    lattice = standard_lattice(191)
    assert lattice[1, 1] == sp.sqrt(3) / 2
    assert (lattice * lattice.T)[0, 1] == sp.Rational(-1, 2)  # a.b = cos 120 degrees
    assert standard_lattice(hall_number=434) == sp.eye(3)


@pytest.mark.parametrize("hall_number", [1, 6, 434, 458, 484, 488, 526], ids=lambda h: f"hall{h}")
@pytest.mark.parametrize("kind", TENSOR_KINDS)
def test_exact_cartesian_basis_equals_the_float_one(hall_number, kind):
    basis = tensor_basis(hall_number=hall_number, kind=kind)
    exact = exact_cartesian_basis(basis)
    lattice = np.array(standard_lattice(hall_number=hall_number).evalf(), dtype=float)
    floats = np.array([np.array(t.tolist(), dtype=float) for t in exact]).reshape(basis.cartesian(lattice).shape)
    np.testing.assert_allclose(floats, basis.cartesian(lattice), rtol=0, atol=1e-14)


def _check_voigt_form(hall_number: int, kind: str) -> None:
    """Random values of the named components give a tensor that every Cartesian rotation keeps,
    and there are exactly as many names as basis tensors."""
    form = voigt_form(hall_number=hall_number, kind=kind)
    assert len(form.names) == tensor_basis(hall_number=hall_number, kind=kind).dimension
    values = dict(zip(form.symbols, np.random.default_rng(hall_number).normal(size=len(form.names)), strict=True))
    voigt = np.array(form.matrix.subs(values).evalf(), dtype=float)
    pairs = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
    index = {pair: big for big, pair in enumerate(pairs)} | {pair[::-1]: big for big, pair in enumerate(pairs)}
    rank = tensor_basis(1, kind).rank
    tensor = np.zeros((3,) * rank)
    for full in np.ndindex(*(3,) * rank):
        if kind == "elastic":
            tensor[full] = voigt[index[full[:2]], index[full[2:]]]
        elif kind == "piezoelectric":
            tensor[full] = voigt[full[0], index[full[1:]]]
        else:
            tensor[full] = voigt[full]
    lattice = np.array(standard_lattice(hall_number=hall_number).evalf(), dtype=float)
    for rotation in space_group(hall_number=hall_number).rotations:
        q = lattice.T @ np.array(rotation, dtype=float) @ np.linalg.inv(lattice.T)
        sign = np.linalg.det(q) if kind == "axial2" else 1.0
        moved = tensor
        for axis in range(rank):
            moved = np.moveaxis(np.tensordot(q, moved, axes=([1], [axis])), 0, axis)
        np.testing.assert_allclose(sign * moved, tensor, rtol=0, atol=1e-12)


@pytest.mark.parametrize("hall_number", [2, 6, 9, 349, 434, 458, 460, 484, 500], ids=lambda h: f"hall{h}")
@pytest.mark.parametrize("kind", ["elastic", "piezoelectric", "axial2"])
def test_every_voigt_matrix_is_invariant_under_the_cartesian_rotations(hall_number, kind):
    _check_voigt_form(hall_number, kind)


def _first_halls() -> list[int]:
    from crystal_fourier.derive._tensor_tables import tensor_table_record

    return [group["first_hall"] for group in tensor_table_record()["point_groups"]]


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", _first_halls(), ids=lambda h: f"hall{h}")
@pytest.mark.parametrize("kind", TENSOR_KINDS)
def test_voigt_form_of_every_point_group_in_its_setting(hall_number, kind):
    """All 50 point groups in their settings: every one of the 530 settings shares one of these bases."""
    _check_voigt_form(hall_number, kind)


def test_forbidden_property_has_an_all_zero_matrix():
    form = voigt_form(221, "piezoelectric")
    assert form.names == ()
    assert form.relations == ()
    assert form.matrix == sp.zeros(3, 6)
    assert len(form.zeros) == 18


def test_json_document_round_trips_exact_values():
    doc = json.loads(render(tensor_basis(194, "elastic"), "json"))
    assert doc["independent"] == ["C11", "C12", "C13", "C33", "C44"]
    assert doc["voigt"][5][5] == "(C11 - C12)/2"
    assert doc["relations"]["C66"] == "(C11 - C12)/2"
    assert doc["voigt_latex"][0][0] == "C_{11}"
    assert doc["point_group"] == "6/mmm"
    assert doc["hall_number"] == 488
    basis = tensor_basis(194, "elastic")
    assert doc["crystal_basis"] == [[str(v) for v in row] for row in basis.components]
    assert "1/2" in doc["crystal_basis"][0]  # hexagonal axes: rational, not integer, crystal components


def test_text_and_latex():
    text = render(tensor_basis(225, "elastic"), "text")
    assert "3 independent components: C11, C12, C44" in text
    assert "  C11  C12  C12    0    0    0" in text
    latex = render(tensor_basis(194, "elastic"), "latex")
    assert "\\frac{C_{11} - C_{12}}{2}" in latex
    assert latex.count("\\\\") == 5
    assert "forbidden" in render(tensor_basis(221, "piezoelectric"), "text")


def test_document_names_the_rhombohedral_frame():
    assert "[111]" in tensor_document(hall_number=459, kind="elastic")["frame"]
    assert "c along z" in tensor_document(hall_number=458, kind="elastic")["frame"]


def test_unknown_format_is_an_error():
    with pytest.raises(CrystalFourierError, match="unknown format 'xml'"):
        render(tensor_basis(225, "elastic"), "xml")


def test_cached_form_cannot_be_changed_by_a_caller():
    form = voigt_form(225, "elastic")
    with pytest.raises(TypeError):
        form.matrix[0, 0] = 0
    assert voigt_form(225, "elastic").matrix[0, 0] == form.symbols[0]

