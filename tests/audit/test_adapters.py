"""Adapters: what each kind of model becomes, and bad outputs refused in one clear line."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.audit import as_model, model_from_spec
from crystal_fourier.audit._adapters import ASEModel, CallableModel
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal

CU = Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], ["Cu"] * 4)


def test_an_ase_calculator_instance_and_a_spec_agree():
    pytest.importorskip("ase")
    from ase.calculators.emt import EMT

    instance = as_model(EMT())
    spec = model_from_spec("ase:EMT")
    assert isinstance(instance, ASEModel)
    a, b = instance(CU), spec(CU)
    np.testing.assert_allclose(a["energy"], b["energy"], rtol=0, atol=1e-12)
    assert a["stress"].shape == (3, 3)   # full tensor from ASE's Voigt 6
    np.testing.assert_allclose(a["stress"], a["stress"].T, rtol=0, atol=0)


def test_a_number_is_the_energy_and_voigt_stress_is_expanded():
    out = CallableModel(lambda c: {"energy": 1.5, "stress": [1, 2, 3, 4, 5, 6]})(CU)
    assert float(out["energy"]) == 1.5
    assert out["stress"].tolist() == [[1, 6, 5], [6, 2, 4], [5, 4, 3]]


@pytest.mark.parametrize(("output", "message"), [
    ({"forces": np.zeros((4, 3))}, "must include 'energy'"),
    ({"energy": 1.0, "forces": np.zeros((3, 3))}, r"forces has shape \(3, 3\), expected \(4, 3\)"),
    ({"energy": float("nan")}, "energy is not finite"),
])
def test_bad_outputs_are_refused(output, message):
    with pytest.raises(CrystalFourierError, match=message):
        CallableModel(lambda c: output, name="bad")(CU)


def test_unknown_models_are_refused():
    with pytest.raises(CrystalFourierError, match="cannot audit a int"):
        as_model(3)
    with pytest.raises(CrystalFourierError, match="expected a saved model directory"):
        model_from_spec("not-a-directory-or-spec")
