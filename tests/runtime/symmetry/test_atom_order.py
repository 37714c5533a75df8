"""Standardization does not depend on the order of the atoms, nor on which lattice image of an atom is given.

spglib's answer near a symmetry threshold depends on the order of its input (issue 31: carbon-24
``C-157685-398-45`` went from group 38 to 8 with its atoms rotated); ``standardize`` sorts the atoms
canonically before spglib sees them, so every order gives one answer at any symprec.
"""

from __future__ import annotations

import csv
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crystal_fourier.runtime import Crystal, random_crystal, standardize
from crystal_fourier.runtime.symmetry._symmetrization import symmetry_residual

# the project's shared data sit beside the checkout (../shared), or beside the worktrees' folder
_CANDIDATES = [folder / "shared/data/carbon_24/test.csv" for folder in Path(__file__).resolve().parents[4:6]]
CARBON_24 = next((path for path in _CANDIDATES if path.exists()), _CANDIDATES[0])
POSITION_TOLERANCE = 1e-9  # fractional; one input order gives bit-identical spglib input, so round-off only


@lru_cache(maxsize=None)
def near_tie_crystal() -> Crystal:
    """Four carbon atoms of a Amm2 (38) crystal displaced by 0.06 A noise: spglib at symprec 0.1 finds 28 or 6
    depending on which atom comes first (found by a seeded search; the noise is fixed by the seed)."""
    made = random_crystal(38, seed=33, max_atoms=12).crystal
    lengths = np.linalg.norm(made.lattice, axis=1)
    noise = np.random.default_rng(33).normal(size=made.positions.shape) * 0.06 / lengths
    return Crystal(made.lattice, made.positions + noise, [6] * made.n_atoms)


@lru_cache(maxsize=None)
def carbon_24_crystal(material_id: str) -> Crystal | None:
    if not CARBON_24.exists():
        return None
    from crystal_fourier.runtime.structure_io._cif import parse_cif

    csv.field_size_limit(1 << 26)
    with CARBON_24.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["material_id"] == material_id:
                return parse_cif(row["cif"], source=material_id)
    return None


def reordered(crystal: Crystal, order, shifts=None) -> Crystal:
    positions = crystal.positions[order] + (0 if shifts is None else shifts)
    return Crystal(crystal.lattice, positions, crystal.numbers[order])


def assert_same(a, b):
    __tracebackhide__ = True
    assert (a.number, a.hall_number, a.n_atoms) == (b.number, b.hall_number, b.n_atoms)
    np.testing.assert_allclose(a.cell_parameters, b.cell_parameters, rtol=0, atol=1e-9)
    assert a.numbers.tolist() == b.numbers.tolist()
    np.testing.assert_allclose(a.positions, b.positions, rtol=0, atol=POSITION_TOLERANCE)


def crystals():
    yield "near-tie Amm2", near_tie_crystal()
    real = carbon_24_crystal("C-157685-398-45")
    if real is not None:  # the shared data of the project; the built crystal above shows the same bug
        yield "carbon-24 C-157685-398-45", real


@pytest.mark.parametrize("name_crystal", list(crystals()), ids=lambda item: item[0])
def test_every_first_atom_gives_one_group_and_cell(name_crystal):
    _, crystal = name_crystal
    reference = standardize(crystal)
    for first in range(crystal.n_atoms):
        assert_same(standardize(reordered(crystal, np.roll(np.arange(crystal.n_atoms), -first))), reference)


def test_near_tie_crystal_shows_spglib_order_dependence():
    """The fixture is a real witness: spglib itself gives two groups for two orders of its atoms."""
    import spglib

    crystal = near_tie_crystal()
    groups = {spglib.get_symmetry_dataset((crystal.lattice, crystal.positions[order], crystal.numbers[order]),
                                          symprec=0.1).number
              for order in (np.roll(np.arange(crystal.n_atoms), -k) for k in range(crystal.n_atoms))}
    assert len(groups) == 2


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data(), symprec=st.sampled_from([0.01, 0.05, 0.1, 0.2]))
def test_random_permutations_and_lattice_translations_change_nothing(data, symprec):
    _, crystal = data.draw(st.sampled_from(list(crystals())), label="crystal")
    order = np.array(data.draw(st.permutations(range(crystal.n_atoms)), label="order"))
    shifts = np.array(data.draw(st.lists(st.lists(st.integers(-2, 2), min_size=3, max_size=3),
                                         min_size=crystal.n_atoms, max_size=crystal.n_atoms), label="shifts"))
    assert_same(standardize(reordered(crystal, order, shifts), symprec=symprec), standardize(crystal, symprec=symprec))



# standardize's module, reached by attribute (the gate's constant, its spglib door, its residual)
_standardization = sys.modules[standardize.__module__]


@pytest.mark.parametrize("name_crystal", list(crystals()), ids=lambda item: item[0])
def test_near_ties_still_pay_for_the_reorderings(name_crystal, monkeypatch):
    """standardize tries the re-orderings only for near ties; these crystals are detected as near ties (residual
    above NEAR_TIE_FRACTION x symprec) and get the answer of the full rule (re-orderings for every crystal),
    for every first atom. Without the re-orderings the built crystal would get another group."""
    name, crystal = name_crystal
    ordered = _standardization.canonical_atom_order(crystal)
    residual = symmetry_residual(ordered, _standardization._dataset(ordered, 0.1, -1.0))
    assert residual > _standardization.NEAR_TIE_FRACTION * 0.1
    gated = [standardize(reordered(crystal, np.roll(np.arange(crystal.n_atoms), -k))) for k in range(crystal.n_atoms)]
    with monkeypatch.context() as patch:
        patch.setattr(_standardization, "NEAR_TIE_FRACTION", 0.0)
        full = standardize(crystal)
    for result in gated:
        assert_same(result, full)
    if name == "near-tie Amm2":  # the witness that the re-orderings matter here
        with monkeypatch.context() as patch:
            patch.setattr(_standardization, "NEAR_TIE_FRACTION", np.inf)
            assert standardize(crystal).number != full.number
