"""No hand-written module of the package is over 500 lines (issue 27: long modules are split by idea).

Counted as ``wc -l`` counts (newlines), docstrings and comments included, over the folders that
pyproject's ``package-dir`` maps to the package; ``generated/`` is the generator's output, not
hand-written, and is left out. A second test shows the check reports a long module it is given.
"""

from __future__ import annotations

from pathlib import Path

from tests.test_import_cycles import package_modules

MAX_LINES = 500


def long_modules(modules: dict[str, Path], limit: int = MAX_LINES) -> dict[str, int]:
    """Dotted name -> line count of each module over ``limit`` lines."""
    counts = {name: path.read_bytes().count(b"\n") for name, path in modules.items()}
    return {name: count for name, count in counts.items() if count > limit}


def test_no_hand_written_module_is_over_500_lines():
    modules = package_modules()
    assert len(modules) > 150, f"only {len(modules)} modules found: the enumeration is broken"
    assert long_modules(modules) == {}


def test_the_check_reports_a_long_module(tmp_path):
    short, long = tmp_path / "short.py", tmp_path / "long.py"
    short.write_text("x = 1\n" * MAX_LINES)
    long.write_text("x = 1\n" * (MAX_LINES + 1))
    assert long_modules({"short": short, "long": long}) == {"long": MAX_LINES + 1}
