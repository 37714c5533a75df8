"""Operations x -> R x + t as exact integers: parsing, notation, composition, inverses."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crystal_fourier.derive import DEN, Operation, space_group
from crystal_fourier.derive._operations import operations_as_arrays
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.testing import REPRESENTATIVE_GROUPS

IDENTITY = ((1, 0, 0), (0, 1, 0), (0, 0, 1))


@pytest.mark.parametrize(
    ("text", "rotation", "translation_24"),
    [
        ("x,y,z", IDENTITY, (0, 0, 0)),
        ("-y,x-y,z+1/3", ((0, -1, 0), (1, -1, 0), (0, 0, 1)), (0, 0, 8)),
        ("-x,y+1/2,-z", ((-1, 0, 0), (0, 1, 0), (0, 0, -1)), (0, 12, 0)),
        ("y+1/4,x+3/4,-z+1/4", ((0, 1, 0), (1, 0, 0), (0, 0, -1)), (6, 18, 6)),
        ("x-y,x,z+5/6", ((1, -1, 0), (1, 0, 0), (0, 0, 1)), (0, 0, 20)),
        # Spaces, capitals, the shift before the variable, negative and > 1 shifts: all mod Z^3.
        (" X , 1/2+Y , Z ", IDENTITY, (0, 12, 0)),
        ("x-1/4,y+5/4,z-1", IDENTITY, (18, 6, 0)),
        ("x+1/24,y+0.5,z", IDENTITY, (1, 12, 0)),
    ],
    ids=lambda value: repr(value) if isinstance(value, str) else "",
)
def test_parse_exact_values(text, rotation, translation_24):
    op = Operation.parse(text)
    assert op.rotation == rotation
    assert op.translation_24 == translation_24


@pytest.mark.parametrize(
    ("text", "xyz"),
    [
        ("x,y,z", "x,y,z"),
        ("x-1/4,y,z", "x+3/4,y,z"),
        ("1/2+x, -y+x, -z", "x+1/2,x-y,-z"),
        ("-x+y,-x,z+2/3", "-x+y,-x,z+2/3"),
        ("y,-x+y,z+5/6", "y,-x+y,z+5/6"),
        ("x+12/24,y+2/24,z+3/24", "x+1/2,y+1/12,z+1/8"),
    ],
)
def test_xyz_exact_strings(text, xyz):
    op = Operation.parse(text)
    assert op.xyz == xyz
    assert repr(op) == f"Operation.parse({xyz!r})"


def test_equality_is_modulo_the_lattice():
    assert Operation(IDENTITY, (24, -24, 48)) == Operation.identity()
    assert Operation(IDENTITY, (-6, 30, 0)).translation_24 == (18, 6, 0)
    assert hash(Operation.parse("x+1,y,z-2")) == hash(Operation.identity())


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_round_trip_every_operation(number):
    operations = space_group(number).operations
    assert [Operation.parse(op.xyz) for op in operations] == list(operations)
    assert [eval(repr(op), {"Operation": Operation}) for op in operations] == list(operations)  # noqa: S307


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_round_trip_every_operation_every_setting(hall_number):
    operations = space_group(hall_number=hall_number).operations
    assert [Operation.parse(op.xyz) for op in operations] == list(operations)


@pytest.mark.parametrize(
    ("left", "right", "product"),
    [
        ("-y,x,z+1/4", "-y,x,z+1/4", "-x,-y,z+1/2"),            # 4_1 squared is 2_1
        ("-y,x-y,z+1/3", "-y,x-y,z+1/3", "-x+y,-x,z+2/3"),      # 3_1 squared
        ("x-y,x,z+1/6", "-y,x-y,z+1/3", "-x,-y,z+1/2"),         # 6_1 * 3_1 = 2_1
        ("-x,y+1/2,-z", "-x,y+1/2,-z", "x,y,z"),                # 2_1 squared is a lattice translation
        ("-x+1/4,-y+1/4,-z+1/4", "x+1/2,y,z+1/2", "-x+3/4,-y+1/4,-z+3/4"),
        ("y,x,-z", "x+1/4,y+1/2,z+3/4", "y+1/2,x+1/4,-z+1/4"),   # R1 t2 + t1
    ],
)
def test_composition_exact_values(left, right, product):
    assert Operation.parse(left) @ Operation.parse(right) == Operation.parse(product)


@pytest.mark.parametrize(
    ("text", "power", "order"),
    [("-y,x,z+1/4", 4, 4), ("x-y,x,z+1/6", 6, 6), ("-y,x-y,z+1/3", 3, 3), ("-z,-x,-y", 6, 6)],
)
def test_powers_reach_the_identity_exactly_at_the_order(text, power, order):
    op = Operation.parse(text)
    powers = [op]
    for _ in range(power - 1):
        powers.append(powers[-1] @ op)
    identities = [k + 1 for k, p in enumerate(powers) if p == Operation.identity()]
    assert identities == [order]


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_inverse_is_exact(number):
    operations = space_group(number).operations
    assert {op.inverse() @ op for op in operations} == {Operation.identity()}
    assert {op @ op.inverse() for op in operations} == {Operation.identity()}
    assert [op.inverse().inverse() for op in operations] == list(operations)


@pytest.mark.parametrize("number", [76, 169, 210, 227], ids=lambda n: f"sg{n}")
def test_composition_is_associative(number):
    operations = space_group(number).operations[:12]
    left = [(a @ b) @ c for a in operations for b in operations for c in operations]
    right = [a @ (b @ c) for a in operations for b in operations for c in operations]
    assert left == right


@pytest.mark.parametrize("number", [76, 144, 169, 227], ids=lambda n: f"sg{n}")
@settings(max_examples=20, deadline=None)
@given(x=st.tuples(*[st.floats(-2, 2, allow_nan=False)] * 3))
def test_composition_acts_as_the_composite_map(number, x):
    """(a @ b)(x) = a(b(x)) modulo the lattice, in floating point."""
    operations = space_group(number).operations
    a, b = operations[1], operations[-1]
    difference = np.subtract((a @ b).apply(x), a.apply(b.apply(x)))
    np.testing.assert_allclose(difference - np.rint(difference), 0.0, rtol=0, atol=1e-12)


def test_apply_uses_column_vectors():
    assert Operation.parse("-y,x-y,z+1/3").apply((0.1, 0.2, 0.3)) == pytest.approx((-0.2, -0.1, 0.3 + 1 / 3), abs=1e-15)
    assert Operation.parse("x+1/2,y,z").apply((0.75, 0, 0)) == (1.25, 0.0, 0.0)  # not wrapped


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x,y", "three comma-separated"),
        ("x,y,z,x", "three comma-separated"),
        ("", "three comma-separated"),
        ("x,,z", "bad part"),
        ("x,y,w", "'w'"),
        ("x,y,z+1/5", "not a multiple of 1/24"),
        ("x,y,z+1/0", "'+1/0'"),
        ("x,y,z+0.1", "not a multiple of 1/24"),
        ("x,x,z", "not unimodular"),
        ("2x,y,z", "'2x'"),
    ],
)
def test_bad_strings_raise_naming_the_input(text, fragment):
    with pytest.raises(CrystalFourierError, match=re.escape(fragment)):
        Operation.parse(text)


@pytest.mark.parametrize(
    ("rotation", "translation_24"),
    [(((1, 0), (0, 1)), (0, 0, 0)), (IDENTITY, (0, 0)), (((2, 0, 0), (0, 1, 0), (0, 0, 1)), (0, 0, 0))],
)
def test_bad_arrays_raise(rotation, translation_24):
    with pytest.raises(CrystalFourierError):
        Operation(rotation, translation_24)


def test_operations_as_arrays_are_read_only_integers(fd3m):
    rotations, translations = operations_as_arrays(fd3m.operations)
    assert rotations.shape == (192, 3, 3)
    assert translations.shape == (192, 3)
    assert rotations.dtype == np.int64
    assert translations.dtype == np.int64
    assert not rotations.flags.writeable
    assert not translations.flags.writeable
    assert translations.min() >= 0
    assert translations.max() < DEN


# ----------------------------------------------------------------------------- {-1, 0, 1} unimodular matrices
