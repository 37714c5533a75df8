"""Canonical standardization: the standardized atom set depends only on the crystal.

Each random crystal (atoms on special and general positions) is re-described in every way
that keeps it the same crystal, and every description must standardize to the same atom set
(species and positions, to 1e-9 fractional) and cell:

* every coset of the affine normalizer: x -> M x + s for each proper isometry M that normalizes
  the group and each allowed origin shift s (enumerated exactly by the standardization's own
  tables; the test compares outputs, so an enumeration bug shows up as a disagreement);
* 2x1x1 and 1x2x2 supercells, the primitive cell;
* unimodular basis changes (sheared, cyclic, flipped axes);
* a permutation of the atoms with a random origin shift.

The default suite covers the groups of issue 11 (Pn-3, Pn-3n, Fm-3c, Fd-3c), Fd-3m and a
two-origin orthorhombic group, plus one group per crystal system; the sweep covers all 230.
"""

from __future__ import annotations

import tracemalloc
import warnings
from functools import lru_cache

import numpy as np
import pytest
import spglib

from crystal_fourier.derive import space_group, standard_hall_number
from crystal_fourier import runtime
from crystal_fourier.audit import in_basis, niggli_basis, normalizer_cosets, origin_shifted, permuted, supercell
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import standardize
from crystal_fourier.runtime.symmetry._random_crystals import orbit
from crystal_fourier.runtime.symmetry._standardization import ENANTIOMORPHIC_PARTNERS
from crystal_fourier.runtime.symmetry import _canonical_choice
from crystal_fourier.runtime.symmetry._canonical_choice import _set_key, canonical_description
from crystal_fourier.runtime import Crystal
from crystal_fourier.runtime.structure_io._structures import lattice_from_parameters

POSITION_TOLERANCE = 1e-9   # fractional; exact re-descriptions differ by round-off only
CELL_TOLERANCE = 1e-8       # Angstrom and degrees
ISSUE_GROUPS = (201, 222, 226, 228)
REPRESENTATIVE = (2, 14, 70, 76, 141, 166, 194, 201, 222, 226, 227, 228, 230)


@lru_cache(maxsize=None)
def crystal_of(number: int) -> Crystal:
    """:func:`crystal_fourier.runtime.crystal_of` (a special orbit of Cu and a general one of Al), cached."""
    return runtime.crystal_of(number)


def descriptions(crystal: Crystal, number: int):
    """(label, Crystal) for every re-description listed in the module docstring (crystal_fourier.audit)."""
    del number  # the group is the crystal's own
    for d in normalizer_cosets(crystal):
        yield f"normalizer {d.label}", d.crystal
    yield "supercell 2x1x1", supercell(crystal, (2, 1, 1)).crystal
    yield "supercell 1x2x2", supercell(crystal, (1, 2, 2)).crystal
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield "primitive", Crystal(*spglib.find_primitive(crystal.spglib_cell, symprec=1e-5))
    yield "sheared basis", in_basis(crystal, [[1, 1, 0], [0, 1, 0], [0, -1, 1]]).crystal
    yield "cyclic axes", in_basis(crystal, [[0, 1, 0], [0, 0, 1], [1, 0, 0]]).crystal
    yield "flipped axes", in_basis(crystal, [[1, 0, 0], [0, -1, 0], [0, 0, -1]]).crystal
    yield "Niggli cell", niggli_basis(crystal).crystal
    rng = np.random.default_rng(crystal.n_atoms)
    shifted = origin_shifted(permuted(crystal, rng.permutation(crystal.n_atoms)).crystal, rng.random(3))
    yield "permuted and shifted", shifted.crystal


def set_distance(a, b) -> float:
    """Largest distance from an atom of one set to the nearest atom of the same species in the other."""
    if a.n_atoms != b.n_atoms or sorted(a.numbers.tolist()) != sorted(b.numbers.tolist()):
        return np.inf
    gap = a.positions[:, None, :] - b.positions[None, :, :]
    gap -= np.round(gap)
    distance = np.max(np.abs(gap), axis=-1)
    distance[a.numbers[:, None] != b.numbers[None, :]] = np.inf
    return float(max(distance.min(axis=0).max(), distance.min(axis=1).max()))


