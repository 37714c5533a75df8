"""The CFT is exactly invariant: every description of a crystal gets the same prediction.

Model level (positions already in the standard setting): every operation of the group,
permutations, integer lattice translations, padding. Structure level (through
``standardize``): rotated frames, primitive cells, other settings, origin shifts and
bases. Each on random crystals of the representative groups; float32 predictions agree
to ``INVARIANCE_TOLERANCE``. The non-invariant baseline fails the same checks, so the
checks can fail.

The models embed each atom's neighbourhood (exact periodic distances to its neighbours)
by default; the invariance tests run with it. The one check that is not about a
re-description of the crystal, each atom moved by its own group operation, runs on the
Fourier encoding alone (the model with the neighbourhood off): moving atoms one by one
makes another periodic crystal, whose interatomic distances differ.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
import pytest
import torch

from crystal_fourier.derive import space_group
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import collate, sample_from_standardized
from crystal_fourier.runtime.network._batching import sample_from_arrays
from crystal_fourier.runtime.network._cell_features import lattice_features
from crystal_fourier.runtime.network._model import (
    N_GROUP_DESCRIPTORS,
    ModelConfig,
    build_model,
    check_cutoff_faithful,
    group_descriptor_table,
)
from crystal_fourier.runtime import Crystal
from crystal_fourier.testing import REPRESENTATIVE_GROUPS

INVARIANCE_TOLERANCE = 1e-5
"""Absolute, float32, on predictions of O(0.1-1): the features of x and g x differ by the
rounding of 2 pi (k . x) at |k| <= 6 (~1e-6), the standardized cells by spglib's ~1e-12."""

SENSITIVITY = 1e-3
"""A real change of the structure must move the prediction by far more than the tolerance."""


@lru_cache(maxsize=None)
def model(kind: str = "cft", neighbourhood: bool = True, damping: "float | None" = ModelConfig.frequency_damping):
    """A random model; ``damping`` None turns the frequency prior off (it shrinks the positional encoding at
    initialisation, so the sensitivity checks use the model without it)."""
    torch.manual_seed(0)
    config = ModelConfig(kind=kind, d_model=32, n_heads=4, n_layers=2, d_ff=64, d_route=32, d_position=32, d_head=32,
                         neighbourhood=neighbourhood, frequency_damping=damping)
    network = build_model(config).eval()
    with torch.no_grad():  # larger weights, so that predictions spread well beyond the tolerance
        network.head[-1].weight.mul_(10.0)
        network.positional.mlp[-1].weight.mul_(10.0)
    return network


@lru_cache(maxsize=None)
def random_of(number: int):
    """(crystal, group): a random crystal asked of group ``number``, in the standard setting of the group
    it really has (``random_crystal`` records a larger group when the structure has more symmetry)."""
    from crystal_fourier.runtime import random_crystal

    made = random_crystal(number, seed=number, max_atoms=16)
    return made.crystal, space_group(made.number)


def crystal_of(number: int) -> Crystal:
    return random_of(number)[0]


def predict(samples, kind="cft", neighbourhood=True, damping=ModelConfig.frequency_damping) -> np.ndarray:
    network = model(kind, neighbourhood, damping)
    with torch.no_grad():
        return network(collate(samples, neighbours=network.config.neighbour_spec)).double().numpy()


def predict_structures(crystals, kind="cft") -> np.ndarray:
    from crystal_fourier.runtime import standardize

    return predict([sample_from_standardized(standardize(c)) for c in crystals], kind)


def variants_under_group(number: int, rng) -> list:
    """The crystal with every operation of its group applied, atoms permuted and moved by lattice vectors."""
    crystal, group = random_of(number)
    rotations, translations_24 = group.arrays
    out = []
    for rotation, t24 in zip(rotations, translations_24, strict=False):
        moved = crystal.positions @ rotation.T + t24 / 24.0 + rng.integers(-3, 4, size=crystal.positions.shape)
        order = rng.permutation(crystal.n_atoms)
        out.append(sample_from_arrays(crystal.lattice, moved[order], crystal.numbers[order], group.hall_number,
                                      group.number))
    return out


