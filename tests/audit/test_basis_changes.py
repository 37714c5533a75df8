"""Basis-change re-descriptions: the tolerance merge behind in_basis (the kinds themselves are checked in
test_redescriptions.py, against pymatgen and EMT)."""

from __future__ import annotations

import numpy as np

from crystal_fourier.audit._basis_changes import _merged


def test_the_tolerance_merge_joins_images_across_the_cell_wall():
    """The fallback of in_basis when two images of one atom straddle a grid boundary."""
    points = np.array([[0.0, 0.5, 0.5], [1.0 - 1e-12, 0.5, 0.5], [0.25, 0.5, 0.5], [0.25 + 1e-12, 0.5, 0.5]])
    assert _merged(points, np.eye(3) * 4.0).tolist() == [0, 2]
