"""RoutingEncoder: built from the generated modules, equal to the group average, invariant, weights shared by slot."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crystal_fourier.derive import basis, frequency_set, space_group, standard_hall_number
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._routing import RoutingEncoder
from crystal_fourier.runtime import CutoffSpec, invariant_basis
from crystal_fourier.runtime.network._routing_tables import setting_routing, slot_frequencies
from crystal_fourier.testing import REPRESENTATIVE_SETTINGS, operation_images

GROUPS = (1, 2, 14, 76, 91, 144, 146, 166, 169, 194, 210, 225, 227, 230)
HALLS = tuple(standard_hall_number(n) for n in GROUPS) + tuple(REPRESENTATIVE_SETTINGS)
# (shell, cutoff): generated into the test cache (box 2, box 3) and shipped (ball 5).
CONFIGS = [("box", 2), ("ball", 5), ("box", 3)]
TOLERANCE = {torch.float64: 1e-12, torch.float32: 1e-5}


def _encoder(shell, cutoff, include_constant=False, out=6, seed=0):
    torch.manual_seed(seed)
    return RoutingEncoder(out, cutoff=cutoff, shell=shell, include_constant=include_constant).double()


def _batch(seed=0, per=3):
    halls = torch.tensor(HALLS).repeat_interleave(per)
    halls = halls[torch.randperm(len(halls), generator=torch.Generator().manual_seed(seed))]
    x = torch.from_numpy(np.random.default_rng(seed).uniform(-1, 2, (len(halls), 3)))
    return x, halls


def _group_average(hkl: np.ndarray, hall: int, x: np.ndarray, shell: str, cutoff: int) -> np.ndarray:
    """(1/|G|) sum_g e(n . (R x + t)) for every slot n, zero for n outside the group's shell."""
    derived = basis(None, cutoff, shell, hall_number=hall)
    images = operation_images(derived.group.operations, x[None])[:, 0]  # (n_ops, 3)
    z = np.exp(2j * np.pi * images @ hkl.T).mean(axis=0)
    inside = derived.frequencies.index(hkl) >= 0
    return np.where(inside, z, 0)


def _slot_features(encoder, x, halls) -> np.ndarray:
    """[Re z, Im z] of every slot read through ``forward`` itself: W_re = identity (then W_im), no bias."""
    probe = RoutingEncoder(encoder.n_slots, cutoff=encoder.cutoff, shell=encoder.shell,
                           include_constant=encoder.include_constant).double()
    identity = torch.eye(encoder.n_slots, dtype=torch.float64)
    parts = []
    with torch.no_grad():
        probe.bias.zero_()
        for weight_re, weight_im in ((identity, 0 * identity), (0 * identity, identity)):
            probe.weight_re.copy_(weight_re)
            probe.weight_im.copy_(weight_im)
            parts.append(probe(x, halls).numpy())
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("include_constant", [False, True])
@pytest.mark.parametrize(("shell", "cutoff"), CONFIGS)
def test_forward_equals_dense_reference(shell, cutoff, include_constant):
    encoder = _encoder(shell, cutoff, include_constant)
    x, halls = _batch()
    hkl = encoder.slot_hkl.numpy()
    z = np.stack([_group_average(hkl, hall, x[i].numpy(), shell, cutoff) for i, hall in enumerate(halls.tolist())])
    weights = torch.cat([encoder.weight_re, encoder.weight_im], dim=1).detach().numpy()
    expected = np.concatenate([z.real, z.imag], axis=1) @ weights.T + encoder.bias.detach().numpy()
    np.testing.assert_allclose(encoder(x, halls).detach().numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("shell", "cutoff"), CONFIGS)
def test_slot_features_are_symmetrised_plane_waves(shell, cutoff):
    encoder = _encoder(shell, cutoff, include_constant=True)
    x, halls = _batch(seed=1, per=1)
    z = _slot_features(encoder, x, halls)
    hkl = encoder.slot_hkl.numpy()
    for i, hall in enumerate(halls.tolist()):
        expected = _group_average(hkl, hall, x[i].numpy(), shell, cutoff)
        np.testing.assert_allclose(z[i, :encoder.n_slots], expected.real, rtol=0, atol=1e-12)
        np.testing.assert_allclose(z[i, encoder.n_slots:], expected.imag, rtol=0, atol=1e-12)


