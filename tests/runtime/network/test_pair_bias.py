"""Orbit-pair attention bias and the transformer without positional encoding (issue 20).

The bias is checked against an independent oracle: the double average over the operations of
the group, (1/|G|^2) sum_{g, g'} sum_n w_h(n) cos(2 pi n . (g x_i - g' x_j)), in float64 numpy
from the operations of ``crystal_fourier.derive`` (not from the generated modules the model uses).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from crystal_fourier.derive import basis, space_group, standard_hall_number
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import ModelConfig, RoutingEncoder, build_model, collate, random_crystal
from crystal_fourier.runtime.network._batching import sample_from_arrays
from crystal_fourier.runtime.network._pair_bias import OrbitPairBias
from crystal_fourier.testing import operation_images

GROUPS = (2, 14, 62, 76, 166, 194, 227)
INVARIANCE_TOLERANCE = 1e-5
"""Absolute, float32 predictions of O(1), as in test_model.py: rounding of 2 pi n . x at |n| <= 6."""
SENSITIVITY = 1e-3


def _config(**fields) -> ModelConfig:
    sizes = {"d_model": 32, "n_heads": 4, "n_layers": 2, "d_ff": 64, "d_route": 32, "d_position": 32, "d_head": 32}
    return ModelConfig(**{**sizes, **fields})


def _model(seed: int = 0, **fields):
    """A random CFT with the pair bias, its pair weights drawn (they start at zero) so that the bias matters."""
    torch.manual_seed(seed)
    network = build_model(_config(pair_bias_radius=3, frequency_damping=None, **fields)).eval()
    with torch.no_grad():
        network.pair_bias.weight.normal_(0.0, 100.0)
        network.head[-1].weight.mul_(10.0)
    return network


def _crystal(number: int):
    made = random_crystal(number, seed=number, max_atoms=12)
    return made.crystal, space_group(made.number)


def _sample(number: int, positions=None):
    crystal, group = _crystal(number)
    x = crystal.positions if positions is None else positions
    return sample_from_arrays(crystal.lattice, x, crystal.numbers, group.hall_number, group.number)


def _plane_waves(hkl: np.ndarray, hall: int, x: np.ndarray, cutoff: int) -> np.ndarray:
    """(1/|G|) sum_g e(n . g x) per atom and slot n, zero outside the group's shell: the slot features' oracle."""
    derived = basis(None, cutoff, "ball", hall_number=hall)
    z = np.exp(2j * np.pi * operation_images(derived.group.operations, x) @ hkl.T).mean(axis=0)
    return np.where(derived.frequencies.index(hkl) >= 0, z, 0)


def _predict(network, samples) -> np.ndarray:
    with torch.no_grad():
        return network(collate(samples, neighbours=network.config.neighbour_spec)).double().numpy()


@pytest.mark.parametrize("number", GROUPS, ids=lambda n: f"sg{n}")
def test_pair_features_are_the_group_averaged_plane_waves_on_the_pair_slots(number):
    encoder = RoutingEncoder(8, cutoff=6).double()
    hall = standard_hall_number(number)
    x = torch.from_numpy(np.random.default_rng(number).uniform(-1, 2, (7, 3)))
    halls = torch.full((7,), hall)
    encoded, pair = encoder.forward_with_pair_features(x, encoder.plan(halls), 3)
    z = _plane_waves(encoder.slot_hkl[encoder.pair_slots(3)].numpy(), hall, x.numpy(), 6)
    np.testing.assert_allclose(pair.numpy(), np.concatenate([z.real, z.imag], axis=1), rtol=0, atol=1e-12)
    torch.testing.assert_close(encoded, encoder(x, halls), rtol=0, atol=1e-12)
    assert float(pair.abs().max()) > 0.05   # not vacuous: low frequencies are present in every group


@pytest.mark.parametrize("number", GROUPS, ids=lambda n: f"sg{n}")
def test_bias_is_the_double_average_over_the_group(number):
    group = space_group(number)
    encoder = RoutingEncoder(8, cutoff=6).double()
    rng = np.random.default_rng(number)
    x = rng.uniform(0, 1, (5, 3))
    _, pair = encoder.forward_with_pair_features(torch.from_numpy(x), encoder.plan(torch.full((5,), group.hall_number)),
                                                 2)
    hkl = encoder.slot_hkl[encoder.pair_slots(2)]
    bias_module = OrbitPairBias(hkl, n_heads=2).double()
    with torch.no_grad():
        bias_module.weight.copy_(torch.from_numpy(rng.normal(size=bias_module.weight.shape)))
    bias = bias_module(pair[None], torch.ones(1, 5, dtype=torch.bool)).detach().numpy()   # (2, 5, 5)
    images = operation_images(group.operations, x)   # (|G|, 5, 3)
    n = hkl.numpy().astype(np.float64)
    phases = np.einsum("kd,gnd->gnk", n, images)   # n . g x
    # (1/|G|^2) sum_{g,g'} cos(2 pi n.(g x_i - g' x_j)) = Re(z_n(x_i) conj z_n(x_j)), z = mean_g e(n . g x).
    z = np.exp(2j * np.pi * phases).mean(axis=0)   # (5, S)
    weight = bias_module.weight.detach().numpy()
    expected = np.einsum("ik,hk,jk->hij", z, weight, np.conj(z)).real
    np.testing.assert_allclose(bias, expected, rtol=0, atol=1e-10)
    assert np.abs(expected).max() > 1e-2


@pytest.mark.parametrize("number", GROUPS, ids=lambda n: f"sg{n}")
def test_model_with_pair_bias_is_invariant_atom_by_atom(number):
    network = _model(neighbourhood=False)
    crystal, group = _crystal(number)
    rotations, translations_24 = group.arrays
    rng = np.random.default_rng(number)
    variants = [_sample(number)]
    for _ in range(6):
        pick = rng.integers(len(rotations), size=crystal.n_atoms)
        moved = np.einsum("nij,nj->ni", rotations[pick], crystal.positions) + translations_24[pick] / 24.0
        variants.append(_sample(number, moved + rng.integers(-2, 3, size=moved.shape)))
    predictions = _predict(network, variants)
    np.testing.assert_allclose(predictions, predictions[0], rtol=0, atol=INVARIANCE_TOLERANCE)
    # Sensitivity: the bias reaches the prediction, and a displacement that is no symmetry moves it. With one
    # orbit the bias is |z_n|^2 for every pair, the same for every key, which attention's softmax ignores; so
    # the check adds a second orbit: the images of a general point.
    images = operation_images(group.operations, rng.uniform(0, 1, (1, 3)))[:, 0] % 1.0
    second = images[np.unique(np.round(images, 6), axis=0, return_index=True)[1]]
    two_orbits = sample_from_arrays(crystal.lattice, np.concatenate([crystal.positions, second]),
                                    np.concatenate([crystal.numbers, np.full(len(second), 8)]), group.hall_number,
                                    group.number)
    with_bias = _predict(network, [two_orbits])[0]
    with torch.no_grad():
        saved = network.pair_bias.weight.clone()
        network.pair_bias.weight.zero_()
        without = _predict(network, [two_orbits])[0]
        single_orbit_without = _predict(network, variants[:1])[0]
        network.pair_bias.weight.copy_(saved)
    assert abs(without - with_bias) > SENSITIVITY
    if len(set(crystal.numbers.tolist())) == 1 and _single_orbit(crystal, group):
        assert abs(single_orbit_without - predictions[0]) < INVARIANCE_TOLERANCE
    shifted = two_orbits.positions + np.array([0.07, -0.05, 0.03]) * (np.arange(len(two_orbits)) % 2)[:, None]
    assert abs(_predict(network, [two_orbits.with_positions(shifted)])[0] - with_bias) > SENSITIVITY


def _single_orbit(crystal, group) -> bool:
    """Whether every atom of ``crystal`` is an image of the first under ``group`` (modulo lattice vectors)."""
    images = operation_images(group.operations, crystal.positions[:1])[:, 0]
    difference = crystal.positions[:, None, :] - images[None, :, :]
    return bool(np.all(np.min(np.abs(difference - np.round(difference)).max(axis=2), axis=1) < 1e-6))


def test_padding_batches_and_the_inference_path_change_nothing():
    network = _model()
    samples = [_sample(n) for n in (2, 194, 227, 14)]
    together = _predict(network, samples)
    alone = np.array([_predict(network, [s])[0] for s in samples])
    np.testing.assert_allclose(together, alone, rtol=0, atol=INVARIANCE_TOLERANCE)
    # torch's fused inference path reads a float attention mask as boolean (NaN or wrong values); the model
    # must give the training path's numbers under no_grad too.
    with torch.enable_grad():
        graded = network(collate(samples, neighbours=network.config.neighbour_spec)).detach().double().numpy()
    assert np.all(np.isfinite(together))
    np.testing.assert_allclose(together, graded, rtol=0, atol=INVARIANCE_TOLERANCE)


def test_pair_bias_starts_at_zero_and_learns():
    torch.manual_seed(0)
    network = build_model(_config(pair_bias_radius=2))
    plain = build_model(_config(pair_bias_radius=None))
    assert float(network.pair_bias.weight.detach().abs().max()) == 0.0
    samples = [_sample(n) for n in (2, 194)]
    network(collate(samples, neighbours=network.config.neighbour_spec)).sum().backward()
    assert float(network.pair_bias.weight.grad.abs().max()) > 0.0
    extra = sum(p.numel() for p in network.parameters()) - sum(p.numel() for p in plain.parameters())
    assert extra == network.pair_bias.weight.numel() == 4 * len(network.positional.features.pair_slots(2))


def test_config_checks_and_old_files():
    assert ModelConfig().pair_bias_radius == 3   # the CFT's default (issue 20)
    old = {k: v for k, v in _config().to_dict().items() if k != "pair_bias_radius"}
    assert ModelConfig.from_dict(old).pair_bias_radius is None   # a model saved before the option, as trained
    assert not any("pair_bias" in name for name, _ in build_model(ModelConfig.from_dict(old)).named_parameters())
    for kind in ("sinusoidal", "augmented", "none"):   # no invariant slot features to pair
        assert _config(kind=kind).pair_bias_radius is None
        assert build_model(_config(kind=kind)).pair_bias is None
    for value in (0, -1, 17, True, 2.0, "3"):
        with pytest.raises(CrystalFourierError, match="pair_bias_radius must be null or an integer in 1-16"):
            _config(pair_bias_radius=value)
    with pytest.raises(CrystalFourierError, match="radius must be a positive integer"):
        RoutingEncoder(4, cutoff=6).pair_slots(0)
    # a radius beyond the shell keeps every slot of the shell (one of each pair +-n)
    encoder = RoutingEncoder(4, cutoff=2, shell="box")
    assert 2 * len(encoder.pair_slots(9)) == encoder.n_slots


def test_pair_slots_are_one_of_each_pair_within_the_radius():
    encoder = RoutingEncoder(4, cutoff=4)
    hkl = encoder.slot_hkl[encoder.pair_slots(2)].tolist()
    assert all(0 < h * h + k * k + l * l <= 4 for h, k, l in hkl)
    assert not any([-h, -k, -l] in hkl for h, k, l in hkl)
    # every frequency of the ball |n| <= 2 but 0 is n or -n of exactly one kept slot
    span = range(-2, 3)
    ball = [(h, k, l) for h in span for k in span for l in span if 0 < h * h + k * k + l * l <= 4]
    assert len(hkl) * 2 == len(ball)


def test_no_positional_encoding_sees_no_positions():
    torch.manual_seed(0)
    network = build_model(_config(kind="none", neighbourhood=False)).eval()
    assert network.positional is None
    crystal, _ = _crystal(14)
    moved = crystal.positions + np.random.default_rng(0).uniform(-0.2, 0.2, crystal.positions.shape)
    np.testing.assert_allclose(_predict(network, [_sample(14, moved)]), _predict(network, [_sample(14)]), rtol=0,
                               atol=1e-6)
    # ... while the neighbourhood, when on, does see them.
    torch.manual_seed(0)
    seeing = build_model(_config(kind="none")).eval()
    assert abs(_predict(seeing, [_sample(14, moved)])[0] - _predict(seeing, [_sample(14)])[0]) > SENSITIVITY
