"""Every re-description is the same periodic crystal, with an exact atom map and frame change.

Three independent checks: the constructors' own residual (atoms recomputed through the map),
pymatgen's StructureMatcher as an oracle (same crystal up to a frame rotation; a mirror image
only for the reflection kind), and EMT forces and stress carried by the frame change to 1e-9.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from crystal_fourier.audit import (
    KINDS,
    group_operations,
    in_basis,
    normalizer_cosets,
    permuted,
    redescriptions,
    rotated,
    supercell,
)
from crystal_fourier.audit._kinds import parse_kinds
from crystal_fourier.audit._redescriptions import EXACT_TOLERANCE, random_rotation, reflected
from crystal_fourier.audit._basis_changes import random_unimodular_basis
from crystal_fourier.audit._symmetry_redescriptions import near_degenerate_bases, primitive_and_conventional
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal, random_crystal

GROUPS = (1, 2, 14, 19, 70, 96, 148, 166, 194, 213, 227)   # every crystal system, centrings, chiral groups


def crystal_of(number: int, max_atoms: int = 24) -> Crystal:
    return random_crystal(number, seed=number, max_atoms=max_atoms).crystal


def all_kinds(crystal: Crystal):
    return redescriptions(crystal, KINDS, rng=1, per_kind=2)


def test_parse_kinds_orders_and_refuses():
    assert parse_kinds("all") == KINDS
    assert parse_kinds("group, permutation") == ("permutation", "group")
    with pytest.raises(CrystalFourierError, match="unknown kind"):
        parse_kinds("rotation,shear")


@pytest.mark.parametrize("number", GROUPS, ids=lambda n: f"sg{n}")
def test_atom_map_recomputes_every_atom(number):
    crystal = crystal_of(number)
    found = all_kinds(crystal)
    # primitive and near_degenerate exist for some cells only; derivatives, continuity and batch are no re-descriptions
    assert {d.kind for d in found} >= set(KINDS) - {"primitive", "near_degenerate", "derivatives", "continuity",
                                                    "batch"}
    for d in found:
        original = d.original
        back = ((d.crystal.cartesian_positions - d.origin) @ d.rotation)
        images = (original.positions[d.atom_map] + d.translations) @ original.lattice
        np.testing.assert_allclose(back, images, rtol=0, atol=EXACT_TOLERANCE, err_msg=repr(d))
        assert d.crystal.numbers.tolist() == original.numbers[d.atom_map].tolist()
        # Every old atom is hit |det B| times: the map is onto, and counts atoms exactly.
        counts = np.bincount(d.atom_map, minlength=original.n_atoms)
        assert counts.tolist() == [d.cells] * original.n_atoms if d.cells >= 1 else counts.max() == 1
        b = np.array([[float(x) for x in row] for row in d.basis])
        np.testing.assert_allclose(b @ original.lattice @ d.rotation.T, d.crystal.lattice, rtol=0, atol=1e-9)


@pytest.mark.parametrize("number", [14, 166, 213, 227], ids=lambda n: f"sg{n}")
def test_structure_matcher_agrees(number):
    """pymatgen's StructureMatcher (an independent oracle) finds every description the same crystal,
    and the mirror image of a chiral crystal (P4_132, 213) its enantiomorph (P4_332, 212)."""
    analysis = pytest.importorskip("pymatgen.analysis.structure_matcher")
    matcher = analysis.StructureMatcher(primitive_cell=True, scale=False, attempt_supercell=True,
                                        ltol=1e-3, stol=1e-3, angle_tol=1e-2)
    crystal = crystal_of(number, max_atoms=16)
    for d in all_kinds(crystal):
        if d.kind == "reflection":
            continue
        assert matcher.fit(d.original.to_pymatgen(), d.crystal.to_pymatgen()), repr(d)
    if number == 213:
        # StructureMatcher also matches mirror images (its lattice mappings include improper ones), so the
        # reflection kind is checked by spglib instead: the mirror image of P4_132 is its enantiomorph P4_332.
        from crystal_fourier.runtime import detect_group

        mirror = reflected(crystal, np.diag([-1.0, 1.0, 1.0]))
        assert matcher.fit(crystal.to_pymatgen(), mirror.crystal.to_pymatgen())
        assert (detect_group(crystal), detect_group(mirror.crystal)) == (213, 212)


def test_a_wrong_map_is_refused():
    crystal = crystal_of(14)
    with pytest.raises(CrystalFourierError, match="not periodic"):
        in_basis(crystal, [[Fraction(1, 2), 0, 0], [0, 1, 0], [0, 0, 1]])   # half a P cell is no cell
    with pytest.raises(CrystalFourierError, match="permutation"):
        permuted(crystal, [0] * crystal.n_atoms)
    with pytest.raises(CrystalFourierError, match="det -1"):
        rotated(crystal, np.diag([-1.0, 1, 1]))


def test_kinds_have_the_stated_handedness_and_counts():
    crystal = crystal_of(227)
    rng = np.random.default_rng(0)
    assert random_unimodular_basis(crystal, rng, determinant=-1).left_handed
    assert not random_unimodular_basis(crystal, rng, determinant=1).left_handed
    mirror = reflected(crystal, random_rotation(rng, proper=False))
    assert not mirror.proper
    assert not mirror.left_handed
    assert len(group_operations(crystal)) == 192
    down, up = primitive_and_conventional(crystal)
    assert (down.crystal.n_atoms * 4, down.cells, up.cells) == (crystal.n_atoms, Fraction(1, 4), 4)
    assert supercell(crystal, (2, 1, 3)).cells == 6
    assert len(normalizer_cosets(crystal)) >= 2


def test_near_degenerate_bases_find_a_tie_within_symprec():
    """A monoclinic cell with |a| and |c| 1e-4 A apart: the tie is found, and a cell without ties gives none."""
    tied = Crystal.from_arrays([[4.0, 0, 0], [0, 5.0, 0], [-1.2, 0, 3.8151]], [[0.1, 0.2, 0.3]], ["Cu"])
    gap = abs(np.linalg.norm(tied.lattice[2]) - 4.0)
    assert gap < 1e-3
    found = near_degenerate_bases(tied, symprec=1e-3)
    assert found
    assert all(abs(round(np.linalg.det(np.array(d.basis, dtype=float)))) == 1 for d in found)
    plain = Crystal.from_arrays(np.diag([3.0, 4.1, 5.3]), [[0, 0, 0]], ["Cu"])
    assert near_degenerate_bases(plain, symprec=1e-3) == ()


@pytest.mark.parametrize("number", [19, 148, 194, 227], ids=lambda n: f"sg{n}")
def test_emt_forces_and_stress_follow_the_frame_change(number):
    """Forces (vectors) and stress (rank-2 tensor) of EMT carried by the map agree to 1e-9 (float64)."""
    pytest.importorskip("ase")
    from crystal_fourier.audit._adapters import ASEModel
    from ase.calculators.emt import EMT

    model = ASEModel(EMT)
    crystal = crystal_of(number, max_atoms=16)
    reference = model(crystal)
    checked = 0
    for d in all_kinds(crystal):
        base = reference if d.original is crystal else model(d.original)
        got = model(d.crystal)
        np.testing.assert_allclose(d.expected("vectors", base["forces"]), got["forces"], rtol=0, atol=1e-9,
                                   err_msg=repr(d))
        np.testing.assert_allclose(d.expected("tensor", base["stress"]), got["stress"], rtol=0, atol=1e-9,
                                   err_msg=repr(d))
        np.testing.assert_allclose(d.expected("scalar", base["energy"]), got["energy"], rtol=0, atol=1e-9)
        checked += 1
    assert checked >= 15


def test_tensor_mapping_is_q_on_every_index():
    q = random_rotation(np.random.default_rng(3), proper=False)
    d = reflected(Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0]], ["Cu"]), q)
    t2 = np.arange(9.0).reshape(3, 3)
    np.testing.assert_allclose(d.expected("tensor", t2), q @ t2 @ q.T, rtol=0, atol=1e-12)
    t3 = np.arange(27.0).reshape(3, 3, 3)
    np.testing.assert_allclose(d.expected("tensor", t3), np.einsum("ia,jb,kc,abc->ijk", q, q, q, t3),
                               rtol=0, atol=1e-12)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_every_kind_is_exact_in_every_group(number):
    """All 230 groups, every member of the finite kinds (all group operations and normalizer cosets)."""
    crystal = crystal_of(number, max_atoms=32)
    for d in redescriptions(crystal, KINDS, rng=number, per_kind=None):
        assert d.residual <= EXACT_TOLERANCE, repr(d)
        assert d.crystal.n_atoms == d.original.n_atoms * d.cells


@pytest.mark.parametrize("number", [2, 47], ids=lambda n: f"sg{n}")
def test_normalizer_draws_reach_every_coset(number):
    """150 draws of one coset each (the audit's per-(crystal, kind) streams) reach all 8 cosets, origin
    shifts included, each at least 10 times (expected 150/8 = 19; before: only the first one or two)."""
    from collections import Counter

    crystal = crystal_of(number, max_atoms=12)
    every = {d.label for d in normalizer_cosets(crystal)}
    drawn = Counter(d.label for seed in range(150)
                    for d in normalizer_cosets(crystal, limit=1, rng=np.random.default_rng([seed, 0, 10])))
    assert set(drawn) == every
    assert len(every) == 8
    assert min(drawn.values()) >= 10
    pair = normalizer_cosets(crystal, limit=2, rng=np.random.default_rng(3))
    assert len({d.label for d in pair}) == 2
