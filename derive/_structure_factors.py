"""Trigonometric structure factors of the general position, factored and split by parity class.

For a setting G (CONVENTIONS.md, "Groups and settings") and Miller indices h = (h, k, l) the
group-averaged plane wave is (unnormalised, as International Tables Vol. B, A1.4.3 prints it)

    F(h; x) = sum_{(R, t) in G/Z^3} e(h . (R x + t)) = A(h; x) + i B(h; x).

Within a parity class (h modulo m_i on axis i, m_i the denominator of the translations on that
axis) every phase e(h . t) is a constant, so F is a fixed trigonometric polynomial in the bilinear
forms h^T R x. The centring translations T contribute the factor sum_T e(h . tau), which is |T| or 0;
the rest is factored by :func:`~crystal_fourier.derive._trig_products.factor_plane_wave_sum`:
over the point group P itself when P contains -1 (then A and B are the real and imaginary parts of
one product form), otherwise A = Re F and B = Im F are each written as a sum over P x {1, -1}
(A = (1/2) sum_R [e(p_R) e(h^T R x) + e(-p_R) e(-h^T R x)], B the same with p_R - 1/4). Classes
whose formulas agree are merged and their condition is written with the fewest congruences
(``Eq(Mod(k + l, 2), 0)``) drawn from the translations themselves.

Where the phases cannot be absorbed into real factors with rational constants (a
centrosymmetric setting whose inversion centre is off the origin by a quarter, origin choice 1),
that class falls back to the plain sum, one cosine and one sine per operation; the form records
``factored=False`` for it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from itertools import product
from math import gcd
from typing import TYPE_CHECKING

from crystal_fourier.derive._operations import DEN
from crystal_fourier.derive._phase_shifts import merge_by_shifts
from crystal_fourier.derive._space_groups import SpaceGroup, space_group
from crystal_fourier.derive._trig_products import (
    TrigFactor,
    TrigTerm,
    canonical_factor,
    factor_plane_wave_sum,
)

if TYPE_CHECKING:
    from crystal_fourier.derive._plane_groups import PlaneGroup, PlaneStructureFactorForm

__all__ = ["SHIFTS", "ParityClass", "StructureFactorForm", "structure_factor_form", "plain_factor_count", "Congruence",
           "factor_lower_bound"]

_IDENTITY = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
_INVERSION = ((-1, 0, 0), (0, -1, 0), (0, 0, -1))


@dataclass(frozen=True, slots=True, order=True)
class Congruence:
    """The linear form ``coefficients . h`` taken modulo ``modulus`` (e.g. (0, 1, 1), 2: k + l mod 2)."""

    modulus: int
    coefficients: tuple[int, int, int]

    def value(self, hkl) -> int:
        """The form's residue at integer ``hkl``."""
        return sum(a * b for a, b in zip(self.coefficients, hkl, strict=True)) % self.modulus


@dataclass(frozen=True, slots=True)
class ParityClass:
    """One class of Miller indices and its factored A and B.

    Attributes
    ----------
    residues : tuple of (h, k, l)
        The residues modulo ``StructureFactorForm.modulus`` in this class.
    congruences : tuple of Congruence
        The fewest congruences whose residues decide membership (none for a single class).
    alternatives : tuple of tuples of int
        h is in the class iff its tuple of residues (one per congruence) is one of these.
    realized : tuple of tuples of int
        Every tuple of residues that some h takes (to state a class by what it is not).
    a_terms, b_terms : tuple of TrigTerm
        A and B as sums of products (without the common factor pulled out; see ``common``).
    factored : bool
        False where the class fell back to the plain operation sum.
    """

    residues: tuple[tuple[int, int, int], ...]
    congruences: tuple[Congruence, ...]
    alternatives: tuple[tuple[int, ...], ...]
    realized: tuple[tuple[int, ...], ...]
    a_terms: tuple[TrigTerm, ...]
    b_terms: tuple[TrigTerm, ...]
    factored: bool

    @property
    def absent(self) -> bool:
        """True when A = B = 0 on the whole class (a centring or other extinction)."""
        return not self.a_terms and not self.b_terms

    @property
    def n_factors(self) -> int:
        """Trigonometric factors in A and B once the common factor of each is pulled out."""
        return sum(_pulled_factor_count(terms) for terms in (self.a_terms, self.b_terms))