def atoms_moved_one_by_one(number: int, rng) -> list:
    """Each atom moved by its own random operation of the group: the per-atom invariance of the encoding.

    Any periodic, permutation-invariant model is invariant when one operation moves every
    atom (the atom set maps onto itself); only an encoding invariant atom by atom is
    invariant here, so this is the check that the non-invariant baseline fails.
    """
    crystal, group = random_of(number)
    rotations, translations_24 = group.arrays
    out = []
    for _ in range(8):
        pick = rng.integers(len(rotations), size=crystal.n_atoms)
        moved = np.einsum("nij,nj->ni", rotations[pick], crystal.positions) + translations_24[pick] / 24.0
        out.append(sample_from_arrays(crystal.lattice, moved, crystal.numbers, group.hall_number, group.number))
    return out


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_invariant_under_every_operation_permutation_and_translation(number):
    rng = np.random.default_rng(number)
    variants = variants_under_group(number, rng)
    predictions = predict(variants)
    np.testing.assert_allclose(predictions, predictions[0], rtol=0, atol=INVARIANCE_TOLERANCE)
    fourier = predict(variants, neighbourhood=False, damping=None)
    np.testing.assert_allclose(fourier, fourier[0], rtol=0, atol=INVARIANCE_TOLERANCE)
    # Sensitivity: a displacement that is not a symmetry changes the prediction (of the full model by
    # less at random initialisation: the neighbourhood term dilutes the positional one in the LayerNorms,
    # and the frequency prior shrinks it).
    base = variants[0]
    moved = base.with_positions(base.positions + np.array([0.07, -0.05, 0.03]) * (np.arange(len(base)) % 2)[:, None])
    if len(base) > 1:
        assert abs(predict([moved], neighbourhood=False, damping=None)[0] - fourier[0]) > SENSITIVITY
        assert abs(predict([moved])[0] - predictions[0]) > 10 * INVARIANCE_TOLERANCE


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_invariant_atom_by_atom(number):
    # The Fourier encoding alone (neighbourhood off): moving each atom by its own operation g_i is not a
    # re-description of the periodic crystal (its interatomic distances change), so only the per-atom
    # encoding, not the neighbourhood, is invariant to it.
    predictions = predict(atoms_moved_one_by_one(number, np.random.default_rng(number)), neighbourhood=False)
    np.testing.assert_allclose(predictions, predictions[0], rtol=0, atol=INVARIANCE_TOLERANCE)


@pytest.mark.parametrize("number", [14, 166, 194, 227], ids=lambda n: f"sg{n}")
def test_invariant_atom_by_atom_with_the_neighbourhoods_of_the_crystal(number):
    """With the neighbourhood on, each atom keeps the neighbourhood it has in the crystal (as the
    augmentation does): g_i maps the crystal onto itself, so the atom at g_i x_i has the same neighbours."""
    from crystal_fourier.runtime.network._neighbourhood import with_neighbours

    original = with_neighbours([variants_under_group(number, np.random.default_rng(0))[0]],
                               *model().config.neighbour_spec)[0]
    rng = np.random.default_rng(number)
    rotations, translations_24 = space_group(hall_number=original.hall_number).arrays
    variants = [original]
    for _ in range(6):
        pick = rng.integers(len(rotations), size=len(original))
        moved = np.einsum("nij,nj->ni", rotations[pick], original.positions) + translations_24[pick] / 24.0
        variants.append(original.with_positions(moved).with_neighbours(original.neighbours))
    predictions = predict(variants)
    np.testing.assert_allclose(predictions, predictions[0], rtol=0, atol=INVARIANCE_TOLERANCE)
    # ... while neighbourhoods recomputed from the moved atoms are those of another crystal.
    recomputed = predict([v.with_positions(v.positions) for v in variants[1:]])
    assert np.max(np.abs(recomputed - predictions[0])) > 10 * INVARIANCE_TOLERANCE


