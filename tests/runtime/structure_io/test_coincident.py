"""Two atoms on one point: one rule and one message for every reader; the CIF reader merges only what is one atom.

Issue 31: a POSCAR, extxyz or JSON with Na and Cl on one point was predicted (exit 0) while the CIF
reader refused the same structure; and pymatgen's P1 CIFs of spglib's KSbF8 and KCeSe8, whose F (Se)
pairs are 0.0066 (0.0072) A apart, were refused because the CIF reader merged those pairs.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal, read_structure, write_cif
from crystal_fourier.runtime.structure_io._cif import parse_cif
from crystal_fourier.runtime.structure_io._coincident import COINCIDENT_DISTANCE

A = 5.64  # Angstrom


def write_poscar(path, crystal: Crystal) -> None:
    symbols = [crystal.symbols[0]]
    for symbol in crystal.symbols[1:]:
        if symbol != symbols[-1]:
            symbols.append(symbol)
    counts = [sum(1 for _ in group) for group in _runs(crystal.symbols)]
    rows = "\n".join(" ".join(f"{v:.12f}" for v in row) for row in crystal.lattice)
    atoms = "\n".join(" ".join(f"{v:.12f}" for v in row) for row in crystal.positions)
    path.write_text(f"test\n1.0\n{rows}\n{' '.join(symbols)}\n{' '.join(map(str, counts))}\nDirect\n{atoms}\n")


def _runs(symbols):
    run = [symbols[0]]
    for symbol in symbols[1:]:
        if symbol == run[-1]:
            run.append(symbol)
        else:
            yield run
            run = [symbol]
    yield run


def write_extxyz(path, crystal: Crystal) -> None:
    lattice = " ".join(f"{v:.12f}" for v in crystal.lattice.reshape(-1))
    atoms = "\n".join(f"{symbol} " + " ".join(f"{v:.12f}" for v in row)
                      for symbol, row in zip(crystal.symbols, crystal.cartesian_positions, strict=True))
    path.write_text(f'{crystal.n_atoms}\nLattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="T T T"\n{atoms}\n')


def write_json(path, crystal: Crystal) -> None:
    sites = [{"species": [{"element": symbol, "occu": 1}], "abc": row.tolist()}
             for symbol, row in zip(crystal.symbols, crystal.positions, strict=True)]
    path.write_text(json.dumps({"lattice": {"matrix": crystal.lattice.tolist()}, "sites": sites}))


def write_p1_cif(path, crystal: Crystal) -> None:
    path.write_text(write_cif(crystal))


WRITERS = {"POSCAR": write_poscar, "x.extxyz": write_extxyz, "x.json": write_json, "x.cif": write_p1_cif}


def rock_salt_with(extra_position, extra="Cl") -> Crystal:
    return Crystal(A * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5], extra_position], ["Na", "Cl", extra])


@pytest.mark.parametrize("name", list(WRITERS))
@pytest.mark.parametrize("position", [[0, 0, 0], [1, 0, -1], [0.99999999, 0, 0]],
                         ids=["same", "lattice-image", "round-off"])
def test_every_reader_refuses_two_atoms_on_one_point_with_one_message(tmp_path, name, position):
    path = tmp_path / name
    WRITERS[name](path, rock_salt_with(position))
    with pytest.raises(CrystalFourierError) as caught:
        read_structure(path)
    message = str(caught.value)
    assert str(path) in message
    assert "are on one point" in message
    assert f"atoms closer than {COINCIDENT_DISTANCE} A are refused" in message
    assert "periodic distance" in message
    assert "(Na)" in message
    assert "(Cl)" in message


@pytest.mark.parametrize("name", list(WRITERS))
def test_atoms_a_few_thousandths_of_an_angstrom_apart_are_two_atoms_in_every_reader(tmp_path, name):
    path = tmp_path / name
    WRITERS[name](path, rock_salt_with([0.005 / A, 0, 0], extra="Na"))  # 0.005 A from the Na at the origin
    crystal = read_structure(path)
    assert crystal.n_atoms == 3
    assert sorted(crystal.numbers.tolist()) == [11, 11, 17]


def ksbf8_like() -> Crystal:
    """KSbF8 as in spglib's test POSCAR-111 (P-42m-like K, Sb and F sites) with its F3/F15-type pairs:
    two F atoms 0.0066 A apart at (u, -v, w) and (v, -u, w), u - v = 0.0009."""
    u, v, w = 0.2529, 0.2520, 0.2630
    f = [[u, -v, w], [v, -u, w], [-u, v, w], [-v, u, w], [u, v, 1 - w], [v, u, 1 - w], [-u, -v, 1 - w],
         [-v, -u, 1 - w], [0.1876, 0.1876, 0.128], [-0.1876, -0.1876, 0.128], [0.1876, -0.1876, 0.872],
         [-0.1876, 0.1876, 0.872], [0.1745, 0.1745, 0.3825], [-0.1745, -0.1745, 0.3825], [0.1745, -0.1745, 0.6175],
         [-0.1745, 0.1745, 0.6175]]
    positions = [[0.5, 0.5, 0], [0.5, 0.5, 0.5], [0, 0, 0.2504], [0, 0, 0.7496], *f]
    return Crystal(np.diag([5.16, 5.16, 10.07]), positions, ["K", "K", "Sb", "Sb"] + ["F"] * 16)


def test_the_built_ksbf8_has_the_near_pairs():
    crystal = ksbf8_like()
    gap = (crystal.positions[4] - crystal.positions[5]) @ crystal.lattice
    assert 0.006 < np.linalg.norm(gap) < 0.007


def test_pymatgen_p1_cif_of_ksbf8_reads_all_twenty_atoms():
    pymatgen_cif = pytest.importorskip("pymatgen.io.cif")
    crystal = ksbf8_like()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = str(pymatgen_cif.CifWriter(crystal.to_pymatgen()))
    read = parse_cif(text, source="KSbF8.cif")
    assert read.n_atoms == 20
    assert read.formula == "F16K2Sb2"
    np.testing.assert_allclose(np.sort(read.positions, axis=0), np.sort(np.mod(crystal.positions, 1), axis=0),
                               rtol=0, atol=1e-7)


def _without_formula(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.startswith("_chemical_formula_sum"))


def test_a_cif_site_listed_twice_is_one_atom_and_two_species_on_one_site_are_refused():
    text = write_cif(Crystal(A * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5], [1e-9, 0, 0]], ["Na", "Cl", "Na"]))
    assert parse_cif(_without_formula(text)).n_atoms == 2  # one species within COINCIDENT_DISTANCE: one atom
    text = write_cif(Crystal(A * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5], [1e-9, 0, 0]], ["Na", "Cl", "Cl"]))
    with pytest.raises(CrystalFourierError, match=r"site 'Cl\d*' \(Cl\) and site 'Na\d*' \(Na\) are on one point"):
        parse_cif(text)
