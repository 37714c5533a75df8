"""Certificates of the structure-factor forms: each class's A + i B equals the operation sum, exactly.

The check reads only the printed strings (condition, A, B, as ``sympy.sympify`` parses them) and
the setting's operations; it never calls the factoring code. The argument:

1. **Periodicity.** Let m_i be the least common denominator of the i-th translation components of
   G/Z^3. Then e(h . t) depends on h only through h mod m, so does the operation sum's coefficient
   of each bilinear monomial. Every ``Mod(a . h, n)`` in a condition is checked to satisfy
   n | a_i m_i for each axis, so each condition is m-periodic too.
2. **Coverage.** On each residue r in [0, m_1) x [0, m_2) x [0, m_3) exactly one condition is
   True; by (1) the classes then cover Z^3 exactly once.
3. **Identity.** Arguments may also carry shifts linear in h (a . h, International Tables' cos 2 pi
   (hx - (h + k)/4)); after expansion each exponential's Miller phase a is known exactly and the
   residues are taken modulo the common period of m and the denominators of every a, so that
   e(a . h) too is constant on each residue class. For h = r + (period) n the operation sum is
   sum_g e(r . t_g) e(h^T R_g x): a finite sum of the bilinear exponentials E_M = e(h^T M x) with
   exact cyclotomic coefficients. The class formula is expanded the same way (cos u = (e(u) +
   e(-u))/2, sin u = (e(u) - e(-u))/2i, products multiplied out), every argument being checked to
   be 2 pi (h^T M x + c) with M integer and c rational. Equal coefficients for every M (compared in
   Q(zeta_N) modulo the cyclotomic polynomial) make A + i B and the operation sum equal for every h
   in the class and every x: an identity, not a sample.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from itertools import product
from math import gcd, lcm

from typing import TYPE_CHECKING

import sympy as sp

from crystal_fourier.derive import DEN, space_group

if TYPE_CHECKING:
    from crystal_fourier.derive import Basis, SpaceGroup

__all__ = ["structure_factor_certificate", "exponential_expansion", "operation_sum_expansion", "at_residue",
           "factored_basis_certificate"]

_H = sp.symbols("h k l")
_X = sp.symbols("x y z")
_LOCALS = {str(s): s for s in (*_H, *_X)}

Key = tuple[int, ...]
Phase = tuple[Fraction, Fraction, Fraction, Fraction]
"""(q, a_h, a_k, a_l): the phase q + a . h, modulo 1 once h is a residue."""
Expansion = dict[Key, dict[Phase, Fraction]]
"""Bilinear form M (9 ints, entry 3 j + i the coefficient of h_j x_i) -> {phase: rational c}: sum c e(phase) E_M."""

_NO_SHIFT = (Fraction(0),) * 3


def _add(target: Expansion, key: Key, phase, value: Fraction, miller=_NO_SHIFT) -> None:
    """Add value * e(phase + miller . h) E_key; a phase given as a tuple carries its own Miller part."""
    if isinstance(phase, tuple):
        phase, miller = phase[0], tuple(a + b for a, b in zip(phase[1:], miller, strict=True))
    phase %= 1
    if phase >= Fraction(1, 2):          # e(q + 1/2) = -e(q): one representative per pair
        phase -= Fraction(1, 2)
        value = -value
    phase = (phase, *miller)
    bucket = target.setdefault(key, {})
    bucket[phase] = bucket.get(phase, Fraction(0)) + value
    if not bucket[phase]:
        del bucket[phase]


def _multiply(a: Expansion, b: Expansion) -> Expansion:
    result: Expansion = {}
    for ka, ca in a.items():
        for kb, cb in b.items():
            key = tuple(x + y for x, y in zip(ka, kb, strict=True))
            for qa, va in ca.items():
                for qb, vb in cb.items():
                    _add(result, key, qa[0] + qb[0], va * vb, tuple(x + y for x, y in zip(qa[1:], qb[1:],
                                                                                         strict=True)))
    return result


def _trig_argument(argument: sp.Expr) -> tuple[Key, Fraction, tuple[Fraction, ...]]:
    """(M, c, a) with argument == 2 pi (h^T M x + a . h + c); ValueError otherwise."""
    scaled = sp.expand(argument / (2 * sp.pi))
    polynomial = sp.Poly(scaled, *_H, *_X)
    matrix = [0] * 9
    constant = Fraction(0)
    miller = [Fraction(0)] * 3
    for monomial, coefficient in polynomial.terms():
        if not coefficient.is_Rational:
            raise ValueError(f"coefficient {coefficient} in {argument} is not rational")
        degrees_h, degrees_x = monomial[:3], monomial[3:]
        if sum(monomial) == 0:
            constant = Fraction(int(coefficient.p), int(coefficient.q))
            continue
        if sum(degrees_h) == 1 and sum(degrees_x) == 0:       # a shift linear in the Miller indices
            miller[degrees_h.index(1)] = Fraction(int(coefficient.p), int(coefficient.q))
            continue
        if sum(degrees_h) != 1 or sum(degrees_x) != 1 or not coefficient.is_Integer:
            raise ValueError(f"{argument} is not 2 pi (h^T M x + c) with integer M")
        matrix[3 * degrees_h.index(1) + degrees_x.index(1)] = int(coefficient)
    return tuple(matrix), constant, tuple(miller)


_ZERO_KEY = (0,) * 9


def _trig_expansion(expression: sp.Expr) -> Expansion:
    matrix, constant, miller = _trig_argument(expression.args[0])
    negative = tuple(-v for v in matrix)
    minus = tuple(-a for a in miller)
    result: Expansion = {}
    if isinstance(expression, sp.cos):       # (e(u) + e(-u)) / 2
        _add(result, matrix, constant, Fraction(1, 2), miller)
        _add(result, negative, -constant, Fraction(1, 2), minus)
    else:                                    # (e(u) - e(-u)) / 2i = e(u - 1/4)/2 + e(-u + 1/4)/2
        _add(result, matrix, constant - Fraction(1, 4), Fraction(1, 2), miller)
        _add(result, negative, -constant + Fraction(1, 4), Fraction(1, 2), minus)
    return result


def exponential_expansion(expression: sp.Expr) -> Expansion:
    """An expression built from rationals, +, *, integer powers, cos and sin of 2 pi (h^T M x + c), expanded exactly.

    Parameters
    ----------
    expression : sympy.Expr
        An expression in the Miller symbols h, k, l and the fractional coordinates x, y, z.

    Returns
    -------
    dict
        Bilinear form M (9 ints, entry 3 j + i the coefficient of h_j x_i) -> {phase (q, a_h, a_k, a_l):
        exact rational coefficient c}, meaning the sum of c e(q + a . h) e(h^T M x).

    Raises
    ------
    ValueError
        On anything else (a symbol outside a trigonometric function, an irrational constant).

    Examples
    --------
    >>> e = exponential_expansion(sp.sympify("2*cos(2*pi*h*x)"))    # e(hx) + e(-hx)
    >>> sorted((key[0], [str(v) for v in bucket.values()]) for key, bucket in e.items())
    [(-1, ['1']), (1, ['1'])]
    """
    if expression.is_Rational:
        result: Expansion = {}
        if expression != 0:
            _add(result, _ZERO_KEY, Fraction(0), Fraction(int(expression.p), int(expression.q)))
        return result
    if isinstance(expression, (sp.cos, sp.sin)):
        return _trig_expansion(expression)
    if isinstance(expression, sp.Add):
        result = {}
        for term in expression.args:
            for key, bucket in exponential_expansion(term).items():
                for phase, value in bucket.items():
                    _add(result, key, phase, value)
        return result
    if isinstance(expression, sp.Mul):
        result = {_ZERO_KEY: {(Fraction(0),) * 4: Fraction(1)}}
        for factor in expression.args:
            result = _multiply(result, exponential_expansion(factor))
        return result
    if isinstance(expression, sp.Pow) and expression.exp.is_Integer and expression.exp > 0:
        base = exponential_expansion(expression.base)
        result = {_ZERO_KEY: {(Fraction(0),) * 4: Fraction(1)}}
        for _ in range(int(expression.exp)):
            result = _multiply(result, base)
        return result
    raise ValueError(f"cannot expand {expression!r} into exponentials of bilinear forms")


def operation_sum_expansion(group: "SpaceGroup", residue: "tuple[int, int, int]"
                            ) -> dict[Key, dict[Fraction, Fraction]]:
    """sum over G/Z^3 of e(r . t) E_R for h = ``residue`` (+ m n), straight from the operations.

    Parameters
    ----------
    group : SpaceGroup
        The space group, centring operations included.
    residue : tuple of int
        The Miller indices h modulo the form's modulus.

    Returns
    -------
    dict
        The rotation R as the bilinear form h^T R x (9 ints, entry 3 j + i = R_ji) -> {phase in turns:
        exact rational coefficient}, with the phases folded at h = ``residue`` as :func:`at_residue` does.
    """
    result: Expansion = {}
    for op in group.operations:
        key = tuple(op.rotation[j][i] for j in range(3) for i in range(3))
        phase = Fraction(sum(a * b for a, b in zip(residue, op.translation_24, strict=True)), DEN)
        _add(result, key, phase, Fraction(1))
    return at_residue(result, residue)


def at_residue(expansion: Expansion, residue) -> dict[Key, dict[Fraction, Fraction]]:
    """The expansion with h = ``residue`` put into every Miller-index phase (q + a . r, modulo 1)."""
    result: dict[Key, dict[Fraction, Fraction]] = {}
    for key, bucket in expansion.items():
        folded = result.setdefault(key, {})
        for (q, *a), value in bucket.items():
            phase = (q + sum(x * y for x, y in zip(a, residue, strict=True))) % 1
            sign = 1
            if phase >= Fraction(1, 2):          # e(q + 1/2) = -e(q)
                phase, sign = phase - Fraction(1, 2), -1
            folded[phase] = folded.get(phase, Fraction(0)) + sign * value
        result[key] = {q: v for q, v in folded.items() if v}
    return result


@lru_cache(maxsize=64)
def _cyclotomic(n: int):
    w = sp.Symbol("w")
    return w, sp.Poly(sp.cyclotomic_poly(n, w), w)


def _is_zero(bucket: dict[Fraction, Fraction]) -> bool:
    """sum c_q e(q) == 0 exactly, by reduction modulo the N-th cyclotomic polynomial."""
    if not bucket:
        return True
    n = lcm(*(q.denominator for q in bucket))
    if n <= 2:
        return False   # after folding q + 1/2 onto q, phases 0 alone: a nonzero rational
    w, phi = _cyclotomic(n)
    polynomial = sp.Poly(sum(sp.Rational(c.numerator, c.denominator) * w ** int(q * n) for q, c in bucket.items()), w)
    return polynomial.rem(phi).is_zero


def _difference(a: Expansion, b: Expansion) -> list[Key]:
    keys = []
    for key in set(a) | set(b):
        bucket = dict(a.get(key, {}))
        for q, value in b.get(key, {}).items():
            bucket[q] = bucket.get(q, Fraction(0)) - value
        bucket = {q: v for q, v in bucket.items() if v}
        if not _is_zero(bucket):
            keys.append(key)
    return sorted(keys)


def _modulus(group) -> tuple[int, int, int]:
    return tuple(lcm(*(DEN // gcd(DEN, op.translation_24[i]) for op in group.operations)) for i in range(3))


def _check_periodic(condition: sp.Basic, modulus) -> list[str]:
    problems = []
    for mod in condition.atoms(sp.Mod):
        form, n = mod.args
        if not n.is_Integer:
            problems.append(f"{mod}: modulus is not an integer")
            continue
        coefficients = sp.Poly(form, *_H)
        if coefficients.total_degree() > 1:
            problems.append(f"{mod}: not linear in h, k, l")
            continue
        for i, symbol in enumerate(_H):
            a = coefficients.coeff_monomial(symbol)
            if not a.is_Integer or (int(a) * modulus[i]) % int(n):
                problems.append(f"{mod}: not periodic with period {modulus[i]} in {symbol}")
    return problems


def _parsed_class(index: int, item: dict, modulus, failures: list[str]) -> tuple:
    """(condition, expansion of A + iB or None) of one class, its problems appended to ``failures``."""
    condition = sp.sympify(item["condition"], locals=_LOCALS)
    if isinstance(condition, bool):       # sympify("True") is Python's True
        condition = sp.true if condition else sp.false
    failures.extend(f"class {index}: {p}" for p in _check_periodic(condition, modulus))
    try:
        expansion = exponential_expansion(sp.sympify(item["A"], locals=_LOCALS))
        for key, bucket in exponential_expansion(sp.sympify(item["B"], locals=_LOCALS)).items():  # + iB, i = e(1/4)
            for (q, *a), value in bucket.items():
                _add(expansion, key, q + Fraction(1, 4), value, tuple(a))
    except ValueError as error:
        failures.append(f"class {index}: {error}")
        expansion = None
    return condition, expansion


def _without_l_row(reference: dict) -> dict:
    """At l = 0 the l row of h^T R x vanishes: merge the keys that differ only there."""
    projected: dict = {}
    for key, bucket in reference.items():
        target = projected.setdefault(key[:6] + (0, 0, 0), {})
        for q, value in bucket.items():
            target[q] = target.get(q, Fraction(0)) + value
    return projected


def structure_factor_certificate(document: dict, *, plane: bool = False) -> dict:
    """Check a structure-factor document (the JSON of ``crystal-fourier structure-factor``) exactly.

    Parameters
    ----------
    document : dict
        With ``hall_number`` and ``classes``, a list of {``condition``, ``A``, ``B``} strings; a plane
        group's document (``embedding_hall_number``) with ``plane=True``.
    plane : bool
        Check only l = 0, with the l row of each operation's bilinear form set to zero (the plane
        group acting on (x, y); its formulas have no l and no z).

    Returns
    -------
    dict
        ``{"hall_number", "modulus", "n_classes", "n_residues", "ok", "failures"}``; ``ok`` is True when
        every condition is periodic, every residue lies in exactly one class, and on each residue
        A + i B equals the operation sum as an exponential polynomial (module docstring).

    Examples
    --------
    >>> from crystal_fourier.derive import structure_factor_document
    >>> structure_factor_certificate(structure_factor_document(14))["ok"]
    True
    """
    group = space_group(hall_number=document["embedding_hall_number" if plane else "hall_number"])
    modulus = _modulus(group)
    failures: list[str] = []
    classes = [_parsed_class(index, item, modulus, failures) for index, item in enumerate(document["classes"])]
    # A Miller shift a . h is periodic in h_i with period the denominator of a_i: check h modulo
    # the common period of the operations and of every shift.
    period = list(modulus)
    for _, expansion in classes:
        for bucket in (expansion or {}).values():
            for (_, *a) in bucket:
                period = [lcm(p, x.denominator) for p, x in zip(period, a, strict=True)]
    if plane:
        period[2] = 1
    residues = list(product(*(range(p) for p in period)))
    for residue in residues:
        values = dict(zip(_H, residue, strict=True))
        holding = [i for i, (condition, _) in enumerate(classes) if bool(condition.subs(values))]
        if len(holding) != 1:
            failures.append(f"h = {residue}: {len(holding)} classes hold (expected exactly 1)")
            continue
        expansion = classes[holding[0]][1]
        if expansion is None:
            continue
        reference = operation_sum_expansion(group, residue)
        if plane:
            reference = _without_l_row(reference)
        wrong = _difference(at_residue(expansion, residue), reference)
        if wrong:
            failures.append(f"h = {residue} (class {holding[0]}): A + iB differs from the operation sum "
                            f"at {len(wrong)} bilinear term(s), first M = {wrong[0]}")
    return {"hall_number": group.hall_number, "plane": plane, "modulus": list(modulus), "period": period,
            "n_classes": len(classes),
            "n_residues": len(residues), "ok": not failures, "failures": failures[:20]}


def factored_basis_certificate(basis: "Basis", *, shifts: str = "auto", document: dict | None = None) -> dict:
    """Check exactly that each basis function equals alpha A(k0) + beta B(k0) (``basis --form factored``).

    A and B are read from :func:`~crystal_fourier.derive.structure_factor_document` (the strings),
    the scales (alpha, beta, k0) from :func:`~crystal_fourier.derive.factored_scales`; the function's
    own cosine terms (the stored sum form) are the reference. Both sides are expanded into
    exponentials e(m . x) at h = k0 and compared in Q(zeta_N). ``document`` replaces the derived
    structure-factor document (to check a given one).

    Parameters
    ----------
    basis : Basis
        A derived basis.
    shifts : {'auto', 'always', 'never'}, default 'auto'
        Passed to :func:`~crystal_fourier.derive.structure_factor_document` when ``document`` is None.
    document : dict, optional
        A structure-factor document to check instead of the derived one.

    Returns
    -------
    dict
        ``{"n_functions", "n_checked", "n_sum_form", "ok", "failures"}``; functions whose scales are
        irrational keep the sum form and are counted in ``n_sum_form``.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> factored_basis_certificate(basis(19, 2, "box"))["ok"]
    True
    """
    from crystal_fourier.derive._factored_bases import factored_scales
    from crystal_fourier.derive._structure_factor_export import structure_factor_document

    if document is None:
        document = structure_factor_document(basis.group, shifts=shifts)
    parsed = []
    for item in document["classes"]:
        condition = sp.sympify(item["condition"], locals=_LOCALS)
        if isinstance(condition, bool):
            condition = sp.true if condition else sp.false
        parsed.append((condition, exponential_expansion(sp.sympify(item["A"], locals=_LOCALS)),
                       exponential_expansion(sp.sympify(item["B"], locals=_LOCALS))))
    failures, checked, sum_form = [], 0, 0
    for index, function in enumerate(basis.real.functions()):
        scales = factored_scales(basis, index)
        if scales is None:
            sum_form += 1
            continue
        k0, alpha, beta = scales
        values = dict(zip(_H, k0, strict=True))
        _, a, b = next(p for p in parsed if bool(p[0].subs(values)))
        combined: dict = {}
        for scale, expansion in ((alpha, a), (beta, b)):
            for key, bucket in at_residue(expansion, k0).items():
                m = tuple(sum(key[3 * j + i] * k0[j] for j in range(3)) for i in range(3))
                target = combined.setdefault(m, {})
                for q, value in bucket.items():
                    target[q] = target.get(q, Fraction(0)) + scale * value
        reference: dict = {}
        for m, p in zip(function.frequencies, function.phases_48, strict=True):
            for sign in (1, -1):
                bucket = reference.setdefault(tuple(sign * v for v in m), {})
                q = Fraction(sign * p, 48) % 1
                sign_value = Fraction(1, 2)
                if q >= Fraction(1, 2):
                    q, sign_value = q - Fraction(1, 2), -sign_value
                bucket[q] = bucket.get(q, Fraction(0)) + sign_value
        wrong = _difference(combined, reference)
        checked += 1
        if wrong:
            failures.append(f"f_{index} (k0 = {k0}): differs at frequencies {wrong[:3]}")
    return {"n_functions": len(basis.real), "n_checked": checked, "n_sum_form": sum_form, "ok": not failures,
            "failures": failures[:20]}
