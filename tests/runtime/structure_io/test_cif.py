"""The CIF reader (gemmi syntax, our semantics) and the P1 writer."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal, write_cif
from crystal_fourier.runtime import read_structure
from crystal_fourier.runtime.structure_io._cif import parse_cif, parse_cif_blocks
from crystal_fourier.runtime.structure_io._structures import cell_parameters

CELL = """_cell_length_a 5.6402(3)
_cell_length_b 5.6402(3)
_cell_length_c 5.6402(3)
_cell_angle_alpha 90
_cell_angle_beta 90.000(5)
_cell_angle_gamma 90
"""

# Rock salt written with its 192 operations reduced to generators would be shorter; the
# point here is the explicit symop loop, as pymatgen and the ICSD write it.
FM3M_OPS = [op.xyz for op in __import__("crystal_fourier.derive", fromlist=["space_group"]).space_group(225).operations]


def rocksalt_cif(tag: str = "_space_group_symop_operation_xyz") -> str:
    ops = "\n".join(f"  {i + 1} '{op}'" for i, op in enumerate(FM3M_OPS))
    return f"""# a comment line
data_NaCl
{CELL}_space_group_name_H-M_alt 'F m -3 m'
loop_
 _space_group_symop_id
 {tag}
{ops}
loop_
 _atom_site_label
 _atom_site_type_symbol
 _atom_site_fract_x
 _atom_site_fract_y
 _atom_site_fract_z
 _atom_site_occupancy
 Na1 Na+ 0.0000 0.0000 0.0000 1.0
 Cl1 Cl- 0.5 0.5 0.5(1) 1
"""


@pytest.mark.parametrize("tag", ["_space_group_symop_operation_xyz", "_symmetry_equiv_pos_as_xyz"])
def test_symmetry_operations_are_applied_and_duplicates_merged(tag):
    crystal = parse_cif(rocksalt_cif(tag))
    assert crystal.n_atoms == 8
    assert crystal.formula == "Cl4Na4"
    na = np.sort(crystal.positions[crystal.numbers == 11], axis=0)
    np.testing.assert_allclose(na, np.sort([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], axis=0), atol=1e-12)
    np.testing.assert_allclose(cell_parameters(crystal.lattice), [5.6402] * 3 + [90] * 3, rtol=0, atol=1e-9)


def test_symbol_only_cif_uses_the_standard_setting():
    text = rocksalt_cif().split("loop_\n _space_group_symop_id")[0] + rocksalt_cif().split(FM3M_OPS[-1] + "'\n")[1]
    assert "_space_group_symop" not in text
    assert parse_cif(text).n_atoms == 8


def test_rounded_special_positions_merge():
    # 2/3 written as 0.6667: the threefold images miss each other by ~1e-4, below the merge tolerance
    text = """data_x
_cell_length_a 3.0
_cell_length_b 3.0
_cell_length_c 5.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
loop_
_symmetry_equiv_pos_as_xyz
x,y,z
-y,x-y,z
-x+y,-x,z
loop_
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Mg 0.3333 0.6667 0.25
"""
    assert parse_cif(text).n_atoms == 1


def test_text_fields_quotes_and_cartesian_sites():
    text = """data_block_with_text
_publ_section_title
;
 A title over
 several lines; with 'quotes'
