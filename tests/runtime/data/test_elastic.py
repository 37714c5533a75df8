"""EMT elastic-tensor labels: conventions, symmetry check, Voigt-Reuss-Hill moduli against the EOS."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ase")

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.data import _elastic
from crystal_fourier.runtime.data._datasets import load_cdvae_csv
from crystal_fourier.runtime.data._elastic import (
    ELASTIC_COLUMNS, ELASTIC_SYMMETRY_TOLERANCE, elastic_tensor, frame_rotation, project_stiffness,
    rotate_stiffness, symmetry_projector, symmetry_violation, voigt_to_cartesian, cartesian_to_voigt, vrh_moduli)
from crystal_fourier.runtime import Crystal, emt_labels, make_dataset, random_crystal
from crystal_fourier.runtime.data._labels import ELASTIC_LABEL_COLUMNS
from crystal_fourier.runtime import standardize

FCC = [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]]


def _rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _hexagonal_crystal():
    """A random P6/mmm crystal at its EMT volume, standardized (its tensor ties C66 to C11 - C12)."""
    made = random_crystal(191, seed=2, max_atoms=8)
    labels = emt_labels(made.crystal)
    return standardize(Crystal(made.crystal.lattice * labels.scale, made.crystal.positions, made.crystal.numbers))


def test_fcc_copper_constants_and_bulk_modulus_agree_with_the_eos():
    cu = Crystal.from_arrays(3.59 * np.eye(3), FCC, [29] * 4)
    labels = emt_labels(cu)
    at_equilibrium = Crystal(cu.lattice * labels.scale, cu.positions, cu.numbers)
    tensor = elastic_tensor(at_equilibrium, 523)
    c = tensor.voigt
    np.testing.assert_allclose([c[0, 0], c[0, 1], c[3, 3]], [172.6, 115.5, 89.9], atol=0.2)
    np.testing.assert_allclose([c[1, 1], c[2, 2], c[1, 2], c[4, 4], c[5, 5]], [c[0, 0]] * 2 + [c[0, 1]] + [c[3, 3]] * 2,
                               rtol=1e-9)
    np.testing.assert_allclose(c[:3, 3:], 0.0, atol=1e-8)
    moduli = vrh_moduli(c)
    # cubic: K_V = K_R = (C11 + 2 C12) / 3, and it is the EOS modulus (134.3 GPa) to the EOS fit's accuracy
    assert moduli["K_V"] == pytest.approx(moduli["K_R"], rel=1e-9)
    assert moduli["K_VRH"] == pytest.approx(labels.bulk_modulus, rel=3e-3)
    assert moduli["G_V"] == pytest.approx((c[0, 0] - c[0, 1] + 3 * c[3, 3]) / 5, rel=1e-9)
    assert tensor.symmetry_violation < 1e-10
    assert not tensor.relaxed_ions


def test_voigt_round_trip_and_rotation_keep_the_moduli():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 6))
    c = a @ a.T + 6 * np.eye(6)
    np.testing.assert_array_equal(cartesian_to_voigt(voigt_to_cartesian(c)), c)
    full = voigt_to_cartesian(c)
    np.testing.assert_array_equal(full, np.transpose(full, (1, 0, 2, 3)))
    np.testing.assert_array_equal(full, np.transpose(full, (2, 3, 0, 1)))
    q = _rotation(1)
    rotated = rotate_stiffness(c, q)
    np.testing.assert_allclose(rotate_stiffness(rotated, q.T), c, atol=1e-12)
    for key, value in vrh_moduli(c).items():
        assert vrh_moduli(rotated)[key] == pytest.approx(value, rel=1e-10)
    assert np.abs(rotated - c).max() > 0.1   # the rotation did something


def test_projection_is_an_equivariant_projector_onto_the_allowed_tensors():
    standardized = _hexagonal_crystal()
    u = symmetry_projector(standardized.hall_number, standardized.lattice)
    assert u.shape == (81, 5)   # hexagonal: C11, C12, C13, C33, C44
    c = np.random.default_rng(3).normal(size=(6, 6))
    c = c + c.T
    allowed = project_stiffness(c, u)
    assert symmetry_violation(allowed, u) < 1e-12
    assert symmetry_violation(c, u) > 0.1
    np.testing.assert_allclose(allowed[5, 5], (allowed[0, 0] - allowed[0, 1]) / 2, atol=1e-12)
    # rotating the frame: the projector of the rotated lattice projects the rotated tensor
    q = _rotation(4)
    u_rotated = symmetry_projector(standardized.hall_number, standardized.lattice @ q.T)
    np.testing.assert_allclose(project_stiffness(rotate_stiffness(c, q), u_rotated), rotate_stiffness(allowed, q),
                               atol=1e-10)


def test_a_shear_strain_without_the_factor_two_is_caught(monkeypatch):
    standardized = _hexagonal_crystal()
    right = elastic_tensor(standardized.crystal, standardized.hall_number)
    assert right.symmetry_violation < ELASTIC_SYMMETRY_TOLERANCE

    def tensor_shear(vector):   # wrong: the Voigt shear taken as the tensor component e_yz, not 2 e_yz
        e = np.asarray(vector, dtype=np.float64)
        return np.array([[e[0], e[5], e[4]], [e[5], e[1], e[3]], [e[4], e[3], e[2]]])

    monkeypatch.setattr(_elastic, "voigt_strain", tensor_shear)
    with pytest.raises(CrystalFourierError, match="violates the symmetry"):
        elastic_tensor(standardized.crystal, standardized.hall_number)
    wrong = elastic_tensor(standardized.crystal, standardized.hall_number, tolerance=1.0)
    assert wrong.symmetry_violation > 100 * ELASTIC_SYMMETRY_TOLERANCE


def test_frame_rotation_takes_the_input_frame_to_the_standardized_one():
    standardized = _hexagonal_crystal()
    q = _rotation(6)
    turned = Crystal(standardized.lattice @ q.T, standardized.positions, standardized.numbers)
    again = standardize(turned)
    rotation = frame_rotation(turned.lattice, again)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
    tensor_std = elastic_tensor(again.crystal, again.hall_number).voigt
    tensor_in = elastic_tensor(turned, again.hall_number).voigt
    np.testing.assert_allclose(rotate_stiffness(tensor_std, rotation.T), tensor_in, atol=1e-6 * np.abs(tensor_in).max())


def test_dataset_make_elastic_tensor_rows_satisfy_their_symmetry(tmp_path):
    out = make_dataset(tmp_path / "elastic.csv", groups=[225, 194, 12], size=3, max_atoms=8, progress=False,
                       target="elastic_tensor")
    header = out.read_text().splitlines()[0].split(",")
    assert tuple(header) == ELASTIC_LABEL_COLUMNS
    records = load_cdvae_csv(out)
    for record in records:
        c = np.zeros((6, 6))
        c[np.triu_indices(6)] = [record.targets[name] for name in ELASTIC_COLUMNS]
        c = c + np.triu(c, 1).T
        standardized = standardize(record.crystal)
        # the CIF holds the standardized cell, so its frame is the canonical one of the tensor
        np.testing.assert_allclose(standardized.lattice, record.crystal.lattice, atol=1e-6)
        u = symmetry_projector(standardized.hall_number, record.crystal.lattice)
        assert symmetry_violation(c, u, relative=True) < ELASTIC_SYMMETRY_TOLERANCE
        assert record.targets["bulk_modulus_vrh"] == pytest.approx(vrh_moduli(c)["K_VRH"], rel=1e-6)
