"""The dependency-free CIF reader and the P1 writer."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.cif import cif_blocks, parse_cif, read_cif, write_cif
from crystal_fourier.runtime.structures import Crystal, cell_parameters

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


def test_multiple_blocks_first_structure_or_by_name():
    header = "data_publication\n_journal_year 2020\n"
    first = write_cif(Crystal(np.eye(3) * 3, [[0, 0, 0]], [29]), name="copper")
    second = write_cif(Crystal(np.eye(3) * 4, [[0, 0, 0]], [79]), name="gold")
    text = header + first + second
    assert cif_blocks(text) == ["publication", "copper", "gold"]
    assert parse_cif(text).formula == "Cu"           # the first block with atoms
    assert parse_cif(text, block="gold").formula == "Au"
    assert parse_cif(text, block=2).formula == "Au"
    with pytest.raises(CrystalFourierError, match="no data block named 'silver'.*'copper', 'gold'"):
        parse_cif(text, block="silver")
    with pytest.raises(CrystalFourierError, match="has no _cell_length_a"):
        parse_cif(text, block=0)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("'F m -3 m'", "'F m -3 m"), "line 9: unterminated '-quoted string"),
        (lambda t: t.replace(" Cl1 Cl- 0.5 0.5 0.5(1) 1", " Cl1 Cl- 0.5 0.5 0.5(1)"), "not a multiple of 6"),
        (lambda t: t.replace("_cell_length_b 5.6402(3)\n", ""), "has no _cell_length_b"),
        (lambda t: t.replace("0.5(1) 1", "0.5x 1"), "atom site coordinate = '0.5x' is not a number"),
        (lambda t: t.replace("0.5(1) 1", "0.5(1) 0.5"), "site 'Cl1' has occupancy 0.5; partially occupied"),
        (lambda t: t.replace("Cl1 Cl- 0.5 0.5 0.5(1)", "Cl1 Cl- 0 0.5 0.5"), "lands on site 'Na1'"),
        (lambda t: t.replace("data_NaCl\n", ""), "before any 'data_' block header"),
        (lambda t: t.replace(f"'{FM3M_OPS[3]}'", "'x,y'"), "must have three parts"),
        (lambda t: t.replace(f"'{FM3M_OPS[3]}'", "'x,y,q'"), "cannot read term 'q'"),
        (lambda t: t.replace("Cl1 Cl-", "Cl1 Qq"), "species 'Qq' is not an element symbol"),
        (lambda t: "just some text\n", "before any 'data_' block header"),
        (lambda t: "", "no 'data_' block found"),
    ],
)
def test_malformed_cif_names_the_problem(edit, message):
    with pytest.raises(CrystalFourierError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_cif(edit(rocksalt_cif()), source="bad.cif")


def test_read_cif_names_the_file(tmp_path):
    path = tmp_path / "broken.cif"
    path.write_text("data_x\n_cell_length_a\n")
    with pytest.raises(CrystalFourierError, match="broken.cif"):
        read_cif(path)
    with pytest.raises(CrystalFourierError, match="cannot read CIF file"):
        read_cif(tmp_path / "absent.cif")


def test_write_parse_round_trip_keeps_exact_positions():
    rng = np.random.default_rng(3)
    crystal = Crystal(np.diag([3.0, 4.0, 5.0]) + rng.normal(scale=0.3, size=(3, 3)), rng.random((7, 3)),
                      rng.choice([13, 29, 47], 7))
    again = parse_cif(write_cif(crystal))
    np.testing.assert_allclose(cell_parameters(again.lattice), cell_parameters(crystal.lattice), rtol=0, atol=1e-9)
    np.testing.assert_allclose(again.positions, np.mod(crystal.positions, 1.0), rtol=0, atol=1e-11)
    assert again.numbers.tolist() == crystal.numbers.tolist()
