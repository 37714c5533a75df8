"""Reflection conditions as International Tables Vol. A prints them ("h0l: l=2n"), derived from the absences.

A reflection h is systematically absent iff some operation (R, t) fixes it, R^T h = h, with h . t
not an integer (CONVENTIONS.md). Group the reflections by **zone**: a zone is a saturated
sublattice Z of Z^3 (all hkl; a plane such as h0l or hhl; a row such as 00l). On a zone, each
operation whose R^T fixes the whole zone imposes h . t in Z, a congruence in the zone's own
coordinates; the zone's conditions are those congruences (centring included). The zones listed are
every fixed lattice of some R^T together with the coordinate planes and axes, each listed only
where it has a condition. Then, for every h:

    h is absent  <=>  some listed zone contains h and h fails one of that zone's conditions,

because an operation fixing h fixes the zone {v : R^T v = v}, which is listed (its own fixed
lattice) whenever the operation imposes something. This is the statement
:func:`allowed_mask` evaluates and the tests compare with gemmi's ``is_systematically_absent``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import product
from math import gcd

import numpy as np
from numpy.typing import ArrayLike

from crystal_fourier.derive._operations import DEN, _determinant
from crystal_fourier.derive._space_groups import SpaceGroup, space_group

__all__ = ["ZoneCondition", "reflection_conditions", "zone_coordinates", "allowed_mask"]

_LETTERS = "hkl"
_ORDER = ("hkl", "0kl", "h0l", "hk0", "hhl", "hkh", "hkk", "h-hl", "hh0", "h-h0", "hhh", "h00", "0k0", "00l")
"""Volume A's order of the zones; any other zone follows, by dimension and label."""


@dataclass(frozen=True, slots=True)
class ZoneCondition:
    """The reflection conditions on one zone.

    Attributes
    ----------
    zone : str
        Volume A's label: ``'hkl'``, ``'h0l'``, ``'hhl'``, ``'00l'``, ... (a minus sign before a
        letter for a negative component, ``'h-hl'``).
    basis : tuple of (h, k, l)
        Integer basis of the zone (a saturated sublattice of Z^3), one vector per letter.
    letters : str
        The letter of each basis vector's coordinate.
    congruences : tuple of (modulus, coefficients)
        Each is the condition ``coefficients . n = 0 mod modulus`` on the zone coordinates n.
    equivalent_bases : tuple of bases
        The images R^T Z of the zone under the point group (the zone itself first), with the images
        of its basis: Volume A lists one zone per class, and the same conditions hold on each image.
    """

    zone: str
    basis: tuple[tuple[int, int, int], ...]
    letters: str
    congruences: tuple[tuple[int, tuple[int, ...]], ...]
    equivalent_bases: tuple[tuple[tuple[int, int, int], ...], ...] = ()

    @property
    def text(self) -> str:
        """Volume A's notation, e.g. ``'h0l: h,l=2n'`` or ``'hkl: -h+k+l=3n'``."""
        groups: dict[int, list[str]] = {}
        for modulus, coefficients in self.congruences:
            groups.setdefault(modulus, []).append(_form_text(coefficients, self.letters))
        parts = [f"{','.join(forms)}={modulus}n" for modulus, forms in sorted(groups.items())]
        return f"{self.zone}: " + "; ".join(parts)

    def allows(self, coordinates: "Sequence[int]") -> bool:
        """True when zone coordinates ``coordinates`` satisfy every condition.

        Parameters
        ----------
        coordinates : sequence of int
            The reflection's coordinates in the zone's basis, as from :func:`zone_coordinates`.

        Returns
        -------
        bool
        """
        return all(sum(a * n for a, n in zip(c, coordinates, strict=True)) % m == 0 for m, c in self.congruences)


def _form_text(coefficients, letters) -> str:
    text = ""
    for a, letter in zip(coefficients, letters, strict=True):
        if a == 0:
            continue
        sign = "-" if a < 0 else ("+" if text else "")
        text += f"{sign}{'' if abs(a) == 1 else abs(a)}{letter}"
    return text


