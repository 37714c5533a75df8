"""SymPy expressions of structure-factor forms: conditions on h, k, l and the A, B formulas.

The expressions are built unevaluated where SymPy would otherwise rewrite them (``2*pi*(h*x +
l*z)`` stays as written instead of ``pi*(2*h*x + 2*l*z)``); ``str`` of each parses back with
``sympy.sympify`` to an equal value (the JSON contract of ``crystal-fourier structure-factor``).
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from crystal_fourier.derive._trig_products import TrigFactor, TrigTerm

__all__ = ["H", "K", "L", "MILLER", "COORDINATES", "class_condition", "sum_expression", "factor_expression",
           "congruence_expression"]

H, K, L = sp.symbols("h k l")
MILLER = (H, K, L)
COORDINATES = sp.symbols("x y z")


def congruence_expression(congruence) -> sp.Expr:
    """``Mod(a . h, n)`` of a :class:`~crystal_fourier.derive._structure_factors.Congruence`."""
    form = sum(a * s for a, s in zip(congruence.coefficients, MILLER, strict=True))
    return sp.Mod(form, congruence.modulus)


def class_condition(congruences, alternatives, realized=None) -> sp.Basic:
    """The condition of one class: an And of per-congruence conditions, or an Or of such Ands.

    ``alternatives`` lists the residue tuples (one residue per congruence) in the class. When they
    form a product set, each congruence contributes Eq (one residue), Ne (all residues but one) or
    nothing (every residue); when all realized tuples but one belong, an Or of Ne; otherwise an
    Or over the tuples.
    """
    if not congruences:
        return sp.true
    per_form = [sorted({t[i] for t in alternatives}) for i in range(len(congruences))]
    size = 1
    for values in per_form:
        size *= len(values)
    if size == len(alternatives):
        parts = []
        for congruence, values in zip(congruences, per_form, strict=True):
            mod = congruence_expression(congruence)
            if len(values) == congruence.modulus:
                continue
            if len(values) == 1:
                parts.append(sp.Eq(mod, values[0]))
            elif len(values) == congruence.modulus - 1:
                missing = next(v for v in range(congruence.modulus) if v not in values)
                parts.append(sp.Ne(mod, missing))
            else:
                parts.append(sp.Or(*(sp.Eq(mod, v) for v in values)))
        return sp.And(*parts) if parts else sp.true
    if realized is not None and len(realized) == len(alternatives) + 1:
        (missing,) = set(realized) - set(alternatives)
        return sp.Or(*(sp.Ne(congruence_expression(c), v) for c, v in zip(congruences, missing, strict=True)))
    return sp.Or(*(sp.And(*(sp.Eq(congruence_expression(c), v) for c, v in zip(congruences, t, strict=True)))
                   for t in alternatives))


@lru_cache(maxsize=4096)
def factor_expression(factor: TrigFactor) -> sp.Expr:
    """``cos(2*pi*(form + shift))`` or ``sin(...)``, unevaluated so that it prints as written."""
    form = sum(factor.form[3 * j + i] * MILLER[j] * COORDINATES[i] for j in range(3) for i in range(3))
    argument = form + sum(sp.Rational(a.numerator, a.denominator) * m for a, m in zip(factor.miller_shift, MILLER,
                                                                                       strict=True))
    argument += sp.Rational(factor.shift.numerator, factor.shift.denominator)
    function = sp.cos if factor.function == "cos" else sp.sin
    return function(sp.Mul(2, sp.pi, argument, evaluate=False), evaluate=False)


def sum_expression(terms: tuple[TrigTerm, ...]) -> sp.Expr:
    """The sum of ``terms`` with the factors common to every term, and the gcd of the coefficients, pulled out."""
    from crystal_fourier.derive._structure_factors import _common_factors

    if not terms:
        return sp.Integer(0)
    common = _common_factors(terms)
    numerators = [t.coefficient.numerator for t in terms]
    denominators = [t.coefficient.denominator for t in terms]
    from math import gcd, lcm

    scale = sp.Rational(gcd(*numerators), lcm(*denominators))
    if terms[0].coefficient < 0:
        scale = -scale
    remaining = []
    for term in terms:
        rest = list(term.factors)
        for f in common:
            rest.remove(f)
        coefficient = sp.Rational(term.coefficient.numerator, term.coefficient.denominator) / scale
        remaining.append(sp.Mul(coefficient, *(factor_expression(f) for f in rest), evaluate=False)
                         if coefficient != 1 else sp.Mul(*(factor_expression(f) for f in rest), evaluate=False))
    inner = remaining[0] if len(remaining) == 1 else sp.Add(*remaining, evaluate=False)
    pieces = [factor_expression(f) for f in common]
    if inner != 1:
        pieces.append(inner)
    if scale != 1:
        pieces.insert(0, scale)
    if not pieces:
        return sp.Integer(1)
    return pieces[0] if len(pieces) == 1 else sp.Mul(*pieces, evaluate=False)
