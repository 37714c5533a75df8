"""Magnetic CIFs (mcif): the atoms come from the magnetic operations' spatial parts.

The fixtures are small mcif files written here in the layout of ISODISTORT / the Bilbao MAGNDATA
files (pymatgen's test mcifs are not installed); pymatgen's own mcif reader is the oracle.
"""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._cif import parse_cif

# Mn3Ge in P6_3'/m'm'c-like magnetic symmetry: 24 operations, time reversal on the improper ones.
MN3GE_OPERATIONS = """1 x,y,z,+1
2 x-y,x,z+1/2,+1
3 -y,x-y,z,+1
4 -x,-y,z+1/2,+1
5 -x+y,-x,z,+1
6 y,-x+y,z+1/2,+1
7 -y,-x,-z+1/2,+1
8 -x,-x+y,-z,+1
9 -x+y,y,-z+1/2,+1
10 y,x,-z,+1
11 x,x-y,-z+1/2,+1
12 x-y,-y,-z,+1
13 -x,-y,-z,-1
14 -x+y,-x,-z+1/2,-1
15 y,-x+y,-z,-1
16 x,y,-z+1/2,-1
17 x-y,x,-z,-1
18 -y,x-y,-z+1/2,-1
19 y,x,z+1/2,-1
20 x,x-y,z,-1
21 x-y,-y,z+1/2,-1
22 -y,-x,z,-1
23 -x,-x+y,z+1/2,-1
24 -x+y,y,z,-1"""

MN3GE = f"""# MAGNDATA-style magnetic CIF
data_Mn3Ge
_space_group_magn.number_BNS 194.268
_space_group_magn.name_BNS "P6_3'/m'm'c"
_cell_length_a 5.34
_cell_length_b 5.34
_cell_length_c 4.31
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 120
loop_
_space_group_symop_magn_operation.id
_space_group_symop_magn_operation.xyz
{MN3GE_OPERATIONS}
loop_
_space_group_symop_magn_centering.id
_space_group_symop_magn_centering.xyz
1 x,y,z,+1
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Mn1 Mn 0.83890 0.67780 0.25000 1
Ge1 Ge 0.33333 0.66667 0.75000 1
loop_
_atom_site_moment.label
_atom_site_moment.crystalaxis_x
_atom_site_moment.crystalaxis_y
_atom_site_moment.crystalaxis_z
Mn1 2.0 1.0 0.0
"""

# Antiferromagnetic bcc Cr: the body centring is an anti-translation (time reversal -1), in the
# interim spelling with the period before 'magn'.
CR_AFM = """data_Cr
_cell_length_a 2.88
_cell_length_b 2.88
_cell_length_c 2.88
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_space_group_symop.magn_id
_space_group_symop.magn_operation_xyz
1 x,y,z,+1
2 -x,-y,z,+1
3 -x,y,-z,+1
4 x,-y,-z,+1
loop_
_space_group_symop.magn_centering_id
_space_group_symop.magn_centering_xyz
1 x,y,z,+1
2 x+1/2,y+1/2,z+1/2,-1
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cr1 Cr 0 0 0
"""

# A magnetic supercell whose translations are eighths (finer than the 1/24 of ITA settings).
EIGHTHS = """data_Fe8
_cell_length_a 2.5
_cell_length_b 2.5
_cell_length_c 20.0
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_space_group_symop_magn_operation.id
_space_group_symop_magn_operation.xyz
1 x,y,z,+1
2 x,y,z+1/4,-1
3 x,y,z+1/2,+1
4 x,y,z+3/4,-1
loop_
_space_group_symop_magn_centering.id
_space_group_symop_magn_centering.xyz
1 x,y,z,+1
2 x,y,z+1/8,+1
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Fe1 0 0 0.01
"""

INCOMMENSURATE_CR = """data_Cr_SDW
_cell_length_a 2.88
_cell_length_b 2.88
_cell_length_c 2.88
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_cell_modulation_dimension 1
_cell_wave_vector_seq_id 1
_cell_wave_vector_x 0
_cell_wave_vector_y 0
_cell_wave_vector_z 0.952
loop_
_space_group_symop_magn_ssg_operation.id
_space_group_symop_magn_ssg_operation.algebraic
1 x1,x2,x3,x4,+1
2 -x1,-x2,x3,x4,+1
loop_
_space_group_symop_magn_ssg_centering.id
_space_group_symop_magn_ssg_centering.algebraic
1 x1,x2,x3,x4,+1
2 x1+1/2,x2+1/2,x3+1/2,x4,+1
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cr1 Cr 0 0 0
"""

