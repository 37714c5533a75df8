"""Exact closed forms of the real basis as SymPy expressions in x, y, z.

Each function of :mod:`crystal_fourier.derive._real_bases` is printed as

    f(x, y, z) = sum_j cos(2 pi (h_j x + k_j y + l_j z) + pi p_j / 24),

with p_j the exact phase in 48ths; SymPy's automatic evaluation turns the
quarter-period offsets into signs and sines (cos(a + pi/2) = -sin(a)). SymPy is
used here only for display and proof, never for the derivation itself.

The exact SymPy proof of invariance (:func:`invariance_residual`) substitutes
x -> R x + t into the expression, rewrites every trigonometric function as
exponentials e(.) = exp(2 pi i .), and expands: each exponential of a linear
form is a Laurent monomial in X = e(x), Y = e(y), Z = e(z) times an exact root
of unity, so f(g x) - f(x) simplifies to 0 exactly when the function is
invariant.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import sympy as sp

from crystal_fourier.derive._operations import DEN, Operation
from crystal_fourier.derive._real_bases import PHASE_DEN, RealFunction

if TYPE_CHECKING:
    from crystal_fourier.derive._bases import Basis

__all__ = ["X", "Y", "Z", "closed_form", "closed_forms", "invariance_residual", "laurent_form", "latex"]

X, Y, Z = sp.symbols("x y z", real=True)


def closed_form(function: RealFunction) -> sp.Expr:
    """The exact SymPy expression of one real basis function.

    Parameters
    ----------
    function : RealFunction
        A function of a real basis: frequencies and phases in 48ths.

    Returns
    -------
    sympy.Expr
        sum cos(2 pi k.x + 2 pi p/48) over its terms, in the symbols x, y, z (fractional coordinates).

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> closed_form(basis(1, 1, "box").real.function(0))
    1
    >>> b = basis(4, 1, "box")   # P2_1
    >>> [str(closed_form(f)) for f in b.real.functions()][1:3]
    ['cos(2*pi*x)', 'cos(2*pi*z)']
    """
    total = sp.Integer(0)
    for (h, k, l), p in zip(function.frequencies, function.phases_48, strict=True):
        total += sp.cos(2 * sp.pi * (h * X + k * Y + l * Z) + sp.pi * sp.Rational(2 * p, PHASE_DEN))
    return total


def closed_forms(basis: Basis) -> tuple[sp.Expr, ...]:
    """Closed forms of every real basis function of a :class:`~crystal_fourier.derive.Basis`.

    Parameters
    ----------
    basis : Basis
        A basis from :func:`~crystal_fourier.derive.basis`.

    Returns
    -------
    tuple of sympy.Expr
        One exact expression in the symbols :data:`X`, :data:`Y`, :data:`Z` (fractional
        coordinates) per real basis function, in the basis's order; function 0 is the constant 1.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> closed_forms(basis(2, 1, "box"))[0]
    1"""
    return tuple(closed_form(f) for f in basis.real.functions())


def latex(expression: sp.Expr) -> str:
    """LaTeX of a closed form, terms in a stable order.

    Parameters
    ----------
    expression : sympy.Expr
        A closed form, as from :func:`closed_form`.

    Returns
    -------
    str
        The LaTeX text (SymPy's ``latex`` with lexicographic term order).

    Examples
    --------
    >>> latex(sp.cos(2 * sp.pi * X))
    '\\\\cos{\\\\left(2 \\\\pi x \\\\right)}'
    """
    return sp.latex(expression, order="lex")


@lru_cache(maxsize=None)
def _exp_symbols():
    # E_x = e(x), E_y, E_z and w = e(1/48): f becomes a Laurent polynomial over Z[w]/Phi_48(w).
    return sp.symbols("E_x E_y E_z w", nonzero=True)


@lru_cache(maxsize=None)
def _phi_48():
    return sp.Poly(sp.cyclotomic_poly(PHASE_DEN, _exp_symbols()[3]), _exp_symbols()[3])


def laurent_form(expression: sp.Expr) -> dict[tuple[int, int, int], tuple[sp.Rational, ...]]:
    """Canonical exact form of a trigonometric polynomial in 2 pi x, 2 pi y, 2 pi z.

    Each term c cos(2 pi (m . x) + pi r) or c sin(...) of ``expression`` (c and r
    rational, as SymPy prints every closed form and its images under an
    operation) is split into exponentials (c/2)(e(m.x) w^a +- e(-m.x) w^-a),
    w = e(1/48); the coefficient of each frequency is then reduced modulo the
    cyclotomic polynomial Phi_48(w), giving 16 rationals per frequency. Two
    expressions are equal as functions iff their forms are equal.

    Raises
    ------
    ValueError
        If a term is not of that shape (the argument is not linear in x, y, z
        with integer coefficients plus a multiple of pi/24).
    """
    w = _exp_symbols()[3]
    coefficients: dict[tuple[int, int, int], sp.Expr] = {}

    def add(hkl, value):
        coefficients[hkl] = coefficients.get(hkl, sp.Integer(0)) + value

    for term in sp.Add.make_args(sp.expand(expression)):
        if term == 0:
            continue
        coefficient, functions = term.as_independent(X, Y, Z, as_Add=False)
        if functions == 1:
            add((0, 0, 0), coefficient)
            continue
        if not isinstance(functions, (sp.cos, sp.sin)) or not coefficient.is_Rational:
            raise ValueError(f"not a term c*cos(...) or c*sin(...): {term}")
        argument = sp.expand(functions.args[0] / (2 * sp.pi))
        hkl = tuple(argument.coeff(s) for s in (X, Y, Z))
        rest = sp.expand(argument - sum(c * s for c, s in zip(hkl, (X, Y, Z), strict=True)))
        if not all(c.is_Integer for c in hkl) or not rest.is_Rational or (rest * PHASE_DEN).q != 1:
            raise ValueError(f"argument is not 2 pi (integer form + k/48): {functions.args[0]}")
        a = int(rest * PHASE_DEN)
        plus, minus = tuple(int(c) for c in hkl), tuple(-int(c) for c in hkl)
        if isinstance(functions, sp.cos):   # cos u = (e^{iu} + e^{-iu}) / 2
            add(plus, coefficient / 2 * w ** (a % PHASE_DEN))
            add(minus, coefficient / 2 * w ** (-a % PHASE_DEN))
        else:                               # sin u = (e^{iu} - e^{-iu}) / 2i, and 1/i = w^36
            add(plus, coefficient / 2 * w ** ((a + 36) % PHASE_DEN))
            add(minus, -coefficient / 2 * w ** ((-a + 36) % PHASE_DEN))
    form = {}
    for hkl, value in coefficients.items():
        remainder = sp.Poly(value, w).rem(_phi_48())
        if not remainder.is_zero:
            form[hkl] = tuple(remainder.all_coeffs())
    return form


def invariance_residual(expression: sp.Expr, operation: Operation) -> sp.Expr:
    """Exact SymPy simplification of f(R x + t) - f(x); 0 iff f is invariant under the operation.

    x -> R x + t is substituted into the closed form; SymPy's automatic
    evaluation normalizes each term, and both sides are brought to the canonical
    :func:`laurent_form` (exact rationals over Q(zeta_48)). The residual is 0
    exactly when the forms agree; otherwise it is the (automatically evaluated)
    difference, which is then certainly not identically zero.

    Parameters
    ----------
    expression : sympy.Expr
        f(x, y, z) in fractional coordinates, as from :func:`closed_form`.
    operation : Operation
        x -> R x + t, t in 24ths.

    Returns
    -------
    sympy.Expr
        ``0`` when f is invariant, else the expanded difference f(R x + t) - f(x).

    Examples
    --------
    >>> f = sp.cos(2 * sp.pi * Y)
    >>> invariance_residual(f, Operation.parse("-x,y+1/2,-z"))
    -2*cos(2*pi*y)
    >>> invariance_residual(sp.cos(4 * sp.pi * Y), Operation.parse("-x,y+1/2,-z"))
    0
    """
    rotation = operation.rotation
    t = [sp.Rational(v, DEN) for v in operation.translation_24]
    image = {
        symbol: sum(rotation[i][j] * (X, Y, Z)[j] for j in range(3)) + t[i]
        for i, symbol in enumerate((X, Y, Z))
    }
    substituted = expression.xreplace(image)
    if laurent_form(substituted) == laurent_form(expression):
        return sp.Integer(0)
    # Not invariant: the exact difference as SymPy evaluates it (simplify() can take minutes here).
    return sp.expand(substituted - expression)