positions = arrays(np.float64, (2, 3), elements=st.floats(-1.0, 2.0, allow_nan=False, allow_infinity=False))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize(("shell", "cutoff"), CONFIGS[:2])
@settings(max_examples=3, deadline=None, derandomize=True)
@given(x=positions)
def test_forward_is_invariant_for_mixed_batches(shell, cutoff, dtype, x):
    encoder = _encoder(shell, cutoff).to(dtype)
    halls = torch.tensor(HALLS)
    for row in x:
        # Every atom of the batch at the same point, each in its own setting; then every image.
        base = encoder(torch.from_numpy(np.tile(row, (len(halls), 1))).to(dtype), halls)
        moved_x, moved_halls, owner = [], [], []
        for i, hall in enumerate(halls.tolist()):
            images = operation_images(space_group(hall_number=hall).operations, row[None])[:, 0]
            moved_x.append(images)
            moved_halls += [hall] * len(images)
            owner += [i] * len(images)
        moved = encoder(torch.from_numpy(np.concatenate(moved_x)).to(dtype), torch.tensor(moved_halls))
        scale = max(1.0, float(base.detach().abs().max()))
        torch.testing.assert_close(moved, base[torch.tensor(owner)], rtol=0, atol=TOLERANCE[dtype] * scale)


def test_invariance_check_can_fail():
    # Changing the phase of one term of a many-term function breaks invariance of the P4_1 atoms.
    encoder = _encoder("box", 2)
    hall = standard_hall_number(76)
    module = encoder._prepare(hall, torch.device("cpu"), torch.float64).module
    column = sum(width * count for width, count in module._buckets if width == 1)  # first term of a wider function
    assert column < module.n_terms
    module._angle_table[3, column] += math.pi / 2  # row 3: the phase 2 pi p / 48
    row = np.array([[0.1, 0.2, 0.3]])
    images = torch.from_numpy(operation_images(space_group(76).operations, row)[:, 0])
    out = encoder(images, torch.full((len(images),), hall))
    assert float((out - out[0]).detach().abs().max()) > 1e-3


def test_encoder_evaluates_the_generated_modules():
    # The functions routed are those of the per-group module (same class, same values).
    encoder = _encoder("ball", 5)
    for number in (14, 194, 227):
        hall = standard_hall_number(number)
        module = encoder._prepare(hall, torch.device("cpu"), torch.float64).module
        shipped = invariant_basis(number, 5)
        assert type(module) is type(shipped)
        assert type(module).__module__ == f"crystal_fourier.generated.ball_5.sg{number:03d}"
        x = torch.rand(7, 3, dtype=torch.float64)
        torch.testing.assert_close(module(x), shipped(x), rtol=0, atol=0)


@pytest.mark.parametrize(("shell", "cutoff"), CONFIGS)
def test_zeroing_one_slot_changes_exactly_the_groups_where_it_is_present(shell, cutoff):
    encoder = _encoder(shell, cutoff)
    x, halls = _batch(seed=2)
    before = encoder(x, halls)
    slot = int(np.flatnonzero((encoder.slot_hkl.numpy() == [1, 0, 0]).all(axis=1))[0])
    with torch.no_grad():
        encoder.weight_re[:, slot] = 0
        encoder.weight_im[:, slot] = 0
    changed = (encoder(x, halls) - before).abs().amax(dim=1) > 1e-9
    for hall in set(halls.tolist()):
        present = slot in set(encoder.table(hall).slot.tolist())
        assert bool(changed[halls == hall].all()) == present, hall
        assert bool(changed[halls == hall].any()) == present, hall
    # (1, 0, 0) is absent in the centred groups (I, F, R on hexagonal axes) and present in P1.
    assert slot in encoder.table(1).slot
    assert slot not in encoder.table(standard_hall_number(225)).slot


def test_hexagonal_only_slot_reaches_hexagonal_groups_only():
    encoder = _encoder("ball", 5)
    hkl = encoder.slot_hkl.numpy()
    cubic = {tuple(r) for r in frequency_set(space_group(1), 5, "ball").hkl.tolist()}
    hexagonal_only = [i for i, row in enumerate(hkl.tolist()) if tuple(row) not in cubic]
    assert len(hexagonal_only) == 549 - 515
    assert (np.asarray(hexagonal_only) >= 514).all()  # after the cubic shell (k = 0 dropped)
    assert not set(hexagonal_only) & set(encoder.table(1).slot.tolist())
    assert set(hexagonal_only) & set(encoder.table(standard_hall_number(191)).slot.tolist())


def test_slots_mean_fixed_frequencies():
    cubic, hexagonal = frequency_set(space_group(1), 5, "ball").hkl, frequency_set(space_group(191), 5, "ball").hkl
    slots = slot_frequencies(CutoffSpec("ball", 5), include_constant=True)
    np.testing.assert_array_equal(slots[:len(cubic)], cubic)
    union = {tuple(r) for r in cubic.tolist()} | {tuple(r) for r in hexagonal.tolist()}
    assert {tuple(r) for r in slots.tolist()} == union
    np.testing.assert_array_equal(slot_frequencies(CutoffSpec("ball", 5)), slots[1:])  # k = 0 dropped
    assert RoutingEncoder(4, cutoff=6).n_slots == 998
    assert RoutingEncoder(4, 5, include_constant=True).n_slots == 549


