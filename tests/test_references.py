"""No dangling references: every ``.md`` file that a file of the repository names is in the repository.

A comment that says "see DESIGN.md" is worth nothing when DESIGN.md is not there. A name
resolves when the path exists relative to the repository root or to the naming file's folder,
or, for the bare names of the conventions (``CONVENTIONS.md``, as every generated module writes),
when a Markdown file of that name is in the repository. Output files that the code writes
(the audit's ``report.md``, a placeholder path such as ``OUT/results.md``) are names of what a run
produces, not references. This file's own examples are left out of the scan.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MARKDOWN_NAME = re.compile(r"[\w./-]*\w\.md\b")
"""A path ending in ``.md`` (``md5`` and a bare ``.md`` suffix are not matched)."""

OUTPUT_FILES = frozenset({"report.md", "cli-sections.md"})
"""Markdown files the code writes, not reads: ``crystal-fourier audit --out DIR`` writes DIR/report.md, and the
documentation build (docs/conf.py) writes the ignored docs/api/cli-sections.md from docs/cli/*.txt."""
OUTPUT_PLACEHOLDER = re.compile(r"[A-Z]+/")
"""An upper-case folder such as ``OUT/`` stands for a directory the user chooses: the path is an output."""

TEXT_SUFFIXES = frozenset({".py", ".md", ".toml", ".txt", ".j2", ".cfg", ".yml", ".yaml", ".sh", ".json", ".html"})
TEXT_NAMES = frozenset({"Makefile", "run"})


def repository_files(root: Path) -> list[Path]:
    """The files of the repository at ``root``: git's tracked and untracked-but-not-ignored files, else a walk."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                                capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
        return sorted(root / name for name in listed if name and (root / name).is_file())
    except (OSError, subprocess.SubprocessError):
        skipped = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache", "build", "dist"}
        return sorted(path for path in root.rglob("*") if path.is_file()
                      and not skipped & set(path.relative_to(root).parts) and ".egg-info" not in str(path))


def dangling_references(root: Path, files: list[Path]) -> list[str]:
    """``path:line: name`` of every ``.md`` name in the text files among ``files`` that resolves to no file."""
    markdown_names = {path.name for path in files if path.suffix == ".md"}
    found = []
    for path in files:
        if path.suffix not in TEXT_SUFFIXES and path.name not in TEXT_NAMES:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for name in MARKDOWN_NAME.findall(line):
                base = name.rsplit("/", 1)[-1]
                if "/" not in name and base in markdown_names or base in OUTPUT_FILES \
                        or OUTPUT_PLACEHOLDER.match(name):
                    continue
                if (root / name).is_file() or (path.parent / name).is_file():
                    continue
                found.append(f"{path.relative_to(root)}:{number}: {name}")
    return found


def test_every_markdown_file_named_in_the_repository_exists():
    files = [path for path in repository_files(ROOT) if path != Path(__file__).resolve()]
    assert any(path.name == "CONVENTIONS.md" for path in files)  # the listing found the repository
    dangling = dangling_references(ROOT, files)
    assert not dangling, "references to .md files that are not in the repository:\n" + "\n".join(dangling)


@pytest.mark.parametrize(("line", "dangling"), [
    ("# see STYLE.md rule 6", ["STYLE.md"]),
    ('"""Routing (DESIGN.md, the sparse matrix)."""', ["DESIGN.md"]),
    ("[results](docs/missing.md) and docs/CONVENTIONS.md", ["docs/missing.md"]),
    ("other/CONVENTIONS.md", ["other/CONVENTIONS.md"]),  # a path must exist as written
    ("CONVENTIONS.md, ./notes.md, report.md, OUT/results.md, checksum.md5, suffix '.md'", []),
])
def test_the_check_finds_a_dangling_reference(tmp_path, line, dangling):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "CONVENTIONS.md").write_text("# conventions\n")
    (tmp_path / "notes.md").write_text("# notes\n")
    source = tmp_path / "module.py"
    source.write_text(f"x = 1\n{line}\n")
    files = [tmp_path / "docs" / "CONVENTIONS.md", tmp_path / "notes.md", source]
    assert dangling_references(tmp_path, files) == [f"module.py:2: {name}" for name in dangling]
