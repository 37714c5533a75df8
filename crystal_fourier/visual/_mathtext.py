"""Closed forms as matplotlib mathtext, rendered to SVG offline (no MathJax, no network).

A closed form of :mod:`crystal_fourier.derive._symbolic_forms` is a sum of terms
c cos(2 pi (h x + k y + l z + r)) or c sin(...), with c and r exact rationals.
:func:`mathtext_terms` prints each term in the compact crystallographic form
``\\cos 2\\pi(h x + k y + l z + r)`` that matplotlib's mathtext (a subset of
LaTeX) typesets; any other term falls back to SymPy's own LaTeX, which mathtext
also reads. :func:`mathtext_lines` wraps the terms into lines and truncates
very long sums with a note, and :func:`formula_svg` renders the lines to SVG.
"""

from __future__ import annotations

import sympy as sp

from crystal_fourier._figures import render_figure

__all__ = ["TERMS_PER_LINE", "MAX_LINES", "mathtext_terms", "mathtext_lines", "formula_svg"]

TERMS_PER_LINE = 4
MAX_LINES = 6
# The fractional coordinates of derive's closed forms (``closed_form``). SymPy symbols with one name and one set of
# assumptions are one symbol, so these are derive's own x, y, z without reaching into its private module.
X, Y, Z = sp.symbols("x y z", real=True)
_TRIG = {sp.cos: r"\cos", sp.sin: r"\sin"}


def _rational(value: sp.Rational) -> str:
    if value.q == 1:
        return str(abs(value.p))
    return rf"\frac{{{abs(value.p)}}}{{{value.q}}}"


def _linear(form: sp.Expr) -> str | None:
    """'2x - 6y + \\frac{1}{8}' for a linear form with rational coefficients, or None."""
    coefficients = [sp.Rational(form.coeff(symbol)) if form.coeff(symbol).is_Rational else None
                    for symbol in (X, Y, Z)]
    if None in coefficients:
        return None
    constant = sp.expand(form - sum(c * s for c, s in zip(coefficients, (X, Y, Z), strict=True)))
    if not constant.is_Rational:
        return None
    pieces = []
    for value, name in [*zip(coefficients, "xyz", strict=True), (constant, "")]:
        if value == 0:
            continue
        magnitude = _rational(value)
        if name and magnitude == "1":
            magnitude = ""
        sign = "-" if value < 0 else "+"
        pieces.append((sign, f"{magnitude}{name}"))
    if not pieces:
        return "0"
    text = ("-" if pieces[0][0] == "-" else "") + pieces[0][1]
    for sign, body in pieces[1:]:
        text += f" {sign} {body}"
    return text


def _term(term: sp.Expr) -> tuple[str, str]:
    """(sign, body) of one term of a closed form."""
    coefficient, factor = term.as_coeff_Mul()
    sign = "-" if coefficient < 0 else "+"
    magnitude = abs(coefficient)
    if factor == 1:
        return sign, sp.latex(magnitude)
    prefix = "" if magnitude == 1 else sp.latex(magnitude) + r"\,"
    if factor.func in _TRIG:
        name = _TRIG[factor.func]
        form = sp.expand(factor.args[0] / (2 * sp.pi))
        axes = [(axis, symbol, form.coeff(symbol)) for axis, symbol in zip("xyz", (X, Y, Z), strict=True)
                if form.coeff(symbol) != 0]
        if len(axes) == 1 and axes[0][2].is_Integer and axes[0][2] > 0 and form == axes[0][2] * axes[0][1]:
            # One axis, no shift: '\cos 2\pi x', '\cos 8\pi z'.
            return sign, rf"{prefix}{name}\,{2 * axes[0][2]}\pi {axes[0][0]}"
        inner = _linear(form)
        if inner is not None:
            # Plain parentheses: mathtext's \left( \right) parse about ten times slower.
            return sign, rf"{prefix}{name}\,2\pi({inner})"
    return sign, sp.latex(term if coefficient > 0 else -term)


def mathtext_terms(expression: sp.Expr) -> list[tuple[str, str]]:
    """The terms of a closed form as (sign, mathtext body), in SymPy's lex order.

    Examples
    --------
    >>> from crystal_fourier.derive._symbolic_forms import closed_form
    >>> from crystal_fourier.derive import basis
    >>> mathtext_terms(closed_form(basis(76, 2).real.function(2)))   # P4_1
    [('+', '\\\\cos\\\\,2\\\\pi(x - y)'), ('+', '\\\\cos\\\\,2\\\\pi(x + y)')]
    >>> mathtext_terms(sp.sin(2 * sp.pi * (X + Z) + sp.pi / 4) - 1)
    [('+', '\\\\sin\\\\,2\\\\pi(x + z + \\\\frac{1}{8})'), ('-', '1')]
    """
    expression = sp.sympify(expression)
    if expression == 0:
        return [("+", "0")]
    return [_term(term) for term in expression.as_ordered_terms(order="lex")]


def mathtext_lines(expression: sp.Expr, name: str = "f", *, terms_per_line: int = TERMS_PER_LINE,
                   max_lines: int = MAX_LINES) -> tuple[list[str], int]:
    """Mathtext lines ``$f = ...$`` of a closed form, and the number of terms left out.

    The first line starts with ``name =``; each later line starts with its sign.
    At most ``max_lines`` lines are kept; a truncated sum ends in ``+ \\ldots``.

    >>> lines, omitted = mathtext_lines(sp.cos(2 * sp.pi * X) - sp.cos(2 * sp.pi * Y), "f_{1}")
    >>> lines, omitted
    (['$f_{1} = \\\\cos\\\\,2\\\\pi x - \\\\cos\\\\,2\\\\pi y$'], 0)
    """
    terms = mathtext_terms(expression)
    kept = terms[: terms_per_line * max_lines]
    omitted = len(terms) - len(kept)
    lines = []
    for start in range(0, len(kept), terms_per_line):
        text = ""
        for position, (sign, body) in enumerate(kept[start:start + terms_per_line]):
            if start == 0 and position == 0:
                text += ("-" if sign == "-" else "") + body
            else:
                text += f" {sign} {body}"
        if start == 0:
            text = f"{name} = {text}"
        else:
            text = r"\quad" + text
        lines.append(text)
    if omitted:
        lines[-1] += r" + \ldots"
    return [f"${line}$" for line in lines], omitted


def formula_svg(lines: list[str], *, fontsize: float = 12.0) -> bytes:
    """SVG bytes of mathtext ``lines`` set left-aligned, tight, deterministic.

    >>> formula_svg(["$f = \\\\cos\\\\,2\\\\pi x$"])[:5]
    b'<?xml'
    """
    def draw(figure):
        figure.text(0.0, 1.0, "\n".join(lines), ha="left", va="top", fontsize=fontsize, linespacing=1.6)

    return render_figure(draw, (1.0, 0.3), "svg", tight=True)
