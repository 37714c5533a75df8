"""Per-atom neighbourhood features: exact values on rock salt, invariance under every re-description."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from crystal_fourier.derive import space_group
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._batching import sample_from_arrays
from crystal_fourier.runtime.network._neighbour_list import neighbour_list
from crystal_fourier.runtime.network._neighbourhood import (
    INVARIANCE_TOLERANCE,
    NeighbourhoodEmbedding,
    batch_neighbours,
    neighbourhood_features,
    radial_basis,
)
from crystal_fourier.runtime import random_crystal
from crystal_fourier.runtime.learning._pretraining import orbit_distance

TOL = INVARIANCE_TOLERANCE[np.float64]
A_NACL = 5.64
NACL_POSITIONS = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0],        # Na (fcc)
                           [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]])      # Cl
NACL_NUMBERS = np.array([11] * 4 + [17] * 4)


def rotation(rng, proper=True) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.linalg.det(q))
    return q if proper else -q


def supercell(lattice, positions, numbers, matrix):
    """The same crystal in the cell ``matrix @ lattice`` (|det matrix| copies of each atom)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    copies = int(round(abs(np.linalg.det(matrix))))
    inverse = np.linalg.inv(matrix)
    out_positions, out_numbers = [], []
    for x, z in zip(positions, numbers, strict=True):
        found = []
        for t in itertools.product(range(-4, 5), repeat=3):
            f = np.mod((x + np.array(t)) @ inverse, 1.0)
            if not any(np.max(np.abs((f - g) - np.round(f - g))) < 1e-9 for g in found):
                found.append(f)
        assert len(found) == copies
        out_positions += found
        out_numbers += [z] * copies
    return matrix @ lattice, np.array(out_positions), np.array(out_numbers)


@pytest.fixture(scope="module")
def crystal():
    """A triclinic random crystal (P-1, 8 atoms) with two species."""
    made = random_crystal(2, seed=0, species=("Cu", "Au"), max_atoms=16).crystal
    assert made.n_atoms >= 4
    assert len(set(made.numbers.tolist())) == 2
    return made.lattice, made.positions, made.numbers


def features(lattice, positions, numbers):
    return neighbourhood_features(lattice, positions, numbers, species=[29, 79])


def test_rock_salt_values():
    nl = neighbour_list(A_NACL * np.eye(3), NACL_POSITIONS, cutoff=6.0)
    # Shells of every atom within 6 A: 6 at a/2, 12 at a/sqrt2, 8 at a sqrt3/2, 6 at a (next: a sqrt5/2 = 6.31).
    for i in range(8):
        d = nl.distances[nl.centres == i]
        j = nl.neighbours[nl.centres == i]
        np.testing.assert_allclose(d, np.repeat(A_NACL * np.sqrt([0.25, 0.5, 0.75, 1.0]), [6, 12, 8, 6]),
                                   rtol=0, atol=1e-12)
        unlike = NACL_NUMBERS[j] != NACL_NUMBERS[i]
        assert unlike[:6].all()
        assert not unlike[6:18].any()
        assert unlike[18:26].all()
        assert not unlike[26:].any()
    np.testing.assert_allclose(nl.nearest(), np.full(8, A_NACL / 2), rtol=0, atol=1e-12)
    f = neighbourhood_features(A_NACL * np.eye(3), NACL_POSITIONS, NACL_NUMBERS, species=[11, 17])
    rbf = radial_basis(A_NACL * np.sqrt([0.25, 0.5, 0.75, 1.0]))
    na_sees = np.stack([12 * rbf[1] + 6 * rbf[3], 6 * rbf[0] + 8 * rbf[2]])    # (Na channel, Cl channel)
    np.testing.assert_allclose(f[:4], np.broadcast_to(na_sees, (4, 2, 16)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(f[4:], np.broadcast_to(na_sees[::-1], (4, 2, 16)), rtol=0, atol=1e-12)
    # The 2-atom primitive cell of rock salt gives the same neighbourhoods.
    primitive = A_NACL / 2 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]], dtype=np.float64)
    g = neighbourhood_features(primitive, [[0, 0, 0], [0.5, 0.5, 0.5]], [11, 17], species=[11, 17])
    np.testing.assert_allclose(g, f[[0, 4]], rtol=0, atol=TOL)


