"""Every generated module evaluates the exact real basis: values, invariance, rank, gradients.

References: ``basis.real`` of the derivation (float64 numpy) and the module's own
pure-torch path ``forward_reference``. Tolerances: 1e-12 absolute in float64; float32 uses
``crystal_fourier.testing.FLOAT_TOLERANCE`` (1e-5) scaled by max(1, max |f|), because a
function with n terms has values, and float32 rounding errors, up to n times those of one
cosine (worst measured over the representative groups: 2.8e-5 absolute at ball R = 6).
"""

from __future__ import annotations

import importlib
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crystal_fourier.derive import basis
from crystal_fourier.derive._codegen import SHIPPED, directory_name
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import invariant_basis
from crystal_fourier.testing import assert_generated_matches_symbolic, assert_invariant

GENERATED = Path(__file__).resolve().parents[2] / "generated"
REPRESENTATIVE = (1, 2, 14, 76, 91, 144, 146, 166, 169, 194, 210, 225, 227, 230)
# The shipped sets, and the box K = 2 rendered by the same generator into the (test) user cache.
SETS = [(shell, cutoff) for shell, cutoff in SHIPPED] + [("box", 2)]
SET_IDS = [directory_name(shell, cutoff) for shell, cutoff in SETS]
FLOAT64_TOLERANCE = 1e-12


def generated_module(shell: str, cutoff: int, number: int, dtype=torch.float64) -> torch.nn.Module:
    """A fresh instance of the generated class (shipped, or rendered into the cache first)."""
    invariant_basis(number, cutoff, shell)
    module = importlib.import_module(f"crystal_fourier.generated.{directory_name(shell, cutoff)}.sg{number:03d}")
    return getattr(module, f"InvariantBasis{number}")(dtype=dtype)


@lru_cache(maxsize=None)
def shared_module(shell: str, cutoff: int, number: int, dtype=torch.float64) -> torch.nn.Module:
    """One instance per (set, group, dtype), for tests that do not modify it."""
    return generated_module(shell, cutoff, number, dtype)


def _points(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.0, 2.0, size=(count, 3))


def _check_against_derivation(shell: str, cutoff: int, number: int) -> None:
    module = shared_module(shell, cutoff, number)
    derived = basis(number, cutoff, shell)
    x = torch.from_numpy(_points(48, number))
    errors = assert_generated_matches_symbolic(module, derived, x, tolerance=FLOAT64_TOLERANCE)
    assert errors.shape == (derived.dim,)
    torch.testing.assert_close(module(x), module.forward_reference(x), rtol=0, atol=FLOAT64_TOLERANCE)


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
@pytest.mark.parametrize(("shell", "cutoff"), SETS, ids=SET_IDS)
def test_matches_derivation(shell, cutoff, number):
    _check_against_derivation(shell, cutoff, number)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
@pytest.mark.parametrize(("shell", "cutoff"), SETS, ids=SET_IDS)
def test_matches_derivation_sweep(shell, cutoff, number):
    _check_against_derivation(shell, cutoff, number)


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
def test_attributes_buffers_and_docstring(number):
    module = generated_module("ball", 5, number)
    derived = basis(number, 5, "ball")
    summary = derived.summary()
    assert (module.dim, module.group, module.hall_number, module.cutoff, module.shell) == (
        derived.dim, number, derived.group.hall_number, 5, "ball")
    assert list(module.parameters()) == []
    state = module.state_dict()
    assert sorted(state) == ["frequencies", "term_frequency", "term_function", "term_phase_48"]
    assert all(value.dtype == torch.int64 for value in state.values())
    assert int(state["term_phase_48"].min()) >= 0
    assert int(state["term_phase_48"].max()) < 48
    doc = importlib.import_module(type(module).__module__).__doc__
    assert f"space group {number}, {derived.group.symbol}" in doc
    assert f"Hall number {derived.group.hall_number}" in doc
    assert f"dim = {derived.dim} real functions" in doc
    assert f"from {summary['n_present_orbits']} present orbits" in doc
    assert "ball shell at cutoff 5" in doc


def test_reference_numbers():
    # CONVENTIONS.md: P1 has 125 functions in the box K = 2 and 515 in the ball R = 5.
    assert generated_module("box", 2, 1).dim == 125
    assert generated_module("ball", 5, 1).dim == 515
    # Fm-3m keeps 9 orbits and Fd-3m 7 at R = 5 without k = 0.
    assert generated_module("ball", 5, 225).dim == 10
    assert generated_module("ball", 5, 227).dim == 8


