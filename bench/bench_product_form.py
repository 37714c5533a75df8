"""Does the product form evaluate faster than the kernel? (issue 30, measured before adopting it in generated/)

The kernel (crystal_fourier.kernel, what generated/ uses) evaluates each basis function as a sum of
phased cosines, one cosine per term. The product form (``basis --form factored``) writes the same
function as a sum of products of cosines and sines of linear forms (Fm-3m: 4 cos 2pi x cos 2pi y
cos 2pi z instead of four cosines). Its evaluator here does the least work that form allows:

1. every **distinct factor** of the whole basis (sin u = cos(u - 1/4); cos(-u) = cos u, so each
   factor is written once) is one column of one matrix product and one cosine, as in the kernel;
2. each product is a gather of its (up to three) factor columns and their elementwise product;
3. the products, times their exact coefficients, are added into their functions (``index_add_``).

Both run in row chunks (the kernel's own chunking; here 4,096 rows), one thread, no autograd, in
the same process, best of ``--repeat``, rounds interleaved. The values are checked to agree
(1e-9 in float64). Reported: cosines per point (kernel terms against distinct factors), products
per point, seconds and the ratio product form / kernel (< 1: the product form is faster).

    OMP_NUM_THREADS=1 python bench/bench_product_form.py [--points 100000] [--groups 1,14,62,139,194,221,225,227,229]
"""

from __future__ import annotations

import argparse
import time
from fractions import Fraction

import numpy as np
import sympy as sp
import torch

from crystal_fourier.derive import basis, closed_form
from crystal_fourier.derive._factored_bases import factored_forms
from crystal_fourier.runtime import invariant_basis

GROUPS = (1, 2, 14, 62, 139, 166, 194, 221, 225, 227, 229)


def _factor(expression: sp.Expr) -> tuple[tuple[int, int, int], Fraction, int]:
    """cos/sin(2 pi (m.x + c)) -> (m, c', sign) with the factor = sign * cos(2 pi (m.x + c')), m canonical."""
    argument = sp.expand(expression.args[0] / (2 * sp.pi))
    names = {symbol.name: symbol for symbol in argument.free_symbols}     # closed and factored forms differ
    axes = [names.get(name, sp.Symbol(name)) for name in "xyz"]          # in their symbols' assumptions
    m = [int(argument.coeff(v)) for v in axes]
    c = Fraction(str(argument.subs(dict.fromkeys(axes, 0))))
    if expression.func is sp.sin:
        c -= Fraction(1, 4)
    sign = 1
    if next((v for v in m if v), 0) < 0:        # cos(-u) = cos(u): one sign of m
        m, c = [-v for v in m], -c
    return tuple(m), c % 1, sign


def product_tables(number: int, radius: int):
    """(factor m, factor phase, monomial factor indices (padded), coefficient, function) of the basis."""
    derived = basis(number, radius, "ball")
    forms = factored_forms(derived, shifts="never")
    factors: dict = {}
    monomials = []
    for index, (function, form) in enumerate(zip(derived.real.functions(), forms, strict=True)):
        expression = closed_form(function) if form is None else form
        for term in sp.Add.make_args(sp.expand(expression)):   # common factors multiplied back in
            coefficient, rest = term.as_coeff_Mul()
            columns = []
            for item in sp.Mul.make_args(rest):
                base, exponent = item.as_base_exp()
                if base == 1:
                    continue
                if base.func not in (sp.cos, sp.sin):
                    raise ValueError(f"not a product of cosines and sines: {term}")
                m, c, sign = _factor(base)
                coefficient *= sign ** int(exponent)
                columns += [factors.setdefault((m, c), len(factors))] * int(exponent)
            monomials.append((columns, float(coefficient), index))
    width = max(len(c) for c, _, _ in monomials)
    ones = len(factors)                                  # a column of ones pads shorter products
    table = np.full((len(monomials), width), ones, dtype=np.int64)
    for row, (columns, _, _) in enumerate(monomials):
        table[row, :len(columns)] = columns
    m = np.array([key[0] for key in factors] + [(0, 0, 0)], dtype=np.float64)
    c = np.array([float(key[1]) for key in factors] + [0.0])
    return (m, c, table, np.array([v for _, v, _ in monomials]), np.array([f for _, _, f in monomials]),
            derived.dim)


class ProductForm:
    """Evaluate the tables of :func:`product_tables` (module docstring), in row chunks."""

    def __init__(self, tables, dtype: torch.dtype, chunk: int = 4096) -> None:
        m, c, table, coefficient, function, self.dim = tables
        self.angles = torch.from_numpy(np.vstack([2 * np.pi * m.T, 2 * np.pi * c])).to(dtype)
        self.columns = [torch.from_numpy(table[:, j]) for j in range(table.shape[1])]
        self.coefficient = torch.from_numpy(coefficient).to(dtype)
        self.function = torch.from_numpy(function)
        self.chunk = chunk
        self.n_factors, self.n_monomials = m.shape[0] - 1, len(coefficient)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        out = x.new_zeros(x.shape[0], self.dim)
        for start in range(0, x.shape[0], self.chunk):
            rows = x[start:start + self.chunk]
            values = torch.addmm(self.angles[3], rows, self.angles[:3]).cos_()
            values[:, -1] = 1.0                          # the padding column: cos(0)
            product = values.index_select(1, self.columns[0])
            for column in self.columns[1:]:
                product.mul_(values.index_select(1, column))
            product.mul_(self.coefficient)
            out[start:start + self.chunk].index_add_(1, self.function, product)
        return out


def best_of(functions, repeat: int) -> list[float]:
    best = [float("inf")] * len(functions)
    for _ in range(repeat):
        for i, fn in enumerate(functions):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--radius", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--groups", default=",".join(map(str, GROUPS)))
    parser.add_argument("--dtypes", default="float32,float64")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(0)
    print("| group | dtype | kernel cosines | distinct factors | products | kernel (s) | product form (s) | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    ratios = []
    with torch.no_grad():
        for number in (int(v) for v in args.groups.split(",")):
            tables = product_tables(number, args.radius)
            for dtype in (getattr(torch, name) for name in args.dtypes.split(",")):
                x = torch.rand(args.points, 3, generator=generator, dtype=torch.float64)
                x = (x - torch.round(x)).to(dtype)        # the kernel's reduction, done once for both
                kernel = invariant_basis(number, args.radius, dtype=dtype)
                product = ProductForm(tables, dtype)
                if dtype == torch.float64:
                    assert torch.allclose(kernel(x[:2000]), product(x[:2000]), atol=1e-9), number
                seconds = best_of([lambda k=kernel, x=x: k(x), lambda p=product, x=x: p(x)], args.repeat)
                ratios.append(seconds[1] / seconds[0])
                print(f"| {number} | {str(dtype).split('.')[1]} | {kernel.n_terms} | {product.n_factors} | "
                      f"{product.n_monomials} | {seconds[0]:.4f} | {seconds[1]:.4f} | {seconds[1] / seconds[0]:.2f} |")
    print(f"\nproduct form / kernel: median {np.median(ratios):.2f}, best {min(ratios):.2f}, worst {max(ratios):.2f} "
          f"({len(ratios)} cases; < 1 would mean the product form is faster)")


if __name__ == "__main__":
    main()
