"""crystal_fourier.kernel: the one evaluation of phased cosine sums, against a brute-force reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from crystal_fourier import kernel
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.kernel import CosineSums


def _random_tables(seed: int, functions: int = 40):
    """Functions of 1-24 terms (the widths of real bases), random frequencies and phases, shuffled widths."""
    rng = np.random.default_rng(seed)
    widths = rng.choice([1, 2, 3, 4, 6, 8, 12, 24], size=functions)
    offsets = np.concatenate([[0], np.cumsum(widths)])
    frequencies = rng.integers(-6, 7, size=(offsets[-1], 3))
    phases = rng.integers(0, 48, size=offsets[-1])
    return frequencies, phases, offsets


def _brute_force(frequencies, phases, offsets, x):
    terms = np.cos(2 * np.pi * (x @ frequencies.T + phases / 48))
    return np.stack([terms[:, a:b].sum(axis=1) for a, b in zip(offsets[:-1], offsets[1:], strict=True)], axis=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_values_equal_brute_force_float64(seed):
    frequencies, phases, offsets = _random_tables(seed)
    module = CosineSums(frequencies, phases, offsets)
    x = np.random.default_rng(seed + 10).uniform(-3, 3, (257, 3))
    expected = _brute_force(frequencies, phases, offsets, x)
    np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), expected, rtol=0, atol=1e-12)
    # The differentiable path gives the same values.
    grad_x = torch.from_numpy(x).requires_grad_()
    np.testing.assert_allclose(module(grad_x).detach().numpy(), expected, rtol=0, atol=1e-12)


def test_chunked_evaluation_equals_one_block(monkeypatch):
    frequencies, phases, offsets = _random_tables(3)
    module = CosineSums(frequencies, phases, offsets)
    x = torch.from_numpy(np.random.default_rng(4).uniform(0, 1, (1000, 3)))
    whole = module(x)
    monkeypatch.setattr(kernel, "_CHUNK_ELEMENTS", 7)
    monkeypatch.setattr(kernel, "_MIN_CHUNK_ROWS", 33)  # 1000 rows in chunks of 33 (the last one short)
    torch.testing.assert_close(module(x), whole, rtol=0, atol=1e-13)  # matmul blocking: last-bit differences
    monkeypatch.setattr(kernel, "_DEVICE_CHUNK_ELEMENTS", 3 * module.n_terms)
    torch.testing.assert_close(module(x.clone().requires_grad_()).detach(), whole, rtol=0, atol=1e-13)


def test_float32_within_stated_tolerance():
    frequencies, phases, offsets = _random_tables(5)
    module = CosineSums(frequencies, phases, offsets, dtype=torch.float32)
    x = np.random.default_rng(6).uniform(0, 1, (300, 3))
    expected = _brute_force(frequencies, phases, offsets, x)
    out = module(torch.from_numpy(x).float())
    assert out.dtype == torch.float32
    # 1e-5 per unit of |f| (crystal_fourier.testing.FLOAT_TOLERANCE): 24 terms of |m . x| <= 18 turns.
    assert np.abs(out.double().numpy() - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())


def test_wrong_kernel_is_caught_by_the_reference():
    # The reference comparison can fail: one phase off by a quarter turn changes the values.
    frequencies, phases, offsets = _random_tables(7)
    module = CosineSums(frequencies, phases + (np.arange(len(phases)) == 5) * 12, offsets)
    x = np.random.default_rng(8).uniform(0, 1, (20, 3))
    assert np.abs(module(torch.from_numpy(x)).numpy() - _brute_force(frequencies, phases, offsets, x)).max() > 1e-3


def test_gradcheck():
    frequencies, phases, offsets = _random_tables(9, functions=6)
    module = CosineSums(frequencies, phases, offsets)
    x = torch.from_numpy(np.random.default_rng(10).uniform(0, 1, (4, 3))).requires_grad_()
    assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-7)


def test_torch_compile_fullgraph_matches_eager():
    frequencies, phases, offsets = _random_tables(11, functions=12)
    module = CosineSums(frequencies, phases, offsets)
    compiled = torch.compile(module, backend="aot_eager", fullgraph=True)
    x = torch.from_numpy(np.random.default_rng(12).uniform(0, 1, (16, 3)))
    torch.testing.assert_close(compiled(x), module(x), rtol=0, atol=1e-12)


def test_shapes_dtype_switch_and_bad_input():
    frequencies, phases, offsets = _random_tables(13, functions=5)
    module = CosineSums(frequencies, phases, offsets)
    assert module(torch.zeros(2, 4, 3)).shape == (2, 4, 5)
    assert module(torch.zeros(0, 3)).shape == (0, 5)
    assert module.float()(torch.zeros(1, 3)).dtype == torch.float32
    with pytest.raises(CrystalFourierError, match=r"shape \(\.\.\., 3\)"):
        module(torch.zeros(3, 2))
    with pytest.raises(CrystalFourierError, match="at least one term"):
        CosineSums(frequencies, phases, np.array([0, 0, len(phases)]))
    with pytest.raises(CrystalFourierError, match="floating"):
        CosineSums(frequencies, phases, offsets, dtype=torch.int64)


def test_slot_entries_of_a_pair_are_the_symmetrised_plane_waves():
    # P1, box K = 1 row: f_re = cos(2 pi x), f_im = sin(2 pi x) for the orbit {(1, 0, 0)};
    # z_(1,0,0) = e(x) = f_re + i f_im and z_(-1,0,0) = conj.
    entries = kernel._slot_entries([[1, 0, 0], [1, 0, 0]], [0, -12], [0, 1, 2], "ri")
    hkl, function, phase, numerator, denominator = entries
    value = numerator / denominator * np.exp(2j * np.pi * phase / 48)
    table = {(tuple(h), int(f)): complex(v) for h, f, v in zip(hkl.tolist(), function.tolist(), value, strict=True)}
    assert table[((1, 0, 0), 0)] == pytest.approx(1)
    assert table[((1, 0, 0), 1)] == pytest.approx(1j)
    assert table[((-1, 0, 0), 0)] == pytest.approx(1)
    assert table[((-1, 0, 0), 1)] == pytest.approx(-1j)
    with pytest.raises(CrystalFourierError, match="one of 'c', 'r', 'i'"):
        kernel._slot_entries([[1, 0, 0]], [0], [0, 1], "x")
    assert math.isclose(float(numerator.sum()), 4.0)