def assert_canonical(number: int, crystal: "Crystal | None" = None):
    __tracebackhide__ = True
    crystal = crystal_of(number) if crystal is None else crystal
    reference = standardize(crystal)
    number = ENANTIOMORPHIC_PARTNERS.get(number, number)   # handedness="canonical" maps P4_3 to P4_1, ...
    assert reference.number == number
    failures = []
    for label, other in descriptions(crystal, number):
        result = standardize(other)
        gap = set_distance(reference, result)
        cell = float(np.max(np.abs(reference.cell_parameters - result.cell_parameters)))
        if result.number != number or not gap < POSITION_TOLERANCE or not cell < CELL_TOLERANCE:
            failures.append(f"{label}: atom sets differ by {gap:.3g} (tolerance {POSITION_TOLERANCE}), "
                            f"cells by {cell:.3g}")
    assert not failures, f"sg{number} ({crystal.n_atoms} atoms): " + "; ".join(failures)


@pytest.mark.parametrize("number", REPRESENTATIVE, ids=lambda n: f"sg{n}")
def test_standardized_atom_set_is_the_same_for_every_description(number):
    assert_canonical(number)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_standardized_atom_set_is_the_same_for_every_description_all_groups(number):
    assert_canonical(number)


# --------------------------------------------------------------------------- near-degenerate cells (issue 18)
NEAR_TIE = 0.01   # relative: cell lengths within 1% (and beta within ~0.5 degrees) of a tie between two cells


def near_degenerate_lattice(number: int, rng: np.random.Generator, n_atoms: int) -> np.ndarray:
    """A lattice of group ``number``'s system within ``NEAR_TIE`` of a tie between two reduced cells.

    Triclinic and monoclinic: |a + c| = |a| (cos beta = -c / 2a), so a and a + c are two equally short
    cell vectors, off by up to 1%; orthorhombic: b = a; tetragonal, trigonal and hexagonal: c = a, each
    off by up to 1%. Cubic cells have no free length. Scaled to 18 A^3 per atom.
    """
    system = space_group(number).crystal_system
    a, c = rng.uniform(1.3, 1.8), rng.uniform(0.8, 1.2)
    off = 1.0 + rng.uniform(-NEAR_TIE, NEAR_TIE)
    alpha = beta = gamma = 90.0
    b = rng.uniform(0.8, 1.8)
    if system in ("triclinic", "monoclinic"):
        beta = float(np.degrees(np.arccos(-c / (2 * a * off))))
        if system == "triclinic":
            alpha, gamma = rng.uniform(80.0, 100.0, size=2)
    elif system == "orthorhombic":
        b = a * off
    elif system == "cubic":
        b = c = a
    else:
        b, c = a, a * off
        gamma = 120.0 if system in ("trigonal", "hexagonal") else 90.0
    lattice = lattice_from_parameters(a, b, c, alpha, beta, gamma)
    return lattice * (18.0 * n_atoms / abs(np.linalg.det(lattice))) ** (1.0 / 3.0)


@lru_cache(maxsize=None)
def near_degenerate_crystal_of(number: int, seed: int = 0) -> Crystal:
    """Like :func:`crystal_of`, on a :func:`near_degenerate_lattice` (first seed whose group is ``number``)."""
    return runtime.crystal_of(number, seeds=range(1000 * seed, 1000 * seed + 200),
                              lattice=lambda rng, n_atoms: near_degenerate_lattice(number, rng, n_atoms))


NEAR_DEGENERATE = (1, 2, 7, 9, 14, 15, 16, 19, 47, 71, 76, 92, 123, 143, 166, 191, 194)


@pytest.mark.parametrize("number", NEAR_DEGENERATE, ids=lambda n: f"sg{n}")
def test_near_degenerate_cells_are_canonical(number):
    assert_canonical(number, near_degenerate_crystal_of(number))


@pytest.mark.parametrize("seed", range(1, 6))
@pytest.mark.parametrize("number", [7, 14], ids=lambda n: f"sg{n}")
def test_near_degenerate_monoclinic_cells_are_canonical(number, seed):
    """Pc and P2_1/c: the groups of the issue (POSCAR-007), several crystals each."""
    assert_canonical(number, near_degenerate_crystal_of(number, seed))


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_near_degenerate_cells_are_canonical_all_groups(number):
    assert_canonical(number, near_degenerate_crystal_of(number))