positions64 = arrays(np.float64, (6, 3), elements=st.floats(-1.0, 2.0, allow_nan=False, allow_infinity=False))
positions32 = arrays(np.float32, (6, 3), elements=st.floats(0.0, 1.0, width=32, exclude_max=True))


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
@pytest.mark.parametrize(("shell", "cutoff"), SETS, ids=SET_IDS)
@settings(max_examples=5, deadline=None)
@given(x=positions64)
def test_invariant_float64(shell, cutoff, number, x):
    module = shared_module(shell, cutoff, number)
    errors = assert_invariant(module, number, torch.from_numpy(x), tolerance=FLOAT64_TOLERANCE)
    assert len(errors) == len(basis(number, cutoff, shell).group.operations)


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
@pytest.mark.parametrize(("shell", "cutoff"), SETS, ids=SET_IDS)
@settings(max_examples=5, deadline=None, derandomize=True)
@given(x=positions32)
def test_invariant_float32(shell, cutoff, number, x):
    module = shared_module(shell, cutoff, number, torch.float32)
    assert module(torch.from_numpy(x)).dtype == torch.float32
    assert_invariant(module, number, torch.from_numpy(x))


def test_broken_phase_is_caught():
    # The check can fail: a module whose phases are shifted is not invariant under P4_1.
    module = generated_module("box", 2, 76)
    module.term_phase_48.add_(12)
    module._angle_table[3].add_(math.pi / 2)  # the kernel's phase row, 2 pi p / 48
    for path in (module, module.forward_reference):
        with pytest.raises(AssertionError, match="not invariant under P4_1"):
            assert_invariant(path, 76, torch.from_numpy(_points(4, 0)), tolerance=1e-6)


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
@pytest.mark.parametrize(("shell", "cutoff"), SETS, ids=SET_IDS)
def test_full_rank(shell, cutoff, number):
    module = shared_module(shell, cutoff, number)
    values = module(torch.from_numpy(_points(module.dim + 10, 7 * number)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: a 935 x 925 SVD is fast, oversubscribed BLAS threads are not
    try:
        rank = int(torch.linalg.matrix_rank(values))
    finally:
        torch.set_num_threads(threads)
    assert rank == module.dim


def test_batched_shapes_and_consistency():
    module = generated_module("ball", 5, 194)
    x = torch.from_numpy(_points(10, 3)).reshape(2, 5, 3)
    out = module(x)
    assert out.shape == (2, 5, module.dim)
    torch.testing.assert_close(out.reshape(10, -1), module(x.reshape(10, 3)), rtol=0, atol=0)
    assert module(torch.zeros(0, 3)).shape == (0, module.dim)
    with pytest.raises(CrystalFourierError, match=r"shape \(\.\.\., 3\)"):
        module(torch.zeros(4, 2))


def test_dtype_switch_and_agreement():
    module = generated_module("ball", 5, 227)
    x = torch.from_numpy(_points(32, 5))
    single = generated_module("ball", 5, 227).float()
    assert single(x).dtype == torch.float32
    torch.testing.assert_close(single(x).double(), module(x), rtol=0, atol=1e-5 * float(module(x).abs().max()))


def test_gradcheck():
    module = generated_module("box", 2, 14)
    x = torch.from_numpy(_points(3, 11)).requires_grad_()
    assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-7)
    assert torch.autograd.gradcheck(module.forward_reference, (x,), eps=1e-6, atol=1e-7)


def test_torch_compile_matches_eager():
    module = generated_module("box", 2, 227)
    compiled = torch.compile(module, backend="aot_eager", fullgraph=True)
    x = torch.from_numpy(_points(16, 13))
    torch.testing.assert_close(compiled(x), module(x), rtol=0, atol=FLOAT64_TOLERANCE)


# Generated code reads only the kernel, the cache path helper, the error type and its own package index.
ALLOWED_IMPORTS = {"__future__", "importlib", ".", "crystal_fourier.kernel", "crystal_fourier.cache",
                   "crystal_fourier.errors"}


IMPORT = re.compile(r"^\s*(?:from\s+(\S+)\s+import|import\s+(\S+))", re.MULTILINE)


@pytest.mark.parametrize("name", [directory_name(shell, cutoff) for shell, cutoff in SHIPPED])
def test_generated_code_imports_no_sympy_or_derive(name):
    # A textual scan (every import statement, at any indentation); ast.parse of the data tables is slow.
    for path in sorted((GENERATED / name).glob("*.py")):
        imported = {a or b for a, b in IMPORT.findall(path.read_text())}
        assert imported <= ALLOWED_IMPORTS, f"{path.name} imports {sorted(imported - ALLOWED_IMPORTS)}"


@pytest.mark.sweep
def test_torch_compile_inductor_matches_eager():
    # Full inductor compilation (C++ codegen) takes about 30 s on 2 cores, hence the sweep mark.
    # TorchScript is not supported: it is deprecated upstream and cannot read the class-level
    # attributes (dim, max_index) the modules share with their class.
    module = generated_module("box", 2, 227)
    compiled = torch.compile(module, fullgraph=True)
    x = torch.from_numpy(_points(16, 13))
    torch.testing.assert_close(compiled(x), module(x), rtol=0, atol=FLOAT64_TOLERANCE)
