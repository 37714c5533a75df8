"""The continuity and batch kinds, and outputs declared as pseudo-tensors: each passes a correct model
and fails a model broken in its way."""

from __future__ import annotations

import numpy as np
import pytest

from crystal_fourier.audit import Claim, audit, markdown_table
from crystal_fourier.audit._continuity import (
    CONTINUITY_POINTS, CONTINUITY_TOLERANCE, continuity_path, persistent_difference)
from crystal_fourier.audit._adapters import CallableModel
from crystal_fourier.audit._redescriptions import reflected
from crystal_fourier.audit._redescriptions import random_rotation
from crystal_fourier.runtime import random_crystal

from .models import _heights_reach, _images, pair_potential


@pytest.fixture(scope="module")
def crystals():
    return [random_crystal(n, seed=n, max_atoms=8).crystal for n in (14, 225)]


def _nearest(crystal) -> float:
    shifts = _images(crystal.lattice, _heights_reach(crystal.lattice))
    r = crystal.wrapped().cartesian_positions
    gap = np.linalg.norm(r[None, :, None, :] - r[:, None, None, :] + shifts[None, None, :, :], axis=-1)
    return float(gap[gap > 1e-9].min())


def _switch(rc: float, width: float):
    """The pair term plus 0.5 meV per pair (1 meV per bond) inside rc. ``width`` 0, BROKEN: a hard cutoff, the
    energy jumps where a pair crosses rc. ``width`` > 0: switched off smoothly by tanh((r - rc) / width), continuous
    but rough at the path's step when width is about 1e-3 A (its fourth differences shrink 1.5x from h to h/2)."""
    def model(crystal):
        shifts = _images(crystal.lattice, [h + 1 for h in _heights_reach(crystal.lattice)])
        r = crystal.wrapped().cartesian_positions
        gap = np.linalg.norm(r[None, :, None, :] - r[:, None, None, :] + shifts[None, None, :, :], axis=-1).ravel()
        gap = gap[gap > 1e-9]
        inside = (gap < rc).astype(float) if width == 0 else 0.5 * (1.0 - np.tanh((gap - rc) / width))
        return {"energy": pair_potential(crystal)["energy"] + 0.5e-3 * float(np.sum(inside))}
    return model


def test_continuity_path_is_small_and_seeded(crystals):
    path = continuity_path(crystals[0], np.random.default_rng(0))
    again = continuity_path(crystals[0], np.random.default_rng(0))
    assert "strain" in path.label
    times = np.linspace(-1, 1, 2 * CONTINUITY_POINTS - 1)
    moved, same = path.crystals(times), again.crystals(times)
    assert len(moved) == 81
    assert np.array_equal(moved[5].lattice, same[5].lattice)
    middle = moved[40]   # t = 0: the crystal itself
    assert np.allclose(middle.lattice, crystals[0].lattice, atol=1e-14)
    shift = np.linalg.norm(moved[-1].cartesian_positions - crystals[0].cartesian_positions, axis=1)
    assert 0 < shift.max() < 0.2


def test_persistent_difference_keeps_a_jump_and_drops_what_shrinks():
    t = np.linspace(-1, 1, 81)
    assert persistent_difference(np.exp(t), 2)[0] == 0.0                   # shrinks 16x
    kink = np.abs(t - 0.0137)                                              # continuous, shrinks 3.7x here: the screen
    assert persistent_difference(kink, 2)[0] > 0.0                         # refines it, the verdict passes it
    assert persistent_difference(kink, 1)[0] == 0.0
    for order in (1, 2):
        found, coarse, fine = persistent_difference(np.cos(t) + 0.01 * (t > 0.013), order)
        assert found == pytest.approx(0.03, rel=1e-3)                      # 3J for a jump J, at both steps
        assert coarse == pytest.approx(fine, rel=0.01)
    # two equal jumps in one coarse interval, one in each half: D(h) = 6J, D(h/2) = 2J; the screen still fails it
    twice = 0.01 * ((t > 0.013).astype(float) + (t > 0.037))
    assert persistent_difference(twice, 2)[0] == pytest.approx(2 * 0.01 / 3)


def test_continuity_passes_smooth_models_and_fails_a_jump(crystals):
    smooth = audit("ase:EMT", crystals, kinds="continuity", per_kind=1)
    smooth.assert_ok()
    assert {c.quantity for c in smooth.checks} == {"energy", "forces", "stress"}
    # fourth differences shrink >= 4x from h to h/2 (P = 0), except EMT's energy and stress on fcc Ni: jumps of
    # about 4e-9 eV where its neighbour list cuts its Fermi-smoothed cutoff (P 1e-8, 1e-3 of the tolerance)
    assert max(c.ratio for c in smooth.checks) < 0.01
    pair = audit(pair_potential, crystals, kinds="continuity", per_kind=1)
    pair.assert_ok()
    # a switch at the nearest-neighbour distance (+5 mA) of the crystal: crossed by the path
    rc = _nearest(crystals[1]) + 0.005
    jumping = audit(_switch(rc, 0), crystals[1:], kinds="continuity", per_kind=1)
    assert jumping.failing_kinds == ("continuity",)
    worst = jumping.failures[0]
    assert worst.error >= 1e-3 - 1e-9                      # P = 3J at least, J = 0.5 meV
    assert worst.ratio > 100
    assert worst.tolerance == pytest.approx(CONTINUITY_TOLERANCE[np.dtype(np.float64)] * worst.scale)
    assert "D(h/4)" in worst.detail                          # judged again one step finer, and still a jump
    assert "D(h/4)" in markdown_table(jumping)                 # the detail is in the report's worst case
    assert all("D(h" not in c.label for c in jumping.checks)  # the label names the path only, as for any model


