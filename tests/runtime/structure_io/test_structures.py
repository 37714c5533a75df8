"""Crystal validation and constructors, POSCAR reading, and the read_structure dispatcher."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import read_structure, write_cif, write_poscar
from crystal_fourier.runtime.data._datasets import Record, write_extxyz
from crystal_fourier.runtime.structure_io._elements import atomic_number
from crystal_fourier.runtime.structure_io._poscar import parse_poscar
from crystal_fourier.runtime.structure_io._structures import (
    Crystal,
    cell_parameters,
    lattice_from_parameters,
)

FCC = np.array([[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]])


@pytest.fixture
def copper():
    return Crystal.from_arrays(3.6 * np.eye(3), FCC, ["Cu"] * 4)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("lattice", "positions", "numbers", "message"),
    [
        (np.eye(3), [[np.nan, 0, 0]], [1], "not finite"),
        (np.eye(3), [[0, np.inf, 0]], [1], "not finite"),
        ([[1, 0, 0], [2, 0, 0], [0, 0, 1]], [[0, 0, 0]], [1], "singular"),
        (np.eye(3), np.zeros((0, 3)), [], "no atoms"),
        (np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], [1], "2 positions but 1 atomic numbers"),
        (np.eye(2), [[0, 0, 0]], [1], "shape (3, 3)"),
        (np.eye(3), [[0, 0]], [1], "shape (n_atoms, 3)"),
        (np.eye(3), [[0, 0, 0]], ["Xx"], "unknown element symbol 'Xx'"),
        (np.eye(3), [[0, 0, 0]], [0], "atomic number must be in 1-118"),
        (np.eye(3), [[0, 0, 0]], np.array([200]), "atomic numbers must lie in 1-118"),
        ([[np.nan, 0, 0], [0, 1, 0], [0, 0, 1]], [[0, 0, 0]], [1], "lattice contains NaN"),
    ],
)
def test_invalid_crystals_raise_one_clear_error(lattice, positions, numbers, message):
    with pytest.raises(CrystalFourierError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Crystal(lattice, positions, numbers)


def test_crystal_arrays_are_read_only_copies(copper):
    with pytest.raises(ValueError, match="read-only"):
        copper.positions[0, 0] = 0.3
    source = FCC.copy()
    crystal = Crystal(np.eye(3), source, [1, 1, 1, 1])
    source[0, 0] = 0.9
    assert crystal.positions[0, 0] == 0.0


def test_checked_constructor_gives_the_same_read_only_crystal(copper):
    """Crystal._checked (arrays already valid, e.g. standardize's canonical atom order) equals the checked
    constructor: same arrays and dtypes, read-only copies."""
    positions = np.array(copper.positions[::-1])
    fast = Crystal._checked(copper.lattice, positions, copper.numbers[::-1])
    slow = Crystal(copper.lattice, positions, copper.numbers[::-1])
    for a, b in ((fast.lattice, slow.lattice), (fast.positions, slow.positions), (fast.numbers, slow.numbers)):
        assert a.dtype == b.dtype
        assert a.tobytes() == b.tobytes()
        assert not a.flags.writeable
    positions[0] = 0.3
    assert fast.positions[0].tolist() != [0.3, 0.3, 0.3]


def test_checked_constructor_takes_over_owned_arrays(copper):
    """Crystal._checked(owned=True) keeps the arrays made for the crystal (no copy) and makes them read-only."""
    positions, numbers = np.array(copper.positions[::-1]), np.array(copper.numbers[::-1])
    taken = Crystal._checked(copper.lattice, positions, numbers, owned=True)
    assert taken.positions is positions
    assert taken.numbers is numbers
    assert taken.lattice is copper.lattice
    assert not positions.flags.writeable
    assert not numbers.flags.writeable


def test_numbers_accept_symbols_ints_and_floats():
    crystal = Crystal(np.eye(3) * 3, [[0, 0, 0], [0.5, 0.5, 0.5], [0, 0.5, 0]], ["na", 17, 6.0])
    assert crystal.numbers.tolist() == [11, 17, 6]
    assert crystal.symbols == ("Na", "Cl", "C")
    assert atomic_number("pt") == 78


def test_cartesian_constructor_and_properties(copper):
    again = Crystal.from_arrays(copper.lattice, copper.cartesian_positions, copper.numbers, cartesian=True)
    np.testing.assert_allclose(again.positions, copper.positions, rtol=0, atol=1e-12)
    assert copper.volume == pytest.approx(3.6**3, abs=1e-9)
    assert copper.formula == "Cu4"
    wrapped = Crystal(np.eye(3), [[-0.25, 1.5, -1e-17]], [1]).wrapped()
    assert wrapped.positions.tolist() == [[0.75, 0.5, 0.0]]


def test_cell_parameters_round_trip_and_rotation_invariance():
    lattice = lattice_from_parameters(3.1, 4.2, 5.3, 80.0, 95.0, 110.0)
    np.testing.assert_allclose(cell_parameters(lattice), [3.1, 4.2, 5.3, 80.0, 95.0, 110.0], rtol=0, atol=1e-10)
    rotation, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    np.testing.assert_allclose(cell_parameters(lattice @ rotation.T), cell_parameters(lattice), rtol=0, atol=1e-10)
    with pytest.raises(CrystalFourierError, match="do not form a cell"):
        lattice_from_parameters(1, 1, 1, 120, 120, 120)
    with pytest.raises(CrystalFourierError, match="positive"):
        lattice_from_parameters(-1, 1, 1, 90, 90, 90)


def test_ase_round_trip(copper):
    pytest.importorskip("ase")
    atoms = copper.to_ase()
    again = Crystal.from_ase(atoms)
    np.testing.assert_allclose(again.lattice, copper.lattice, rtol=0, atol=1e-12)
    np.testing.assert_allclose(again.positions, copper.positions, rtol=0, atol=1e-12)
    atoms.pbc = [True, True, False]
    with pytest.raises(CrystalFourierError, match="periodic in 3 directions"):
        Crystal.from_ase(atoms)
    with pytest.raises(CrystalFourierError, match="expected an ase.Atoms"):
        Crystal.from_ase("not atoms")


def test_pymatgen_round_trip(copper):
    pytest.importorskip("pymatgen.core", reason="pymatgen is an optional extra")
    again = Crystal.from_pymatgen(copper.to_pymatgen())
    np.testing.assert_allclose(again.positions, copper.positions, rtol=0, atol=1e-12)
    assert again.numbers.tolist() == [29] * 4


# ----------------------------------------------------------------------------- POSCAR
POSCAR_CART = """Rock salt, Cartesian, scale 2
2.0
0 1.41 1.41
1.41 0 1.41
1.41 1.41 0
Na Cl
1 1
Selective dynamics
Cartesian
0 0 0 T T T
1.41 1.41 1.41 F F F Cl
"""


def test_poscar_cartesian_with_scale_and_selective_dynamics():
    crystal = parse_poscar(POSCAR_CART)
    np.testing.assert_allclose(crystal.lattice, 2.0 * np.array([[0, 1.41, 1.41], [1.41, 0, 1.41], [1.41, 1.41, 0]]))
    np.testing.assert_allclose(crystal.positions, [[0, 0, 0], [0.5, 0.5, 0.5]], rtol=0, atol=1e-12)
    assert crystal.numbers.tolist() == [11, 17]


def test_poscar_negative_scale_is_the_volume():
    text = POSCAR_CART.replace("2.0\n", "-100.0\n", 1)
    assert parse_poscar(text).volume == pytest.approx(100.0, abs=1e-9)


def test_poscar_vasp4_needs_species():
    text = "old\n1.0\n3 0 0\n0 3 0\n0 0 3\n2\nDirect\n0 0 0\n0.5 0.5 0.5\n"
    with pytest.raises(CrystalFourierError, match="VASP 4"):
        parse_poscar(text)
    assert parse_poscar(text, species=["Fe"]).formula == "Fe2"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("1 1\n", "1 2\n"), "announce 3 atoms but only 2 position lines"),
        (lambda t: t.replace("Cartesian\n", "Fractional\n"), "expected 'Direct' or 'Cartesian'"),
        (lambda t: t.replace("1.41 0 1.41\n", "1.41 zero 1.41\n"), "line 4: expected 3 numbers"),
        (lambda t: t.replace("1 1\n", "1\n"), "1 counts for 2 species"),
        (lambda t: "\n".join(t.splitlines()[:5]), "at least 8 lines"),
    ],
)
def test_malformed_poscar_names_the_problem(edit, message):
    with pytest.raises(CrystalFourierError, match=message):
        parse_poscar(edit(POSCAR_CART))


def test_poscar_round_trip(copper):
    again = parse_poscar(write_poscar(copper))
    np.testing.assert_allclose(again.positions, copper.positions, rtol=0, atol=1e-12)
    np.testing.assert_allclose(again.lattice, copper.lattice, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- read_structure
def test_read_structure_dispatches_by_name_and_content(tmp_path, copper):
    (tmp_path / "cu.cif").write_text(write_cif(copper))
    (tmp_path / "CONTCAR_relaxed").write_text(write_poscar(copper))
    (tmp_path / "cu.vasp").write_text(write_poscar(copper))
    (tmp_path / "no_extension").write_text(write_cif(copper))
    write_extxyz(tmp_path / "cu.extxyz", [Record("cu", copper, {"energy": 1.0})])
    site = [{"species": [{"element": "Cu", "occu": 1}], "abc": p.tolist()} for p in copper.positions]
    (tmp_path / "cu.json").write_text(json.dumps({"lattice": {"matrix": copper.lattice.tolist()}, "sites": site}))
    for name in ("cu.cif", "CONTCAR_relaxed", "cu.vasp", "no_extension", "cu.extxyz", "cu.json"):
        crystal = read_structure(tmp_path / name)
        assert crystal.formula == "Cu4", name
        np.testing.assert_allclose(cell_parameters(crystal.lattice), [3.6, 3.6, 3.6, 90, 90, 90], rtol=0, atol=1e-9)
    with pytest.raises(CrystalFourierError, match="does not exist"):
        read_structure(tmp_path / "missing.cif")
    with pytest.raises(CrystalFourierError, match="unknown structure format"):
        read_structure(tmp_path / "cu.cif", format="pdb")


def test_standardized_crystal_checks_the_triangular_lattice_and_the_positions():
    """Crystal._standardized (the standardized cell of an already checked crystal) skips the numbers' checks but
    keeps the constructor's errors for the lattice (volume as the product of the diagonal) and the positions."""
    from crystal_fourier.runtime.structure_io._structures import Crystal, _check_lattice, lattice_from_parameters

    lattice = lattice_from_parameters(3.0, 4.0, 5.0, 80.0, 95.0, 100.0)
    positions, numbers = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]), np.array([11, 17])
    made = Crystal._standardized(lattice, positions, numbers)
    assert made.lattice.tobytes() == lattice.tobytes()
    assert made.positions.tolist() == positions.tolist()
    assert made.numbers.tolist() == [11, 17]
    assert abs(float(np.prod(np.diag(lattice))) - abs(np.linalg.det(lattice))) < 1e-12
    with pytest.raises(CrystalFourierError, match="singular"):
        _check_lattice(lattice_from_parameters(0.05, 0.05, 0.05, 90, 90, 90), triangular=True)
    with pytest.raises(CrystalFourierError, match="MAX_CELL_LENGTH"):
        _check_lattice(lattice_from_parameters(2e5, 1.0, 1.0, 90, 90, 90), triangular=True)
    with pytest.raises(CrystalFourierError, match="not finite"):
        Crystal._standardized(lattice, np.array([[0.0, np.nan, 0.0], [0.5, 0.5, 0.5]]), numbers)