@pytest.mark.parametrize("number", [14, 62, 166, 194, 225, 227], ids=lambda n: f"sg{n}")
def test_the_baseline_is_not_invariant_atom_by_atom(number):
    predictions = predict(atoms_moved_one_by_one(number, np.random.default_rng(number)), kind="sinusoidal",
                          neighbourhood=False, damping=None)
    assert np.max(np.abs(predictions - predictions[0])) > SENSITIVITY


@pytest.mark.parametrize("kind", ["cft", "sinusoidal"])
def test_the_neighbourhood_reaches_the_prediction(kind):
    """Without the neighbour sums (zeroed) the same crystals get other predictions; and a batch without
    neighbourhoods is refused by a model that embeds them."""
    import dataclasses

    samples = [variants_under_group(n, np.random.default_rng(0))[0] for n in (194, 227, 2)]
    network = model(kind)
    batch = collate(samples, neighbours=network.config.neighbour_spec)
    empty = dataclasses.replace(batch.neighbours, sums=torch.zeros_like(batch.neighbours.sums))
    with torch.no_grad():
        full = network(batch).double().numpy()
        without = network(dataclasses.replace(batch, neighbours=empty)).double().numpy()
    assert np.max(np.abs(full - without)) > SENSITIVITY
    assert np.min(np.abs(full - without)) > 10 * INVARIANCE_TOLERANCE
    with pytest.raises(CrystalFourierError, match=r"collate the samples with neighbours=\(6.0, 32\)"):
        network(collate(samples))


def test_old_configs_load_without_the_neighbourhood_and_new_fields_are_checked():
    config = ModelConfig(kind="cft", d_model=32, n_heads=4)
    assert config.neighbourhood
    assert config.neighbour_spec == (6.0, 32)
    old = {k: v for k, v in config.to_dict().items()
           if k not in ("neighbourhood", "neighbour_cutoff", "n_rbf", "atom_readout", "frequency_damping")}
    loaded = ModelConfig.from_dict(old)
    assert loaded.neighbourhood is False
    assert loaded.neighbour_spec is None
    assert loaded.atom_readout is False
    assert loaded.frequency_damping is None
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert not any("neighbourhood" in name for name, _ in build_model(loaded).named_parameters())
    for change, message in (({"neighbourhood": 1}, "neighbourhood and atom_readout must be true or false"),
                            ({"atom_readout": None}, "neighbourhood and atom_readout must be true or false"),
                            ({"neighbour_cutoff": float("nan")}, "neighbour_cutoff must be"),
                            ({"neighbour_cutoff": 100.0}, "neighbour_cutoff must be"),
                            ({"n_rbf": 1}, "n_rbf must be an integer"),
                            ({"n_rbf": True}, "n_rbf must be an integer"),
                            ({"frequency_damping": 0.0}, "frequency_damping must be null or a number"),
                            ({"frequency_damping": float("inf")}, "frequency_damping must be null or a number")):
        with pytest.raises(CrystalFourierError, match=message):
            ModelConfig.from_dict({**config.to_dict(), **change})


def test_padding_and_batch_composition_change_nothing():
    samples = [variants_under_group(n, np.random.default_rng(0))[0] for n in (1, 194, 227, 2)]
    together = predict(samples)
    alone = np.array([predict([s])[0] for s in samples])
    np.testing.assert_allclose(together, alone, rtol=0, atol=INVARIANCE_TOLERANCE)


def _rotation(rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))  # proper: an improper one gives the mirror image