def test_continuity_refines_a_sharp_smooth_switch_and_passes_it(crystals):
    """The same switch smoothed over 1e-3 A: rough at the step h (D(h) / D(h/2) = 1.5, so P(h, h/2) is above the
    tolerance), resolved at h/4 (D(h/2) / D(h/4) = 6.5), as CHGNet's forces on some perov_5 crystals."""
    rc = _nearest(crystals[1]) + 0.005
    report = audit(_switch(rc, 1e-3), crystals[1:], kinds="continuity", per_kind=1)
    report.assert_ok()
    (check,) = report.checks
    steps = dict(part.split(" ") for part in check.detail.split(", "))
    coarse, middle, fine = (float(steps[f"D({s})"]) for s in ("h", "h/2", "h/4"))
    assert (4 * middle - coarse) / 3 > check.tolerance     # the one-step test alone would call it a jump
    assert check.error == 0.0
    assert middle / fine > 4


class Batched(CallableModel):
    """The pair potential with a batch call; ``leak`` adds the other crystals' atom counts to each energy (a
    batch that leaks between its members, wherever the audited crystal sits in it)."""

    batches = True

    def __init__(self, leak: bool) -> None:
        super().__init__(pair_potential, name="leaky batch" if leak else "batch")
        self.leak = leak

    def evaluate_many(self, crystals):
        out = [pair_potential(c) for c in crystals]
        if self.leak:
            total = sum(c.n_atoms for c in crystals)
            out = [{"energy": o["energy"] + 1e-3 * (total - c.n_atoms)} for o, c in zip(out, crystals, strict=True)]
        return out


def test_batch_kind_compares_a_batch_with_single_calls(crystals):
    good = audit(Batched(leak=False), crystals, kinds="batch", per_kind=2)
    good.assert_ok()
    assert len(good.checks) == 2
    assert all("batch of" in c.label for c in good.checks)
    leaky = audit(Batched(leak=True), crystals, kinds="batch", per_kind=2, seed=1)
    assert leaky.failing_kinds == ("batch",)
    unbatched = audit(pair_potential, crystals, kinds="batch")
    assert unbatched.checks == ()
    assert any("does not batch" in note for note in unbatched.notes)


def _with_axial(sign_flips: bool):
    """Energy plus an axial vector on every atom: a x b of the cell, made right-handed. The audit's mirror
    images come in right-handed cells, so it transforms as det Q times Q: it passes reflections only when
    declared ``pseudovectors``."""
    def model(crystal):
        lattice = crystal.lattice
        normal = np.cross(lattice[0], lattice[1]) * np.sign(np.linalg.det(lattice))
        return {"energy": pair_potential(crystal)["energy"], "axial": np.tile(normal, (crystal.n_atoms, 1))}
    return CallableModel(model, name="axial", outputs={"axial": "pseudovectors" if sign_flips else "vectors"})


def test_pseudovectors_flip_under_reflection_and_vectors_do_not():
    crystal = random_crystal(1, seed=3, max_atoms=4).crystal
    mirror = reflected(crystal, random_rotation(np.random.default_rng(0), proper=False))
    value = np.ones((crystal.n_atoms, 3))
    assert np.allclose(mirror.expected("pseudovectors", value), -mirror.expected("vectors", value))
    ok = audit(_with_axial(True), [crystal], kinds="reflection,rotation", per_kind=1, claim=Claim(stress=False))
    assert "axial" in {c.quantity for c in ok.checks}
    bad = audit(_with_axial(False), [crystal], kinds="reflection,rotation", per_kind=1, claim=Claim(stress=False))
    assert [c.quantity for c in bad.failures] == ["axial"]
    assert {c.kind for c in bad.failures} == {"reflection"}
    ok.assert_ok()


def test_continuity_reruns_a_float32_failure_in_the_float64_twin(crystals):
    """A stand-in for float32 round-off (a rapidly varying 0.01 eV term) jumps; its float64 twin does not."""
    def lossy(crystal):
        noise = 0.01 * np.sin(1e4 * float(np.sum(crystal.cartesian_positions)))
        return {"energy": pair_potential(crystal)["energy"] + noise}

    model = CallableModel(lossy, name="lossy", dtype=np.float32, float64=pair_potential)
    report = audit(model, crystals, kinds="continuity", per_kind=1)
    flagged = [c for c in report.checks if c.error > c.tolerance]
    assert flagged
    assert all(c.roundoff and c.float64_error is not None for c in flagged)
    assert report.ok
    alone = audit(CallableModel(lossy, name="lossy", dtype=np.float32), crystals, kinds="continuity", per_kind=1)
    assert not alone.ok