def zone_coordinates(basis, hkl) -> tuple[int, ...] | None:
    """Integer coordinates n with sum_j n_j basis_j = hkl, or None when hkl is not in the zone.

    Solved exactly (Cramer's rule on a nonzero minor, in fractions), then checked.
    """
    from itertools import combinations

    basis = [tuple(b) for b in basis]
    hkl = tuple(int(v) for v in hkl)
    d = len(basis)
    for columns in combinations(range(3), d):
        minor = _determinant([[basis[j][c] for j in range(d)] for c in columns])
        if minor:
            break
    solution = []
    for j in range(d):
        replaced = [[hkl[c] if jj == j else basis[jj][c] for jj in range(d)] for c in columns]
        solution.append(Fraction(_determinant(replaced), minor))
    if any(v.denominator != 1 for v in solution):
        return None
    coordinates = tuple(int(v) for v in solution)
    image = tuple(sum(n * b[i] for n, b in zip(coordinates, basis, strict=True)) for i in range(3))
    return coordinates if image == hkl else None


def _transpose(r):
    return tuple(tuple(r[j][i] for j in range(3)) for i in range(3))


def _apply(r, v):
    return tuple(sum(r[i][j] * v[j] for j in range(3)) for i in range(3))


def _lattice_basis(vectors) -> tuple[tuple[int, int, int], ...]:
    """A basis of the saturated lattice span(``vectors``) intersect Z^3 among small vectors, simplest first.

    d vectors of the span are a basis of that lattice exactly when the gcd of their d x d minors is 1.
    """
    from itertools import combinations

    dimension = _rank(vectors)
    if dimension == 3:
        return ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    candidates = sorted((v for v in product(range(-2, 3), repeat=3) if any(v) and _rank([*vectors, v]) == dimension
                         and next(x for x in v if x) > 0),
                        key=lambda v: (sum(1 for x in v if x), sum(abs(x) for x in v), [-x for x in v]))
    for chosen in combinations(candidates, dimension):
        minors = [_determinant([[chosen[j][c] for j in range(dimension)] for c in columns])
                  for columns in combinations(range(3), dimension)]
        if gcd(*minors) == 1:
            return tuple(sorted(chosen, key=lambda v: [-abs(x) for x in v]))
    raise ArithmeticError("no basis among small vectors")  # pragma: no cover


def _rank(vectors) -> int:
    from crystal_fourier.derive._space_groups import _integer_rank

    return _integer_rank([tuple(v) for v in vectors])


@lru_cache(maxsize=None)
def _fixed_lattice(rotation) -> tuple[tuple[int, int, int], ...]:
    """Basis of {h in Z^3 : R^T h = h}."""
    transpose = _transpose(rotation)
    vectors = [v for v in product(range(-2, 3), repeat=3) if any(v) and _apply(transpose, v) == v]
    if not vectors:
        return ()
    return _lattice_basis(vectors)


