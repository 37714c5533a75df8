"""Every public name is used in the README or the documentation pages, so none is public for nobody, and
there are at most 150 of them (issue 27).

The public API is the ``__all__`` of the packages the API reference lists (tests/test_public_api.py
checks that each name is annotated and has a docstring; the site gives each its page). A name counts
as used when it appears as code on a page a reader sees: inside a fenced block or an inline code span
of README.md or a Markdown page under docs/ (the generated API pages and the ``--help`` snapshots
excluded, since they list every name by construction), or in a gallery script of docs/examples/.
A word in running prose does not count (``audit``, ``basis``, ``crystals`` are ordinary words). A test
on a synthetic page shows that the check reports exactly the names it does not find.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PACKAGES = ("crystal_fourier", "crystal_fourier.derive", "crystal_fourier.proofs", "crystal_fourier.kernel",
            "crystal_fourier.runtime", "crystal_fourier.audit", "crystal_fourier.visual", "crystal_fourier.testing",
            "crystal_fourier.cache", "crystal_fourier.hosts", "crystal_fourier.errors")
_GENERATED = ("api", "cli", "_build", "auto_examples")
_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_SPAN = re.compile(r"`[^`\n]+`")


def code_text(text: str) -> str:
    """The fenced blocks and inline code spans of a Markdown text, joined (prose left out)."""
    blocks = _FENCE.findall(text)
    return "\n".join(blocks + _SPAN.findall(_FENCE.sub("", text)))


def documentation_code() -> str:
    """The code a reader sees in the README, the Markdown pages under docs/ and the gallery's scripts."""
    pages = [ROOT / "README.md"] + sorted(path for path in DOCS.rglob("*.md")
                                          if path.relative_to(DOCS).parts[0] not in _GENERATED)
    parts = [code_text(page.read_text(encoding="utf-8")) for page in pages]
    parts += [path.read_text(encoding="utf-8") for path in sorted((DOCS / "examples").glob("*.py"))]
    return "\n".join(parts)


def unused(names: dict[str, list[str]], code: str) -> list[str]:
    """``package.name`` for each public name that does not occur as a whole word in ``code``."""
    return [f"{package}.{name}" for package, public in names.items() for name in public
            if not re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", code)]


def test_every_public_name_is_used_in_the_readme_or_the_docs():
    names = {package: list(importlib.import_module(package).__all__) for package in PACKAGES}
    assert sum(map(len, names.values())) > 100
    missing = unused(names, documentation_code())
    assert not missing, ("public names that no example or code span of README.md or docs/ uses (use each where a "
                         "user reads it, or take it out of __all__):\n" + "\n".join(missing))


def test_the_public_api_stays_a_short_list():
    """Issue 27's goal: at most 150 public names in all (134 when it was met; spglib exports 46, e3nn.o3 59)."""
    total = sum(len(importlib.import_module(package).__all__) for package in PACKAGES)
    assert total <= 150, f"{total} public names: the API is a list a user reads, not every helper the package has"


def test_the_usage_check_reports_exactly_the_unused_names():
    page = ("# A page\n\nThe word basis in prose does not count, `render_graph(g)` does.\n\n"
            "```python\nfrom pkg import space_group\nspace_group(225)\n```\n")
    code = code_text(page)
    assert unused({"pkg": ["basis", "render_graph", "space_group", "graph", "space"]}, code) == [
        "pkg.basis", "pkg.graph", "pkg.space"]
