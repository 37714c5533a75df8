"""Regenerates the committed tiny result row of the sparse-data protocol and fails when it drifts.

The row (docs/sparse/regression-row.json) is a tiny configuration committed for this purpose
(bench/sparse_regression.py: 18 EMT crystals of six groups, the CFT arm, 12 steps), not a result of the
study; it pins the whole path the study's numbers come from (data generator, EMT labels, standardization,
neighbourhoods, model, training loop, prediction). About 10 s of CPU.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import sparse_regression   # noqa: E402


def test_tiny_sparse_row_regenerates(tmp_path):
    committed = json.loads(sparse_regression.ROW.read_text())
    row = sparse_regression.regression_row(tmp_path)
    assert row["test_ids"] == committed["test_ids"]
    assert np.allclose(row["targets"], committed["targets"], rtol=0, atol=1e-9)   # EMT labels: float64, no training
    assert row["parameters"] == committed["parameters"]
    assert row["config"] == committed["config"]
    drift = np.abs(np.array(row["predictions"]) - np.array(committed["predictions"]))
    assert drift.max() <= sparse_regression.TOLERANCE, f"predictions drifted by up to {drift.max():.2e} eV/atom"
    assert abs(row["test_mae"] - committed["test_mae"]) <= sparse_regression.TOLERANCE