@dataclass(frozen=True, slots=True)
class StructureFactorForm:
    """The structure-factor forms of one setting: parity classes covering Z^3 exactly once.

    Attributes
    ----------
    group : SpaceGroup
    modulus : (m_h, m_k, m_l)
        Residues of h modulo these determine every phase e(h . t).
    congruences : tuple of Congruence
        The forms whose residues state every class's condition.
    classes : tuple of ParityClass
        Present classes first, the class of h = 0 first of all; absent classes (A = B = 0) last.
    shifts : {'auto', 'always', 'never'}
        The rule the form was derived with (:data:`SHIFTS`), so that a printed form says it.

    Examples
    --------
    >>> form = structure_factor_form(14)        # P2_1/c
    >>> [str(c) for c in form.conditions()]
    ['Eq(Mod(k + l, 2), 0)', 'Eq(Mod(k + l, 2), 1)']
    >>> [str(a) for a, _ in form.expressions()]
    ['4*cos(2*pi*(k*y))*cos(2*pi*(h*x + l*z))', '-4*sin(2*pi*(k*y))*sin(2*pi*(h*x + l*z))']
    """

    group: SpaceGroup
    modulus: tuple[int, int, int]
    congruences: tuple[Congruence, ...]
    classes: tuple[ParityClass, ...]
    shifts: str = "auto"

    @property
    def n_factors(self) -> int:
        """Total trigonometric factors in every class's A and B (common factors pulled out)."""
        return sum(c.n_factors for c in self.classes)

    @property
    def factored(self) -> bool:
        """True when no class fell back to the plain sum."""
        return all(c.factored for c in self.classes)

    def conditions(self) -> tuple:
        """SymPy conditions, one per class, in symbols h, k, l (True or False once integers are substituted)."""
        from crystal_fourier.derive._structure_factor_printing import class_condition

        return tuple(class_condition(c.congruences, c.alternatives, c.realized) for c in self.classes)

    def expressions(self) -> tuple:
        """(A, B) per class as SymPy expressions in h, k, l, x, y, z, common factors pulled out."""
        from crystal_fourier.derive._structure_factor_printing import sum_expression

        return tuple((sum_expression(c.a_terms), sum_expression(c.b_terms)) for c in self.classes)


def plain_factor_count(group: SpaceGroup) -> int:
    """Factors of the plain operation sum: one cosine (A) and one sine (B) per operation of G/Z^3.

    Parameters
    ----------
    group : SpaceGroup
        The space group, centring operations included.

    Returns
    -------
    int
        Twice the number of operations of G/Z^3.
    """
    return 2 * len(group.operations)


def factor_lower_bound(group: SpaceGroup) -> int:
    """Fewest trigonometric factors that A and B of one present class can have together, in any form.

    A product, sum or any expression of f factors cos/sin 2pi(a_j . x + c_j) is a function of the f
    linear forms a_j . x, so it is constant along every direction orthogonal to them; A and B are
    constant along no direction of the span of their frequencies. For a generic h of a present
    class F = A + iB has the |P| distinct frequencies R^T h (P the point group), spanning a space of
    dimension r; without -1 in P, A and B each have all of +-R^T h (no R^T h equals -R'^T h), so
    f_A, f_B >= r and the bound is 2r; with -1, the spans of A's and B's frequencies together
    cover it, and the bound is r. (P2_12_12_1: r = 3, bound 6, met by A = 4 cos cos cos,
    B = -4 sin sin sin; half the plain sum is 4, so the factor-count goal cannot be met.)

    Parameters
    ----------
    group : SpaceGroup
        The space group.

    Returns
    -------
    int
        2r, or r for a centrosymmetric group.

    Examples
    --------
    >>> from crystal_fourier.derive import space_group
    >>> [factor_lower_bound(space_group(n)) for n in (4, 14, 19, 225)]
    [4, 2, 6, 3]
    """
    import numpy as np

    rotations = sorted({op.rotation for op in group.operations})
    # A generic h: the rank of the orbit's span is the largest over h, reached off a finite union of
    # proper subspaces; three unrelated h with coprime entries avoid them for every crystallographic P.
    rank = max(int(np.linalg.matrix_rank(np.array([np.array(r).T @ np.array(h) for r in rotations], dtype=float)))
               for h in ((1, 10, 101), (7, -3, 29), (2, 31, -5)))
    return rank if _INVERSION in rotations else 2 * rank


