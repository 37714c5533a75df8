"""bench/device_train_epoch.sh (issue 29's GPU epoch script) works end to end before a GPU is lent.

Runs the script's CPU smoke mode: a tiny data set, the store, plain training and torchrun with 2 gloo ranks.
The data-parallel run must reach the one-process test MAE (the gradients are averaged exactly; float32
reduction order differs, so 1e-5 relative), and the record must carry what a GPU run reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "device_train_epoch.sh"


@pytest.mark.sweep
def test_cpu_smoke_run_records_an_epoch(tmp_path):
    environment = {**os.environ, "DEVICE": "cpu", "SIZE": "24", "RANKS": "2", "EXTRA": "1", "WORKERS": "1",
                   "BATCH": "8", "SMALL": "1", "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], check=False, env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads((tmp_path / "out" / "epoch.json").read_text())
    assert (record["device"], record["backend"], record["ranks"], record["crystals"]) == ("cpu", "gloo", 2, 24)
    assert record["prepare_s"] > 0
    assert record["startup_and_first_epoch_s"] > 0
    assert record["test_mae_ranked"] == pytest.approx(record["test_mae"], rel=1e-5)


def test_bad_numbers_exit_2(tmp_path):
    environment = {**os.environ, "DEVICE": "cpu", "SIZE": "ten", "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], check=False, env=environment,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "positive integers" in done.stderr
    assert not (tmp_path / "out").exists()


def test_cuda_without_a_device_exits_2(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    environment = {**os.environ, "DEVICE": "cuda", "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], check=False, env=environment,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no CUDA device" in done.stderr
