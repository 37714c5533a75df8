"""bench/bench_against_commit.py and bench_kernel.py --all-groups run and print what they measure (smoke runs)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import bench_against_commit   # noqa: E402
import bench_kernel   # noqa: E402


def test_against_this_checkout_reads_one_crystal_file_in_both_processes(capsys):
    # The "other" checkout is this one: both processes read the same crystals and time the same code.
    status = bench_against_commit.main(["--other-python", sys.executable, "--other-root", str(ROOT),
                                        "--rounds", "1", "--passes", "1", "--crystals", "4", "--batch-size", "2"])
    printed = capsys.readouterr().out
    assert status == 0
    assert printed.startswith("4 crystals; 1 timed passes")
    this = float(re.search(r"this checkout best (\d+)", printed).group(1))
    other = float(re.search(r"other best (\d+)", printed).group(1))
    assert min(this, other) > 0
    ratio = float(re.search(r"median ratio over 1 rounds: ([0-9.]+)x", printed).group(1))
    assert abs(ratio / (this / other) - 1) < 0.05   # the printed rates are rounded to whole crystals per second


def test_a_missing_other_python_is_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        bench_against_commit.main(["--other-python", "/nonexistent/python", "--other-root", str(ROOT)])
    assert stopped.value.code == 2
    assert "--other-python '/nonexistent/python' is not an executable Python" in capsys.readouterr().err


def test_kernel_sweep_times_all_230_modules(capsys):
    bench_kernel.main(["--all-groups", "3", "--points", "16", "--repeat", "1", "--dtypes", "float64"])
    printed = capsys.readouterr().out
    line = printed.strip().splitlines()[-1]
    assert line.startswith("R = 3, float64, this kernel: forward / floor (CPU) median ")
    over = int(re.search(r"(\d+) of 230 over 2x", line).group(1))
    assert 0 <= over <= 230
    assert len(re.findall(r"\d+\.\d\dx", line.split("largest: ")[1])) == 5