@pytest.mark.parametrize("number", GROUPS, ids=lambda n: f"sg{n}")
def test_present_slots_are_the_derived_present_frequencies(number):
    derived = basis(number, 5, "ball")
    d = derived.decomposition
    present = derived.frequencies.hkl[~d.absent[d.orbit_of]]  # the members of the present orbits, from derive
    routing = setting_routing(CutoffSpec("ball", 5), standard_hall_number(number), include_constant=True)
    hkl = slot_frequencies(CutoffSpec("ball", 5), include_constant=True)
    assert {tuple(r) for r in hkl[routing.slot].tolist()} == {tuple(r) for r in present.tolist()}
    assert routing.n_functions == derived.dim
    # One entry per slot of a centric orbit, two (Re and Im functions) per slot of a pair O, -O.
    per_slot = np.bincount(routing.entry_slot, minlength=len(hkl))[routing.slot]
    centric = np.isin(routing.entry_function, np.flatnonzero(np.array(derived.real.part) == "centric"))
    assert set(per_slot.tolist()) <= {1, 2}
    assert int((per_slot == 1).sum()) == len(np.unique(routing.entry_slot[centric]))


def test_tables_are_sparse():
    # A few exact entries per present slot, never |U| x |U|: Fm-3m keeps 136 slots at R = 5 (k = 0 dropped).
    routing = setting_routing(CutoffSpec("ball", 5), standard_hall_number(225))
    assert len(routing.slot) == 136
    assert len(routing.entry_slot) == 136  # centrosymmetric: one entry per slot
    assert routing.n_functions == 10


def test_gradients():
    encoder = _encoder("box", 1, out=2)
    x, halls = _batch(seed=3, per=1)
    x.requires_grad_()
    assert torch.autograd.gradcheck(lambda p: encoder(p, halls), (x,), eps=1e-6, atol=1e-7)
    encoder(x, halls).sum().backward()
    assert encoder.weight_re.grad.abs().sum() > 0
    assert encoder.weight_im.grad.abs().sum() > 0


def test_empty_batch_and_errors():
    encoder = _encoder("box", 2)
    assert encoder(torch.zeros(0, 3, dtype=torch.float64), torch.zeros(0, dtype=torch.long)).shape == (0, 6)
    with pytest.raises(CrystalFourierError, match="1-530"):
        encoder(torch.zeros(2, 3), torch.tensor([1, 531]))
    with pytest.raises(CrystalFourierError, match=r"shape \(N, 3\)"):
        encoder(torch.zeros(2, 2), torch.tensor([1, 2]))
    with pytest.raises(CrystalFourierError, match="integer tensor"):
        encoder(torch.zeros(2, 3), torch.tensor([1.0, 2.0]))
    with pytest.raises(CrystalFourierError, match="unknown shell"):
        RoutingEncoder(4, shell="sphere")


@pytest.mark.sweep
@pytest.mark.parametrize("cutoff", [5, 6])
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_slot_features_through_generated_modules_sweep(number, cutoff):
    # The identity the transformer rests on, for every group and both shipped shells:
    # z = T f with f the generated module equals the group average of e(n . x).
    encoder = _encoder("ball", cutoff, include_constant=True)
    hall = standard_hall_number(number)
    x = np.random.default_rng(number).uniform(-1, 2, (2, 3))
    z = _slot_features(encoder, torch.from_numpy(x), torch.full((2,), hall))
    hkl = encoder.slot_hkl.numpy()
    for i in range(2):
        expected = _group_average(hkl, hall, x[i], "ball", cutoff)
        np.testing.assert_allclose(z[i, :encoder.n_slots], expected.real, rtol=0, atol=1e-12)
        np.testing.assert_allclose(z[i, encoder.n_slots:], expected.imag, rtol=0, atol=1e-12)


@pytest.mark.sweep
@pytest.mark.parametrize("hall", range(1, 531), ids=lambda h: f"hall{h}")
def test_every_setting_has_an_invariant_table(hall):
    encoder = _encoder("ball", 5)
    row = np.array([[0.13, 0.71, 0.37]])
    images = torch.from_numpy(operation_images(space_group(hall_number=hall).operations, row)[:, 0])
    out = encoder(images, torch.full((len(images),), hall))
    torch.testing.assert_close(out, out[:1].expand_as(out), rtol=0, atol=1e-12 * max(1.0, float(out.abs().max())))
    assert math.isfinite(float(out.sum()))


def test_torch_compile_fullgraph_on_a_planned_batch():
    # plan() reads the Hall numbers eagerly; forward_planned has no data-dependent control flow.
    encoder = _encoder("box", 2)
    x, halls = _batch(seed=4)
    plan = encoder.plan(halls)
    compiled = torch.compile(lambda p: encoder.forward_planned(p, plan), backend="aot_eager", fullgraph=True)
    torch.testing.assert_close(compiled(x), encoder(x, halls), rtol=0, atol=1e-12)


def test_state_dict_layout_is_unchanged():
    # Models saved before the encoder read the generated modules still load: same persistent tensors.
    encoder = _encoder("box", 2)
    assert sorted(encoder.state_dict()) == ["bias", "slot_hkl", "weight_im", "weight_re"]
