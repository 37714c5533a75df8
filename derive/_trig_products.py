"""Sums of plane waves over a point group, factored into products of cosines and sines (exact).

The object factored here is, for one parity class of h = (h, k, l) (CONVENTIONS.md, "Fourier
series"), a sum

    S(x) = sum_{M in P'} c_M e(h^T M x),      c_M = rho_M e(phase_M)  (rho_M > 0 rational),

over a finite group P' of integer matrices that contains -1 (the point group of a
centrosymmetric group, or P x {1, -1} for the real and imaginary parts of a non-centrosymmetric
one). Write P' = K D with D the diagonal sign matrices in P' (D contains -1) and K one
representative per coset k D. For each k the inner sum over D is a sum over sign vectors s of
c_{kd} e(s . u) with u_i = (k^T h)_i x_i; it factors over blocks b of axes whenever the support is
the product of its projections and the coefficient is the product of per-block factors. A block
whose projection is {sigma, -sigma} gives e(w) + e(q) e(-w) = 2 e(q/2) cos(2 pi (w - q/2)), w =
sigma . u. So S is a sum over K of a constant times a product of cosines: the form of
International Tables Vol. B, A1.4.3 (e.g. P2_1/c, k + l even: 4 cos 2 pi (hx + lz) cos 2 pi ky).

Everything is exact: phases are :class:`fractions.Fraction` modulo 1, the bilinear forms h^T M x
are integer 3 x 3 matrices (entry [j][i] is the coefficient of h_j x_i), and the output is a tuple
of :class:`TrigTerm` (rational coefficient, sorted tuple of :class:`TrigFactor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import product

__all__ = ["TrigFactor", "TrigTerm", "Monomial", "factor_plane_wave_sum", "canonical_factor", "matmul"]

Matrix = tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]
Monomial = tuple[Fraction, Fraction]
"""An exact complex number rho e(phase): (rho > 0, phase in [0, 1))."""

_PARTITIONS = (((0,), (1,), (2,)), ((0, 1), (2,)), ((0, 2), (1,)), ((1, 2), (0,)), ((0, 1, 2),))
"""Set partitions of the three axes, finest first (the first that factors is taken)."""


@dataclass(frozen=True, slots=True, order=True)
class TrigFactor:
    """cos or sin of 2 pi (h^T M x + shift).

    Attributes
    ----------
    function : str
        ``'cos'`` or ``'sin'``.
    form : tuple of 9 ints
        M flattened row by row: entry 3 j + i is the coefficient of h_j x_i (h_0, h_1, h_2 = h, k, l;
        x_0, x_1, x_2 = x, y, z). Canonical: its first nonzero entry is positive.
    shift : Fraction
        Constant added to the form, in (-1/4, 1/4) (quarter periods are turned into cos <-> sin)
        where ``miller_shift`` is zero, in [0, 1) otherwise.
    miller_shift : tuple of 3 Fractions
        A shift linear in the Miller indices, a . h (International Tables Vol. B's
        cos 2 pi (hx - (h + k)/4)); zero unless classes were merged by
        :mod:`~crystal_fourier.derive._phase_shifts`.
    """

    function: str
    form: tuple[int, ...]
    shift: Fraction
    miller_shift: tuple[Fraction, Fraction, Fraction] = (Fraction(0), Fraction(0), Fraction(0))


@dataclass(frozen=True, slots=True, order=True)
class TrigTerm:
    """``coefficient * prod(factors)``; factors sorted, repeats allowed."""

    coefficient: Fraction
    factors: tuple[TrigFactor, ...]


def matmul(a: Matrix, b: Matrix) -> Matrix:
    """Exact product of two 3 x 3 integer matrices given as rows."""
    return tuple(tuple(sum(a[i][m] * b[m][j] for m in range(3)) for j in range(3)) for i in range(3))


def canonical_factor(function: str, form: tuple[int, ...], shift: Fraction,
                     miller_shift: tuple[Fraction, ...] = (Fraction(0),) * 3) -> tuple[int, TrigFactor]:
    """``(sign, factor)`` with sign * factor == function(2 pi (form + miller_shift . h + shift)) identically.

    The shift is reduced modulo 1/2 (a half period changes the sign), then quarter periods turn
    cos into -sin and sin into cos, and finally the form's sign is made canonical (cos is even, sin
    odd). Each Miller-shift coefficient is reduced into (-1/2, 1/2] (an integer multiple of h is
    a whole period).

    >>> sign, factor = canonical_factor("cos", (-1, 0, 0, 0, 0, 0, 0, 0, 0), Fraction(1, 4))   # cos(-u + 1/4)
    >>> sign, factor.function, factor.form[0], factor.shift                                # = sin u
    (1, 'sin', 1, Fraction(0, 1))
    """
    sign = 1
    shift = Fraction(shift) % 1
    if shift >= Fraction(1, 2):
        shift -= Fraction(1, 2)
        sign = -sign
    if shift >= Fraction(1, 4):           # cos(w + 1/4) = -sin w, sin(w + 1/4) = cos w (periods of 2 pi)
        shift -= Fraction(1, 4)
        if function == "cos":
            function, sign = "sin", -sign
        else:
            function = "cos"
    leading = next((v for v in form if v), 0)
    if leading < 0:
        form = tuple(-v for v in form)
        shift = -shift
        miller_shift = tuple(-a for a in miller_shift)
        if function == "sin":
            sign = -sign
    miller_shift = tuple(Fraction(a) % 1 for a in miller_shift)
    miller_shift = tuple(a - 1 if a > Fraction(1, 2) else a for a in miller_shift)
    return sign, TrigFactor(function, tuple(form), shift, miller_shift)


def _times(a: Monomial, b: Monomial) -> Monomial:
    return a[0] * b[0], (a[1] + b[1]) % 1


def _over(a: Monomial, b: Monomial) -> Monomial:
    return a[0] / b[0], (a[1] - b[1]) % 1


def _diagonal_signs(matrix: Matrix) -> tuple[int, int, int] | None:
    if any(matrix[i][j] for i in range(3) for j in range(3) if i != j):
        return None
    return matrix[0][0], matrix[1][1], matrix[2][2]


def _block_form(k: Matrix, block: tuple[int, ...], sigma: tuple[int, ...]) -> tuple[int, ...]:
    """Flattened M of w = sum_{i in block} sigma_i (k^T h)_i x_i: M[j][i] = sigma_i k[j][i]."""
    matrix = [[0, 0, 0] for _ in range(3)]
    for axis, sign in zip(block, sigma, strict=True):
        for j in range(3):
            matrix[j][axis] = sign * k[j][axis]
    return tuple(v for row in matrix for v in row)


def _product_over(k: Matrix, coefficients: dict[tuple[int, int, int], Monomial], partition
                  ) -> tuple[Monomial, tuple[tuple[int, TrigFactor], ...]] | None:
    """The product form over the blocks of ``partition``, or None where the sum does not factor so."""
    support = set(coefficients)
    projections = [sorted({tuple(s[i] for i in block) for s in support}, reverse=True) for block in partition]
    if any(len(p) != 2 for p in projections) or len(support) != 2 ** len(partition):
        return None
    base_parts = [p[0] for p in projections]     # sigma_b with the first sign +1

    def assemble(parts):
        signs = [0, 0, 0]
        for block, part in zip(partition, parts, strict=True):
            for axis, sign in zip(block, part, strict=True):
                signs[axis] = sign
        return tuple(signs)

    base = assemble(base_parts)
    ratios = []
    for b, p in enumerate(projections):
        parts = list(base_parts)
        parts[b] = p[1]
        ratios.append(_over(coefficients[assemble(parts)], coefficients[base]))
    if any(r[0] != 1 for r in ratios):
        return None
    for choice in product((0, 1), repeat=len(partition)):
        expected = coefficients[base]
        for b, bit in enumerate(choice):
            if bit:
                expected = _times(expected, ratios[b])
        if coefficients[assemble([p[bit] for p, bit in zip(projections, choice, strict=True)])] != expected:
            return None
    # e(w) + e(q) e(-w) = 2 e(q/2) cos(2 pi (w - q/2)).
    constant = coefficients[base]
    factors = []
    for block, sigma, (_, q) in zip(partition, base_parts, ratios, strict=True):
        constant = _times(constant, (Fraction(2), q / 2))
        factors.append(canonical_factor("cos", _block_form(k, block, sigma), -q / 2))
    return constant, tuple(factors)


def _factor_inner(k: Matrix, coefficients: dict[tuple[int, int, int], Monomial]
                  ) -> list[tuple[Monomial, tuple[tuple[int, TrigFactor], ...]]]:
    """The sum over sign vectors s of c_s e(s . u) as a list of (constant, signed factors).

    One product when the support and coefficients factor over a partition of the axes whose
    blocks all project onto two opposite sign vectors; otherwise one cosine per pair {s, -s}.
    """
    for partition in _PARTITIONS:
        product_form = _product_over(k, coefficients, partition)
        if product_form is not None:
            return [product_form]
    # No factorisation: c e(s.u) + conj-partner, one cosine of the pair's mean phase per pair.
    result = []
    for s in sorted(coefficients, reverse=True):
        if s[0] < 0 or (s[0] == 0 and s < tuple(-v for v in s)):
            continue
        a, b = coefficients[s], coefficients[tuple(-v for v in s)]
        if a[0] != b[0]:
            raise ArithmeticError("unequal moduli on a pair {s, -s}")
        q = (b[1] - a[1]) % 1
        constant = _times(a, (Fraction(2), q / 2))
        result.append((constant, (canonical_factor("cos", _block_form(k, (0, 1, 2), s), -q / 2),)))
    return result


def factor_plane_wave_sum(coefficients: dict[Matrix, Monomial], group: tuple[Matrix, ...]
                          ) -> list[tuple[Monomial, tuple[tuple[int, TrigFactor], ...]]]:
    """Factor sum_M c_M e(h^T M x) over ``group`` (a matrix group containing -1).

    Parameters
    ----------
    coefficients : dict
        Matrix (3 tuples of 3 ints) -> (rho, phase), exact; a missing matrix has coefficient 0.
    group : tuple of matrices
        The group P' (contains -1 and every key of ``coefficients``), in a fixed order: the order
        of the coset representatives k in the result.

    Returns
    -------
    list of (constant, factors)
        The sum equals sum over the list of rho e(phase) * prod(sign * factor), exactly.

    Raises
    ------
    ArithmeticError
        If a pair {M, -M} has coefficients of unequal modulus (not a real-or-phase-shifted sum).
    """
    diagonal = [m for m in group if _diagonal_signs(m) is not None]
    covered: set[Matrix] = set()
    result = []
    for k in group:
        if k in covered:
            continue
        coset = {d: matmul(k, d) for d in diagonal}
        covered.update(coset.values())
        inner = {_diagonal_signs(d): coefficients[m] for d, m in coset.items() if m in coefficients}
        if inner:
            result.extend(_factor_inner(k, inner))
    return result