CR_AFM_FINAL_SPELLING = CR_AFM \
    .replace("_space_group_symop.magn_operation_xyz", "_space_group_symop_magn_operation.xyz") \
    .replace("_space_group_symop.magn_centering_xyz", "_space_group_symop_magn_centering.xyz") \
    .replace("_space_group_symop.magn_id", "_space_group_symop_magn_operation.id") \
    .replace("_space_group_symop.magn_centering_id", "_space_group_symop_magn_centering.id")

SYMBOL_ONLY = """data_MnO
_space_group_magn.name_BNS "C_c2/c"
_cell_length_a 4.4
_cell_length_b 4.4
_cell_length_c 4.4
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
loop_
_atom_site_label
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Mn1 0 0 0
O1 0.5 0.5 0.5
"""


def _sorted_sites(numbers, positions) -> np.ndarray:
    wrapped = np.round(np.mod(np.asarray(positions, dtype=float), 1.0), 4) % 1.0
    rows = np.column_stack([np.asarray(numbers, dtype=float), wrapped])
    return rows[np.lexsort(rows.T[::-1])]


@pytest.mark.parametrize(("text", "formula", "n_atoms"), [(MN3GE, "Ge2Mn6", 8), (CR_AFM, "Cr2", 2),
                                                           (EIGHTHS, "Fe8", 8)],
                         ids=["Mn3Ge", "Cr-anticentring", "eighths"])
def test_magnetic_operations_expand_the_sites(text, formula, n_atoms):
    crystal = parse_cif(text)
    assert (crystal.formula, crystal.n_atoms) == (formula, n_atoms)


def test_eighth_translations_are_exact():
    crystal = parse_cif(EIGHTHS)
    np.testing.assert_allclose(np.sort(crystal.positions[:, 2]), 0.01 + np.arange(8) / 8, rtol=0, atol=1e-12)


def test_interim_spelling_reads_as_the_final_one():
    interim, final = parse_cif(CR_AFM), parse_cif(CR_AFM_FINAL_SPELLING)
    np.testing.assert_array_equal(_sorted_sites(interim.numbers, interim.positions),
                                  _sorted_sites(final.numbers, final.positions))


# pymatgen recognises only the final spelling of the magnetic tags, so it is the oracle for that one.
@pytest.mark.parametrize("text", [MN3GE, CR_AFM_FINAL_SPELLING, EIGHTHS], ids=["Mn3Ge", "Cr-anticentring", "eighths"])
def test_magnetic_cif_agrees_with_pymatgen(text):
    cif = pytest.importorskip("pymatgen.io.cif")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = cif.CifParser.from_str(text).parse_structures(primitive=False)[0]
    crystal = parse_cif(text)
    counts = {element.Z: amount for element, amount in reference.composition.items()}
    assert dict(zip(*np.unique(crystal.numbers, return_counts=True), strict=True)) == counts
    ours = _sorted_sites(crystal.numbers, crystal.positions)
    theirs = _sorted_sites([site.specie.Z for site in reference], reference.frac_coords)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-4)


def test_incommensurate_is_refused():
    with pytest.raises(CrystalFourierError, match="modulated \\(incommensurate\\).*_cell_modulation_dimension"):
        parse_cif(INCOMMENSURATE_CR)


def test_magnetic_cif_without_operations_is_refused():
    with pytest.raises(CrystalFourierError, match="magnetic CIF without a _space_group_symop_magn_operation.xyz"):
        parse_cif(SYMBOL_ONLY)


def test_bad_time_reversal_is_refused():
    with pytest.raises(CrystalFourierError, match="magnetic operation 2 .*fourth part"):
        parse_cif(CR_AFM.replace("2 -x,-y,z,+1", "2 -x,-y,z,+2"))


def test_a_magnetic_cif_with_ordinary_operations_uses_them():
    text = SYMBOL_ONLY.replace("loop_\n_atom_site_label", "loop_\n_space_group_symop_operation_xyz\n'x, y, z'\n"
                               "'x+1/2, y+1/2, z'\n'x+1/2, y, z+1/2'\n'x, y+1/2, z+1/2'\nloop_\n_atom_site_label")
    assert parse_cif(text).formula == "Mn4O4"
