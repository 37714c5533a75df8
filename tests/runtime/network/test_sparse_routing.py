"""The routing form's sparse products (runtime/network/_sparse_routing.py): transposes laid out by counting.

The transposes are checked against the dense transpose exactly (they hold the same numbers, only placed), and
the flat path of the layer against the per-setting path, features and weight gradients, to float64 round-off.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from crystal_fourier.derive import standard_hall_number
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._routing import RoutingEncoder
from crystal_fourier.runtime.network._sparse_routing import basis_matrices, fold_matrices, routing_matrices

GROUPS = (1, 2, 14, 62, 146, 166, 194, 225, 227, 230)
TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}
"""Absolute, features and gradients of magnitude about 1: the two paths sum the same terms in another order."""


def _batch(seed: int = 0):
    """Hall numbers of atoms of crystals of GROUPS in a shuffled order (settings recur, not contiguous)."""
    rng = np.random.default_rng(seed)
    numbers = rng.choice(GROUPS, size=14)
    sizes = rng.integers(1, 5, size=len(numbers))
    halls = torch.tensor([standard_hall_number(int(n)) for n in numbers]).repeat_interleave(torch.tensor(sizes))
    return torch.from_numpy(rng.uniform(-1, 2, (len(halls), 3))), halls


def _flat_basis(encoder: RoutingEncoder, positions: torch.Tensor, halls: torch.Tensor) -> torch.Tensor:
    """The atoms' basis values, atom by atom (the layout of SpaceGroupEncoding.basis), from the generated modules."""
    rows = []
    for position, hall in zip(positions, halls.tolist(), strict=True):
        rows.append(encoder.function_blocks(position[None], encoder.plan(torch.tensor([hall])))[0].reshape(-1))
    return torch.cat(rows)


@pytest.fixture(scope="module")
def encoder() -> RoutingEncoder:
    torch.manual_seed(0)
    return RoutingEncoder(6, cutoff=5).double()


def test_transposes_are_the_exact_transposes(encoder):
    positions, halls = _batch()
    unique, setting, counts = torch.unique(halls, return_inverse=True, return_counts=True)
    tables = [encoder._prepare(h, torch.device("cpu"), torch.float64) for h in unique.tolist()]
    n_functions = [t.n_functions for t in tables]
    matrix, transposed = routing_matrices([t.entries for t in tables], n_functions, encoder.n_slots)
    assert matrix.shape == (sum(n_functions), 2 * encoder.n_slots)
    assert torch.equal(transposed.to_dense(), matrix.to_dense().T)
    # T itself: row offset_k + i holds Re T[n, i] at n and Im T[n, i] at n_slots + n, from the setting's entries
    dense = matrix.to_dense()
    start = 0
    for table in tables:
        expected = torch.zeros(table.n_functions, 2 * encoder.n_slots, dtype=torch.float64)
        function, slot = table.function.long(), table.slot.long()
        expected[function, slot] = table.coefficient[:, 0]
        expected[function, slot + encoder.n_slots] = table.coefficient[:, 1]
        assert torch.equal(dense[start:start + table.n_functions], expected)
        start += table.n_functions
    basis = _flat_basis(encoder, positions, halls)
    b, b_t, order = basis_matrices(basis, setting, torch.tensor(n_functions), counts)
    assert torch.equal(b_t.to_dense(), b.to_dense().T[:, order])
    assert torch.equal(setting[order], torch.sort(setting, stable=True).values)
    # row a of B: the atom's values in the columns of its setting
    offsets = np.cumsum([0, *n_functions])
    for atom in (0, len(halls) - 1):
        k = int(setting[atom])
        row = b.to_dense()[atom]
        assert torch.count_nonzero(row[:offsets[k]]) == 0
        assert torch.count_nonzero(row[offsets[k + 1]:]) == 0


def test_fold_matrix_adds_the_negative_slot(encoder):
    fold, fold_t = fold_matrices(encoder._negative_slot, encoder._paired, torch.float64, torch.device("cpu"))
    assert torch.equal(fold_t.to_dense(), fold.to_dense().T)
    weights = torch.cat([encoder.weight_re, encoder.weight_im], 1).T.detach()
    negative, paired = encoder._negative_slot, encoder._paired
    expected = torch.cat([(encoder.weight_re + encoder.weight_re[:, negative] * paired).T,
                          (encoder.weight_im - encoder.weight_im[:, negative] * paired).T]).detach()
    torch.testing.assert_close(torch.mm(fold, weights), expected, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_flat_path_equals_the_per_setting_path_with_gradients(encoder, dtype):
    layer = RoutingEncoder(6, cutoff=5).to(dtype)
    layer.load_state_dict(encoder.state_dict())
    positions, halls = _batch(seed=1)
    positions = positions.to(dtype)
    basis = _flat_basis(layer, positions, halls)
    weight = torch.randn(len(halls), 6, dtype=dtype, generator=torch.Generator().manual_seed(2))
    parameters = [layer.weight_re, layer.weight_im, layer.bias]
    flat = layer.forward_flat(halls, basis)
    flat_gradients = torch.autograd.grad((flat * weight).sum(), parameters)
    reference = layer(positions, halls)
    reference_gradients = torch.autograd.grad((reference * weight).sum(), parameters)
    torch.testing.assert_close(flat, reference, rtol=0, atol=TOLERANCE[dtype])
    for got, expected in zip(flat_gradients, reference_gradients, strict=True):
        assert float(expected.abs().max()) > 0.1
        torch.testing.assert_close(got, expected, rtol=0, atol=TOLERANCE[dtype] * 10)
    with torch.no_grad():   # no transposes are laid out: the same features
        torch.testing.assert_close(layer.forward_flat(halls, basis), flat.detach(), rtol=0, atol=0)


def test_flat_path_refuses_a_basis_of_the_wrong_length(encoder):
    positions, halls = _batch()
    basis = _flat_basis(encoder, positions, halls)
    with pytest.raises(CrystalFourierError, match=f"of length {len(basis)}, got"):
        encoder.forward_flat(halls, basis[1:])
