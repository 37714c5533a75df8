"""Sphinx configuration of the crystal-fourier documentation site (``make docs``).

The site is built offline: every page is Markdown read by MyST-Parser, the API reference is
generated from the docstrings of the names each public package exports in ``__all__`` (one
autosummary page per package, written by :func:`write_api_pages` when Sphinx reads this file),
and the gallery's scripts in ``docs/examples/`` run at build time (sphinx-gallery). Every page in
``docs/guide/`` is picked up by a glob toctree, so a new guide needs no edit here.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import crystal_fourier

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

project = "crystal-fourier"
author = "the crystal-fourier developers"
copyright = "2026, the crystal-fourier developers"  # noqa: A001 (Sphinx's name for it)
release = crystal_fourier.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.doctest",
    "sphinx_gallery.gen_gallery",
    "api_docstrings",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "ablation", "examples", "api/cli-sections.md"]
templates_path = ["_templates"]

# MyST: headings get anchors for links such as [rules](guide/reading-rules.md#symmetry); a link to a
# missing page, file or anchor is a warning, and warnings are errors (-W): internal links are checked.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
nitpicky = False

# The API reference: numpy-style docstrings, one page per public name.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented"
autodoc_preserve_defaults = True
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = True
napoleon_attr_annotations = True
add_module_names = False
suppress_warnings = ["autosummary.import_cycle"]

# The gallery: each plot_*.py runs at build time (seconds each) and its figures land on its page.
sphinx_gallery_conf = {
    "examples_dirs": ["examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
}

html_theme = "pydata_sphinx_theme"
html_title = "crystal-fourier"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_static_path = []
html_show_sourcelink = False
html_last_updated_fmt = None

# The public packages whose ``__all__`` is the API (tests/test_public_api.py checks the same list).
API_PACKAGES = (
    ("crystal_fourier", "The top level: groups, bases and the generated modules in one call."),
    ("crystal_fourier.derive", "Exact derivation: groups, frequency sets, orbits, absences, the real basis, "
                               "tensors, exports and the code generator."),
    ("crystal_fourier.proofs", "Machine-checkable certificates of the bases and the tensors."),
    ("crystal_fourier.kernel", "The one evaluation kernel behind every generated module."),
    ("crystal_fourier.runtime", "Structures and their files, standardization, data sets, the encoder, "
                                "the transformer, training and prediction."),
    ("crystal_fourier.audit", "The invariance audit of any crystal model."),
    ("crystal_fourier.visual", "Sections, dual-graph pictures and the per-group HTML report."),
    ("crystal_fourier.testing", "Property helpers for tests: invariance and absence assertions."),
    ("crystal_fourier.cache", "The user cache of generated modules."),
    ("crystal_fourier.hosts", "Host graph networks (SchNet, CGCNN) with the invariant encoding in their nodes."),
)


API_INTRODUCTION = """\
The public API is exactly what the packages export in ``__all__``: every module inside a package is
private, so import from the package (``from crystal_fourier.runtime import fit``). These pages are
generated from the docstrings of those names when the site is built, so a name added to a package's
``__all__`` appears here without an edit. Every public name, with its summary line:
"""


def _write_if_changed(page: Path, text: str) -> None:
    """Rewrite ``page`` only when its text changes, so an incremental build stays incremental."""
    if not page.is_file() or page.read_text(encoding="utf-8") != text:
        page.write_text(text, encoding="utf-8")


def write_api_pages(directory: Path = DOCS / "api") -> list[str]:
    """Write the API reference: one autosummary page per public package listing exactly its ``__all__``
    (each name gets a page of its own), and an index with every public name and its summary line.

    Returns the package names, in order.
    """
    directory.mkdir(exist_ok=True)
    index = ["API reference", "=============", "", API_INTRODUCTION, ".. toctree::", "   :maxdepth: 1", ""]
    index += [f"   {package}" for package, _ in API_PACKAGES]
    for package, summary in API_PACKAGES:
        public = list(importlib.import_module(package).__all__)
        title = f"``{package}``"
        lines = [title, "=" * len(title), "", summary, "",
                 f".. automodule:: {package}", "   :no-members:", "",
                 f".. currentmodule:: {package}", "", ".. autosummary::", "   :toctree: generated", ""]
        lines += [f"   {name}" for name in public]
        _write_if_changed(directory / f"{package}.rst", "\n".join(lines) + "\n")
        index += ["", title, "-" * len(title), "", summary, "", f".. currentmodule:: {package}", "",
                  ".. autosummary::", ""]
        index += [f"   {name}" for name in public]
    _write_if_changed(directory / "index.rst", "\n".join(index) + "\n")
    # A name that left ``__all__`` must leave the site too: its stub page would otherwise stay
    # outside every toctree, a warning (hence an error) in the next build.
    current = {f"{package}.{name}.rst" for package, _ in API_PACKAGES
               for name in importlib.import_module(package).__all__}
    for stub in (directory / "generated").glob("*.rst"):
        if stub.name not in current:
            stub.unlink()
    return [package for package, _ in API_PACKAGES]


def write_cli_sections(directory: Path = DOCS / "api") -> list[str]:
    """Write ``api/cli-sections.md``: one section per ``--help`` snapshot in ``docs/cli/`` (the main
    command first), included by ``command-line.md``, so a new command appears without an edit.

    Returns the commands, in order.
    """
    directory.mkdir(exist_ok=True)
    names = sorted(path.stem for path in (DOCS / "cli").glob("*.txt"))
    names.sort(key=lambda name: name != "crystal-fourier")
    sections = []
    for name in names:
        title = name if name == "crystal-fourier" else f"crystal-fourier {name}"
        sections.append(f"## `{title}`\n\n```{{literalinclude}} /cli/{name}.txt\n:language: text\n```\n")
    _write_if_changed(directory / "cli-sections.md", "\n".join(sections))
    return names


API_PAGES = write_api_pages()
CLI_COMMANDS = write_cli_sections()
os.environ.setdefault("MPLBACKEND", "Agg")
