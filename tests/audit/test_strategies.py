"""The Hypothesis strategies draw valid cases and find (and shrink to) failures of a broken model."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, find, given, settings

from crystal_fourier.audit import crystals, redescribed
from crystal_fourier.audit._redescriptions import EXACT_TOLERANCE
from crystal_fourier.audit._strategies import operations
from crystal_fourier.derive import space_group
from crystal_fourier.runtime import detect_group

from . import models

SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(crystals(groups=(221, 229), max_atoms=12))
def test_crystals_have_their_group(crystal):
    assert crystal.n_atoms <= 12
    assert space_group(detect_group(crystal)).point_group_order == 48   # m-3m: the drawn group or a supergroup


@SETTINGS
@given(redescribed(kinds="supercell,unimodular,reflection,group"))
def test_redescriptions_are_exact(d):
    assert d.residual <= EXACT_TOLERANCE
    assert d.crystal.n_atoms == d.original.n_atoms * d.cells


@SETTINGS
@given(operations(crystals(groups=(2, 166), max_atoms=12)))
def test_operations_keep_the_atom_set(d):
    # The image of a symmetric crystal under its own operation is the same atom set.
    gap = d.crystal.positions[:, None, :] - d.original.positions[None, :, :]
    gap -= np.rint(gap)
    assert np.max(np.min(np.max(np.abs(gap), axis=-1), axis=1)) < 1e-9


def test_a_broken_model_is_found_and_shrunk():
    """The signed-volume model fails on some unimodular re-description; find() returns a shrunk one."""

    def breaks(d):
        expected = d.expected("scalar", models.signed_volume(d.original)["energy"])
        return abs(float(expected) - models.signed_volume(d.crystal)["energy"]) > 1e-6

    example = find(redescribed(crystals(groups=(1, 2, 225), max_atoms=8), kinds="unimodular,rotation"), breaks,
                   settings=settings(max_examples=200, deadline=None, database=None))
    assert example.kind == "unimodular"
    assert example.left_handed
    assert example.original.n_atoms == 1   # shrunk to the smallest crystal (one atom, group 1 or 2)
