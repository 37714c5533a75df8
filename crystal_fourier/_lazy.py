"""Lazy re-exports that editors and static readers can follow.

A package that must keep ``import`` cheap (``crystal_fourier`` never imports torch or spglib,
``crystal_fourier.derive`` neither SymPy's printing nor jinja2, ``crystal_fourier.runtime`` not torch
for a CIF reader) writes its re-exports as plain ``from ._x import y`` statements inside an
``if TYPE_CHECKING:`` block, which type checkers and editors follow, and hands its module
``__getattr__`` to :func:`lazy_imports`, which reads that same block: the imports are written once.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

__all__ = ["lazy_imports", "type_checking_imports"]


def type_checking_imports(source: str, package: str) -> dict[str, str]:
    """Public name -> absolute module of every ``from ... import`` inside ``if TYPE_CHECKING:`` in ``source``.

    Parameters
    ----------
    source : str
        Python source of a package's ``__init__.py``.
    package : str
        The package's dotted name (relative imports are resolved against it).

    Examples
    --------
    >>> text = "from typing import TYPE_CHECKING\\nif TYPE_CHECKING:\\n    from ._x import a, b as c\\n"
    >>> type_checking_imports(text, "pkg")
    {'a': 'pkg._x', 'c': 'pkg._x'}
    """
    table = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom):
                continue
            module = statement.module or ""
            if statement.level:
                base = package.split(".")[: len(package.split(".")) - statement.level + 1]
                module = ".".join([*base, module] if module else base)
            for alias in statement.names:
                table[alias.asname or alias.name] = module
    return table


def lazy_imports(package: str, init_file: str) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` that imports, on first use, what its ``TYPE_CHECKING`` block names.

    Parameters
    ----------
    package : str
        The package's dotted name (``__name__`` in its ``__init__.py``).
    init_file : str
        The path of its ``__init__.py`` (``__file__``), whose ``if TYPE_CHECKING:`` imports are the table.

    Examples
    --------
    >>> import crystal_fourier
    >>> getattr_ = lazy_imports("crystal_fourier", crystal_fourier.__file__)
    >>> getattr_("space_group").__name__
    'space_group'
    >>> getattr_("missing")
    Traceback (most recent call last):
    ...
    AttributeError: module 'crystal_fourier' has no attribute 'missing'
    """
    table = type_checking_imports(Path(init_file).read_text(encoding="utf-8"), package)

    def __getattr__(name: str) -> object:
        if name in table:
            return getattr(import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