def test_cosine_cutoff_drops_a_neighbour_continuously():
    below = neighbourhood_features(np.eye(3) * 2.0, [[0, 0, 0]], [6], species=[6], cutoff=2.0 + 1e-9)
    above = neighbourhood_features(np.eye(3) * 2.0, [[0, 0, 0]], [6], species=[6], cutoff=2.0 - 1e-9)
    assert len(neighbour_list(np.eye(3) * 2.0, [[0, 0, 0]], 2.0 + 1e-9)) == 6
    assert len(neighbour_list(np.eye(3) * 2.0, [[0, 0, 0]], 2.0 - 1e-9)) == 0
    assert np.abs(below - above).max() < 1e-12


def test_nearest_neighbour_matches_the_exact_orbit_distance(crystal):
    lattice, positions, _ = crystal
    nl = neighbour_list(lattice, positions, cutoff=8.0)
    p1 = space_group(1)
    n = len(positions)
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    exact = orbit_distance(p1, lattice, positions[[i for i, _ in pairs]], positions[[j for _, j in pairs]])
    shortest_vector = min(np.linalg.norm(np.array(t) @ lattice)
                          for t in itertools.product(range(-2, 3), repeat=3) if any(t))
    expected = np.full(n, shortest_vector)
    for (i, _), d in zip(pairs, exact, strict=True):
        expected[i] = min(expected[i], d)
    np.testing.assert_allclose(nl.nearest(), expected, rtol=0, atol=1e-12)


def test_skewed_basis_finds_every_neighbour(crystal):
    """A unimodular but very skewed basis of the same lattice: the same pairs, none missed."""
    lattice, positions, numbers = crystal
    base = features(lattice, positions, numbers)
    matrix = np.array([[1, 3, 0], [0, 1, 0], [2, 5, 1]], dtype=np.float64)
    new_lattice = matrix @ lattice
    moved = positions @ np.linalg.inv(matrix)
    assert np.abs(features(new_lattice, moved, numbers) - base).max() < TOL


def test_invariance_under_re_descriptions(crystal):
    lattice, positions, numbers = crystal
    rng = np.random.default_rng(0)
    base = features(lattice, positions, numbers)
    assert np.abs(base[0] - base).max() > 1e-3    # atoms differ: the features are not trivially constant
    order = rng.permutation(len(numbers))
    assert np.abs(features(lattice, positions[order], numbers[order]) - base[order]).max() < TOL
    shifted = positions + rng.integers(-3, 4, size=positions.shape)
    assert np.abs(features(lattice, shifted, numbers) - base).max() < TOL
    origin = positions + rng.random(3)
    assert np.abs(features(lattice, origin, numbers) - base).max() < TOL
    for proper in (True, False):
        rotated = lattice @ rotation(rng, proper).T
        assert np.abs(features(rotated, positions, numbers) - base).max() < TOL
    for matrix in (np.diag([2, 1, 1]), np.array([[2, 1, 0], [0, 1, 0], [0, -1, 2]])):
        big_lattice, big_positions, big_numbers = supercell(lattice, positions, numbers, matrix)
        copies = int(round(abs(np.linalg.det(matrix))))
        big = features(big_lattice, big_positions, big_numbers)
        assert big.shape[0] == copies * len(numbers)
        # Copy k of atom i is row i * copies + k (supercell() keeps atoms together).
        assert np.abs(big - np.repeat(base, copies, axis=0)).max() < TOL


def test_unknown_species_is_an_error():
    with pytest.raises(CrystalFourierError, match=r"\[17\] are not among"):
        neighbourhood_features(A_NACL * np.eye(3), NACL_POSITIONS, NACL_NUMBERS, species=[11])


def test_embedding_sums_the_radial_basis_and_is_invariant(crystal):
    lattice, positions, numbers = crystal
    torch.manual_seed(0)
    sample = sample_from_arrays(lattice, positions, numbers, 1, 1)
    order = np.random.default_rng(1).permutation(len(numbers))
    permuted = sample_from_arrays(lattice, positions[order] + 1.0, numbers[order], 1, 1)
    tiny = sample_from_arrays(np.eye(3) * 2.0, [[0, 0, 0]], [29], 1, 1)
    module = NeighbourhoodEmbedding(16).double()
    with torch.no_grad():
        module.radial.weight.copy_(torch.eye(16, dtype=torch.float64))
        module.element.weight.fill_(1.0)
        h = module(batch_neighbours([sample, permuted, tiny])).numpy()
    expected = features(lattice, positions, numbers).sum(axis=1) / module.norm
    n = len(numbers)
    assert h.shape == (3, n, 16)
    np.testing.assert_allclose(h[0], expected, rtol=0, atol=TOL)
    np.testing.assert_allclose(h[1], expected[order], rtol=0, atol=TOL)
    assert np.all(h[2, 1:] == 0.0)   # padding
    # Learned weights: still a function of the neighbourhood only (float32 module).
    module = NeighbourhoodEmbedding(8)
    out = module(batch_neighbours([sample, permuted]))
    h = out.detach().numpy()
    assert np.abs(h[1] - h[0][order]).max() < INVARIANCE_TOLERANCE[np.float32]
    out.square().sum().backward()   # both the radial map and the element embedding learn
    assert module.radial.weight.grad.abs().sum() > 0
    assert module.element.weight.grad[[29, 79]].abs().sum() > 0
    assert module.element.weight.grad[30].abs().sum() == 0


