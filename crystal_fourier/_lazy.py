"""Lazy re-exports: a package's public names imported from its private modules on first use.

One mechanism for every package that keeps ``import`` cheap (``crystal_fourier`` never imports
torch or spglib, ``crystal_fourier.derive`` neither SymPy's printing nor jinja2,
``crystal_fourier.runtime`` not torch for a CIF reader): a PEP 562 module ``__getattr__``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module

__all__ = ["lazy_attributes"]


def lazy_attributes(package: str, table: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: name -> ``getattr(<package>.<table[name]>, name)``.

    ``table`` maps each lazy public name to the module, relative to ``package``, that defines it.

    >>> getattr_ = lazy_attributes("crystal_fourier", {"CrystalFourierError": "errors"})
    >>> getattr_("CrystalFourierError").__name__
    'CrystalFourierError'
    >>> getattr_("missing")
    Traceback (most recent call last):
    ...
    AttributeError: module 'crystal_fourier' has no attribute 'missing'
    """

    def __getattr__(name: str) -> object:
        if name in table:
            return getattr(import_module(f"{package}.{table[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
