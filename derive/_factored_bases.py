"""Basis functions in the structure-factor product form (``basis --form factored``).

The orbit function of a present orbit O with representative k0 (unit weight per member, as
:mod:`~crystal_fourier.derive._real_bases` stores it) is psi_O = (|O| / |G|) F(k0; x), with
F = A + i B the structure factor of the general position (every operation maps k0 onto a member
of O, each member |G|/|O| times with the same phase). So

* a pair part ``re`` is (|O|/|G|) A(k0) and ``im`` is (|O|/|G|) B(k0);
* a centric function e(-c/48) psi_O / 2 (c the phase of -k0 in 24ths) is
  (|O| / 2|G|) (cos(2 pi c/48) A(k0) + sin(2 pi c/48) B(k0)); the constant function (k0 = 0) is psi_O.

The product forms of A and B (:mod:`~crystal_fourier.derive._structure_factors`) are evaluated at
h = k0, which keeps their factors. Where cos(2 pi c/48) or sin(2 pi c/48) is irrational the sum
form is returned instead (``None`` from :func:`factored_form`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import sympy as sp

from crystal_fourier.derive._structure_factor_printing import MILLER
from crystal_fourier.derive._structure_factors import structure_factor_form

if TYPE_CHECKING:
    from crystal_fourier.derive._bases import Basis

__all__ = ["factored_form", "factored_forms", "factored_scales"]

_QUARTER_TURNS = {0: (1, 0), 12: (0, 1), 24: (-1, 0), 36: (0, -1)}
"""c in 48ths -> (cos, sin) of 2 pi c/48 where both are rational."""


def factored_scales(basis: Basis, index: int) -> tuple[tuple[int, int, int], Fraction, Fraction] | None:
    """(k0, alpha, beta) with function ``index`` = alpha A(k0) + beta B(k0), or None if irrational.

    Parameters
    ----------
    basis : Basis
        A derived basis.
    index : int
        Index of the real function in ``basis.real``.

    Returns
    -------
    tuple or None
        ``(k0, alpha, beta)``: the orbit representative (three ints) and two exact
        :class:`fractions.Fraction` scales; None when the phase of -k0 is not a quarter turn.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> factored_scales(basis(14, 1, "box"), 1)        # P2_1/c, orbit of (1, 0, 0): A / 2
    ((1, 0, 0), Fraction(1, 4), Fraction(0, 1))
    """
    function = basis.real.function(index)
    decomposition = basis.decomposition
    orbit = decomposition.orbits()[function.orbit]
    k0 = tuple(int(v) for v in orbit.representative)
    ratio = Fraction(len(orbit.members), len(basis.group.operations))
    if function.part == "re":
        return k0, ratio, Fraction(0)
    if function.part == "im":
        return k0, Fraction(0), ratio
    frequencies = decomposition.graph.frequencies
    minus = int(frequencies.index([[-v for v in k0]])[0])
    if minus == int(frequencies.index([list(k0)])[0]):      # k0 = 0: the constant function is psi itself
        return k0, ratio, Fraction(0)
    c = int(decomposition.phase_24[minus])      # e(-c/48): half of the phase e(c/24) of -k0
    if c not in _QUARTER_TURNS:
        return None
    cos, sin = _QUARTER_TURNS[c]
    return k0, ratio / 2 * cos, ratio / 2 * sin


def factored_form(basis: Basis, index: int, *, shifts: str = "auto") -> sp.Expr | None:
    """Function ``index`` of ``basis`` as alpha A(k0) + beta B(k0) in product form, or None (see module).

    Parameters
    ----------
    basis : Basis
        A derived basis.
    index : int
        Index of the real function in ``basis.real``.
    shifts : str, default "auto"
        ``'auto'``, ``'always'`` or ``'never'``: when phases move into the arguments as shifts linear
        in h, passed to :func:`structure_factor_form` (``'auto'``: Volume B's choice unless it misses
        the factor goal; see ``SHIFTS``).

    Returns
    -------
    sympy.Expr or None
        The function as alpha A(k0) + beta B(k0) in the Miller symbols, or None when the scales are
        irrational (see :func:`factored_scales`).
    """
    scales = factored_scales(basis, index)
    if scales is None:
        return None
    k0, alpha, beta = scales
    form = structure_factor_form(basis.group, shifts=shifts)
    values = dict(zip(MILLER, k0, strict=True))
    for condition, (a, b) in zip(form.conditions(), form.expressions(), strict=True):
        if bool(condition.subs(values)) if not isinstance(condition, bool) else condition:
            total = sp.Integer(0)
            if alpha:
                total += sp.Rational(alpha.numerator, alpha.denominator) * a.subs(values)
            if beta:
                total += sp.Rational(beta.numerator, beta.denominator) * b.subs(values)
            return total
    raise ArithmeticError(f"no class holds for {k0}")  # pragma: no cover (the classes cover Z^3)


def factored_forms(basis: Basis, *, shifts: str = "auto") -> tuple[sp.Expr | None, ...]:
    """:func:`factored_form` of every function of ``basis``.

    Parameters
    ----------
    basis : Basis
        A derived basis.
    shifts : str, default "auto"
        ``'auto'``, ``'always'`` or ``'never'``, as for :func:`factored_form`.

    Returns
    -------
    tuple of (sympy.Expr or None)
        One entry per real function, in basis order.
    """
    return tuple(factored_form(basis, i, shifts=shifts) for i in range(len(basis.real)))