def test_batch_sums_are_the_dense_features(crystal):
    lattice, positions, numbers = crystal
    sample = sample_from_arrays(lattice, positions, numbers, 1, 1)
    tiny = sample_from_arrays(np.eye(3) * 2.0, [[0, 0, 0]], [29], 1, 1)
    nb = batch_neighbours([tiny, sample])
    n = len(numbers)
    assert nb.shape == (2, n)
    dense = np.zeros((2 * n, 2, 16))
    for q, z, row in zip(nb.index.tolist(), nb.species.tolist(), nb.sums.numpy(), strict=True):
        dense[q, [29, 79].index(z)] += row
    np.testing.assert_allclose(dense[n:], features(lattice, positions, numbers), rtol=0, atol=TOL)
    np.testing.assert_allclose(dense[0], features(np.eye(3) * 2.0, [[0, 0, 0]], [29])[0], rtol=0, atol=TOL)
    assert np.all(dense[1:n] == 0.0)   # padding rows of the 1-atom crystal
    with pytest.raises(CrystalFourierError, match="expects 16 at 6.0"):
        NeighbourhoodEmbedding(4)(batch_neighbours([tiny], n_rbf=8))


def _reference_pairs(lattice, positions, cutoff):
    """Every pair within the cutoff by brute force over a generous box of images (no reduction, no pruning)."""
    rows = []
    n = len(positions)
    for i in range(n):
        for j in range(n):
            for t in itertools.product(range(-6, 7), repeat=3):
                if i == j and not any(t):
                    continue
                d = float(np.linalg.norm((positions[j] + np.array(t) - positions[i]) @ lattice))
                if d < cutoff:
                    rows.append((i, round(d, 9), j))
    return sorted(rows)


@pytest.mark.parametrize("cutoff", [3.0, 6.0])
def test_blocked_neighbour_list_has_exactly_the_brute_force_pairs(crystal, cutoff, monkeypatch):
    """The vectorized list, also split into blocks of one centre and with the far images pruned, finds the
    same pairs and distances as a brute-force search over 13^3 images."""
    import crystal_fourier.runtime.network._neighbour_list as neighbour_list_module

    lattice, positions, _ = crystal
    reference = _reference_pairs(lattice, np.mod(positions, 1.0), cutoff)
    whole = neighbour_list(lattice, positions, cutoff)
    monkeypatch.setattr(neighbour_list_module, "_PAIR_BLOCK", 1)   # one centre per block
    blocked = neighbour_list(lattice, positions, cutoff)
    for nl in (whole, blocked):
        found = sorted(zip(nl.centres.tolist(), np.round(nl.distances, 9).tolist(), nl.neighbours.tolist(),
                           strict=True))
        assert found == reference
    for name in ("centres", "neighbours", "distances"):
        assert getattr(whole, name).tobytes() == getattr(blocked, name).tobytes()
    for nl in (whole, blocked):   # sorted by centre, then distance, then neighbour (ties of equal distance)
        order = np.lexsort((nl.neighbours, nl.distances, nl.centres))
        assert order.tolist() == list(range(len(nl)))


def test_sample_sums_are_the_sequential_sums(crystal):
    """The per-(atom, species) sums equal np.add.at's left-to-right sums bit for bit (predictions keep their bytes)."""
    from crystal_fourier.runtime.network._neighbourhood import (
        MAX_ATOMIC_NUMBER,
        lattice_from_features,
        sample_neighbours,
    )

    lattice, positions, numbers = crystal
    sample = sample_from_arrays(lattice, positions, numbers, 2, 2)
    nl = neighbour_list(lattice_from_features(sample.lattice), sample.positions, 6.0)
    keys, row = np.unique(nl.centres * (MAX_ATOMIC_NUMBER + 1) + np.asarray(sample.numbers)[nl.neighbours],
                          return_inverse=True)
    expected = np.zeros((len(keys), 16))
    np.add.at(expected, row.reshape(-1), radial_basis(nl.distances, 6.0, 16))
    assert sample_neighbours(sample, 6.0, 16).sums.tobytes() == expected.tobytes()