;
_journal_name 'Journal of it''s own'
_cell_length_a 2
_cell_length_b 2
_cell_length_c 2
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_Cartn_x
_atom_site_Cartn_y
_atom_site_Cartn_z
Fe1 1.0 1.0 1.0
"""
    crystal = parse_cif(text)
    np.testing.assert_allclose(crystal.positions, [[0.5, 0.5, 0.5]])
    assert crystal.numbers.tolist() == [26]


def test_several_structure_blocks_are_refused_or_read_all_never_the_first_silently():
    header = "data_publication\n_journal_year 2020\n"
    first = write_cif(Crystal(np.eye(3) * 3, [[0, 0, 0]], [29]), name="copper")
    second = write_cif(Crystal(np.eye(3) * 4, [[0, 0, 0]], [79]), name="gold")
    text = header + first + second
    with pytest.raises(CrystalFourierError, match="2 data blocks hold structures \\('copper', 'gold'\\)"):
        parse_cif(text)
    assert {name: c.formula for name, c in parse_cif_blocks(text).items()} == {"copper": "Cu", "gold": "Au"}
    assert parse_cif(header + second).formula == "Au"        # a publication block is not a structure
    assert parse_cif(text, block="gold").formula == "Au"
    assert parse_cif(text, block=2).formula == "Au"
    with pytest.raises(CrystalFourierError, match="no data block named 'silver'.*'copper', 'gold'"):
        parse_cif(text, block="silver")
    with pytest.raises(CrystalFourierError, match="no _cell_length_a"):
        parse_cif(text, block=0)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("'F m -3 m'", "'F m -3 m"), "bad.cif, line 9: unterminated 'string'"),
        (lambda t: t.replace(" Cl1 Cl- 0.5 0.5 0.5(1) 1", " Cl1 Cl- 0.5 0.5 0.5(1)"),
         "line 205: Wrong number of values in loop _atom_site_"),
        (lambda t: t.replace("_cell_length_b 5.6402(3)\n", ""), "block 'NaCl': no _cell_length_b"),
        (lambda t: t.replace("0.5(1) 1", "0.5x 1"), "atom site 2 ('Cl1'): _atom_site_fract_z = '0.5x' is not a number"),
        (lambda t: t.replace("0.5(1) 1", "0.5(1) 0.5"), "atom site 2 ('Cl1') has occupancy 0.5; partially occupied"),
        (lambda t: t.replace("Cl1 Cl- 0.5 0.5 0.5(1)", "Cl1 Cl- 0 0.5 0.5"),
         "site 'Cl1' (Cl) and site 'Na1' (Na) are on one point"),
        (lambda t: t.replace("data_NaCl\n", ""), "line 2: expected block header"),
        (lambda t: t.replace(f"'{FM3M_OPS[3]}'", "'x,y'"),
         "line 10: symmetry operation 4 ('x,y') of _space_group_symop_operation_xyz"),
        (lambda t: t.replace(f"'{FM3M_OPS[3]}'", "'x,y,q'"), "'q' is neither x, y, z nor a fraction"),
        (lambda t: t.replace("Cl1 Cl-", "Cl1 Qq"),
         "atom site 2 ('Cl1'), _atom_site_type_symbol: 'Qq' does not start with an element"),
        (lambda t: "just some text\n", "line 1: expected block header (data_)"),
        (lambda t: "", "no 'data_' block found"),
    ],
)
def test_malformed_cif_names_the_problem(edit, message):
    with pytest.raises(CrystalFourierError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_cif(edit(rocksalt_cif()), source="bad.cif")


def test_reading_a_cif_names_the_file(tmp_path):
    path = tmp_path / "broken.cif"
    path.write_text("data_x\n_cell_length_a\n")
    with pytest.raises(CrystalFourierError, match="broken.cif"):
        read_structure(path)
    with pytest.raises(CrystalFourierError, match="absent.cif.* does not exist"):
        read_structure(tmp_path / "absent.cif")


def test_write_parse_round_trip_keeps_exact_positions():
    rng = np.random.default_rng(3)
    crystal = Crystal(np.diag([3.0, 4.0, 5.0]) + rng.normal(scale=0.3, size=(3, 3)), rng.random((7, 3)),
                      rng.choice([13, 29, 47], 7))
    again = parse_cif(write_cif(crystal))
    np.testing.assert_allclose(cell_parameters(again.lattice), cell_parameters(crystal.lattice), rtol=0, atol=1e-9)
    np.testing.assert_allclose(again.positions, np.mod(crystal.positions, 1.0), rtol=0, atol=1e-11)
    assert again.numbers.tolist() == crystal.numbers.tolist()


# --------------------------------------------------------------------------- origin choices, labels, formula
SILICON = """data_Si
_cell_length_a 5.431
_cell_length_b 5.431
_cell_length_c 5.431
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
{symmetry}
{formula}
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
{extra_columns}Si1 {position}
"""


def silicon(symmetry="_symmetry_space_group_name_H-M 'F d -3 m'", formula="_chemical_formula_sum 'Si'\n"
            "_cell_formula_units_Z 8", position="0 0 0", multiplicity=None) -> str:
    extra = "" if multiplicity is None else "_atom_site_symmetry_multiplicity\n"
    text = SILICON.format(symmetry=symmetry, formula=formula, position=position, extra_columns="")
    if multiplicity is not None:
        text = text.replace("_atom_site_label\n", "_atom_site_label\n" + extra).replace("Si1 ", f"Si1 {multiplicity} ")
    return text


def shortest_bond(crystal) -> float:
    gap = crystal.positions[:, None, :] - crystal.positions[None, :, :]
    gap -= np.round(gap)
    distance = np.linalg.norm(gap @ crystal.lattice, axis=-1) + np.eye(crystal.n_atoms) * 1e9
    return float(distance.min())


def test_textbook_silicon_in_origin_choice_1_reads_as_8_atoms():
    crystal = parse_cif(silicon())
    assert crystal.n_atoms == 8
    assert shortest_bond(crystal) == pytest.approx(5.431 * np.sqrt(3) / 4, abs=1e-9)   # 2.35 A, not 1.92


def test_silicon_in_origin_choice_2_is_decided_the_other_way():
    crystal = parse_cif(silicon(position="0.125 0.125 0.125"))
    assert crystal.n_atoms == 8
    assert shortest_bond(crystal) == pytest.approx(5.431 * np.sqrt(3) / 4, abs=1e-9)


@pytest.mark.parametrize("symmetry", [
    "_symmetry_space_group_name_H-M 'F d -3 m:1'",
    "_space_group_name_H-M_alt 'F d -3 m :1'",
    "_space_group_name_Hall 'F 4d 2 3 -1d'",
    "_symmetry_space_group_name_H-M 'F d -3 m'\n_space_group_IT_coordinate_system_code 1",
    "_symmetry_Int_Tables_number 227\n_space_group_IT_coordinate_system_code '1'",
])
def test_explicit_origin_choice_1_needs_no_formula(symmetry):
    assert parse_cif(silicon(symmetry=symmetry, formula="")).n_atoms == 8


def test_explicit_origin_choice_2_is_obeyed():
    crystal = parse_cif(silicon(symmetry="_symmetry_space_group_name_H-M 'F d -3 m:2'", formula=""))
    assert crystal.n_atoms == 16   # (0, 0, 0) is 16c in origin choice 2


def test_declared_multiplicity_decides_without_formula():
    assert parse_cif(silicon(formula="", multiplicity=8)).n_atoms == 8
    assert parse_cif(silicon(formula="", multiplicity=16)).n_atoms == 16


def test_undecidable_origin_choice_is_an_error_naming_both():
    with pytest.raises(CrystalFourierError) as info:
        parse_cif(silicon(formula=""), source="si.cif")
    message = str(info.value)
    assert message.startswith("si.cif, block 'Si': _symmetry_space_group_name_H-M 'F d -3 m' names a group with "
                              "two origin choices")
    assert "Fd-3m origin choice 1 gives 8 atoms (Si8)" in message
    assert "Fd-3m origin choice 2 gives 16 atoms (Si16)" in message
    assert "'F d -3 m:1'" in message


def test_formula_that_the_atoms_do_not_give_is_an_error():
    with pytest.raises(CrystalFourierError, match="neither|does not say which"):
        parse_cif(silicon(formula="_chemical_formula_sum 'Si'\n_cell_formula_units_Z 4"))
    text = rocksalt_cif().replace("data_NaCl\n", "data_NaCl\n_chemical_formula_sum 'Na Cl2'\n")
    with pytest.raises(CrystalFourierError, match="give Na4 Cl4, which is not _chemical_formula_sum 'Na1 Cl2'"):
        parse_cif(text)
    for formula in ("'Na Cl'", "'Na4 Cl4'", "'Cl Na'\n_cell_formula_units_Z 4", "'Na4 Cl4'\n_cell_formula_units_Z 4"):
        text = rocksalt_cif().replace("data_NaCl\n", f"data_NaCl\n_chemical_formula_sum {formula}\n")
        assert parse_cif(text).n_atoms == 8, formula


@pytest.mark.parametrize(("written", "element"), [
    ("CU", "Cu"), ("PT", "Pt"), ("NI", "Ni"), ("Cu2+", "Cu"), ("O2-", "O"), ("os", "Os"), ("C", "C")])
def test_type_symbols_are_read_case_insensitively(written, element):
    text = silicon(symmetry="", formula="").replace("_atom_site_label\n", "_atom_site_label\n_atom_site_type_symbol\n")
    text = text.replace("Si1 0 0 0", f"X1 {written} 0 0 0")
    assert list(parse_cif(text).symbols) == [element]


@pytest.mark.parametrize(("label", "element"), [("NA1", "Na"), ("SI2", "Si"), ("Na1", "Na"), ("N1", "N"),
                                                ("CL", "Cl"), ("O1a", "O"), ("Fe", "Fe")])
def test_labels_without_type_symbols_prefer_the_two_letter_element(label, element):
    text = silicon(symmetry="", formula="").replace("Si1 0 0 0", f"{label} 0 0 0")
    assert list(parse_cif(text).symbols) == [element]


def test_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.cif"
    path.write_bytes(b"\xef\xbb\xbf" + rocksalt_cif().encode())
    assert read_structure(path).n_atoms == 8
    assert parse_cif("\ufeff" + rocksalt_cif()).n_atoms == 8


def test_symmetry_operations_are_parsed_by_the_derive_parser():
    import crystal_fourier.runtime.structure_io._cif as module

    source = open(module.__file__).read()
    assert "Operation.parse" in source
    assert "def _parse_operation" not in source


def _symbol_only_cif(crystal, hall_number, symbol) -> str:
    """The crystal as a CIF giving only the symbol: one site per orbit under the Hall setting's operations."""
    from crystal_fourier.derive import space_group

    rotations, translations_24 = space_group(hall_number=hall_number).arrays
    remaining = list(range(crystal.n_atoms))
    sites = []
    while remaining:
        first = remaining[0]
        sites.append(first)
        images = np.mod(rotations @ crystal.positions[first] + translations_24 / 24, 1.0)
        gap = crystal.positions[remaining][:, None, :] - images[None, :, :]
        gap -= np.round(gap)
        covered = np.min(np.max(np.abs(gap), axis=-1), axis=1) < 1e-6
        remaining = [index for index, hit in zip(remaining, covered, strict=True) if not hit]
    a, b, c, alpha, beta, gamma = cell_parameters(crystal.lattice)
    symbols, counts = np.unique(crystal.symbols, return_counts=True)
    units = int(np.gcd.reduce(counts))
    formula = " ".join(f"{s}{n // units}" for s, n in zip(symbols.tolist(), counts.tolist(), strict=True))
    lines = [f"data_test\n_cell_length_a {a:.10f}\n_cell_length_b {b:.10f}\n_cell_length_c {c:.10f}",
             f"_cell_angle_alpha {alpha:.10f}\n_cell_angle_beta {beta:.10f}\n_cell_angle_gamma {gamma:.10f}",
             f"_symmetry_space_group_name_H-M '{symbol}'", f"_chemical_formula_sum '{formula}'",
             f"_cell_formula_units_Z {units}",
             "loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z"]
    lines += [f"{crystal.symbols[i]}{k} {crystal.symbols[i]} " + " ".join(f"{v:.12f}" for v in crystal.positions[i])
              for k, i in enumerate(sites)]
    return "\n".join(lines) + "\n"


