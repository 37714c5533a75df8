"""SpaceGroupEncoding (issue 25): exact invariance per atom, batch layout, dtypes, pair bias, bad input, compile.

The invariance is checked with :func:`crystal_fourier.testing.assert_invariant`, which applies every
operation (R, t) of the group (centrings included) from ``crystal_fourier.derive``, independently of
the generated modules the layer evaluates.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from crystal_fourier.derive import space_group, standard_hall_number
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import SpaceGroupEncoding
from crystal_fourier.testing import REPRESENTATIVE_SETTINGS, assert_invariant, operation_images

GROUPS = (1, 2, 14, 38, 76, 122, 146, 166, 169, 194, 210, 225, 227, 230)
INVARIANCE_TOLERANCE = 1e-12
"""Absolute, float64, features of magnitude about 1 (crystal_fourier.testing.FLOAT_TOLERANCE's rationale)."""
FLOAT32_TOLERANCE = 1e-5
"""Absolute: float32 rounds 2 pi n . x at |n| <= 6 to about 5e-6 (testing.FLOAT_TOLERANCE)."""


@pytest.fixture(scope="module")
def encoding() -> SpaceGroupEncoding:
    torch.manual_seed(0)
    return SpaceGroupEncoding(cutoff=6, dim=16).double()


def _positions(n: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).uniform(-1.0, 2.0, (n, 3))).to(dtype)


def _invariance_errors(encoding, number: int, *, hall_number: int | None = None, seed: int = 0) -> np.ndarray:
    group = space_group(number) if hall_number is None else space_group(hall_number=hall_number)

    def features(x: torch.Tensor) -> torch.Tensor:
        if hall_number is None:
            return encoding(x, torch.full((len(x),), number))
        return encoding(x, hall_numbers=torch.full((len(x),), hall_number))

    with torch.no_grad():
        return assert_invariant(features, group, _positions(8, seed), tolerance=INVARIANCE_TOLERANCE)


@pytest.mark.parametrize("number", GROUPS, ids=lambda n: f"sg{n}")
def test_exactly_invariant_under_every_operation(encoding, number):
    errors = _invariance_errors(encoding, number)
    assert len(errors) == len(space_group(number).operations)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_exactly_invariant_under_every_operation_all_groups(encoding, number):
    _invariance_errors(encoding, number, seed=number)


@pytest.mark.parametrize("hall_number", REPRESENTATIVE_SETTINGS)
def test_hall_number_form_is_invariant_in_other_settings(encoding, hall_number):
    _invariance_errors(encoding, space_group(hall_number=hall_number).number, hall_number=hall_number)


def test_group_numbers_mean_the_standard_setting(encoding):
    x = _positions(6)
    groups = torch.tensor([227, 227, 14, 14, 166, 166])
    halls = torch.tensor([standard_hall_number(int(n)) for n in groups])
    batch = torch.tensor([0, 0, 1, 1, 2, 2])
    with torch.no_grad():
        torch.testing.assert_close(encoding(x, groups, batch), encoding(x, batch=batch, hall_numbers=halls),
                                   rtol=0, atol=0)
        # and not another setting: Fd-3m origin choice 1 (525) differs from the standard choice 2 (526)
        assert not torch.allclose(encoding(x[:2], hall_numbers=torch.tensor([525, 525])), encoding(x[:2], groups[:2]))


def test_not_invariant_under_operations_of_a_larger_group(encoding):
    """The check can fail: P1's features move under P-1's inversion."""
    with pytest.raises(AssertionError, match="not invariant"):
        assert_invariant(lambda x: encoding(x, torch.ones(len(x), dtype=torch.int64)), space_group(2), _positions(4))


