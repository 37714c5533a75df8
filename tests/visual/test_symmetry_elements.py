"""Symmetry elements on a section: ITA positions, each element re-proved from the raw operations, completeness."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest
from crystal_fourier.derive import DEN, space_group

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.testing import REPRESENTATIVE_GROUPS, REPRESENTATIVE_SETTINGS
from crystal_fourier.visual._symmetry_elements import InversionPoint, in_plane_axes, section_elements

F = Fraction


def _axes(elements):
    return [(a.symbol, a.point) for a in elements.axes]


def _lines(elements, mirror: bool):
    return sorted({(p.normal, p.offset) for p in elements.planes if p.is_mirror == mirror})


def test_p4mm_z0_matches_ita():
    e = section_elements(space_group(99), 2)
    assert _axes(e) == [("4", (F(0), F(0))), ("2", (F(0), F(1, 2))), ("2", (F(1, 2), F(0))),
                        ("4", (F(1, 2), F(1, 2)))]
    assert _lines(e, mirror=True) == [((0, 1), F(0)), ((0, 1), F(1, 2)), ((1, -1), F(0)), ((1, 0), F(0)),
                                      ((1, 0), F(1, 2)), ((1, 1), F(0))]
    assert _lines(e, mirror=False) == [((1, -1), F(1, 2)), ((1, 1), F(1, 2))]  # the diagonal g glides
    assert e.inversions == ()


def test_p6_3mmc_axes():
    e = section_elements(space_group(194), 2, F(1, 4))
    assert _axes(e) == [("6_3", (F(0), F(0))), ("2_1", (F(0), F(1, 2))), ("3", (F(1, 3), F(2, 3))),
                        ("2_1", (F(1, 2), F(0))), ("2_1", (F(1, 2), F(1, 2))), ("3", (F(2, 3), F(1, 3)))]
    assert e.inversions == ()  # the centres of P6_3/mmc lie at z = 0 and 1/2
    assert [i.point for i in section_elements(space_group(194), 2, 0).inversions] == [
        (F(0), F(0)), (F(0), F(1, 2)), (F(1, 2), F(0)), (F(1, 2), F(1, 2))]


def test_fd3m_origin_choices_differ_by_the_origin_shift():
    """Origin choice 1 (Hall 525) is choice 2 (526) shifted by (1/8, 1/8, 1/8): the 4_1 axes move with it."""
    choice2 = {a.point for a in section_elements(space_group(hall_number=526), 2).axes if a.symbol == "4_1"}
    choice1 = {a.point for a in section_elements(space_group(hall_number=525), 2).axes if a.symbol == "4_1"}
    shift = F(1, 8)
    assert choice1 == {((u + shift) % 1, (v + shift) % 1) for u, v in choice2}
    assert (F(0), F(1, 4)) in choice1


def test_p2_1c_glide_along_the_normal():
    """P2_1/c: the c-glide plane y = 1/4 contains z, so on z = 0 it is a line whose glide is along z."""
    e = section_elements(space_group(14), 2)
    glides = [(p.normal, p.offset, p.glide) for p in e.planes]
    assert glides == [((0, 1), F(1, 4), (F(0), F(0), F(1, 2))), ((0, 1), F(3, 4), (F(0), F(0), F(1, 2)))]


@pytest.mark.parametrize(("level", "expected"), [(F(0), 4), (F(1, 2), 4), (F(1, 4), 0)])
def test_p_1_inversion_centres_depend_on_the_level(level, expected):
    assert len(section_elements(space_group(2), 2, level).inversions) == expected


def _matvec(rotation, vector):
    return tuple(sum(rotation[i][j] * vector[j] for j in range(3)) for i in range(3))


def _is_integer_vector(vector) -> bool:
    return all(F(v).denominator == 1 for v in vector)


def _point3(axis, level, u, v):
    point = [F(0)] * 3
    point[axis] = level
    plane = in_plane_axes(axis)
    point[plane[0]], point[plane[1]] = u, v
    return tuple(point)


def _moved(operation, point):
    """g(p) - p for g = (R, t), exact."""
    t = [F(v, DEN) for v in operation.translation_24]
    image = _matvec(operation.rotation, point)
    return tuple(image[i] + t[i] - point[i] for i in range(3))


def _order(rotation):
    identity = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    power, order = rotation, 1
    while power != identity:
        power = tuple(tuple(sum(power[i][k] * rotation[k][j] for k in range(3)) for j in range(3)) for i in range(3))
        order += 1
    return order


def _unproved(group, e):
    """Elements of ``e`` for which no operation of the group does what the element claims (exact, raw ops)."""
    axis, level = e.axis, e.level
    orders = {op: _order(op.rotation) for op in group.operations}
    normal = [F(0)] * 3
    normal[axis] = F(1)
    failures = []
    for a in e.axes:  # some g of order `fold` moves the point by (screw/fold) e_a, modulo Z^3
        p = _point3(axis, F(0), *a.point)
        step = [F(a.screw, a.fold) * n for n in normal]
        if not any(orders[op] == a.fold and _is_integer_vector(
                [d - s for d, s in zip(_moved(op, p), step, strict=True)]) for op in group.operations):
            failures.append(a)
    for plane in e.planes:  # some reflection moves two points of the line by the same glide vector + L
        n0, n1 = plane.normal
        ends = ([(F(0), plane.offset / n1), (F(1), (plane.offset - n0) / n1)] if n1
                else [(plane.offset / n0, F(0)), (plane.offset / n0, F(1))])
        points = [_point3(axis, F(0), *end) for end in ends]
        ok = False
        for op in group.operations:
            if orders[op] != 2 or ok:
                continue
            moves = [tuple(d - g for d, g in zip(_moved(op, p), plane.glide, strict=True)) for p in points]
            ok = ok or (_is_integer_vector(moves[0]) and moves[0] == moves[1])
        if not ok:
            failures.append(plane)
    for centre in e.inversions:  # some -I op maps the point to itself modulo Z^3
        p = _point3(axis, level, *centre.point)
        minus = ((-1, 0, 0), (0, -1, 0), (0, 0, -1))
        if not any(op.rotation == minus and _is_integer_vector(_moved(op, p)) for op in group.operations):
            failures.append(centre)
    return failures


def _setting_axis_cases():
    """Representative settings x sections x, y, z; cubic groups only z (their three axes are equivalent)."""
    halls = [space_group(n).hall_number for n in REPRESENTATIVE_GROUPS] + list(REPRESENTATIVE_SETTINGS)
    return [pytest.param(h, a, id=f"hall{h}-{'xyz'[a]}") for h in halls
            for a in ((2,) if space_group(hall_number=h).number >= 195 else (0, 1, 2))]


@pytest.mark.parametrize(("hall", "axis"), _setting_axis_cases())
def test_every_element_is_proved_by_an_operation(hall, axis):
    group = space_group(hall_number=hall)
    assert _unproved(group, section_elements(group, axis, F(0))) == []
    assert _unproved(group, section_elements(group, axis, F(1, 4))) == []


def test_the_proof_check_can_fail():
    """Elements claimed at wrong places are caught: P4mm's 4-fold moved to (1/4, 0), a mirror made a glide."""
    group = space_group(99)
    e = section_elements(group, 2)
    axis = dataclasses.replace(e.axes[0], point=(F(1, 4), F(0)))
    plane = dataclasses.replace(e.planes[0], glide=(F(1, 2), F(0), F(0)))
    centre = InversionPoint((F(0), F(0)), "-x,-y,-z")
    broken = dataclasses.replace(e, axes=(axis,) + e.axes[1:], planes=(plane,) + e.planes[1:], inversions=(centre,))
    assert _unproved(group, broken) == [axis, plane, centre]


@pytest.mark.parametrize("hall", [space_group(n).hall_number for n in (62, 99, 141, 146, 194, 230)],
                         ids=lambda h: f"hall{h}")
def test_lattice_span_is_complete(hall):
    """The default in-plane span finds every element a much wider span finds."""
    group = space_group(hall_number=hall)
    for axis in range(3):
        assert section_elements(group, axis) == section_elements(group, axis, lattice_span=range(-3, 7))


@pytest.mark.sweep
@pytest.mark.parametrize("hall", range(1, 531), ids=lambda h: f"hall{h}")
def test_lattice_span_is_complete_sweep(hall):
    group = space_group(hall_number=hall)
    for axis in range(3):
        assert section_elements(group, axis) == section_elements(group, axis, lattice_span=range(-3, 7))


@pytest.mark.parametrize(("axis", "level"), [(3, 0), (-1, 0), (2, 0.25)])
def test_bad_axis_or_float_level(axis, level):
    with pytest.raises(CrystalFourierError, match="axis|exact"):
        section_elements(space_group(1), axis, level)