def _two_origin_groups():
    from crystal_fourier.runtime.structure_io._cif_symmetry import origin_choices

    return [n for n in range(1, 231) if origin_choices(n)]


def test_there_are_24_two_origin_groups():
    assert len(_two_origin_groups()) == 24


@pytest.mark.parametrize("number", [48, 70, 141, 227], ids=lambda n: f"sg{n}")
@pytest.mark.parametrize("choice", ["1", "2"])
def test_symbol_only_files_never_become_another_crystal(number, choice):
    """Written with the bare symbol in either origin choice: read as that crystal, or refused."""
    _check_symbol_only(number, choice)


@pytest.mark.sweep
@pytest.mark.parametrize("number", _two_origin_groups(), ids=lambda n: f"sg{n}")
@pytest.mark.parametrize("choice", ["1", "2"])
def test_symbol_only_files_never_become_another_crystal_all_groups(number, choice):
    _check_symbol_only(number, choice)


def _crystals_of(number, count):
    """``count`` crystals of exactly group ``number`` (:func:`crystal_fourier.runtime.crystals_of`) whose
    shortest periodic bond is over 1.2 A."""
    from itertools import islice

    from crystal_fourier.runtime import crystals_of

    return list(islice((c for c in crystals_of(number) if shortest_bond(c) > 1.2), count))