def test_features_of_a_crystal_do_not_depend_on_its_batch_position(encoding):
    sizes, numbers = [3, 5, 2], [225, 14, 166]
    x = _positions(sum(sizes))
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor(sizes))
    with torch.no_grad():
        together = encoding(x, torch.tensor(numbers), batch)
        per_atom = encoding(x, torch.tensor(numbers)[batch], batch)
        alone = torch.cat([encoding(part, torch.full((len(part),), n)) for part, n in
                           zip(torch.split(x, sizes), numbers, strict=True)])
        reordered = torch.cat([x[8:], x[3:8], x[:3]])
        moved = encoding(reordered, torch.tensor([166, 14, 225]), torch.repeat_interleave(torch.arange(3),
                                                                                             torch.tensor([2, 5, 3])))
    torch.testing.assert_close(together, per_atom, rtol=0, atol=0)
    torch.testing.assert_close(together, alone, rtol=0, atol=INVARIANCE_TOLERANCE)
    torch.testing.assert_close(moved, torch.cat([together[8:], together[3:8], together[:3]]), rtol=0,
                               atol=INVARIANCE_TOLERANCE)


def test_float32_close_to_float64_and_dtype_follows_positions(encoding):
    x = _positions(12)
    groups, batch = torch.tensor([227, 194, 62]), torch.arange(3).repeat_interleave(4)
    with torch.no_grad():
        reference = encoding(x, groups, batch)
        single = encoding(x.float(), groups, batch)
        layer32 = SpaceGroupEncoding(cutoff=6, dim=16)
        layer32.load_state_dict(encoding.state_dict())
        on_float64 = layer32(x, groups, batch)
    assert single.dtype == torch.float32
    assert on_float64.dtype == torch.float64
    torch.testing.assert_close(single.double(), reference, rtol=0, atol=FLOAT32_TOLERANCE)
    # a float32 layer on float64 positions computes in float64 with its float32 weights: still exactly invariant
    torch.testing.assert_close(on_float64, reference, rtol=0, atol=FLOAT32_TOLERANCE)
    assert_invariant(lambda p: layer32(p, torch.full((len(p),), 227)), space_group(227), x[:3],
                     tolerance=INVARIANCE_TOLERANCE)


def test_gradients_reach_the_layer_weights_from_float64_inputs():
    torch.manual_seed(0)
    layer = SpaceGroupEncoding(cutoff=5, dim=4)
    layer(_positions(5), torch.full((5,), 62)).sum().backward()
    assert layer.routing.weight_re.grad is not None
    assert float(layer.routing.weight_re.grad.abs().sum()) > 0.0


def test_ball_5_cutoff_and_width():
    layer = SpaceGroupEncoding(cutoff=5, dim=8)
    assert layer.dim == 8
    assert layer.routing.n_slots == 548   # the ball R = 5 slots without k = 0
    assert layer(_positions(3, dtype=torch.float32), torch.tensor([1, 1, 1])).shape == (3, 8)


def test_empty_input():
    layer = SpaceGroupEncoding(cutoff=5, dim=8)
    empty = torch.zeros(0, 3)
    assert layer(empty, torch.zeros(0, dtype=torch.int64)).shape == (0, 8)


def test_precomputed_basis_gives_the_same_features_and_concatenates_by_crystal(encoding):
    sizes, numbers = [3, 4, 2], [1, 225, 194]
    x = _positions(sum(sizes), seed=5)
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor(sizes))
    groups = torch.tensor(numbers)
    with torch.no_grad():
        basis = encoding.basis(x, groups, batch)
        per_crystal = torch.cat([encoding.basis(part, torch.tensor([n])) for part, n in
                                 zip(torch.split(x, sizes), numbers, strict=True)])
        # P1 at R = 6 has one function per frequency; each atom holds its group's functions
        widths = [encoding.routing.table(standard_hall_number(n)).n_functions for n in numbers]
        assert basis.shape == (sum(s * w for s, w in zip(sizes, widths, strict=True)),)
        torch.testing.assert_close(per_crystal, basis, rtol=0, atol=0)
        torch.testing.assert_close(encoding(x, groups, batch, basis=basis), encoding(x, groups, batch),
                                   rtol=0, atol=INVARIANCE_TOLERANCE)
        with pytest.raises(CrystalFourierError, match=f"basis must be .* of length {len(basis)}"):
            encoding(x, groups, batch, basis=basis[:-1])


# --------------------------------------------------------------------------- pair bias


