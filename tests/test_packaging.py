"""Packaging and the repository's entry points: py.typed, the linter in the test command, explicit paths."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _make_recipe(target: str) -> str:
    """The recipe lines of one Makefile target, joined."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n)+)", text, flags=re.MULTILINE)
    assert match, f"no target {target!r} in the Makefile"
    return match.group(1)


def test_the_package_is_typed():
    assert resources.files("crystal_fourier").joinpath("py.typed").is_file()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["crystal_fourier"]


def test_make_generate_passes_an_explicit_output_directory():
    recipe = _make_recipe("generate")
    assert "crystal-fourier generate --shipped --out generated/" in recipe


def test_make_test_runs_the_linter_first():
    assert re.search(r"^test:[^\n]*\blint\b", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert "ruff check ." in _make_recipe("lint")
    extra = _pyproject()["project"]["optional-dependencies"]["test"]
    assert any(requirement.startswith("ruff") for requirement in extra)


def test_the_linter_selects_the_families_style_asks_for_and_passes():
    lint = _pyproject()["tool"]["ruff"]["lint"]
    assert {"B", "PT", "PL"} <= set(lint["select"])
    assert not {"B", "PT", "PL", "ALL"} & set(lint.get("ignore", []))
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    result = subprocess.run([ruff, "check", "."], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