def _check_symbol_only(number, choice):
    from crystal_fourier.derive import space_group
    from crystal_fourier.runtime.structure_io._cif_symmetry import origin_choices
    from crystal_fourier.runtime import standardize

    hall = origin_choices(number)[choice]
    decided = refused = 0
    for crystal in _crystals_of(number, 3):
        written = standardize(crystal, hall_number=hall).crystal
        text = _symbol_only_cif(written, hall, space_group(number).symbol)
        refusal = None
        try:
            read = parse_cif(text)
        except CrystalFourierError as error:
            refusal = str(error)
        if refusal is not None:
            assert "does not say which" in refusal
            refused += 1
            continue
        assert read.n_atoms == written.n_atoms, \
            f"group {number} choice {choice}: {read.n_atoms} atoms, written {written.n_atoms}"
        gap = read.positions[:, None, :] - written.positions[None, :, :]
        gap -= np.round(gap)
        distance = np.max(np.abs(gap), axis=-1)
        distance[read.numbers[:, None] != written.numbers[None, :]] = np.inf
        assert distance.min(axis=1).max() < 1e-8
        decided += 1
    assert decided + refused > 0
    return decided, refused


def test_bare_rhombohedral_symbol_takes_the_axes_from_the_cell():
    from crystal_fourier.runtime.structure_io._structures import lattice_from_parameters

    hexagonal = lattice_from_parameters(4.0, 4.0, 10.0, 90, 90, 120)
    rhombohedral = lattice_from_parameters(4.1, 4.1, 4.1, 60.0, 60.0, 60.0)
    for lattice, atoms in ((hexagonal, 3), (rhombohedral, 1)):
        a, b, c, alpha, beta, gamma = cell_parameters(lattice)
        text = (f"data_r\n_cell_length_a {a}\n_cell_length_b {b}\n_cell_length_c {c}\n_cell_angle_alpha {alpha}\n"
                f"_cell_angle_beta {beta}\n_cell_angle_gamma {gamma}\n_symmetry_space_group_name_H-M 'R -3 m'\n"
                "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nCu1 0 0 0\n")
        assert parse_cif(text).n_atoms == atoms