def descriptions(number: int, rng) -> list[Crystal]:
    """The same crystal given in many ways: frame, primitive cell, other settings, origin, basis."""
    import spglib

    crystal, group = random_of(number)
    number = group.number
    out = [crystal]
    out.append(Crystal(crystal.lattice @ _rotation(rng).T, crystal.positions, crystal.numbers))
    lattice, positions, numbers = spglib.standardize_cell(crystal.spglib_cell, to_primitive=True, no_idealize=True,
                                                          symprec=1e-5)
    out.append(Crystal(lattice @ _rotation(rng).T, positions, numbers))
    # Another setting: a different Hall number of the same group (origin choice 1, other axes), via spglib.
    others = [h for h in range(1, 531) if space_group(hall_number=h).number == number
              and h != space_group(number).hall_number]
    for hall in rng.permutation(others)[:2]:
        data = spglib.get_symmetry_dataset(crystal.spglib_cell, symprec=1e-5, hall_number=int(hall))
        if data is not None and data.number == number:
            out.append(Crystal(data.std_lattice, data.std_positions, data.std_types))
    # Another axis setting: the cyclic relabelling a, b, c -> b, c, a (e.g. P2_1/c unique axis b -> c).
    cyclic = [1, 2, 0]
    out.append(Crystal(crystal.lattice[cyclic], crystal.positions[:, cyclic], crystal.numbers))
    # An arbitrary origin shift and a unimodular change of basis (new rows B L, so x' = x B^-1), atoms permuted.
    basis = np.array([[1, 1, 0], [0, 1, 0], [0, -1, 1]])
    shifted = (crystal.positions + rng.random(3)) @ np.linalg.inv(basis)
    order = rng.permutation(crystal.n_atoms)
    out.append(Crystal(basis @ crystal.lattice, shifted[order], crystal.numbers[order]))
    return out


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_every_description_of_a_crystal_gives_one_prediction(number):
    rng = np.random.default_rng(1000 + number)
    predictions = predict_structures(descriptions(number, rng))
    np.testing.assert_allclose(predictions, predictions[0], rtol=0, atol=INVARIANCE_TOLERANCE)


def test_lattice_features_ignore_the_frame():
    rng = np.random.default_rng(0)
    lattice = crystal_of(2).lattice
    np.testing.assert_allclose(lattice_features(lattice @ _rotation(rng).T), lattice_features(lattice), rtol=0,
                               atol=1e-12)


def test_every_setting_has_descriptors_and_no_group_has_its_own_weights():
    table = group_descriptor_table()
    assert table.shape == (531, N_GROUP_DESCRIPTORS)
    assert np.all(table[1:, :7].sum(axis=1) == 1)
    assert np.all(table[1:, 7:14].sum(axis=1) == 1)
    # A group never seen gets a prediction from the same weights: the parameters do not depend on the groups.
    network = model()
    unseen = [*range(3, 231, 9), 230]  # a spread of groups (all 230 would spend seconds building tables)
    batch = [sample_from_arrays(np.eye(3) * 5, [[0.1, 0.2, 0.3]], [29], space_group(n).hall_number, n)
             for n in unseen]
    with torch.no_grad():
        assert torch.isfinite(network(collate(batch, neighbours=network.config.neighbour_spec))).all()
    assert not any(230 in p.shape or 530 in p.shape or 531 in p.shape for p in network.parameters())


def test_unfaithful_cutoff_warns():
    with pytest.warns(UserWarning, match=r"not faithful for groups \[226, 228\]"):
        assert check_cutoff_faithful(5, "ball", groups=[225, 226, 228]) == [226, 228]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_cutoff_faithful(6, "ball") == []


# --------------------------------------------------------------------------- raw against idealized input

NOISE = {"lattice": 2e-2, "positions": 3e-3}
"""Lattice noise (Angstrom) and fractional position noise (~0.02 Angstrom): an unrefined structure,
well within symprec."""


def _noisy(crystal: Crystal, rng) -> Crystal:
    return Crystal(crystal.lattice + rng.normal(scale=NOISE["lattice"], size=(3, 3)),
                   crystal.positions + rng.normal(scale=NOISE["positions"], size=crystal.positions.shape),
                   crystal.numbers)