def _pulled_factor_count(terms: tuple[TrigTerm, ...]) -> int:
    if not terms:
        return 0
    common = _common_factors(terms)
    return len(common) + sum(len(t.factors) - len(common) for t in terms)


def _common_factors(terms: tuple[TrigTerm, ...]) -> tuple[TrigFactor, ...]:
    """The factors (with multiplicity) that every term contains, sorted."""
    counts = None
    for term in terms:
        here = defaultdict(int)
        for f in term.factors:
            here[f] += 1
        counts = here if counts is None else {f: min(n, here.get(f, 0)) for f, n in counts.items()}
    return tuple(sorted(f for f, n in (counts or {}).items() for _ in range(n)))


def _modulus(group: SpaceGroup) -> tuple[int, int, int]:
    _, translations = group.arrays
    return tuple(DEN // gcd(DEN, *(int(v) for v in translations[:, i])) for i in range(3))


def _candidate_congruences(group: SpaceGroup) -> list[Congruence]:
    """k . t mod 1 as 'a . h mod n' for every translation t = a / n of the setting, simplest first."""
    found = set()
    for op in group.operations:
        t = op.translation_24
        if not any(t):
            continue
        n = DEN // gcd(DEN, *t)
        a = [v * n // DEN % n for v in t]
        for d in range(2, n + 1):       # a . h mod d for every divisor d of n: coarser conditions first
            if n % d == 0 and any(v % d for v in a):
                reduced = [v % d for v in a]
                reduced = [v - d if v > d // 2 else v for v in reduced]
                if next(v for v in reduced if v) < 0:
                    reduced = [-v for v in reduced]
                found.add(Congruence(d, tuple(reduced)))
    return sorted(found, key=lambda c: (c.modulus, sum(1 for v in c.coefficients if v),
                                        sum(abs(v) for v in c.coefficients), c.coefficients))


def _rotation_representatives(group: SpaceGroup) -> dict:
    representatives = {}
    for op in group.operations:
        representatives.setdefault(op.rotation, op.translation_24)
    return representatives


def _class_terms(group: SpaceGroup, residue: tuple[int, int, int]) -> tuple[tuple, tuple, bool]:
    """(A terms, B terms, factored) for the class of ``residue``."""
    centring = [op.translation_24 for op in group.operations if op.rotation == _IDENTITY]
    if any(sum(a * b for a, b in zip(residue, t, strict=True)) % DEN for t in centring):
        return (), (), True
    n_centring = Fraction(len(centring))
    representatives = _rotation_representatives(group)
    phases = {r: Fraction(sum(a * b for a, b in zip(residue, t, strict=True)) % DEN, DEN)
              for r, t in representatives.items()}
    rotations = tuple(representatives)
    try:
        if _INVERSION in representatives:
            whole = factor_plane_wave_sum({r: (n_centring, p) for r, p in phases.items()}, rotations)
            a_terms = _real_terms(whole, Fraction(0))
            b_terms = _real_terms(whole, Fraction(-1, 4))
        else:
            doubled = rotations + tuple(tuple(tuple(-v for v in row) for row in r) for r in rotations)
            parts = []
            for quarter in (Fraction(0), Fraction(-1, 4)):       # B = Re(F e(-1/4))
                coefficients = {}
                for r, p in phases.items():
                    minus = tuple(tuple(-v for v in row) for row in r)
                    coefficients[r] = (n_centring / 2, (p + quarter) % 1)
                    coefficients[minus] = (n_centring / 2, (-p - quarter) % 1)
                parts.append(_real_terms(factor_plane_wave_sum(coefficients, doubled), Fraction(0)))
            a_terms, b_terms = parts
        return a_terms, b_terms, True
    except ArithmeticError:
        return _plain_terms(representatives, phases, n_centring)


def _real_terms(products, quarter: Fraction) -> tuple[TrigTerm, ...]:
    """Re(e(quarter) * sum of products) as TrigTerms, exactly; ArithmeticError if a constant is irrational."""
    collected: dict[tuple[TrigFactor, ...], Fraction] = defaultdict(Fraction)
    for (rho, product_phase), signed_factors in products:
        phase = (product_phase + quarter) % 1
        if phase not in (0, Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)):
            raise ArithmeticError(f"constant e({phase}) has an irrational real part")
        real = {Fraction(0): 1, Fraction(1, 2): -1}.get(phase, 0)
        if not real:
            continue
        sign = real
        for s, _ in signed_factors:
            sign *= s
        key = tuple(sorted(f for _, f in signed_factors))
        collected[key] += sign * rho
    return tuple(sorted(TrigTerm(c, f) for f, c in collected.items() if c))


def _plain_terms(representatives, phases, n_centring) -> tuple[tuple, tuple, bool]:
    a_terms, b_terms = [], []
    for r, p in phases.items():
        form = tuple(r[j][i] for j in range(3) for i in range(3))
        for function, target in (("cos", a_terms), ("sin", b_terms)):
            sign, factor = canonical_factor(function, form, p)
            target.append(TrigTerm(sign * n_centring, (factor,)))
    return tuple(sorted(a_terms)), tuple(sorted(b_terms)), False


def _choose_congruences(candidates, residues, labels) -> tuple[Congruence, ...]:
    """Greedy: the fewest candidate congruences whose residues separate the classes (labels)."""
    chosen: list[Congruence] = []

    def impurity(forms):
        groups = defaultdict(lambda: defaultdict(int))
        for r, label in zip(residues, labels, strict=True):
            groups[tuple(c.value(r) for c in forms)][label] += 1
        return sum(sum(g.values()) ** 2 - sum(v * v for v in g.values()) for g in groups.values())

    current = impurity(chosen)
    while current:
        best = min(candidates, key=lambda c: impurity([*chosen, c]))
        chosen.append(best)
        current = impurity(chosen)
    return tuple(chosen)


def _smallest_description(congruences, residues, members) -> tuple[Congruence, ...]:
    """The fewest of ``congruences`` whose residues alone decide membership in ``members``."""
    from itertools import combinations

    for size in range(len(congruences) + 1):
        for subset in combinations(congruences, size):
            inside = {tuple(c.value(r) for c in subset) for r in members}
            if all((tuple(c.value(r) for c in subset) in inside) == (r in members) for r in residues):
                return subset
    return tuple(congruences)  # pragma: no cover (the full set always decides)


SHIFTS = ("auto", "always", "never")
"""When phases move into the arguments as shifts linear in h (:mod:`~crystal_fourier.derive._phase_shifts`):
``'always'`` wherever classes merge (fewest classes); ``'never'``: parity classes with constant phases
only; ``'auto'`` (the default) as International Tables Vol. B does, shifts for the non-centrosymmetric
groups only (P2_12_12_1: one form; P2_1/c keeps its two parity classes), except where that choice
misses the factor-count goal of issue 30 (no more than half the plain sum's factors) and the other
mode has fewer (29 of the 230 standard settings, all centrosymmetric with one shift-merged class:
Pnma 12 -> 3, P4/nnc 40 -> 5, Ia-3d 144 -> 18); so ``'auto'`` meets the goal wherever either mode does."""


def _meets_factor_goal(form: StructureFactorForm) -> bool:
    """Issue 30's goal: A and B of all classes together have no more than half the plain sum's factors."""
    return 2 * form.n_factors <= plain_factor_count(form.group)


@lru_cache(maxsize=None)
def _form_of_hall(hall_number: int, shifts: str = "auto") -> StructureFactorForm:
    if shifts == "auto":
        # Volume B's choice where it meets the goal (its own forms, e.g. P2_1/c's two classes);
        # otherwise whichever mode has fewer factors, Volume B's on a tie.
        volume_b = "never" if space_group(hall_number=hall_number).centrosymmetric else "always"
        chosen = _form_of_hall(hall_number, volume_b)
        if _meets_factor_goal(chosen):
            return chosen
        other = _form_of_hall(hall_number, "always" if volume_b == "never" else "never")
        return other if other.n_factors < chosen.n_factors else chosen
    group = space_group(hall_number=hall_number)
    modulus = _modulus(group)
    _, translations = group.arrays
    signatures = defaultdict(list)
    for residue in product(*(range(m) for m in modulus)):
        key = tuple(int(v) for v in (translations @ residue) % DEN)
        signatures[key].append(residue)
    # Classes merge where the phases move into the arguments (shifts linear in h) and where the
    # formulas agree; the class of h = 0 comes first, absent classes last.
    computed = [(members, *_class_terms(group, members[0])) for members in sorted(signatures.values())]
    mergeable = [(m, a, b) for m, a, b, factored in computed if factored and (a or b)]
    use_shifts = shifts == "always"
    merged = [(m, a, b, True) for m, a, b in (merge_by_shifts(mergeable, modulus) if use_shifts else mergeable)]
    merged += [entry for entry in computed if not (entry[3] and (entry[1] or entry[2]))]
    by_formula: dict[tuple, list] = {}
    for members, a_terms, b_terms, factored in merged:
        by_formula.setdefault((a_terms, b_terms, factored), []).extend(members)
    ordered = sorted(by_formula.items(), key=lambda item: (not (item[0][0] or item[0][1]), min(item[1])))
    residues = [r for _, members in ordered for r in members]
    labels = [i for i, (_, members) in enumerate(ordered) for _ in members]
    congruences = _choose_congruences(_candidate_congruences(group), residues, labels)
    classes = []
    for (a_terms, b_terms, factored), members in ordered:
        own = _smallest_description(congruences, residues, set(members))
        alternatives = tuple(sorted({tuple(c.value(r) for c in own) for r in members}))
        realized = tuple(sorted({tuple(c.value(r) for c in own) for r in residues}))
        classes.append(ParityClass(tuple(sorted(members)), own, alternatives, realized, a_terms, b_terms, factored))
    return StructureFactorForm(group, modulus, congruences, tuple(classes), shifts)


def structure_factor_form(group: "int | str | SpaceGroup | PlaneGroup", *, hall_number: int | None = None,
                          shifts: str = "auto") -> "StructureFactorForm | PlaneStructureFactorForm":
    """The factored structure-factor forms of a setting (default: the ITA standard one) or a plane group.

    Parameters
    ----------
    group : int or str or SpaceGroup or PlaneGroup
        As for :func:`~crystal_fourier.derive.space_group`, or a plane group (``'p4gm'``, a
        :class:`~crystal_fourier.derive._plane_groups.PlaneGroup`).
    hall_number : int, optional
        Another setting (1-530); not for a plane group.
    shifts : {'auto', 'always', 'never'}
        Where phases become shifts linear in h (see :data:`SHIFTS`).

    Returns
    -------
    StructureFactorForm or PlaneStructureFactorForm
        Its classes cover Z^3 exactly once; on each, A + i B = sum over G/Z^3 of e(h . (R x + t))
        (certified by :func:`crystal_fourier.proofs.structure_factor_certificate`). For a plane
        group, its forms in h, k and x, y, for :func:`~crystal_fourier.derive.render`.

    Examples
    --------
    >>> form = structure_factor_form("Fm-3m")
    >>> len(form.classes), form.n_factors, len(form.group.operations)
    (2, 18, 192)
    """
    if shifts not in SHIFTS:
        from crystal_fourier.errors import CrystalFourierError

        raise CrystalFourierError(f"shifts must be one of {', '.join(SHIFTS)}, got {shifts!r}")
    # Not at the top: _plane_groups' lazy import of the exporter (which imports this module) would hide a cycle.
    from crystal_fourier.derive._plane_groups import PlaneStructureFactorForm, as_plane_group

    plane = as_plane_group(group)
    if plane is not None:
        return PlaneStructureFactorForm(plane, shifts)
    return _form_of_hall(space_group(group, hall_number=hall_number).hall_number, shifts)
