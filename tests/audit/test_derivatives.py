"""The ``derivatives`` kind: forces and stress against central differences of the model's own energy."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.audit import Claim, audit, markdown_table
from crystal_fourier.audit._derivatives import DERIVATIVE_TOLERANCE
from crystal_fourier.audit._derivatives import derivative_probes, left_handed
from crystal_fourier.runtime import Crystal

pytest.importorskip("ase")

CU = Crystal.from_arrays(np.eye(3) * 3.7, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.52, .5, 0]], ["Cu"] * 4)


def emt(change=None):
    from ase.calculators.emt import EMT

    calculator = EMT()

    def model(crystal):
        atoms = crystal.to_ase()
        calculator.reset()
        atoms.calc = calculator
        out = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(),
               "stress": atoms.get_stress(voigt=False)}
        return out if change is None else change(crystal, out)
    return model


def test_emt_matches_its_central_differences_in_both_handedness():
    report = audit(emt(), [CU], kinds="derivatives", per_kind=2)
    assert report.ok
    assert sorted((c.quantity, c.label.split(":")[0]) for c in report.checks) == sorted(
        [(q, h) for q in ("forces", "stress") for h in ("as given", "left-handed (-a,-b,-c)") for _ in range(2)])
    assert max(c.ratio for c in report.checks) < 0.05   # measured: errors below 2e-8, tolerance 1e-5
    assert {c.tolerance for c in report.checks} == {DERIVATIVE_TOLERANCE[np.dtype(np.float64)]}
    assert "derivatives: central differences with step 0.0001" in markdown_table(report)


def test_a_stress_over_the_signed_volume_fails_only_in_the_left_handed_cell():
    def signed(crystal, out):
        return {**out, "stress": out["stress"] * np.sign(np.linalg.det(crystal.lattice))}

    report = audit(emt(signed), [CU], kinds="derivatives", per_kind=2)
    failed = {(c.quantity, c.label.split(":")[0]) for c in report.failures}
    assert failed == {("stress", "left-handed (-a,-b,-c)")}
    assert report.failing_kinds == ("derivatives",)


def test_forces_off_by_one_percent_fail():
    report = audit(emt(lambda crystal, out: {**out, "forces": 1.01 * out["forces"]}), [CU], kinds="derivatives",
                   per_kind=2)
    assert {c.quantity for c in report.failures} == {"forces"}


def test_an_intensive_energy_or_no_forces_and_stress_skips_the_kind():
    assert not audit(emt(), [CU], kinds="derivatives", claim=Claim(energy="intensive")).checks
    assert not audit(emt(), [CU], kinds="derivatives", claim=Claim(forces=False, stress=False)).checks
    only_stress = audit(emt(), [CU], kinds="derivatives", per_kind=1, claim=Claim(forces=False))
    assert {c.quantity for c in only_stress.checks} == {"stress"}


def test_the_left_handed_twin_is_the_same_crystal_and_probes_are_unit():
    twin = left_handed(CU)
    assert np.linalg.det(twin.lattice) < 0 < np.linalg.det(CU.lattice)
    np.testing.assert_allclose(np.sort((twin.positions @ twin.lattice) % 3.7, axis=0),
                               np.sort((CU.positions @ CU.lattice) % 3.7, axis=0), atol=1e-12)
    for probe in derivative_probes(CU, np.random.default_rng(1), 3):
        assert np.linalg.norm(probe.direction) == pytest.approx(1.0)
        if probe.quantity == "stress":
            np.testing.assert_allclose(probe.direction, probe.direction.T, atol=0)


def test_a_float32_failure_is_rerun_in_the_float64_twin():
    """A stand-in for float32 round-off (a rapidly varying 1 meV term) spoils the central differences at the
    float32 step; the float64 twin (EMT itself) is rerun at the float64 step and clears them. A twin with the
    same bug (stress over the signed volume) does not clear it."""
    from crystal_fourier.audit._adapters import CallableModel

    def noisy(crystal, out):
        return {**out, "energy": out["energy"] + 1e-3 * np.sin(1e4 * float(np.sum(crystal.cartesian_positions)))}

    def signed(crystal, out):
        return {**out, "stress": out["stress"] * np.sign(np.linalg.det(crystal.lattice))}

    model = CallableModel(emt(noisy), name="noisy", dtype=np.float32, float64=emt())
    report = audit(model, [CU], kinds="derivatives", per_kind=2)
    flagged = [c for c in report.checks if c.error > c.tolerance]
    assert flagged
    assert all(c.roundoff and c.float64_error < 1e-6 for c in flagged)
    assert {c.float64_tolerance for c in flagged} == {DERIVATIVE_TOLERANCE[np.dtype(np.float64)]}
    assert all(c.float64_error is None for c in report.checks if c.error <= c.tolerance)   # no rerun when not needed
    assert report.ok
    assert not audit(CallableModel(emt(noisy), name="noisy", dtype=np.float32), [CU], kinds="derivatives",
                     per_kind=2).ok
    bug = audit(CallableModel(emt(signed), name="signed", dtype=np.float32, float64=emt(signed)), [CU],
                kinds="derivatives", per_kind=2)
    assert {(c.quantity, c.label.split(":")[0]) for c in bug.failures} == {("stress", "left-handed (-a,-b,-c)")}
    assert all(c.float64_error > c.float64_tolerance for c in bug.failures)
