"""Space groups from spglib's database: lookup, settings, exact operations, group axioms."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from crystal_fourier.derive import Operation, basis, space_group, standard_hall_number
from crystal_fourier.derive._space_groups import crystal_system, parse_groups
from crystal_fourier.derive._operations import DEN, operations_as_arrays
from crystal_fourier.derive._space_groups import STANDARD_CHOICES
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.testing import REPRESENTATIVE_GROUPS

# |G / Z^3| = |P| * n_centring, from the ITA tables, for the representative set.
ORDER = {1: 1, 2: 2, 4: 2, 5: 4, 14: 4, 15: 8, 20: 8, 22: 16, 38: 8, 43: 16, 62: 8, 70: 32, 76: 4,
         91: 8, 122: 16, 141: 32, 144: 3, 146: 9, 148: 18, 166: 36, 169: 6, 176: 12, 194: 24,
         198: 12, 210: 96, 225: 192, 227: 192, 230: 96}
CENTRING = {"P": 1, "A": 2, "C": 2, "I": 2, "R": 3, "F": 4}


# ----------------------------------------------------------------------------- lookup

@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_lookup_by_number(number):
    group = space_group(number)
    assert group.number == number
    assert group.is_standard
    assert group.choice in STANDARD_CHOICES
    assert space_group(str(number)) == group


@pytest.mark.parametrize(
    ("spelling", "number", "hall_number"),
    [
        ("Fd-3m", 227, 526),
        ("F d -3 m", 227, 526),
        ("Fd3m", 227, 526),
        ("F 41/d -3 2/m", 227, 526),
        ("Oh^7", 227, 526),
        ("-F 4vw 2vw 3", 227, 526),
        ("Fd-3m:1", 227, 525),
        ("P2_1/c", 14, 81),
        ("P 1 21/c 1", 14, 81),
        ("P21/c", 14, 81),
        ("P 21/b 1 1", 14, 87),
        ("P 1 1 21", 4, 7),
        ("P21", 4, 6),
        ("P6_3/mmc", 194, 488),
        ("P 63/m m c", 194, 488),
        ("R-3m", 166, 458),
        ("R -3 m:R", 166, 459),
        ("R3:R", 146, 434),
        ("Im3m", 229, 529),
        ("P41", 76, 350),
        ("P n m a", 62, 292),
        ("C 1 2/c 1", 15, 90),
        ("Ia-3d", 230, 530),
        (" 227 ", 227, 526),
    ],
)
def test_lookup_by_symbol_in_every_spelling(spelling, number, hall_number):
    group = space_group(spelling)
    assert (group.number, group.hall_number) == (number, hall_number)


def test_lookup_spellings_agree(fd3m):
    assert space_group("Fd-3m") == space_group(227) == space_group(hall_number=526) == fd3m
    assert space_group("P 1 21/c 1") == space_group("P2_1/c") == space_group(14)


@pytest.mark.parametrize(
    ("number", "hall_number"),
    [(1, 1), (2, 2), (3, 3), (4, 6), (5, 9), (14, 81), (15, 90), (48, 229), (70, 336),
     (146, 433), (148, 436), (166, 458), (167, 460), (194, 488), (225, 523), (227, 526), (228, 528), (230, 530)],
)
def test_standard_hall_numbers(number, hall_number):
    """Unique axis b, cell choice 1, origin choice 2, hexagonal axes (CONVENTIONS.md)."""
    assert standard_hall_number(number) == hall_number
    assert space_group(number).hall_number == hall_number


@pytest.mark.parametrize("hall_number", [1, 7, 10, 87, 228, 434, 459, 525, 530], ids=lambda h: f"hall{h}")
def test_lookup_by_hall_number_keeps_the_setting(hall_number):
    group = space_group(hall_number=hall_number)
    assert group.hall_number == hall_number
    # Regression: a SpaceGroup passed back in used to be re-read as a group *number*.
    assert space_group(group) == group
    assert space_group(group.number, hall_number=hall_number) == group
    assert basis(group, 1, "box").group == group


def test_rhombohedral_axes_are_not_hexagonal():
    hexagonal, rhombohedral = space_group(hall_number=458), space_group(hall_number=459)
    assert (hexagonal.hexagonal_axes, rhombohedral.hexagonal_axes) == (True, False)
    assert (len(hexagonal.operations), len(rhombohedral.operations)) == (36, 12)
    assert Operation.parse("z,x,y") in rhombohedral.operations   # the 3-fold along [111]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"group": 0}, "got 0"),
        ({"group": 231}, "got 231"),
        ({"group": -5}, "got -5"),
        ({"group": True}, "got True"),
        ({"group": 3.5}, "got 3.5"),
        ({"group": "Xyz"}, "'Xyz'"),
        ({"group": ""}, "''"),
        ({"group": "P 7"}, "'P 7'"),
        ({"hall_number": 0}, "got 0"),
        ({"hall_number": 531}, "got 531"),
        ({"hall_number": True}, "got True"),
        ({"hall_number": 3.0}, "got 3.0"),
        ({"group": 14, "hall_number": 526}, "Hall number 526 is a setting of group 227"),
        ({}, "give a space group"),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else "",
)
def test_bad_input_raises_naming_the_value(kwargs, fragment):
    with pytest.raises(CrystalFourierError, match=re.escape(fragment)):
        space_group(kwargs.pop("group", None), **kwargs)


@pytest.mark.parametrize("number", [0, 231, True, 2.0], ids=repr)
def test_standard_hall_number_rejects_bad_numbers(number):
    with pytest.raises(CrystalFourierError, match=re.escape(repr(number))):
        standard_hall_number(number)


@pytest.mark.parametrize(
    ("number", "system"),
    [(1, "triclinic"), (2, "triclinic"), (3, "monoclinic"), (15, "monoclinic"), (16, "orthorhombic"),
     (74, "orthorhombic"), (75, "tetragonal"), (142, "tetragonal"), (143, "trigonal"), (167, "trigonal"),
     (168, "hexagonal"), (194, "hexagonal"), (195, "cubic"), (230, "cubic")],
)
def test_crystal_system_boundaries(number, system):
    assert crystal_system(number) == system == space_group(number).crystal_system


@pytest.mark.parametrize("number", [0, -1, 231, True, 3.5], ids=repr)
def test_crystal_system_rejects_bad_numbers(number):
    with pytest.raises(CrystalFourierError, match=re.escape(f"got {number!r}")):
        crystal_system(number)


# ----------------------------------------------------------------------------- operations

@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_order_is_point_group_times_centring(number):
    group = space_group(number)
    assert len(group.operations) == ORDER[number]
    assert group.n_centring == CENTRING[group.centring]
    assert group.point_group_order * group.n_centring == ORDER[number]
    assert group.operations[0] == Operation.identity()


def _spglib_operations(hall_number):
    import spglib

    database = spglib.get_symmetry_from_database(hall_number)
    translations_24 = np.asarray(database["translations"]) * 24
    return {(tuple(map(tuple, r.tolist())), tuple(int(round(v)) % 24 for v in t))
            for r, t in zip(database["rotations"], translations_24, strict=False)}, translations_24


def _gemmi_operations(hall_symbol):
    gemmi = pytest.importorskip("gemmi")
    # gemmi's Op stores rot and tran over Op.DEN = 24; iterating GroupOps includes centring.
    return {(tuple(tuple(v // 24 for v in row) for row in op.rot), tuple(v % 24 for v in op.tran))
            for op in gemmi.symops_from_hall(hall_symbol)}


def _check_operations_against_databases(group):
    ours = {(op.rotation, op.translation_24) for op in group.operations}
    spglib_set, translations_24 = _spglib_operations(group.hall_number)
    np.testing.assert_allclose(translations_24, np.rint(translations_24), rtol=0, atol=1e-9)
    assert ours == spglib_set
    assert ours == _gemmi_operations(group.hall_symbol)


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_operations_match_spglib_and_gemmi(number):
    _check_operations_against_databases(space_group(number))


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_operations_match_spglib_and_gemmi_every_setting(hall_number):
    _check_operations_against_databases(space_group(hall_number=hall_number))


# ----------------------------------------------------------------------------- group axioms

def check_group_axioms(group) -> None:
    """Check that ``group.operations`` is a group modulo Z^3 (closure, identity, inverses, no repeats).

    Exact integer arithmetic; raises CrystalFourierError naming the first axiom that fails and the
    operations involved. Every derivation relies on these axioms; the tests check them for every setting.
    """
    # Vectorized: all n^2 products at once as integer rows (9 rotation entries,
    # 3 translation numerators mod 24); membership by exact row identity through
    # np.unique. Reads ``group.operations`` itself (not the cached ``arrays``),
    # so a hand-built or perturbed group is checked as given.
    operations = group.operations
    n = len(operations)
    rotations, translations = operations_as_arrays(operations)
    members = np.concatenate([rotations.reshape(n, 9), translations], axis=1)
    if len(np.unique(members, axis=0)) != n:
        raise CrystalFourierError(f"{group}: repeated operations")
    identity = Operation.identity()
    if identity not in set(operations):
        raise CrystalFourierError(f"{group}: the identity x,y,z is missing")

    # Inverses: R^-1 is an integer matrix for a unimodular R; t^-1 = -R^-1 t mod 24.
    inverse_rotations = np.rint(np.linalg.inv(rotations.astype(float))).astype(np.int64)
    inverse_translations = -np.einsum("nij,nj->ni", inverse_rotations, translations) % DEN
    inverses = np.concatenate([inverse_rotations.reshape(n, 9), inverse_translations], axis=1)
    # Products a @ b for every ordered pair, row index a * n + b.
    product_rotations = np.einsum("aij,bjk->abik", rotations, rotations).reshape(n * n, 9)
    product_translations = (np.einsum("aij,bj->abi", rotations, translations)
                            + translations[:, None, :]).reshape(n * n, 3) % DEN
    products = np.concatenate([product_rotations, product_translations], axis=1)

    rows = np.concatenate([members, inverses, products], axis=0)
    _, ids = np.unique(rows, axis=0, return_inverse=True)
    ids = ids.reshape(-1)
    member_ids = ids[:n]
    inverse_missing = ~np.isin(ids[n:2 * n], member_ids)
    product_missing = ~np.isin(ids[2 * n:], member_ids)

    # Report in the order of the pairwise loop: a's inverse, then a @ b for every b.
    first_inverse = int(np.argmax(inverse_missing)) if inverse_missing.any() else n
    first_product = int(np.argmax(product_missing)) if product_missing.any() else n * n
    if first_inverse < n and first_inverse <= first_product // n:
        a = operations[first_inverse]
        raise CrystalFourierError(f"{group}: the inverse of {a.xyz} ({a.inverse().xyz}) is missing")
    if first_product < n * n:
        a, b = operations[first_product // n], operations[first_product % n]
        raise CrystalFourierError(f"{group}: not closed: ({a.xyz}) @ ({b.xyz}) = {(a @ b).xyz} is missing")


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_group_axioms(number):
    check_group_axioms(space_group(number))


@pytest.mark.parametrize("hall_number", [434, 459, 525, 7, 87], ids=lambda h: f"hall{h}")
def test_group_axioms_non_standard_settings(hall_number):
    check_group_axioms(space_group(hall_number=hall_number))


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_group_axioms_every_setting(hall_number):
    group = space_group(hall_number=hall_number)
    check_group_axioms(group)
    assert len(group.operations) % group.n_centring == 0


def _broken(group, operations):
    return dataclasses.replace(group, operations=tuple(operations))


def test_axiom_checker_fails_without_a_product(p4_1):
    """P4_1 without its 2_1: the square of the 4_1 screw is missing."""
    operations = [op for op in p4_1.operations if op.xyz != "-x,-y,z+1/2"]
    message = "not closed: (-y,x,z+1/4) @ (-y,x,z+1/4) = -x,-y,z+1/2 is missing"
    with pytest.raises(CrystalFourierError, match=re.escape(message)):
        check_group_axioms(_broken(p4_1, operations))


def test_axiom_checker_fails_on_a_perturbed_translation(p2_1):
    operations = [Operation.identity(), Operation.parse("-x,y+1/4,-z")]
    with pytest.raises(CrystalFourierError, match=re.escape("the inverse of -x,y+1/4,-z (-x,y+3/4,-z) is missing")):
        check_group_axioms(_broken(p2_1, operations))


def test_axiom_checker_fails_on_one_perturbed_translation_of_fd3m(fd3m):
    operations = list(fd3m.operations)
    rotation, translation = operations[5].rotation, operations[5].translation_24
    operations[5] = Operation(rotation, (translation[0] + 1, translation[1], translation[2]))
    with pytest.raises(CrystalFourierError, match=r"not closed|inverse of"):
        check_group_axioms(_broken(fd3m, operations))


def test_axiom_checker_fails_without_the_last_operation(fd3m):
    with pytest.raises(CrystalFourierError, match=r"not closed|inverse of"):
        check_group_axioms(_broken(fd3m, fd3m.operations[:-1]))


def test_axiom_checker_fails_without_the_identity(p6_3mmc):
    with pytest.raises(CrystalFourierError, match=re.escape("the identity x,y,z is missing")):
        check_group_axioms(_broken(p6_3mmc, p6_3mmc.operations[1:]))


def test_axiom_checker_fails_on_a_repeated_operation(fm3m):
    with pytest.raises(CrystalFourierError, match="repeated operations"):
        check_group_axioms(_broken(fm3m, fm3m.operations + fm3m.operations[7:8]))


def test_axiom_checker_fails_on_a_lost_centring(fm3m):
    """Fm-3m with only the primitive rotations: x+1/2... centring products are missing."""
    kept = [op for op in fm3m.operations if op.translation_24 in ((0, 0, 0), (0, 12, 12))]
    with pytest.raises(CrystalFourierError, match="not closed"):
        check_group_axioms(_broken(fm3m, kept))


# ----------------------------------------------------------------------------- group properties

# Counts over the 230 types, from the ITA: 92 centrosymmetric, 65 Sohncke, 68 polar (continuous origin freedom).
POINT_GROUP_ORDER = {1: 1, 2: 2, 14: 4, 76: 4, 146: 3, 166: 12, 194: 24, 225: 48, 227: 48}


def test_group_property_counts_over_the_230_types():
    groups = [space_group(n) for n in range(1, 231)]
    assert sum(g.centrosymmetric for g in groups) == 92
    assert sum(g.sohncke for g in groups) == 65
    assert sum(g.polar for g in groups) == 68
    # No group is both: a Sohncke group has no improper rotation, so no -1.
    assert not any(g.centrosymmetric and g.sohncke for g in groups)
    # Centrosymmetric groups fix the origin; origin freedom 3 only for P1, 2 only for the Pm..Cc family.
    assert not any(g.centrosymmetric and g.polar for g in groups)
    assert [g.number for g in groups if g.origin_freedom == 3] == [1]
    assert [g.number for g in groups if g.origin_freedom == 2] == [6, 7, 8, 9]


@pytest.mark.parametrize("number", sorted(POINT_GROUP_ORDER), ids=lambda n: f"sg{n}")
def test_point_group_order_and_rotations(number):
    group = space_group(number)
    assert group.point_group_order == len(group.rotations) == POINT_GROUP_ORDER[number]
    assert group.rotations[0] == ((1, 0, 0), (0, 1, 0), (0, 0, 1))


@pytest.mark.parametrize(
    ("number", "centrosymmetric", "sohncke", "origin_freedom", "polar_axes", "system", "centring"),
    [(1, False, True, 3, (0, 1, 2), "triclinic", "P"), (2, True, False, 0, (), "triclinic", "P"),
     (4, False, True, 1, (1,), "monoclinic", "P"), (9, False, False, 2, (0, 2), "monoclinic", "C"),
     (19, False, True, 0, (), "orthorhombic", "P"), (43, False, False, 1, (2,), "orthorhombic", "F"),
     (80, False, True, 1, (2,), "tetragonal", "I"), (146, False, True, 1, (2,), "trigonal", "R"),
     (186, False, False, 1, (2,), "hexagonal", "P"), (216, False, False, 0, (), "cubic", "F"),
     (227, True, False, 0, (), "cubic", "F")],
    ids=str)
def test_group_properties(number, centrosymmetric, sohncke, origin_freedom, polar_axes, system, centring):
    group = space_group(number)
    assert (group.centrosymmetric, group.sohncke, group.origin_freedom, group.polar_axes) == (
        centrosymmetric, sohncke, origin_freedom, polar_axes)
    assert (group.crystal_system, group.centring) == (system, centring)


def test_polar_axes_need_not_span_the_fixed_space_off_the_standard_setting():
    # R3 on rhombohedral axes: the polar direction is [111], not a coordinate axis.
    group = space_group(146, hall_number=434)
    assert (group.choice, group.origin_freedom, group.polar_axes) == ("R", 1, ())


@pytest.mark.parametrize("hall_number", [1, 2, 7, 87, 228, 434, 459, 525, 526, 530], ids=lambda h: f"hall{h}")
def test_group_properties_match_gemmi(hall_number):
    gemmi = pytest.importorskip("gemmi")
    group = space_group(hall_number=hall_number)
    theirs = gemmi.find_spacegroup_by_ops(gemmi.symops_from_hall(group.hall_symbol))
    assert group.centrosymmetric == theirs.is_centrosymmetric()
    assert group.sohncke == theirs.is_sohncke()
    assert group.crystal_system == theirs.crystal_system_str()


def test_origin_freedom_fails_on_a_group_with_a_lost_rotation(p2_1):
    # Dropping the 2-fold screw leaves P1's operations under P2_1's name: all three directions are free.
    broken = dataclasses.replace(p2_1, operations=p2_1.operations[:1])
    assert (p2_1.origin_freedom, broken.origin_freedom) == (1, 3)
    assert (p2_1.polar_axes, broken.polar_axes) == ((1,), (0, 1, 2))


def test_exact_group_properties_agree_with_floating_point_linear_algebra_in_every_setting():
    identity = np.eye(3, dtype=np.int64)
    for hall in range(1, 531):
        group = space_group(hall_number=hall)
        rotations = np.array(group.rotations)
        assert group.centrosymmetric == any(np.array_equal(r, -identity) for r in rotations), hall
        assert group.sohncke == all(round(np.linalg.det(r)) == 1 for r in rotations), hall
        fixed = 3 - np.linalg.matrix_rank(np.concatenate([r - identity for r in rotations]).astype(float))
        assert group.origin_freedom == fixed, hall


# ----------------------------------------------------------------------------- group lists


@pytest.mark.parametrize(("text", "numbers"), [
    ("1-3,225", [1, 2, 3, 225]), ("Fd-3m, P6_3/mmc,227", [194, 227]), (" 230 ", [230]), ("10-10,,2", [2, 10])])
def test_parse_groups(text, numbers):
    assert parse_groups(text) == numbers


@pytest.mark.parametrize("text", [None, "", "all", " all "])
def test_parse_groups_defaults_to_all_230(text):
    assert parse_groups(text) == list(range(1, 231))


@pytest.mark.parametrize(("text", "fragment"), [
    ("5-2", "must lie within 1-230"), ("0-3", "must lie within 1-230"), ("1-2-3", "must be LOW-HIGH"),
    (",", "no groups in ','"), ("Xy9", "unknown space-group symbol 'Xy9'"), ("231", "got 231")])
def test_parse_groups_refuses_naming_the_item(text, fragment):
    with pytest.raises(CrystalFourierError, match=re.escape(fragment)):
        parse_groups(text)
