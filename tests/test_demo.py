"""The main job runs again in the same folder and prints the same table (seeded, deterministic, fixed threads)."""

from __future__ import annotations

import json
import subprocess
import sys


def _demo(out) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "crystal_fourier", "demo", "--size", "50", "--epochs", "1", "--workers", "1",
               "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


def test_a_second_demo_in_the_same_folder_reuses_the_data_and_prints_the_same_table(tmp_path):
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads((tmp_path / "demo_results.json").read_text())["size"] == 50
    second = _demo(tmp_path)
    assert second.returncode == 0, second.stderr      # the demo replaces its own models, never refuses
    assert "reusing" in second.stdout
    table = [line for line in first.stdout.splitlines() if " | " in line]
    assert len(table) == 7                              # header + cft, sinusoidal and four classical rows
    assert table == [line for line in second.stdout.splitlines() if " | " in line]