@pytest.mark.parametrize("number", [2, 14, 62, 166, 194, 227], ids=lambda n: f"sg{n}")
def test_raw_input_and_its_symmetrized_description_give_one_prediction(number):
    """standardize projects the positions onto exactly G-symmetric ones (a Reynolds average), so feeding its
    idealized cell back in, in another frame and origin, changes nothing: the raw noisy crystal and the
    idealized one are the same input to the model."""
    from crystal_fourier.runtime import standardize

    rng = np.random.default_rng(number)
    raw = _noisy(crystal_of(number), rng)
    ideal = standardize(raw).crystal
    moved = Crystal(ideal.lattice @ _rotation(rng).T, ideal.positions + rng.random(3), ideal.numbers)
    predictions = predict_structures([raw, ideal, moved])
    np.testing.assert_allclose(predictions, predictions[0], rtol=0, atol=INVARIANCE_TOLERANCE)
    if number != 2:   # control: the raw positions, only mapped into the standard cell, are another input
        standardized = standardize(raw)
        mapped = raw.positions @ standardized.transformation.T + standardized.origin_shift
        unsymmetrized = sample_from_arrays(standardized.lattice, mapped, raw.numbers, standardized.hall_number,
                                           standardized.number)
        symmetrized = sample_from_standardized(standardized)
        assert abs(predict([unsymmetrized], damping=None)[0] - predict([symmetrized], damping=None)[0]) \
            > INVARIANCE_TOLERANCE


@pytest.mark.parametrize("name", ["rock salt", "perovskite"])
def test_raw_and_spglib_idealized_crystals_on_fixed_sites_give_one_prediction(name):
    """Atoms on sites without free parameters: spglib's idealized cell and the raw noisy one give the same
    prediction (free parameters differ between the two by the noise: spglib copies one representative
    atom per orbit, standardize averages over the orbit; see docs/guide/transformer.md, "Invariances")."""
    import spglib

    rng = np.random.default_rng(7)
    if name == "rock salt":
        crystal = Crystal(5.64 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],
                                             [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]], [11] * 4 + [17] * 4)
    else:
        crystal = Crystal(3.905 * np.eye(3), [[0, 0, 0], [.5, .5, .5], [.5, .5, 0], [.5, 0, .5], [0, .5, .5]],
                          [38, 22, 8, 8, 8])
    raw = _noisy(crystal, rng)
    lattice, positions, numbers = spglib.standardize_cell(raw.spglib_cell, to_primitive=False, no_idealize=False,
                                                          symprec=0.1)
    predictions = predict_structures([raw, Crystal(lattice, positions, numbers)])
    np.testing.assert_allclose(predictions, predictions[0], rtol=0, atol=INVARIANCE_TOLERANCE)


@pytest.mark.parametrize("kind", ["cft", "sinusoidal"])
def test_frequency_damping_scales_the_weights_of_high_frequencies(kind):
    from crystal_fourier.runtime.network._model import frequency_scale

    torch.manual_seed(0)
    damped = build_model(ModelConfig(kind=kind, d_model=32, n_heads=4, d_route=16, frequency_damping=2.0))
    features = damped.positional.features
    scale = frequency_scale(features, 2.0)
    holder, name = (features, "weight_re") if kind == "cft" else (features.linear, "weight")
    original = getattr(holder.parametrizations, name).original
    torch.testing.assert_close(getattr(holder, name), original * scale, rtol=0, atol=0)
    if kind == "cft":   # slot (h, k, l): |n|^2 = 36 is damped by exp(-4.5), the lowest |n|^2 = 1 by exp(-1/8)
        squared = (features.slot_hkl.double() ** 2).sum(-1)
        assert float(scale[0, squared.argmax()]) == pytest.approx(math.exp(-float(squared.max()) / 8), rel=1e-6)
        assert float(scale.max()) == pytest.approx(math.exp(-1 / 8), rel=1e-6)
    plain = build_model(ModelConfig(kind=kind, d_model=32, n_heads=4, d_route=16, frequency_damping=None))
    assert not hasattr(plain.positional.features if kind == "cft" else plain.positional.features.linear,
                       "parametrizations")
    # The trainable parameter keeps its name inside the parametrization, so state dicts round-trip.
    assert any(key.endswith(f"parametrizations.{name}.original") for key in damped.state_dict())
