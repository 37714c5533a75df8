"""Closed forms: exact SymPy invariance, exact strings, and a conjugated phase that must fail."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from crystal_fourier.derive import Operation, basis
from crystal_fourier.derive._symbolic_forms import X, Y, Z, closed_form, closed_forms, invariance_residual, laurent_form
from crystal_fourier.derive._real_bases import RealFunction

# Screws 4_1, 3_1, 6_1, d-glides, hexagonal and rhombohedral axes, every centring.
SAMPLE = (1, 2, 4, 15, 43, 76, 91, 144, 146, 169, 194, 210, 227, 230)


@pytest.mark.parametrize("number", SAMPLE, ids=lambda n: f"sg{n}")
def test_sympy_residual_is_exactly_zero(number):
    derived = basis(number, 2, "box")
    for expression in closed_forms(derived):
        for operation in derived.group.operations:
            assert invariance_residual(expression, operation) == 0, (expression, operation.xyz)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_sympy_residual_sweep(number):
    derived = basis(number, 1, "box")
    for expression in closed_forms(derived):
        for operation in derived.group.operations:
            assert invariance_residual(expression, operation) == 0, (expression, operation.xyz)


# Fd-3m in origin choice 1 (Hall 525): in origin choice 2 the inversion sits at the origin, so
# (R, -t) = (-1)(R, t)(-1) is G itself and a sign error in the phases is genuinely harmless there.
@pytest.mark.parametrize(("number", "hall"),
                         [(76, None), (91, None), (144, None), (169, None), (210, None), (227, 525)],
                         ids=lambda v: f"{v}")
def test_conjugated_phase_fails_sympy_proof(number, hall):
    """Using e(-k.t) instead of e(k.t) must be caught: some function is not invariant."""
    derived = basis(number, 2, "box", hall_number=hall)
    failures = 0
    for function in derived.real.functions():
        if failures:
            break
        # Conjugating the orbit phases: phi -> -phi, i.e. p -> -p + (offset of the part), done on p directly.
        conjugated = RealFunction(function.orbit, function.part, function.frequencies,
                                  tuple((-p) % 48 for p in function.phases_48))
        expression = closed_form(conjugated)
        failures += sum(invariance_residual(expression, op) != 0 for op in derived.group.operations)
    assert failures > 0


def test_exact_strings_p21():
    derived = basis(4, 1, "box")
    texts = [str(e) for e in closed_forms(derived)]
    assert texts[0] == "1"
    assert texts[1:3] == ["cos(2*pi*x)", "cos(2*pi*z)"]
    assert texts[5:7] == ["cos(pi*(2*x + 2*z))", "cos(pi*(2*x - 2*z))"]


def test_residual_names_the_difference():
    assert invariance_residual(sp.cos(2 * sp.pi * Y), Operation.parse("-x,y+1/2,-z")) == -2 * sp.cos(2 * sp.pi * Y)
    assert invariance_residual(sp.sin(2 * sp.pi * X), Operation.parse("-x,-y,-z")) == -2 * sp.sin(2 * sp.pi * X)


def test_laurent_form_is_canonical():
    # cos(a + pi/2) = -sin(a): the same function written two ways has one form.
    a = 2 * sp.pi * (X + 2 * Z)
    assert laurent_form(sp.cos(a + sp.pi / 2)) == laurent_form(-sp.sin(a))
    assert laurent_form(sp.cos(a) ** 1 - sp.cos(a)) == {}
    assert laurent_form(sp.Integer(3)) == {(0, 0, 0): (3,)}


@pytest.mark.parametrize("number", [91, 169, 227], ids=lambda n: f"sg{n}")
@settings(max_examples=20, deadline=None)
@given(point=st.tuples(*[st.floats(-1, 2, allow_nan=False)] * 3))
def test_closed_forms_evaluate_like_real_basis(number, point):
    derived = basis(number, 2, "box")
    functions = [sp.lambdify((X, Y, Z), e, "numpy") for e in closed_forms(derived)]
    symbolic = np.array([f(*point) for f in functions], dtype=float)
    np.testing.assert_allclose(symbolic, derived.real(np.array([point]))[0], rtol=0, atol=1e-12)
