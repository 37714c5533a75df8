"""Sphinx hooks that let the project's plain-text docstrings render as written.

The docstrings are numpy style and write mathematics as plain text (``|C - P C|``,
``max |value|``); two things would otherwise go wrong in the generated API pages:

* reStructuredText reads ``|name|`` as a substitution, so every ``|`` outside inline literals is
  escaped before the text is parsed, and so are the stars of a line whose stars cannot pair up as
  emphasis (``shape=(n, *label_shape)``);
* a public constant (``AUDIT_TOLERANCE``, a SymPy symbol) re-exported by its package would show the
  docstring of its *type* (``dict``, ``Symbol``), so the docstring written under its assignment in
  the module that defines it is used instead (or, if it has none, one line naming its value).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re

from sphinx.pycode import ModuleAnalyzer
from sphinx.pycode import PycodeError

_LITERAL = re.compile(r"(``.+?``|`[^`]+`)")


def escape_bars(line: str) -> str:
    """``line`` with each ``|`` outside inline literals escaped (grid-table rows and line blocks left alone).

    >>> escape_bars("error |C - P C| of ``a | b``")
    'error \\\\|C - P C\\\\| of ``a | b``'
    """
    stripped = line.lstrip()
    if stripped.startswith(("+", "| ")) or "|" not in line:   # grid-table rows and line blocks
        return line
    parts = _LITERAL.split(line)
    return "".join(part if index % 2 else part.replace("|", "\\|") for index, part in enumerate(parts))


def escape_stars(line: str) -> str:
    """``line`` with its ``*`` outside inline literals escaped when they cannot pair up as emphasis.

    Plain-text shapes and signatures (``shape=(n, *label_shape)``, ``**kwargs``) leave an odd number
    of stars on a line, which reStructuredText would read as an unclosed emphasis.

    >>> escape_stars("shape=(n, *label_shape)"), escape_stars("*one* word"), escape_stars("f(**kwargs)")
    ('shape=(n, \\\\*label_shape)', '*one* word', 'f(\\\\*\\\\*kwargs)')
    >>> escape_stars("  * a list item"), escape_stars("  * item with x*y")
    ('  * a list item', '  * item with x\\\\*y')
    """
    body = line.lstrip()
    bullet = line[:len(line) - len(body)] + ("* " if body.startswith("* ") else "")   # a list item's marker stays
    parts = _LITERAL.split(line[len(bullet):])
    plain = [part for index, part in enumerate(parts) if not index % 2]
    if sum(part.count("*") for part in plain) % 2 == 0 and sum(part.count("**") for part in plain) % 2 == 0:
        return line
    return bullet + "".join(part if index % 2 else part.replace("*", "\\*") for index, part in enumerate(parts))


@functools.lru_cache(maxsize=None)
def _attribute_docs(package: str) -> dict[str, list[str]]:
    """Docstrings written under module-level assignments anywhere inside ``package``."""
    found: dict[str, list[str]] = {}
    module = importlib.import_module(package)
    names = [package]
    if hasattr(module, "__path__"):
        names += [info.name for info in pkgutil.walk_packages(module.__path__, prefix=package + ".", onerror=print)
                  if "generated" not in info.name]
    skipped = {"__main__", "_commands", "generated"}   # a script, the CLI's commands, generated tables
    for name in names:
        if skipped & set(name.split(".")):
            continue
        try:
            docs = ModuleAnalyzer.for_module(name).find_attr_docs()
        except (PycodeError, ImportError):
            continue
        for (scope, attribute), lines in docs.items():
            if scope == "" and lines:
                found.setdefault(attribute, list(lines))
    return found


def _constant_docstring(name: str, obj: object, lines: list[str]) -> list[str] | None:
    package, _, attribute = name.rpartition(".")
    type_doc = type(obj).__doc__ or ""
    if lines and "\n".join(lines).strip() != type_doc.strip() and not type_doc.strip().startswith(lines[0].strip()):
        return None
    try:
        docs = _attribute_docs(package)
    except ImportError:
        docs = {}
    if attribute in docs:
        return docs[attribute]
    return [f"The constant ``{attribute} = {obj!r}``."]


def process_docstring(app, what, name, obj, options, lines):  # noqa: ARG001 (Sphinx's signature)
    """``autodoc-process-docstring``: the constant's own docstring, then escaped bars."""
    if what in {"data", "attribute"} and not callable(obj):
        replacement = _constant_docstring(name, obj, lines)
        if replacement is not None:
            lines[:] = replacement
    lines[:] = [escape_stars(escape_bars(line)) for line in lines]


def setup(app):
    """Register the hook (after napoleon, which rewrites the numpy sections first)."""
    app.connect("autodoc-process-docstring", process_docstring, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
