"""The README's examples and every Python block of the guides run as written, so they cannot rot.

The README runs in document order in one scratch directory, as a newcomer would type it: each
``crystal-fourier ...`` line of its ``sh`` blocks as a command (``make`` lines are the set-up, not an
example), each ``python`` block as a script of its own; later blocks use what earlier ones wrote
(``crystals.csv``, ``model/``). Each page under ``docs/guide/`` (and the getting-started page) runs its
```` ```python ```` blocks in order as one script in its own scratch directory; a block that is only an
illustration is fenced ```` ```pycon ```` or ```` ```text ````. The extraction itself is tested on a
synthetic page, so a renamed fence cannot silently run nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```([A-Za-z]+)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
GUIDE_PAGES = sorted([DOCS / "getting-started.md", *(DOCS / "guide").glob("*.md")])


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, code) of every fenced block of a Markdown text, in order."""
    return [(match.group(1).lower(), match.group(2)) for match in FENCE.finditer(text)]


def commands(code: str) -> list[str]:
    """The ``crystal-fourier`` command lines of a shell block (continuation lines joined)."""
    joined = code.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("crystal-fourier ")]


def _environment(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MPLBACKEND="Agg", CRYSTAL_FOURIER_CACHE=str(scratch / "cache"))
    return env


def _run(arguments: list[str], scratch: Path, label: str, timeout: float = 300) -> subprocess.CompletedProcess:
    process = subprocess.run(arguments, cwd=scratch, env=_environment(scratch), capture_output=True, text=True,
                             timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    output = f"{process.stdout[-3000:]}\n{process.stderr[-3000:]}"
    assert process.returncode == 0, f"{label} exited {process.returncode}:\n{output}"
    return process


def _scratch_with_docs(tmp_path: Path) -> Path:
    """A scratch directory in which ``docs/...`` paths of the examples (docs/examples/Cu.cif) resolve."""
    (tmp_path / "docs").symlink_to(DOCS, target_is_directory=True)
    return tmp_path


def test_code_blocks_and_commands_are_extracted():
    page = ("text\n```sh\ncrystal-fourier basis 1   # a comment\nmake demo\ncrystal-fourier train --a \\\n"
            "    --b\n```\n```python\nx = 1\n```\n```pycon\n>>> y\n```\n")
    blocks = code_blocks(page)
    assert [language for language, _ in blocks] == ["sh", "python", "pycon"]
    assert commands(blocks[0][1]) == ["crystal-fourier basis 1   # a comment", "crystal-fourier train --a      --b"]
    assert blocks[1][1] == "x = 1\n"


def test_readme_examples_run(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = code_blocks(readme)
    assert sum(language == "python" for language, _ in blocks) >= 4, "the README lost its Python examples"
    scratch = _scratch_with_docs(tmp_path)
    outputs = {}
    for index, (language, code) in enumerate(blocks):
        if language in {"sh", "bash"}:
            for line in commands(code):
                arguments = ["bash", "-c", line.replace("crystal-fourier ", f"{sys.executable} -m crystal_fourier ", 1)]
                outputs[line.split()[1]] = _run(arguments, scratch, f"README command {line!r}").stdout
        elif language == "python":
            label = f"README Python block {index}"
            outputs[f"python {index}"] = _run([sys.executable, "-c", code], scratch, label).stdout
    # The main uses each ran: a basis, code generation, an audit, train + predict from a CIF.
    assert {"basis", "plot", "graph", "report", "generate", "audit", "dataset", "train", "predict"} <= set(outputs)
    assert (scratch / "f3.png").is_file()
    assert (scratch / "audit-out" / "report.md").is_file()
    # The command line's prediction: one CSV row for the CIF, a finite number and no error.
    header, row = outputs["predict"].strip().splitlines()
    assert header == "file,frame,prediction,error,symprec"
    file, frame, prediction, error, _ = row.split(",")
    assert file == "docs/examples/Cu.cif"
    assert frame == ""
    assert error == ""
    assert abs(float(prediction)) < 100
    # The Python prediction (the last block prints it): one finite energy per atom for the one crystal.
    printed = outputs[[key for key in outputs if key.startswith("python ")][-1]].strip().splitlines()[-1]
    values = [float(value) for value in printed.strip("[]").split()]
    assert len(values) == 1
    assert abs(values[0]) < 100


@pytest.mark.parametrize("page", GUIDE_PAGES, ids=lambda path: path.name)
def test_guide_python_blocks_run(page, tmp_path):
    code = [code for language, code in code_blocks(page.read_text(encoding="utf-8")) if language == "python"]
    if not code:
        return   # a page without Python examples has nothing to run
    scratch = _scratch_with_docs(tmp_path)
    _run([sys.executable, "-c", "\n".join(code)], scratch, f"the Python blocks of {page.relative_to(ROOT)}")


def test_readme_links_resolve():
    """Every relative link and image of the README names a file or folder of the repository."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    relative = [target for target in targets if "://" not in target]
    assert len(relative) >= 10, "the README lost its links into the documentation"
    assert [target for target in relative if not (ROOT / target).exists()] == []


def _documented_commands() -> list[tuple[str, str]]:
    """(page, command line without its trailing comment) of every documented ``crystal-fourier`` line."""
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md")), *sorted((DOCS / "guide").glob("*.md"))]
    found = []
    for page in pages:
        for language, code in code_blocks(page.read_text(encoding="utf-8")):
            if language in {"sh", "bash", "console", "shell"}:
                found += [(page.name, line.split("  #")[0].strip()) for line in commands(code)]
    return found


def test_every_documented_command_line_parses():
    """Each ``crystal-fourier`` line of the README and of every page names a command and options that
    exist (parsed by the real parser, not run: many are long jobs), so a renamed flag cannot rot a page."""
    import shlex

    from crystal_fourier.cli import build_parser

    lines = _documented_commands()
    assert len(lines) >= 30, "the pages lost their command lines"
    parser = build_parser()
    with pytest.raises(SystemExit):   # the check bites: an option that does not exist
        parser.parse_args(["basis", "Fd-3m", "--no-such-option", "5"])
    broken = []
    for page, line in lines:
        try:
            parser.parse_args(shlex.split(line)[1:])
        except SystemExit:
            broken.append(f"{page}: {line}")
    assert broken == []
