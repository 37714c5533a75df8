"""crystal_fourier._progress: the one progress bar (tqdm on stderr, or a silent stand-in)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from crystal_fourier._progress import progress_bar

ROOT = Path(__file__).resolve().parents[1]


def test_disabled_bar_iterates_and_ignores_updates(capsys):
    bar = progress_bar(range(4), "count", False)
    assert list(bar) == [0, 1, 2, 3]
    bar.update(2)
    bar.set_postfix(loss="0.1")
    bar.close()
    with progress_bar(None, "manual", False, total=3) as manual:
        manual.update(1)
        assert list(manual) == []
    assert capsys.readouterr() == ("", "")


def test_enabled_bar_writes_to_stderr_only(capsys):
    assert list(progress_bar(range(3), "count-up", True, unit="group", leave=True)) == [0, 1, 2]
    out, err = capsys.readouterr()
    assert out == ""
    assert "count-up" in err
    assert "3/3" in err
    assert "group" in err


def test_manual_bar_starts_at_initial(capsys):
    bar = progress_bar(None, "dataset", True, total=5, initial=2, unit="crystal", leave=True)
    bar.update(3)
    bar.close()
    assert "5/5" in capsys.readouterr().err


@pytest.mark.parametrize(("tty", "shown"), [(True, True), (False, False)])
def test_none_means_only_on_a_terminal(monkeypatch, capsys, tty, shown):
    monkeypatch.setattr("sys.stderr.isatty", lambda: tty)
    assert list(progress_bar(range(2), "maybe", None, leave=True)) == [0, 1]
    assert ("maybe" in capsys.readouterr().err) is shown


def test_tqdm_is_imported_only_by_the_helper():
    importers = []
    for folder in ("derive", "runtime", "proofs", "crystal_fourier"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(name.split(".")[0] == "tqdm" for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert importers == ["crystal_fourier/_progress.py"]
