"""Symmetry elements met by a plane section x_a = c of the cell, solved exactly over the rationals.

An operation g = (R, t) acts on fractional coordinates (CONVENTIONS.md). Its
*symmetry element* is the fixed-point set of its location part: with k the
order of R, the intrinsic (screw or glide) part is w = (1/k) sum_{j<k} R^j t and
the element is {x : R x + t - w = x} (ITA, "Seitz symbols"). Every lattice
translate (R, t + L) of a coset representative is a distinct operation with
its own element, so the elements are enumerated over L as well and reduced
modulo the in-plane lattice.

Three kinds meet the section x_a = c in a well-defined picture; all are exact
:class:`~fractions.Fraction` values, with in-plane coordinates (u, v) along the
two other axes in increasing order (z = c: (x, y); y = c: (x, z); x = c: (y, z)):

* :class:`AxisPoint`: a rotation or screw axis along the lattice direction e_a
  (R e_a = e_a, det R = +1, R != I) crosses the section at one point;
* :class:`PlaneLine`: a mirror or glide plane containing e_a (R e_a = e_a,
  R a reflection) cuts the section in the line n . (u, v) = offset;
* :class:`InversionPoint`: an inversion centre (R = -I) lying in the section.

Oblique axes (the cubic 3-folds on a z-section), axes lying in the section,
rotoinversion axes and mirror planes parallel to the section are left out:
their picture on one section is not a single point or line.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from math import gcd
from typing import TYPE_CHECKING

from crystal_fourier.derive import DEN
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crystal_fourier.derive import SpaceGroup

__all__ = ["AxisPoint", "PlaneLine", "InversionPoint", "SectionElements", "in_plane_axes", "section_elements"]

_IDENTITY = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
_MINUS_IDENTITY = ((-1, 0, 0), (0, -1, 0), (0, 0, -1))
# In-plane lattice translations tried per operation. The solutions modulo Z^2 are indexed by
# Z^2 / M Z^2 with |det M| <= 4 for every crystallographic rotation, so representatives lie in
# [0, 4)^2; tests/visual/test_sections.py compares against a wider span for all 530 settings.
_LATTICE_SPAN = range(4)


@dataclass(frozen=True, slots=True)
class AxisPoint:
    """A rotation or screw axis along the section normal, met at one point.

    Attributes
    ----------
    fold : int
        2, 3, 4 or 6.
    screw : int
        m of the screw axis n_m (the intrinsic translation is m/n along e_a); 0 for a rotation.
    point : tuple of 2 Fractions
        In-plane fractional coordinates (u, v), each in [0, 1).
    operation : str
        The coset representative (xyz) whose lattice translate has this element.
    """

    fold: int
    screw: int
    point: tuple[Fraction, Fraction]
    operation: str

    @property
    def symbol(self) -> str:
        """Hermann-Mauguin symbol, e.g. ``'4'`` or ``'4_2'``."""
        return f"{self.fold}_{self.screw}" if self.screw else str(self.fold)


@dataclass(frozen=True, slots=True)
class PlaneLine:
    """A mirror or glide plane containing the section normal, met in a line.

    Attributes
    ----------
    normal : tuple of 2 ints
        Primitive integer n (first nonzero entry positive): the line is n . (u, v) = offset (mod 1).
    offset : Fraction
        In [0, 1).
    glide : tuple of 3 Fractions
        The glide vector w modulo Z^3, each component in [0, 1); zero for a mirror.
    operation : str
        The coset representative (xyz) whose lattice translate has this element.
    """

    normal: tuple[int, int]
    offset: Fraction
    glide: tuple[Fraction, Fraction, Fraction]
    operation: str

    @property
    def is_mirror(self) -> bool:
        """True when the glide vector is a lattice vector."""
        return not any(self.glide)


@dataclass(frozen=True, slots=True)
class InversionPoint:
    """An inversion centre lying in the section.

    Attributes
    ----------
    point : tuple of 2 Fractions
        In-plane fractional coordinates (u, v), each in [0, 1).
    operation : str
        The coset representative (xyz) whose lattice translate has this centre.
    """

    point: tuple[Fraction, Fraction]
    operation: str


@dataclass(frozen=True, slots=True)
class SectionElements:
    """All symmetry elements of one group drawn on one section, each kind sorted.

    Attributes
    ----------
    axis : int
        The section is x_axis = level (0, 1, 2 for x, y, z).
    level : Fraction
    axes : tuple of AxisPoint
        One per point: the highest fold there (its powers are implied).
    planes : tuple of PlaneLine
        One per (line, glide vector).
    inversions : tuple of InversionPoint
    """

    axis: int
    level: Fraction
    axes: tuple[AxisPoint, ...]
    planes: tuple[PlaneLine, ...]
    inversions: tuple[InversionPoint, ...]


def in_plane_axes(axis: int) -> tuple[int, int]:
    """The two coordinate axes spanning the section x_axis = c, in increasing order.

    >>> in_plane_axes(2), in_plane_axes(0)
    ((0, 1), (1, 2))
    """
    if axis not in (0, 1, 2):
        raise CrystalFourierError(f"section axis must be 0, 1 or 2 (x, y, z), got {axis!r}")
    return tuple(i for i in range(3) if i != axis)


def _matvec(matrix, vector):
    return tuple(sum(matrix[i][j] * vector[j] for j in range(3)) for i in range(3))


def _matmul(a, b):
    return tuple(tuple(sum(a[i][k] * b[k][j] for k in range(3)) for j in range(3)) for i in range(3))


def _det(m) -> int:
    return (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))


def _order(rotation) -> int:
    power, order = rotation, 1
    while power != _IDENTITY:
        power, order = _matmul(power, rotation), order + 1
        if order > 6:
            raise CrystalFourierError(f"rotation {rotation} has no crystallographic order (1, 2, 3, 4 or 6)")
    return order


def _intrinsic(rotation, translation, order: int):
    """w = (1/k) sum_{j<k} R^j t, exact."""
    total, power_t = (Fraction(0),) * 3, translation
    for _ in range(order):
        total = tuple(a + b for a, b in zip(total, power_t, strict=True))
        power_t = _matvec(rotation, power_t)
    return tuple(v / order for v in total)


def _reduced(value: Fraction) -> Fraction:
    return value - (value.numerator // value.denominator)


def _in_plane_system(rotation, plane):
    """Rows of (I - R) restricted to the in-plane columns, shape (3, 2), integers."""
    return tuple(tuple((1 if i == j else 0) - rotation[i][j] for j in plane) for i in range(3))


def _solve_point(system, rhs):
    """The unique (u, v) with system (u, v) = rhs exactly (rank 2), or None if inconsistent."""
    for i, j in ((0, 1), (0, 2), (1, 2)):
        det = system[i][0] * system[j][1] - system[i][1] * system[j][0]
        if det:
            break
    else:  # pragma: no cover - rank 2 is guaranteed for a rotation != I with axis e_a
        return None
    u = Fraction(system[j][1] * rhs[i] - system[i][1] * rhs[j], det)
    v = Fraction(system[i][0] * rhs[j] - system[j][0] * rhs[i], det)
    if any(row[0] * u + row[1] * v != value for row, value in zip(system, rhs, strict=True)):
        return None
    return u, v


def _solve_line(system, rhs):
    """The line n . (u, v) = r of a rank-1 system, normalised, or None if inconsistent."""
    i = next(index for index, row in enumerate(system) if any(row))
    normal, offset = system[i], rhs[i]
    k = 0 if normal[0] else 1
    for row, value in zip(system, rhs, strict=True):
        ratio = Fraction(row[k], normal[k])
        if (row[0], row[1]) != (ratio * normal[0], ratio * normal[1]) or value != ratio * offset:
            return None
    divisor = gcd(normal[0], normal[1])
    sign = 1 if normal[k] > 0 else -1
    return (sign * normal[0] // divisor, sign * normal[1] // divisor), _reduced(sign * offset / divisor)


def _check_level(level) -> Fraction:
    if isinstance(level, float) or not isinstance(level, (int, Fraction)):
        raise CrystalFourierError(f"section level must be an exact int or Fraction, got {level!r}")
    return _reduced(Fraction(level))


def section_elements(group: SpaceGroup, axis: int, level: int | Fraction = 0, *,
                     lattice_span: Iterable[int] = _LATTICE_SPAN) -> SectionElements:
    """The symmetry elements of ``group`` met by the section x_axis = ``level``, exactly.

    Each element is the fixed-point set of the location part (R, t - w) of an
    operation (R, t + L), L a lattice vector, intersected with the section and
    reduced modulo the in-plane lattice. Axes and planes perpendicular to the
    section do not depend on ``level``; inversion centres do.

    Parameters
    ----------
    group : SpaceGroup
    axis : int
        0, 1 or 2: the section is x = level, y = level or z = level.
    level : int or Fraction
        Exact height of the section (reduced modulo 1).
    lattice_span : iterable of int, optional
        In-plane lattice translations tried per operation (default ``range(4)``, enough for
        every crystallographic rotation).

    Returns
    -------
    SectionElements

    Raises
    ------
    CrystalFourierError
        Bad axis or a float level (levels are exact).

    Examples
    --------
    >>> from crystal_fourier.derive import space_group
    >>> e = section_elements(space_group(99), 2)     # P4mm, z = 0
    >>> [(a.symbol, tuple(map(str, a.point))) for a in e.axes]
    [('4', ('0', '0')), ('2', ('0', '1/2')), ('2', ('1/2', '0')), ('4', ('1/2', '1/2'))]
    >>> sorted({(p.normal, str(p.offset)) for p in e.planes if p.is_mirror})[:3]
    [((0, 1), '0'), ((0, 1), '1/2'), ((1, -1), '0')]
    >>> [tuple(map(str, i.point)) for i in section_elements(space_group(2), 2, Fraction(1, 2)).inversions]
    [('0', '0'), ('0', '1/2'), ('1/2', '0'), ('1/2', '1/2')]
    """
    plane = in_plane_axes(axis)
    level = _check_level(level)
    axes: dict[tuple[Fraction, Fraction], AxisPoint] = {}
    planes: dict[tuple, PlaneLine] = {}
    inversions: dict[tuple[Fraction, Fraction], InversionPoint] = {}
    span = tuple(lattice_span)
    for operation in group.operations:
        rotation = operation.rotation
        t0 = tuple(Fraction(v, DEN) for v in operation.translation_24)
        if rotation == _MINUS_IDENTITY:
            # x = (t + L) / 2 lies in the section iff (t_a + L_a) / 2 = c (mod 1) for some integer L_a.
            if (2 * level - t0[axis]).denominator != 1:
                continue
            for lu, lv in product((0, 1), repeat=2):
                point = (_reduced((t0[plane[0]] + lu) / 2), _reduced((t0[plane[1]] + lv) / 2))
                inversions.setdefault(point, InversionPoint(point, operation.xyz))
            continue
        fixes_normal = all(rotation[i][axis] == (1 if i == axis else 0) for i in range(3))
        if not fixes_normal or rotation == _IDENTITY:
            continue
        determinant = _det(rotation)
        order = _order(rotation)
        is_reflection = determinant == -1 and order == 2
        if determinant != 1 and not is_reflection:
            continue  # rotoinversions -3, -4, -6 with axis e_a: not drawn
        system = _in_plane_system(rotation, plane)
        # A translation along e_a changes only the intrinsic part (R e_a = e_a), so L_a = 0 suffices.
        for lu, lv in product(span, repeat=2):
            shift = [0, 0, 0]
            shift[plane[0]], shift[plane[1]] = lu, lv
            t = tuple(a + b for a, b in zip(t0, shift, strict=True))
            w = _intrinsic(rotation, t, order)
            location = tuple(a - b for a, b in zip(t, w, strict=True))
            if is_reflection:
                line = _solve_line(system, location)
                if line is None:
                    continue
                glide = tuple(_reduced(v) for v in w)
                planes.setdefault((line, glide), PlaneLine(line[0], line[1], glide, operation.xyz))
                continue
            point = _solve_point(system, location)
            if point is None:
                continue
            point = (_reduced(point[0]), _reduced(point[1]))
            screw = int(_reduced(w[axis]) * order)
            candidate = AxisPoint(order, screw, point, operation.xyz)
            kept = axes.get(point)
            # Keep the highest fold through a point (a 4-fold implies the 2-fold R^2), then the smallest screw.
            if kept is None or (-candidate.fold, candidate.screw) < (-kept.fold, kept.screw):
                axes[point] = candidate
    return SectionElements(
        axis, level,
        tuple(axes[p] for p in sorted(axes)),
        tuple(planes[k] for k in sorted(planes)),
        tuple(inversions[p] for p in sorted(inversions)),
    )