@pytest.mark.parametrize(("symbol", "atoms"), [("C m c a", 16), ("A b m 2", 8), ("C c c a:2", 16)])
def test_pre_2002_symbols_are_read_through_gemmi(symbol, atoms):
    text = silicon(symmetry=f"_symmetry_space_group_name_H-M '{symbol}'", formula="",
                   position="0.1 0.2 0.3").replace("_cell_length_b 5.431", "_cell_length_b 6.1").replace(
        "_cell_length_c 5.431", "_cell_length_c 7.3")
    assert parse_cif(text).n_atoms == atoms


def test_a_formula_that_is_not_a_plain_sum_is_not_checked():
    text = rocksalt_cif().replace("data_NaCl\n", "data_NaCl\n_chemical_formula_sum 'Na Cl (H2 O)0.5'\n")
    assert parse_cif(text).n_atoms == 8


@pytest.mark.parametrize(("text", "message"), [
    ("data_a\n_x 1\ndata_a\n_x 2\n", "f.cif, duplicate block name: a"),
    ("data_a\n_x 1\n_x 2\n", "f.cif, line 3: in data_a: duplicate tag _x"),
])
def test_syntax_errors_from_gemmi_are_located(text, message):
    with pytest.raises(CrystalFourierError) as info:
        parse_cif(text, source="f.cif")
    assert str(info.value) == message


def _p1_cif(formula: str, labels: list[str]) -> str:
    rows = "\n".join(f"{label} {0.13 * i:.2f} {0.29 * i % 1:.2f} {0.41 * i % 1:.2f}" for i, label in enumerate(labels))
    return (f"data_x\n_cell_length_a 10\n_cell_length_b 10\n_cell_length_c 10\n_cell_angle_alpha 90\n"
            f"_cell_angle_beta 90\n_cell_angle_gamma 90\n_chemical_formula_sum '{formula}'\n"
            f"loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n{rows}\n")


def test_upper_case_formula_follows_the_one_element_rule():
    # 'SI' in the formula is Si, as the label 'SI1' is: a consistent file, not S and I.
    crystal = parse_cif(_p1_cif("Na2 SI O3", ["NA1", "NA2", "SI1", "O1", "O2", "O3"]))
    assert crystal.formula == "Na2O3Si"


def test_ambiguous_formula_that_disagrees_is_a_warning_not_a_refusal():
    # 'SI' could be Si or S + I; the sites say S and I, so the file is read with a warning.
    with pytest.warns(UserWarning, match="ambiguous"):
        crystal = parse_cif(_p1_cif("SI", ["S1", "I1"]))
    assert sorted(crystal.symbols) == ["I", "S"]
    with pytest.raises(CrystalFourierError, match="inconsistent"):  # an unambiguous one still refuses
        parse_cif(_p1_cif("Si", ["S1", "I1"]))
