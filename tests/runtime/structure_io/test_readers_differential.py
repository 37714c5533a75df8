"""Differential tests: our CIF and POSCAR readers against gemmi, ASE and pymatgen (issue 11).

Crystals of representative groups (all 230 in the sweep), atoms on special and general
positions, are written by each library: CIFs by gemmi (asymmetric unit with the space-group
symbol, in the standard setting and, for the two-origin groups, in origin choice 1), by ASE
(P1) and by pymatgen (P1 and symmetrized); POSCARs by ASE (VASP 5, and VASP 4 with the
symbols on the comment line) and by pymatgen. Each file is read by our reader and by the
library's, and the atom sets (cell, species, fractional positions mod 1) must agree. A file
that gives only a bare symbol of a two-origin group must read as the written crystal or be
refused; it must never become another crystal.

gemmi and ASE are test extras and must be present; pymatgen is skipped (with the reason)
only outside CI.
"""

from __future__ import annotations

import io
import os
import warnings
from functools import lru_cache

import numpy as np
import pytest

from crystal_fourier import runtime
from crystal_fourier.derive import space_group, standard_hall_number
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal, standardize
from crystal_fourier.runtime.structure_io._cif import parse_cif
from crystal_fourier.runtime.structure_io._poscar import parse_poscar
from crystal_fourier.runtime.structure_io._structures import cell_parameters

gemmi = pytest.importorskip("gemmi")
ase_io = pytest.importorskip("ase.io")

POSITION_TOLERANCE = 2e-5   # fractional; the libraries print 5-16 digits
CELL_TOLERANCE = 1e-4       # Angstrom and degrees
REPRESENTATIVE = (1, 2, 14, 15, 70, 141, 146, 166, 194, 227, 228)


def pymatgen_or_skip():
    if os.environ.get("CI"):
        import pymatgen.core  # noqa: F401 - a test extra: CI must have it

        return
    pytest.importorskip("pymatgen.core", reason="pymatgen (test extra) is not installed; CI runs these")


@lru_cache(maxsize=None)
def crystal_of(number: int) -> Crystal:
    """:func:`crystal_fourier.runtime.crystal_of` (standard setting; a special orbit of Cu, a general one of Al)."""
    return runtime.crystal_of(number)


def in_setting(number: int, hall_number: int) -> Crystal:
    """The crystal in the conventional cell of ``hall_number`` (e.g. origin choice 1), in its own hand
    (handedness="keep": a P4_3 crystal stays P4_3 instead of becoming its P4_1 mirror image)."""
    return standardize(crystal_of(number), hall_number=hall_number, handedness="keep").crystal


def asymmetric_unit(crystal: Crystal, hall_number: int) -> list[int]:
    rotations, translations_24 = space_group(hall_number=hall_number).arrays
    remaining, sites = list(range(crystal.n_atoms)), []
    while remaining:
        first = remaining[0]
        sites.append(first)
        images = np.mod(rotations @ crystal.positions[first] + translations_24 / 24, 1.0)
        gap = crystal.positions[remaining][:, None, :] - images[None, :, :]
        gap -= np.round(gap)
        covered = np.min(np.max(np.abs(gap), axis=-1), axis=1) < 1e-6
        remaining = [i for i, hit in zip(remaining, covered, strict=True) if not hit]
    return sites


def same_atoms(ours: Crystal, lattice_parameters, positions, numbers, what: str):
    """Our crystal and a library's (cell parameters, fractional positions, atomic numbers) are the same atom set."""
    __tracebackhide__ = True
    positions, numbers = np.asarray(positions, dtype=float), np.asarray(numbers)
    np.testing.assert_allclose(cell_parameters(ours.lattice), lattice_parameters, rtol=0, atol=CELL_TOLERANCE,
                               err_msg=f"{what}: cells differ")
    assert ours.n_atoms == len(numbers), f"{what}: {ours.n_atoms} atoms, the library reads {len(numbers)}"
    assert sorted(ours.numbers.tolist()) == sorted(numbers.tolist()), f"{what}: species differ"
    gap = ours.positions[:, None, :] - positions[None, :, :]
    gap -= np.round(gap)
    distance = np.max(np.abs(gap), axis=-1)
    distance[ours.numbers[:, None] != numbers[None, :]] = np.inf
    worst = max(distance.min(axis=0).max(), distance.min(axis=1).max())
    assert worst < POSITION_TOLERANCE, f"{what}: positions differ by {worst:.3g}"


def same_crystal(ours: Crystal, truth: Crystal, what: str):
    __tracebackhide__ = True
    same_atoms(ours, cell_parameters(truth.lattice), truth.positions, truth.numbers, what)


# --------------------------------------------------------------------------- gemmi
def gemmi_cif(crystal: Crystal, hall_number: int, *, bare: bool = False) -> str:
    """gemmi's CIF of the asymmetric unit, with gemmi's symbol for the setting (``bare``: without ':1' etc.)."""
    setting = gemmi.find_spacegroup_by_ops(gemmi.symops_from_hall(space_group(hall_number=hall_number).hall_symbol))
    structure = gemmi.SmallStructure()
    structure.name = "written_by_gemmi"
    structure.cell = gemmi.UnitCell(*cell_parameters(crystal.lattice))
    structure.spacegroup_hm = setting.hm if bare else setting.xhm()
    for k, index in enumerate(asymmetric_unit(crystal, hall_number)):
        site = gemmi.SmallStructure.Site()
        site.label = f"{crystal.symbols[index]}{k + 1}"
        site.element = gemmi.Element(crystal.symbols[index])
        site.fract = gemmi.Fractional(*map(float, crystal.positions[index]))
        site.occ = 1.0
        structure.add_site(site)
    return structure.make_cif_block().as_string()


