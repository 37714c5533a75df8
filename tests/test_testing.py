"""The shipped property helpers, and proof that each of them can fail (a helper that cannot fail proves nothing)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from crystal_fourier.derive import Operation, basis
from crystal_fourier.testing import (
    FLOAT_TOLERANCE,
    REPRESENTATIVE_GROUPS,
    assert_generated_matches_symbolic,
    assert_invariant,
    assert_vanishes_on_absences,
    operation_images,
    tolerance_for,
)


def _positions(n=6, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, size=(n, 3))


def _torch_module(real, dtype_name):
    """A minimal torch evaluation of a RealBasis, standing in for a generated module."""
    torch = pytest.importorskip("torch")
    dtype = getattr(torch, dtype_name)
    hkl = torch.as_tensor(real.decomposition.graph.frequencies.hkl[real.term_frequency], dtype=dtype)
    phase = torch.as_tensor(real.term_phase_48 / 48, dtype=dtype)
    index = torch.as_tensor(np.array(real.term_function))      # a writable copy for torch

    def forward(x):
        terms = torch.cos(2 * torch.pi * (x.to(dtype) @ hkl.T + phase))
        return torch.zeros(x.shape[0], len(real), dtype=dtype).index_add_(1, index, terms)

    return forward


def _conjugate_one_term(real):
    """``real`` with the phase of one plane wave conjugated (p -> -p, in 48ths), and the index of
    the function it belongs to: the first term whose phase conjugation changes (not 0 or 24)."""
    term = int(np.flatnonzero(real.term_phase_48 % 24 != 0)[0])
    phases = real.term_phase_48.copy()
    phases[term] = -phases[term] % 48
    return dataclasses.replace(real, term_phase_48=phases), int(real.term_function[term])


# ----------------------------------------------------------------------------- tolerances

def test_float_tolerance_constants():
    assert FLOAT_TOLERANCE == {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
    assert tolerance_for(np.float64) == tolerance_for("float64") == tolerance_for(np.complex128) == 1e-12
    assert tolerance_for(np.float32) == tolerance_for(np.complex64) == 1e-5


def test_tolerance_for_torch_dtypes():
    torch = pytest.importorskip("torch")
    assert (tolerance_for(torch.float64), tolerance_for(torch.float32)) == (1e-12, 1e-5)


@pytest.mark.parametrize("dtype", [np.int64, np.float16, bool])
def test_tolerance_for_unknown_dtype_raises(dtype):
    with pytest.raises(TypeError, match="no tolerance for dtype"):
        tolerance_for(dtype)


def test_operation_images_exact_values():
    operations = [Operation.parse(text) for text in ("x,y,z", "-y,x,z+1/4", "-x+y+2/3,-x+1/3,z+1/3")]
    images = operation_images(operations, np.array([[0.5, 0.25, 0.125]]))
    np.testing.assert_array_equal(images[:2, 0], [[0.5, 0.25, 0.125], [-0.25, 0.5, 0.375]])
    np.testing.assert_allclose(images[2, 0], [-0.25 + 2 / 3, -0.5 + 1 / 3, 0.125 + 1 / 3], rtol=0, atol=1e-16)


# ----------------------------------------------------------------------------- assert_invariant

def test_assert_invariant_passes_and_returns_per_operation_errors(fd3m):
    b = basis(fd3m)
    errors = assert_invariant(b.real, fd3m, _positions())
    assert errors.shape == (192,)
    assert errors.dtype == np.float64
    assert errors.max() <= 1e-12


def test_assert_invariant_measures_each_operation(p4_1):
    """cos(2 pi z) under P4_1 at z = 0: the quarter screws move it by 1, the 2_1 by 2."""
    errors = assert_invariant(lambda p: np.cos(2 * np.pi * p[:, 2]), p4_1, np.array([[0.1, 0.2, 0.0]]),
                              tolerance=10.0)
    np.testing.assert_allclose(errors, [0.0, 1.0, 2.0, 1.0], rtol=0, atol=1e-12)


def test_assert_invariant_fails_on_a_non_invariant_function(p2_1):
    message = re.escape("not invariant under P2_1 (sg 4, Hall 6): worst operation -x,y+1/2,-z (index 1 of 2)")
    with pytest.raises(AssertionError, match=message) as info:
        assert_invariant(lambda p: np.cos(2 * np.pi * p[:, 1]), p2_1, _positions())
    assert "> tolerance 1.0e-12 (float64)" in str(info.value)


def test_assert_invariant_names_the_worst_operation(p4_1):
    with pytest.raises(AssertionError, match=re.escape("worst operation -x,-y,z+1/2 (index 2 of 4) gives "
                                                       "max |fn(g x) - fn(x)| = 2.000e+00")):
        assert_invariant(lambda p: np.cos(2 * np.pi * p[:, 2]), p4_1, np.array([[0.1, 0.2, 0.0]]))


@pytest.mark.parametrize("number", [76, 144, 169, 210], ids=lambda n: f"sg{n}")
def test_assert_invariant_fails_on_one_conjugated_phase(number):
    """A real basis function with the phase of one plane wave conjugated (p -> -p)."""
    b = basis(number)
    broken, function = _conjugate_one_term(b.real)
    with pytest.raises(AssertionError, match=r"not invariant under .*: worst operation (\S+) "):
        assert_invariant(lambda p: broken(p)[:, function], b.group, _positions())


def test_assert_invariant_uses_the_operations_as_given(p1):
    """A hand-built group is checked with its own operations, not the database's."""
    fake = dataclasses.replace(p1, operations=(Operation.identity(), Operation.parse("-x,y+1/2,-z")))
    with pytest.raises(AssertionError, match=re.escape("worst operation -x,y+1/2,-z")):
        assert_invariant(lambda p: np.cos(2 * np.pi * p[:, 1]), fake, _positions())