def test_near_degenerate_crystals_split_spglibs_own_cell():
    """The crystals above exercise the tie: spglib's own standardized cell differs between descriptions
    of some of them (else the canonical tests above would prove nothing about ties)."""
    split = 0
    for seed in range(1, 6):
        crystal = near_degenerate_crystal_of(7, seed)
        cells = set()
        for _, other in descriptions(crystal, 7):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                lattice = spglib.get_symmetry_dataset(other.spglib_cell, symprec=0.1).std_lattice
            cells.add(tuple(np.round(np.sort(np.linalg.norm(lattice, axis=1)), 4)))
        split += len(cells) > 1
    assert split >= 1


@pytest.mark.parametrize("number", ISSUE_GROUPS, ids=lambda n: f"sg{n}")
def test_issue_groups_have_candidates_that_tie_on_structure_factors(number):
    """The crystals used above really exercise the tie-break: in these groups, different origins
    tie on every structure factor |h| <= 2 and differ as atom sets (else the test above proves less)."""
    standard = standardize(crystal_of(number)).crystal
    keys = {_set_key(d.crystal.positions, d.crystal.numbers) for d in normalizer_cosets(standard)}
    assert len(keys) > 1


def test_set_key_orders_sets_not_descriptions():
    positions = np.array([[0.1, 0.2, 0.3], [0.5, 0.5, 0.5]])
    numbers = np.array([29, 13])
    same = _set_key(positions[::-1] + [[1, 0, -2], [0, 0, 0]], numbers[::-1])
    assert _set_key(positions, numbers) == same
    assert _set_key(positions + [0, 0, 1e-4], numbers) != same
    assert _set_key(positions, numbers[::-1]) != same


def test_tie_break_picks_the_same_set_whatever_the_candidate_order():
    """Two Fd-3c descriptions that tie on every |h| <= 2 structure factor: the choice must not depend
    on which one comes first (the bug: the first was taken)."""
    number = 228
    standard = standardize(crystal_of(number)).crystal
    hall = standard_hall_number(number)
    chosen = set()
    for moved in (d.crystal for d in normalizer_cosets(standard)):
        _, _, positions = canonical_description(moved.positions, moved.numbers, moved.lattice @ moved.lattice.T, hall)
        chosen.add(_set_key(positions, moved.numbers))
    assert len(chosen) == 1


def test_standardization_memory_is_bounded():
    """About 1,150 atoms of Fm-3c: the old (ops x atoms x atoms x 3) tensor alone was 5 GB."""
    rng = np.random.default_rng(3)
    a = 25.0
    positions = [orbit(226, [0, 0.25, 0.25])]
    while sum(map(len, positions)) < 1100:
        candidate = orbit(226, rng.random(3))
        gap = candidate[:, None, :] - np.vstack(positions + [candidate])[None, :, :]
        gap -= np.round(gap)
        distance = np.linalg.norm(gap * a, axis=-1)
        distance[distance == 0] = np.inf
        if distance.min() > 1.0:
            positions.append(candidate)
    crystal = Crystal(a * np.eye(3), np.vstack(positions), [29] * sum(map(len, positions)))
    tracemalloc.start()
    try:
        result = standardize(crystal)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (result.number, result.n_atoms) == (226, crystal.n_atoms)
    assert peak < 256 * 2**20, f"standardize used {peak / 2**20:.0f} MiB (limit 256 MiB)"


# --------------------------------------------------------------------------- predictions (float32)
PREDICTION_TOLERANCE = 1e-5   # float32 model output; the atom sets above agree to 1e-9


@pytest.fixture(scope="module")
def network():
    import torch

    from crystal_fourier.runtime import ModelConfig, build_model

    torch.manual_seed(0)
    config = ModelConfig(d_model=32, n_heads=4, n_layers=2, d_ff=64, d_route=32, d_position=32, d_head=32)
    return build_model(config).eval()


