"""Where modules generated on demand live, and how they import like shipped ones.

A setting or cutoff that is not shipped in ``crystal_fourier.generated`` is rendered by the
same generator into the user cache, ``<cache>/<shell>_<cutoff>/``. The generated packages add
the matching cache directories to their ``__path__`` (:func:`extend_package_path`), so such a
module imports (and pickles, and unpickles in a fresh process) under its real name, e.g.
``crystal_fourier.generated.ball_7.sg225`` or ``crystal_fourier.generated.ball_6.sg227_hall525``.
Shipped files always come first on the path.
"""

from __future__ import annotations

import os
from pathlib import Path

from crystal_fourier._version import GENERATOR_VERSION

__all__ = ["cache_directory", "extend_package_path"]

_ROOT_PACKAGE = "crystal_fourier.generated"


def cache_directory() -> Path:
    """The root of modules generated on demand, one directory per generator version.

    ``$CRYSTAL_FOURIER_CACHE`` if set, else ``$XDG_CACHE_HOME/crystal-fourier``, else
    ``~/.cache/crystal-fourier``; then ``generated-<GENERATOR_VERSION>``. Read when
    ``crystal_fourier.generated`` is first imported.

    >>> cache_directory().name.startswith("generated-")
    True
    """
    root = os.environ.get("CRYSTAL_FOURIER_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) / "crystal-fourier" if xdg else Path.home() / ".cache" / "crystal-fourier"
    return Path(root) / f"generated-{GENERATOR_VERSION}"


def extend_package_path(path: list[str], name: str) -> list[str]:
    """``path`` of package ``name`` plus its directory in the user cache (appended, once).

    Parameters
    ----------
    path : list of str
        The package's ``__path__``.
    name : str
        The package's dotted name; only ``crystal_fourier.generated`` and its subpackages are extended.

    Returns
    -------
    list of str
        A new list.

    Examples
    --------
    >>> extend_package_path(["/x"], "crystal_fourier.generated.ball_7")[1].endswith("ball_7")
    True
    """
    if name != _ROOT_PACKAGE and not name.startswith(_ROOT_PACKAGE + "."):
        return list(path)
    relative = name[len(_ROOT_PACKAGE):].lstrip(".").split(".") if name != _ROOT_PACKAGE else []
    extra = str(cache_directory().joinpath(*relative))
    entries = list(path)
    if extra not in entries:
        entries.append(extra)
    return entries


def _sync_package_paths() -> None:
    """Put the current cache directory first among the cache entries of ``__path__`` of
    ``crystal_fourier.generated`` and its imported set packages (after ``$CRYSTAL_FOURIER_CACHE``
    changed in this process): shipped directories, then the current cache, then older caches."""
    import sys

    root = sys.modules.get(_ROOT_PACKAGE)
    if root is None:
        return
    shipped = Path(root.__file__).resolve().parent
    for name, module in list(sys.modules.items()):
        if not (name == _ROOT_PACKAGE or name.startswith(_ROOT_PACKAGE + ".")) or not hasattr(module, "__path__"):
            continue
        current = extend_package_path([], name)[-1]
        entries = [entry for entry in module.__path__ if entry != current]
        first_cache = next((i for i, entry in enumerate(entries) if not _is_shipped(entry, shipped)), len(entries))
        entries.insert(first_cache, current)
        module.__path__[:] = entries


def _is_shipped(path: str | os.PathLike[str], shipped: Path) -> bool:
    """Whether ``path`` lies inside the installed ``crystal_fourier/generated`` directory ``shipped``.

    Parameters
    ----------
    path : str or os.PathLike
        A file or directory.
    shipped : pathlib.Path
        The resolved shipped directory.

    Returns
    -------
    bool
    """
    try:
        Path(path).resolve().relative_to(shipped)
    except ValueError:
        return False
    return True