def test_assert_invariant_accepts_a_group_number():
    assert assert_invariant(basis(194).real, 194, _positions()).shape == (24,)


def test_assert_invariant_fails_on_nan(p2_1):
    with pytest.raises(AssertionError, match="= inf"):
        assert_invariant(lambda p: np.full(len(p), np.nan), p2_1, _positions())


def test_assert_invariant_fails_on_a_bad_shape(p2_1):
    with pytest.raises(AssertionError, match="must map shape=\\(n, 3\\) to shape=\\(n, ...\\)"):
        assert_invariant(lambda p: np.zeros(5), p2_1, _positions())


@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
def test_assert_invariant_with_torch(dtype_name):
    torch = pytest.importorskip("torch")
    b = basis(227, 3)
    module = _torch_module(b.real, dtype_name)
    positions = torch.as_tensor(_positions(), dtype=getattr(torch, dtype_name))
    errors = assert_invariant(module, b.group, positions)
    assert errors.shape == (192,)
    broken = _torch_module(dataclasses.replace(b.real, term_phase_48=(b.real.term_phase_48 + 6) % 48), dtype_name)
    with pytest.raises(AssertionError, match=f"\\({dtype_name}\\)"):
        assert_invariant(broken, b.group, positions)


# ----------------------------------------------------------------------------- assert_vanishes_on_absences

@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_vanishes_on_absences_exact(number):
    b = basis(number)
    magnitudes = assert_vanishes_on_absences(b)
    d = b.decomposition
    assert magnitudes.shape == (int(d.absent[d.orbit_of].sum()),)
    assert not magnitudes.any()


@pytest.mark.parametrize("number", [4, 76, 169, 227, 230], ids=lambda n: f"sg{n}")
def test_vanishes_on_absences_numerical(number):
    b = basis(number)
    magnitudes = assert_vanishes_on_absences(b.real, b.group, b.frequencies)
    assert magnitudes.max(initial=0.0) <= 1e-12


def test_vanishes_on_absences_fails_exactly(p2_1):
    """cos(2 pi x) moved onto the absent (0 1 0): caught without floating point, witness named."""
    b = basis(p2_1, 1, "box")
    frequencies = b.real.term_frequency.copy()
    cos_x = int(b.frequencies.index([[1, 0, 0]])[0])
    frequencies[frequencies == cos_x] = int(b.frequencies.index([[0, 1, 0]])[0])
    broken = dataclasses.replace(b, real=dataclasses.replace(b.real, term_frequency=frequencies))
    message = re.escape("at hkl (0, 1, 0), absent by witness -x,y+1/2,-z")
    with pytest.raises(AssertionError, match=message):
        assert_vanishes_on_absences(broken)