def prediction_spread(network, number: int) -> float:
    """max - min of an (untrained, seeded) CFT's predictions over every description of one crystal."""
    from crystal_fourier.runtime import predict_samples, prepare_samples

    crystal = crystal_of(number)
    records = [(crystal, {}, "given")] + [(c, {}, label) for label, c in descriptions(crystal, number)]
    predictions = predict_samples(network, prepare_samples(records, None))
    return float(np.max(predictions) - np.min(predictions))


@pytest.mark.parametrize("number", ISSUE_GROUPS + (227,), ids=lambda n: f"sg{n}")
def test_predictions_agree_over_every_description(network, number):
    spread = prediction_spread(network, number)
    assert spread < PREDICTION_TOLERANCE, f"sg{number}: predictions spread {spread:.3g}"


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_predictions_agree_over_every_description_all_groups(network, number):
    spread = prediction_spread(network, number)
    assert spread < PREDICTION_TOLERANCE, f"sg{number}: predictions spread {spread:.3g}"


# --------------------------------------------------------------------------- handedness (issue 18)
SOHNCKE = tuple(n for n in range(1, 231) if space_group(n).sohncke)
CHIRAL_REPRESENTATIVE = (4, 19, 76, 78, 92, 96, 144, 145, 169, 197, 212, 213)


def mirror_images(crystal: Crystal):
    """(label, Crystal) of the mirror image: inverted positions, and a Cartesian mirror (left-handed basis)."""
    yield "inverted", Crystal(crystal.lattice, -crystal.positions, crystal.numbers)
    yield "mirrored frame", Crystal(crystal.lattice @ np.diag([1.0, 1.0, -1.0]), crystal.positions, crystal.numbers)
    yield "mirrored, sheared", in_basis(Crystal(crystal.lattice, -crystal.positions, crystal.numbers),
                                        [[1, 1, 0], [0, 1, 0], [0, -1, 1]]).crystal


def assert_one_hand(number: int):
    __tracebackhide__ = True
    crystal = crystal_of(number)
    reference = standardize(crystal)
    assert not reference.reflected or number in ENANTIOMORPHIC_PARTNERS or space_group(number).sohncke
    for label, image in mirror_images(crystal):
        result = standardize(image)
        gap = set_distance(reference, result)
        cell = float(np.max(np.abs(reference.cell_parameters - result.cell_parameters)))
        assert result.number == reference.number, f"sg{number} {label}: group {result.number}"
        assert gap < POSITION_TOLERANCE, f"sg{number} {label}: atom sets differ by {gap:.3g}"
        assert cell < CELL_TOLERANCE, f"sg{number} {label}: cells differ by {cell:.3g}"
        mapped = image.positions @ result.transformation.T + result.origin_shift
        assert set_distance(Crystal(result.lattice, mapped, image.numbers), result) < 1e-6, label


@pytest.mark.parametrize("number", CHIRAL_REPRESENTATIVE, ids=lambda n: f"sg{n}")
def test_mirror_images_standardize_to_one_crystal(number):
    assert_one_hand(number)


@pytest.mark.sweep
@pytest.mark.parametrize("number", range(1, 231), ids=lambda n: f"sg{n}")
def test_mirror_images_standardize_to_one_crystal_all_groups(number):
    """All 230: the 65 Sohncke groups need the canonical hand; the others must not be disturbed by it."""
    assert_one_hand(number)


def test_sohncke_groups_are_65():
    assert len(SOHNCKE) == 65
    assert set(ENANTIOMORPHIC_PARTNERS) | set(ENANTIOMORPHIC_PARTNERS.values()) <= set(SOHNCKE)


@pytest.mark.parametrize("number", [19, 76, 212], ids=lambda n: f"sg{n}")
def test_handedness_keep_keeps_the_mirror_image_apart(number):
    """The other hand, on request: the mirror image is another atom set (or the partner group), never reflected."""
    crystal = crystal_of(number)
    kept = standardize(crystal, handedness="keep")
    for label, image in mirror_images(crystal):
        other = standardize(image, handedness="keep")
        assert not other.reflected, label
        assert other.number != kept.number or set_distance(kept, other) > 1e-3, label
    assert standardize(Crystal(crystal.lattice, -crystal.positions, crystal.numbers)).reflected


