"""The GPU scripts of issue 25 run end to end on the CPU in their smoke mode (SMOKE=1), before a GPU is lent.

Each takes 30-90 s on the shared development machine (standardizing 1,150 stand-in crystals, torch.compile with
aot_eager), so both are sweep tests; the default suite checks only that the scripts parse.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ("bench/device_sparse.sh", "bench/device_check_encoding.sh")


def _smoke(command: list[str], **extra) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SMOKE": "1", "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", **extra}
    done = subprocess.run(command, check=False, cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_parse(script):
    subprocess.run(["bash", "-n", str(ROOT / script)], check=True)


@pytest.mark.sweep
def test_sparse_grid_smoke_runs_every_kind_of_arm_and_collects(tmp_path):
    out = tmp_path / "out"
    done = _smoke(["bash", "bench/device_sparse.sh", str(tmp_path / "cache"), str(out), "300"])
    assert "smoke: ok (6 runs" in done.stdout
    runs = [json.loads(line) for path in sorted(out.glob("shard-*/runs.jsonl"))
            for line in path.read_text().splitlines()]
    assert sorted(run["arm"] for run in runs) == sorted(["cft/on", "cft-p1/off", "none/off", "gbm+distance",
                                                          "schnet+layer", "cgcnn+layer"])
    assert all(len(run["predictions"]) == 920 and run["steps"] == 1 for run in runs)   # 4 test crystals x 230 groups
    (tables,) = (path.read_text() for path in out.glob("tables.*"))   # the markdown the smoke collects
    assert all(f"| {name} |" in tables for name in ("CFT, neighbourhood on", "SchNet + layer", "CGCNN + layer"))


@pytest.mark.sweep
def test_encoding_check_smoke_runs_on_the_cpu(tmp_path):
    _smoke(["bash", "bench/device_check_encoding.sh"], OUT=str(tmp_path))
    invariance = json.loads((tmp_path / "encoding_cpu.json").read_text())
    assert invariance["groups"] == "225-227"
    assert invariance["invariance_float64"]["max"] < 1e-12
    assert invariance["invariance_float32"]["max"] < 1e-5
    compiled = json.loads((tmp_path / "encoding_cpu_compile.json").read_text())
    assert compiled["compile"]["ok"], compiled["compile"]