def test_vanishes_on_absences_computes_coefficients_not_support(p2_1):
    """cos(2 pi y) + cos(-2 pi y + pi) = 0: terms on the absent (0 +-1 0) cancel exactly, so it passes."""
    b = basis(p2_1, 1, "box")
    plus, minus = (int(i) for i in b.frequencies.index([[0, 1, 0], [0, -1, 0]]))
    real = dataclasses.replace(b.real, term_function=np.array([0, 0]), term_frequency=np.array([plus, minus]),
                               term_phase_48=np.array([0, 24]), orbit=np.array([0]), part=("centric",))
    assert not assert_vanishes_on_absences(dataclasses.replace(b, real=real)).any()


def test_vanishes_on_absences_fails_numerically(p2_1):
    b = basis(p2_1, 2, "box")
    with pytest.raises(AssertionError,
                       match=r"at hkl \(0, -?1, 0\), absent by witness -x,y\+1/2,-z \(DFT on a 5\^3 grid\)"):
        assert_vanishes_on_absences(lambda p: np.cos(2 * np.pi * p[:, 1]), b.group, b.frequencies)


def test_vanishes_on_absences_fails_for_fd3m(fd3m):
    """A d-glide absence: cos(2 pi 2x) has c on (2 0 0), absent in Fd-3m (h00: h = 4n)."""
    b = basis(fd3m)
    with pytest.raises(AssertionError, match=r"at hkl \(-?2, 0, 0\), absent by witness \S+"):
        assert_vanishes_on_absences(lambda p: np.cos(4 * np.pi * p[:, 0]), fd3m, b.frequencies)


def test_vanishes_on_absences_needs_group_and_frequencies_for_a_callable():
    with pytest.raises(TypeError, match="needs group= and frequencies="):
        assert_vanishes_on_absences(lambda p: p[:, 0])


# ----------------------------------------------------------------------------- assert_generated_matches_symbolic

@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("number", [76, 169, 227], ids=lambda n: f"sg{n}")
def test_generated_matches_symbolic_torch(number, dtype_name):
    torch = pytest.importorskip("torch")
    b = basis(number)
    positions = torch.as_tensor(_positions(), dtype=getattr(torch, dtype_name))
    errors = assert_generated_matches_symbolic(_torch_module(b.real, dtype_name), b, positions)
    assert errors.shape == (b.dim,)


def test_generated_matches_symbolic_fails_on_one_conjugated_phase():
    b = basis(76)
    broken, function = _conjugate_one_term(b.real)
    with pytest.raises(AssertionError, match=re.escape(f"function {function} ({b.real.part[function]}, orbit of")):
        assert_generated_matches_symbolic(broken, b, _positions())


def test_generated_matches_symbolic_fails_on_swapped_columns(fm3m):
    b = basis(fm3m)
    with pytest.raises(AssertionError, match="function 1 "):
        assert_generated_matches_symbolic(lambda p: b.real(p)[:, [0, 2, 1, *range(3, b.dim)]], b, _positions())


def test_generated_matches_symbolic_shape_and_columns(fm3m):
    b = basis(fm3m)
    without_k0 = lambda p: b.real(p)[:, 1:]  # noqa: E731
    with pytest.raises(AssertionError, match=re.escape(f"module output has shape (6, {b.dim - 1})")):
        assert_generated_matches_symbolic(without_k0, b, _positions())
    errors = assert_generated_matches_symbolic(without_k0, b, _positions(), columns=range(1, b.dim))
    assert errors.shape == (b.dim - 1,)


def test_generated_matches_symbolic_float32_is_held_to_float32(fd3m):
    """The tolerance follows the module's output dtype: float32 output is not held to 1e-12 ..."""
    b = basis(fd3m)
    as_float32 = lambda p: b.real(p).astype(np.float32)  # noqa: E731
    assert_generated_matches_symbolic(as_float32, b, _positions())
    # ... but an explicit tolerance is absolute and wins.
    with pytest.raises(AssertionError, match="tolerance 1.0e-12 \\(float32\\)"):
        assert_generated_matches_symbolic(as_float32, b, _positions(), tolerance=1e-12)


# ----------------------------------------------------------------------------- the tolerance's margin

@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_float64_tolerance_has_a_margin_of_ten(number):
    """The rationale of FLOAT_TOLERANCE: real float64 errors stay 10x below it, unscaled."""
    b = basis(number)
    errors = assert_invariant(b.real, b.group, _positions(32, seed=number), tolerance=1.0)
    assert errors.max() <= FLOAT_TOLERANCE[np.dtype(np.float64)] / 10