def _lattice_key(vectors) -> tuple:
    """A key of the saturated lattice spanned by ``vectors``: its primitive direction (a row) or normal (a plane)."""
    vectors = [tuple(v) for v in vectors]
    if len(vectors) == 3:
        return ("all",)
    if len(vectors) == 2:
        a, b = vectors
        v = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
        kind = "plane"
    else:
        (v,), kind = vectors, "row"
    g = gcd(*v)
    v = tuple(x // g for x in v)
    return kind, max(v, tuple(-x for x in v))


def _label(basis) -> tuple[str, str]:
    letters = ""
    for vector in basis:
        first = next(i for i, v in enumerate(vector) if v)
        letter = _LETTERS[first]
        letters += letter if letter not in letters else next(c for c in "hklpq" if c not in letters)
    components = []
    for axis in range(3):
        text = _form_text([vector[axis] for vector in basis], letters)
        components.append(text or "0")
    return "".join(components), letters


def _fewest_negatives(v) -> tuple:
    return sum(1 for c in v if c < 0), [-c for c in v]


def _normalized(modulus: int, coefficients) -> tuple[int, tuple[int, ...]]:
    reduced = [c % modulus for c in coefficients]
    reduced = [c - modulus if c > modulus // 2 else c for c in reduced]
    negated = [(-c) % modulus for c in reduced]
    negated = [c - modulus if c > modulus // 2 else c for c in negated]
    return modulus, tuple(min(reduced, negated, key=_fewest_negatives))


def _prime_powers(n: int) -> list[int]:
    """The prime-power factors of n (12 -> [4, 3])."""
    powers, p = [], 2
    while n > 1:
        if n % p == 0:
            q = 1
            while n % p == 0:
                n, q = n // p, q * p
            powers.append(q)
        p += 1
    return powers


def _zone_congruences(group: SpaceGroup, basis) -> tuple[tuple[int, tuple[int, ...]], ...]:
    found = set()
    for op in group.operations:
        transpose = _transpose(op.rotation)
        if any(_apply(transpose, b) != tuple(b) for b in basis):
            continue
        numerators = [sum(b[i] * op.translation_24[i] for i in range(3)) % DEN for b in basis]
        if not any(numerators):
            continue
        modulus = DEN // gcd(DEN, *numerators)
        coefficients = [n * modulus // DEN for n in numerators]
        # Chinese remainders: 'a.n = 6n' is 'a.n = 2n' and 'a.n = 3n' (Volume A's 'l=2n; k+l=3n').
        for prime_power in _prime_powers(modulus):
            reduced = [c % prime_power for c in coefficients]
            if any(reduced):
                found.add(_normalized(prime_power // gcd(prime_power, *reduced),
                                      [c // gcd(prime_power, *reduced) for c in reduced]))
    # Drop a condition implied by a single other one (l=2n by l=4n); Volume A keeps jointly implied ones.
    kept = [x for x in sorted(found) if not any(y != x and _implies(y, x, len(basis)) for y in found)]
    for x in sorted(kept, key=lambda c: (-c[0], -sum(1 for v in c[1] if v), [abs(v) for v in c[1]])):
        others = [y for y in kept if y != x]
        if others and _jointly_implies(others, x, len(basis)):
            kept.remove(x)
    kept.sort(key=lambda c: (c[0], sum(1 for v in c[1] if v), [-abs(v) for v in c[1]]))
    return tuple(kept)


def _implies(stronger, weaker, dimension: int) -> bool:
    """True when every n with stronger(n) also has weaker(n) (checked over one full period)."""
    from math import lcm

    period = lcm(stronger[0], weaker[0])
    for n in product(range(period), repeat=dimension):
        holds = [sum(a * b for a, b in zip(c, n, strict=True)) % m == 0 for m, c in (stronger, weaker)]
        if holds[0] and not holds[1]:
            return False
    return True


def _jointly_implies(stronger, weaker, dimension: int) -> bool:
    from math import lcm

    period = lcm(weaker[0], *(m for m, _ in stronger))
    for n in product(range(period), repeat=dimension):
        if all(sum(a * b for a, b in zip(c, n, strict=True)) % m == 0 for m, c in stronger) and \
                sum(a * b for a, b in zip(weaker[1], n, strict=True)) % weaker[0]:
            return False
    return True


@lru_cache(maxsize=None)
def _conditions_of_hall(hall_number: int) -> tuple[ZoneCondition, ...]:
    group = space_group(hall_number=hall_number)
    bases = {((1, 0, 0), (0, 1, 0), (0, 0, 1))}
    for rotation in group.rotations:
        fixed = _fixed_lattice(rotation)
        if fixed:
            bases.add(fixed)
    axes = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    for pair in ((1, 2), (0, 2), (0, 1)):
        bases.add(tuple(axes[i] for i in pair))
    bases.update((axis,) for axis in axes)
    order = {name: i for i, name in enumerate(_ORDER)}
    representatives = {}
    for basis in bases:      # one zone per class of zones equivalent under the point group (Volume A's habit)
        orbit = {_lattice_key([_apply(_transpose(r), b) for b in basis]) for r in group.rotations}
        label = _label(basis)[0]
        key = min(orbit)
        best = representatives.get(key)
        if best is None or (order.get(label, len(order)), label) < (order.get(_label(best)[0], len(order)),
                                                                     _label(best)[0]):
            representatives[key] = basis
    zones = []
    for basis in representatives.values():
        congruences = _zone_congruences(group, basis)
        if congruences:
            label, letters = _label(basis)
            images = {}
            for r in group.rotations:
                image = tuple(_apply(_transpose(r), b) for b in basis)
                images.setdefault(_lattice_key(image), image)
            equivalent = (basis, *(b for k, b in sorted(images.items()) if k != _lattice_key(basis)))
            zones.append(ZoneCondition(label, basis, letters, congruences, equivalent))
    return tuple(sorted(zones, key=lambda z: (-len(z.basis), order.get(z.zone, len(order)), z.zone)))


def reflection_conditions(group: "int | str | SpaceGroup", *, hall_number: int | None = None
                          ) -> tuple[ZoneCondition, ...]:
    """The general reflection conditions of a setting, zone by zone, in Volume A's order.

    Parameters
    ----------
    group : int, str or SpaceGroup
        Space-group number, Hermann-Mauguin symbol or group.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.

    Returns
    -------
    tuple of ZoneCondition
        One entry per zone with a condition.

    Examples
    --------
    >>> [z.text for z in reflection_conditions("P2_1/c")]
    ['h0l: l=2n', '0k0: k=2n', '00l: l=2n']
    >>> [z.text for z in reflection_conditions("Fd-3m")][:3]
    ['hkl: h+k,h+l=2n', '0kl: k=2n; k+l=4n', 'hhl: h+l=2n']
    """
    return _conditions_of_hall(space_group(group, hall_number=hall_number).hall_number)


def allowed_mask(conditions: tuple[ZoneCondition, ...], hkl: ArrayLike) -> np.ndarray:
    """Which reflections no zone containing them forbids (not systematically absent): shape=(n, 3) int -> (n,) bool.

    Exact integer work: zone membership and coordinates by Cramer's rule on a nonzero minor of the
    zone's basis, a reflection being in the zone when the coordinates are integers that map back to it.

    Parameters
    ----------
    conditions : tuple of ZoneCondition
        The zone conditions of a group, as from :func:`reflection_conditions`.
    hkl : array_like
        shape=(n, 3), integer Miller indices.

    Returns
    -------
    numpy.ndarray
        shape=(n,), bool: True where the reflection is allowed.
    """
    hkl = np.asarray(hkl, dtype=np.int64).reshape(-1, 3)
    allowed = np.ones(len(hkl), dtype=bool)
    for zone in conditions:
        for basis in zone.equivalent_bases or (zone.basis,):
            allowed &= _allowed_on(zone, np.array(basis, dtype=np.int64), hkl)
    return allowed


def _allowed_on(zone: ZoneCondition, basis, hkl):
    """The mask of ``hkl`` outside the zone spanned by ``basis`` or satisfying its conditions (integers only)."""
    from itertools import combinations

    d = len(basis)
    columns = list(next(c for c in combinations(range(3), d) if _determinant(basis[:, c].T.tolist())))
    minor = _determinant(basis[:, columns].T.tolist())
    numerators = np.empty((len(hkl), d), dtype=np.int64)
    for j in range(d):                        # Cramer: replace basis vector j by hkl
        matrix = np.repeat(basis[None, :, columns], len(hkl), axis=0)      # (n, d vectors, d columns)
        matrix[:, j, :] = hkl[:, columns]
        numerators[:, j] = _batched_determinant(matrix)
    integral = np.all(numerators % minor == 0, axis=1)
    coordinates = numerators // minor
    inside = integral & np.all(coordinates @ basis == hkl, axis=1)
    satisfied = np.ones(len(hkl), dtype=bool)
    for modulus, coefficients in zone.congruences:
        satisfied &= (coordinates @ np.array(coefficients, dtype=np.int64)) % modulus == 0
    return ~inside | satisfied


def _batched_determinant(m):
    """Exact integer determinants of a stack of 1x1, 2x2 or 3x3 integer matrices."""
    if m.shape[1] == 1:
        return m[:, 0, 0]
    if m.shape[1] == 2:
        return m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    return (m[:, 0, 0] * (m[:, 1, 1] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 1])
            - m[:, 0, 1] * (m[:, 1, 0] * m[:, 2, 2] - m[:, 1, 2] * m[:, 2, 0])
            + m[:, 0, 2] * (m[:, 1, 0] * m[:, 2, 1] - m[:, 1, 1] * m[:, 2, 0]))