@pytest.fixture(scope="module")
def paired() -> SpaceGroupEncoding:
    torch.manual_seed(1)
    layer = SpaceGroupEncoding(cutoff=6, dim=8, pair_radius=3, pair_heads=2).double()
    with torch.no_grad():
        layer.pair.weight.normal_()   # zero at initialisation: draw it so that the bias is not trivially invariant
    return layer


def test_pair_bias_is_symmetric_invariant_and_matches_the_edge_form(paired):
    sizes, numbers = [4, 3], [227, 76]
    x = _positions(sum(sizes), seed=3)
    batch = torch.repeat_interleave(torch.arange(2), torch.tensor(sizes))
    groups = torch.tensor(numbers)
    with torch.no_grad():
        dense = paired.pair_bias(x, groups, batch)
        assert dense.shape == (2, 2, 4, 4)
        assert float(dense.abs().max()) > 0.1
        torch.testing.assert_close(dense, dense.transpose(-1, -2), rtol=0, atol=INVARIANCE_TOLERANCE)
        assert float(dense[1, :, 3, :].abs().max()) == 0.0   # padding of the 3-atom crystal
        # every operation of each crystal's group applied to each atom on its own
        rng = np.random.default_rng(0)
        moved = x.clone()
        for i in range(len(x)):
            operations = space_group(numbers[int(batch[i])]).operations
            operation = operations[rng.integers(len(operations))]
            moved[i] = torch.from_numpy(operation_images([operation], x[i:i + 1].numpy())[0, 0])
        torch.testing.assert_close(paired.pair_bias(moved, groups, batch), dense, rtol=0, atol=INVARIANCE_TOLERANCE)
        edges = torch.tensor([[0, 3, 5, 4], [1, 2, 6, 4]])
        on_edges = paired.pair_bias(x, groups, batch, edge_index=edges)
    assert on_edges.shape == (4, 2)
    expected = torch.stack([dense[0, :, 0, 1], dense[0, :, 3, 2], dense[1, :, 1, 2], dense[1, :, 0, 0]])
    torch.testing.assert_close(on_edges, expected, rtol=0, atol=0)


def test_pair_bias_needs_a_radius_and_edges_within_crystals(paired):
    with pytest.raises(CrystalFourierError, match="pair_radius"):
        SpaceGroupEncoding(cutoff=5, dim=4).pair_bias(_positions(2), torch.tensor([1, 1]))
    batch = torch.tensor([0, 0, 1])
    with pytest.raises(CrystalFourierError, match="edge_index must join atoms of the same crystal"):
        paired.pair_bias(_positions(3), torch.tensor([1, 2]), batch, edge_index=torch.tensor([[0], [2]]))
    with pytest.raises(CrystalFourierError, match="edge_index must hold atom indices"):
        paired.pair_bias(_positions(3), torch.tensor([1, 2]), batch, edge_index=torch.tensor([[0], [3]]))


# --------------------------------------------------------------------------- bad input

_X = torch.rand(4, 3, dtype=torch.float64)
_G = torch.tensor([14, 14, 14, 14])