def gemmi_reads(text: str):
    structure = gemmi.make_small_structure_from_block(gemmi.cif.read_string(text).sole_block())
    structure.setup_cell_images()
    sites = structure.get_all_unit_cell_sites()
    cell = structure.cell
    return ((cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma),
            np.mod([site.fract.tolist() for site in sites], 1.0), [site.element.atomic_number for site in sites])


@lru_cache(maxsize=None)
def origin_choice_1(number: int) -> list[int]:
    """The Hall number of origin choice 1 of group ``number`` (spglib's database), or [] for a group with one origin."""
    import spglib

    return [hall for hall in range(1, 531) if (t := spglib.get_spacegroup_type(hall)).number == number
            and t.choice == "1"]


def settings(number: int) -> list[int]:
    return [standard_hall_number(number)] + origin_choice_1(number)


def check_gemmi(number: int):
    for hall in settings(number):
        truth = in_setting(number, hall)
        text = gemmi_cif(truth, hall)
        ours = parse_cif(text)
        same_crystal(ours, truth, f"sg{number} Hall {hall}, gemmi CIF (ours vs the written crystal)")
        same_atoms(ours, *gemmi_reads(text), f"sg{number} Hall {hall}, gemmi CIF (ours vs gemmi)")
        refusal = None
        try:
            bare = parse_cif(gemmi_cif(truth, hall, bare=True))
        except CrystalFourierError as error:
            refusal = str(error)
        if refusal is not None:
            assert "does not say which" in refusal, refusal   # refused, naming both choices: allowed
        else:
            same_crystal(bare, truth, f"sg{number} Hall {hall}, gemmi CIF with a bare symbol")


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
def test_gemmi_cifs(number):
    check_gemmi(number)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_gemmi_cifs_all_groups(number):
    check_gemmi(number)


# --------------------------------------------------------------------------- ASE
def ase_atoms(crystal: Crystal):
    from ase import Atoms

    return Atoms(numbers=crystal.numbers, scaled_positions=crystal.positions, cell=crystal.lattice, pbc=True)


def ase_reads(text: str, fmt: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        atoms = ase_io.read(io.StringIO(text), format=fmt)
    return atoms.cell.cellpar(), np.mod(atoms.get_scaled_positions(wrap=False), 1.0), atoms.numbers


def ase_writes(crystal: Crystal, fmt: str, **options) -> str:
    stream = io.BytesIO() if fmt == "cif" else io.StringIO()   # ASE writes CIF as latin-1 bytes
    ase_io.write(stream, ase_atoms(crystal), format=fmt, **options)
    value = stream.getvalue()
    return value.decode("latin-1") if isinstance(value, bytes) else value


def check_ase(number: int):
    for hall in settings(number):
        truth = in_setting(number, hall)
        text = ase_writes(truth, "cif")
        ours = parse_cif(text)
        same_crystal(ours, truth, f"sg{number} Hall {hall}, ASE CIF (ours vs the written crystal)")
        same_atoms(ours, *ase_reads(text, "cif"), f"sg{number} Hall {hall}, ASE CIF (ours vs ASE)")
        text = ase_writes(truth, "vasp", direct=True)
        same_crystal(parse_poscar(text), truth, f"sg{number}, ASE POSCAR")
        same_atoms(parse_poscar(text), *ase_reads(text, "vasp"), f"sg{number}, ASE POSCAR (ours vs ASE)")


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
def test_ase_files(number):
    check_ase(number)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_ase_files_all_groups(number):
    check_ase(number)


def test_ase_vasp4_file_names_its_species_on_the_comment_line():
    truth = crystal_of(225)
    text = ase_writes(truth, "vasp", direct=True, vasp5=False)
    assert not any(c.isalpha() for c in text.splitlines()[5])     # really VASP 4: no species line
    same_crystal(parse_poscar(text), truth, "ASE VASP 4 POSCAR")


# --------------------------------------------------------------------------- pymatgen
def pymatgen_structure(crystal: Crystal):
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(crystal.lattice), crystal.numbers.tolist(), crystal.positions)


def pymatgen_reads(text: str, fmt: str):
    from pymatgen.core import Structure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        structure = Structure.from_str(text, fmt=fmt)
    return (structure.lattice.parameters, np.mod(structure.frac_coords, 1.0),
            [site.specie.Z for site in structure])


def check_pymatgen(number: int):
    from pymatgen.io.cif import CifWriter
    from pymatgen.io.vasp import Poscar

    for hall in settings(number):
        truth = in_setting(number, hall)
        structure = pymatgen_structure(truth)
        text = str(CifWriter(structure))
        same_crystal(parse_cif(text), truth, f"sg{number} Hall {hall}, pymatgen P1 CIF")
        same_atoms(parse_cif(text), *pymatgen_reads(text, "cif"), f"sg{number}, pymatgen P1 CIF (ours vs pymatgen)")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            text = str(CifWriter(structure, symprec=0.01))
        ours = parse_cif(text)
        same_atoms(ours, *pymatgen_reads(text, "cif"), f"sg{number}, pymatgen symmetrized CIF (ours vs pymatgen)")
        reference, read = standardize(truth), standardize(ours)
        assert (read.number, read.n_atoms) == (reference.number, reference.n_atoms)
        text = Poscar(structure).get_str() if hasattr(Poscar(structure), "get_str") else str(Poscar(structure))
        same_crystal(parse_poscar(text), truth, f"sg{number}, pymatgen POSCAR")


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
def test_pymatgen_files(number):
    pymatgen_or_skip()
    check_pymatgen(number)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_pymatgen_files_all_groups(number):
    pymatgen_or_skip()
    check_pymatgen(number)
