"""Fewer parity classes: phases that depend linearly on h move into the arguments (Vol. B's style).

Within each parity class the structure-factor form is a sum of terms rho * prod_f cos(2 pi (w_f +
sigma_f)), sigma_f a class constant (a sine is a cosine shifted by -1/4, a minus sign a shift of
1/2). Several classes whose terms have the same moduli rho and the same forms w_f merge into one
when every sigma_f is the value at h of one affine function a_f . h + c_f (mod 1), with a_f in
(1/2m_1) Z x (1/2m_2) Z x (1/2m_3) Z: one factor may change sign with h mod 2m as long as the
product does not (P2_12_12_1's four classes become International Tables' single form A = 4 cos 2 pi
(hx - (h - k)/4) cos(...) cos(...)); the certificate checks h modulo the full period. The sign of
a term is free to move between its factors (two half-period
shifts cancel), so the first r - 1 factors are fitted modulo 1/2 and the last one takes the
remaining sign, modulo 1.

The search is finite and exact: a_f runs over the 8 m_1 m_2 m_3 candidate vectors and c_f is
fixed by the first residue; every residue of every class is then checked.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import product

from crystal_fourier.derive._trig_products import TrigTerm, canonical_factor

__all__ = ["merge_by_shifts", "skeleton"]

_QUARTER = Fraction(1, 4)
_HALF = Fraction(1, 2)


def skeleton(terms: tuple[TrigTerm, ...]) -> tuple | None:
    """What must agree between classes that merge: each term's |coefficient| and its factors' forms."""
    keys = [_key(t) for t in terms]
    if len(set(keys)) != len(keys) or any(any(f.miller_shift != (0, 0, 0) for f in t.factors) for t in terms):
        return None
    return tuple(sorted(keys))


def _key(term: TrigTerm) -> tuple:
    return abs(term.coefficient), tuple(sorted(f.form for f in term.factors))


def _phases(term: TrigTerm) -> list[Fraction]:
    """sigma_f of each factor in the order of the sorted forms, the term's sign moved onto the last one."""
    ordered = sorted(term.factors, key=lambda f: f.form)
    sigmas = [f.shift - (_QUARTER if f.function == "sin" else 0) for f in ordered]
    if term.coefficient < 0:
        sigmas[-1] += _HALF
    return [s % 1 for s in sigmas]


def _fit(targets, modulus, period: Fraction):
    """(a, c) with a . r + c = target (mod period) for every (residue r, target), or None."""
    (r0, t0) = targets[0]
    for numerators in product(*(range(2 * m) for m in modulus)):
        a = tuple(Fraction(n, 2 * m) for n, m in zip(numerators, modulus, strict=True))
        c = (t0 - sum(x * y for x, y in zip(a, r0, strict=True))) % period
        if all((sum(x * y for x, y in zip(a, r, strict=True)) + c - t) % period == 0 for r, t in targets):
            return a, c
    return None


def _merged_terms(per_class_terms, members_of_class, modulus):
    """One tuple of TrigTerms with Miller-index shifts equal to every class's terms, or None."""
    reference = per_class_terms[0]
    result = []
    for term in reference:
        key = _key(term)
        forms = key[1]
        matching = []
        for terms, members in zip(per_class_terms, members_of_class, strict=True):
            partner = next(t for t in terms if _key(t) == key)
            matching.append((_phases(partner), members))
        n_factors = len(term.factors)
        corrections = {r: Fraction(0) for _, members in matching for r in members}
        factors = []
        for index in range(n_factors):
            last = index == n_factors - 1
            period = Fraction(1) if last else _HALF
            targets = [(r, (phases[index] + (corrections[r] if last else 0)) % period)
                       for phases, members in matching for r in members]
            fitted = _fit(targets, modulus, period)
            if fitted is None:
                return None
            a, c = fitted
            for phases, members in matching:
                for r in members:
                    value = sum(x * y for x, y in zip(a, r, strict=True)) + c
                    if not last:
                        corrections[r] += (phases[index] - value) % 1     # 0 or 1/2, passed to the last factor
            factors.append((forms[index], a, c))
        coefficient = abs(term.coefficient)
        built = []
        for form, a, c in factors:
            sign, factor = canonical_factor("cos", form, c, a)
            coefficient *= sign
            built.append(factor)
        result.append(TrigTerm(coefficient, tuple(sorted(built))))
    return tuple(sorted(result))


def merge_by_shifts(classes, modulus):
    """Merge present classes ``[(members, a_terms, b_terms), ...]`` into one where shifts allow.

    Returns the list of ``(members, a_terms, b_terms)`` after merging: classes grouped by
    :func:`skeleton` of A and B, each group replaced by one class when every factor's phase is an
    affine function of h (mod 1) on all of its residues; groups that do not fit stay as given.
    """
    groups: dict[tuple, list] = {}
    for entry in classes:
        _, a_terms, b_terms = entry
        key = (skeleton(a_terms), skeleton(b_terms))
        if None in key:
            key = ("unique", id(entry))
        groups.setdefault(key, []).append(entry)
    result = []
    for group in groups.values():
        if len(group) > 1:
            members = [m for m, _, _ in group]
            a_terms = _merged_terms([a for _, a, _ in group], members, modulus)
            b_terms = _merged_terms([b for _, _, b in group], members, modulus)
            if a_terms is not None and b_terms is not None:
                result.append((sorted(r for m in members for r in m), a_terms, b_terms))
                continue
        result.extend(group)
    return result