def test_enantiomorphic_partner_is_mapped_to_the_lower_number():
    assert standardize(crystal_of(78)).number == 76
    assert standardize(crystal_of(78)).reflected
    assert standardize(crystal_of(78), handedness="keep").number == 78
    assert sorted(ENANTIOMORPHIC_PARTNERS.items()) == [
        (78, 76), (95, 91), (96, 92), (145, 144), (153, 151), (154, 152), (170, 169), (172, 171), (179, 178),
        (181, 180), (213, 212)]
    p4_3 = standard_hall_number(78)
    assert standardize(crystal_of(78), hall_number=p4_3, handedness="keep").hall_number == p4_3
    with pytest.raises(CrystalFourierError, match="took its mirror image; pass handedness='keep' for a setting of 78"):
        standardize(crystal_of(78), hall_number=p4_3)
    with pytest.raises(CrystalFourierError, match="handedness must be one of canonical, keep"):
        standardize(crystal_of(76), handedness="left")


def test_mirror_images_get_one_prediction(network):
    from crystal_fourier.runtime import predict_samples, prepare_samples

    for number in (19, 92, 96, 212):
        crystal = crystal_of(number)
        records = [(crystal, {}, "given")] + [(c, {}, label) for label, c in mirror_images(crystal)]
        predictions = predict_samples(network, prepare_samples(records, None))
        spread = float(np.max(predictions) - np.min(predictions))
        assert spread < PREDICTION_TOLERANCE, f"sg{number}: mirror images predict with spread {spread:.3g}"
        kept = predict_samples(network, prepare_samples(records, None, handedness="keep"))
        assert float(np.max(kept) - np.min(kept)) > PREDICTION_TOLERANCE, f"sg{number}: keep must tell hands apart"


# --------------------------------------------------------------------------- per-setting caches of the scoring
# Each cached table is recomputed from its definition for settings that share the other key parts (the same linear
# parts and chunk), read in both orders: a cache that dropped the Hall number (or the linear parts, or the chunk
# bounds) from its key would hand one setting's entry to another and fail here.
_IDENTITY = np.eye(3, dtype=np.int64)
_SWAP = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.int64)
_CACHE_SETTINGS = [standard_hall_number(number) for number in (2, 221, 225, 230)]   # shifts and absences differ


def _expected_images(hall: int, linear: np.ndarray, start: int, stop: int):
    chunk = _canonical_choice._score_frequencies(hall)[start:stop]
    return chunk, np.einsum("fi,kij->kfj", chunk, linear)   # image of frequency f under M_k: the row h M_k


def _signed_images(table) -> list:
    vectors, images, flipped, _ = table
    return (np.where(flipped, -1, 1)[..., None] * vectors.T[images]).tolist()


@pytest.mark.parametrize("order", [1, -1])
def test_scoring_caches_are_keyed_by_setting_linear_parts_and_chunk(order):
    linear = np.stack([_IDENTITY])
    for hall in _CACHE_SETTINGS[::order]:
        shifts = _canonical_choice._origin_shifts(hall, tuple(map(tuple, _IDENTITY.tolist())))
        for stop in (8, 12):
            owner, origin = _canonical_choice._candidates(hall, linear.tobytes())
            assert owner.tolist() == [0] * len(shifts)
            assert origin.tolist() == (shifts / _canonical_choice._SHIFT_DEN).tolist()
            table = _canonical_choice._chunk_images(hall, linear.tobytes(), 0, stop)
            frequencies, want = _expected_images(hall, linear, 0, stop)
            assert table[3].T.tolist() == frequencies.tolist()
            assert _signed_images(table) == want.tolist()
            phases = _canonical_choice._chunk_phases(hall, linear.tobytes(), 0, stop)
            assert np.allclose(phases, np.exp(2j * np.pi * (origin @ frequencies.T)), atol=1e-12)


def test_chunk_images_depend_on_the_linear_parts():
    hall = _CACHE_SETTINGS[1]
    for linear in (np.stack([_IDENTITY]), np.stack([_IDENTITY, _SWAP]), np.stack([_SWAP])):
        table = _canonical_choice._chunk_images(hall, linear.tobytes(), 0, 8)
        assert _signed_images(table) == _expected_images(hall, linear, 0, 8)[1].tolist()