@pytest.mark.parametrize(("arguments", "keywords", "message"), [
    ((_X, torch.tensor([14, 14, 14, 231])), {}, "groups must lie in 1-230, got 231"),
    ((_X, torch.tensor([0, 0, 0, 0])), {}, "groups must lie in 1-230, got 0"),
    ((_X, None), {"hall_numbers": torch.tensor([531] * 4)}, "hall_numbers must lie in 1-530, got 531"),
    ((_X, _G), {"hall_numbers": _G}, "exactly one of groups"),
    ((_X, _G.double()), {}, "groups must be a 1-D integer tensor"),
    ((_X, torch.tensor([14, 14, 14])), {}, r"groups must have one entry per atom \(4\) or one per crystal \(1\)"),
    ((_X, torch.tensor([14, 14, 2, 2])), {}, "groups must be equal for all atoms of one crystal"),
    ((_X[:, :2], _G), {}, r"positions must be a tensor of shape \(n, 3\)"),
    ((_X[None], _G), {}, r"positions must be a tensor of shape \(n, 3\)"),
    ((_X.numpy(), _G), {}, r"positions must be a tensor of shape \(n, 3\)"),
    ((_X.to(torch.int64), _G), {}, "positions must be float32 or float64"),
    ((_X.half(), _G), {}, "positions must be float32 or float64"),
    ((torch.where(torch.eye(4, 3, dtype=torch.bool), float("nan"), _X), _G), {}, "positions must be finite"),
    ((torch.full((4, 3), float("inf"), dtype=torch.float64), _G), {}, "positions must be finite"),
    ((_X, _G, torch.tensor([0, 1, 0, 1])), {}, "batch must be sorted"),
    ((_X, _G, torch.tensor([0, 0, 1])), {}, r"batch must have one entry per atom \(4\)"),
    ((_X, _G, torch.tensor([-1, 0, 0, 0])), {}, "batch must hold crystal indices >= 0"),
    ((_X, _G, torch.tensor([0.0, 0, 1, 1])), {}, "batch must be a 1-D integer tensor"),
    ((_X, torch.tensor([14, 2, 3]), torch.tensor([0, 0, 1, 1])), {},
     r"groups must have one entry per atom \(4\) or one per crystal \(2\), got 3"),
    ((_X, torch.tensor([14, 14, 2, 2]), torch.tensor([0, 0, 0, 1])), {},
     "groups must be equal for all atoms of one crystal"),
])
def test_bad_input_raises_one_clear_value_error(arguments, keywords, message):
    layer = SpaceGroupEncoding(cutoff=5, dim=4)
    with pytest.raises(ValueError, match=message) as caught:
        layer(*arguments, **keywords)
    assert isinstance(caught.value, CrystalFourierError)


@pytest.mark.parametrize(("keywords", "message"), [
    ({"cutoff": -1}, "cutoff"), ({"dim": 0}, "out_features must be a positive integer"),
    ({"shell": "sphere"}, "shell"), ({"pair_radius": 0}, "pair_radius must be an integer in 1-64"),
    ({"pair_radius": 2, "pair_heads": 0}, "pair_heads must be an integer"),
])
def test_bad_construction_raises(keywords, message):
    with pytest.raises(CrystalFourierError, match=message):
        SpaceGroupEncoding(**{"cutoff": 5, **keywords})


# --------------------------------------------------------------------------- torch.compile


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_works_under_torch_compile(dtype):
    """aot_eager keeps this test short (a few s); bench/bench_space_group_encoding.py runs the default inductor."""
    torch.manual_seed(0)
    layer = SpaceGroupEncoding(cutoff=5, dim=8)
    compiled = torch.compile(layer, backend="aot_eager")
    x = _positions(6, dtype=dtype)
    groups, batch = torch.tensor([225, 14]), torch.tensor([0, 0, 0, 1, 1, 1])
    out = compiled(x, groups, batch)
    assert out.dtype == dtype
    # Eagerly the routing weights are one sparse product, compiled the same sums by index_add_ (no sparse
    # tensors in a full graph): equal to round-off, 1e-12 in float64 and 1e-6 in float32 (7e-9 seen).
    tolerance = INVARIANCE_TOLERANCE if dtype == torch.float64 else 1e-6
    torch.testing.assert_close(out, layer(x, groups, batch), rtol=0, atol=tolerance)
    out.sum().backward()
    assert layer.routing.weight_re.grad is not None
    # with cached basis values: eagerly the flat path (two sparse products), compiled the per-setting one
    basis = layer.basis(x, groups, batch)
    torch.testing.assert_close(compiled(x, groups, batch, basis=basis), layer(x, groups, batch, basis=basis), rtol=0,
                               atol=tolerance)


# --------------------------------------------------------------------------- the guide


def test_the_guide_example_runs():
    """docs/guide/space-group-encoding.md's first example, as printed there (its assert checks the inversion)."""
    import re
    from pathlib import Path

    guide = Path(__file__).resolve().parents[3] / "docs" / "guide" / "space-group-encoding.md"
    example = re.findall(r"```python\n(.*?)```", guide.read_text(), re.S)[0]
    namespace: dict = {}
    exec(compile(example, str(guide), "exec"), namespace)   # noqa: S102 - the repository's own documentation
    assert namespace["features"].shape == (14, 64)
    assert namespace["node_features"].shape == (14, 96)
