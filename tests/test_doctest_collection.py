"""Doctests are collected once per source file and run against the installed modules (root conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _collected(*paths: str) -> list[str]:
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *paths],
                            capture_output=True, text=True, cwd=ROOT, check=True)
    return [line for line in result.stdout.splitlines() if "::" in line]


def test_doctests_are_named_by_the_installed_module_and_collected_once():
    items = _collected("derive", "runtime", "proofs", "crystal_fourier")
    names = [item.split("::", 1)[1] for item in items]
    assert len(items) >= 150, len(items)
    assert len(set(items)) == len(items)
    assert all(name.startswith("crystal_fourier.") for name in names), [n for n in names if
                                                                       not n.startswith("crystal_fourier.")]
    assert "derive/_space_groups.py::crystal_fourier.derive._space_groups.SpaceGroup" in items
    assert "runtime/symmetry/_periodic.py::crystal_fourier.runtime.symmetry._periodic.minimum_image_norms" in items
    assert not any(item.startswith("crystal_fourier/__main__.py") for item in items)


def test_the_doctests_of_a_module_run_and_pass():
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "derive/_space_groups.py"],  # noqa: PLW1510 - the return code is asserted below
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "passed" in result.stdout.splitlines()[-1]
    assert int(result.stdout.splitlines()[-1].split()[0]) == len(_collected("derive/_space_groups.py")) >= 10
