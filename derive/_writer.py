"""Atomic, idempotent file writing with a dry-run mode (CPython Clinic's FileWriter pattern).

A file is written to a temporary file in its own directory and moved into place with
``os.replace``, so readers never see half a file; a file whose bytes would not change is not
touched. In dry-run mode nothing is written and the changes are returned for a diff.
Text is UTF-8 with ``\\n`` line ends on every platform (byte-for-byte determinism).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crystal_fourier._atomic import atomic_write

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

__all__ = ["Change", "write_files", "atomic_write", "read_text", "unified_diff"]


@dataclass(frozen=True, slots=True)
class Change:
    """One file whose content differs from what the generator produces.

    Attributes
    ----------
    path : Path
    old : str or None
        Current content, None if the file does not exist.
    new : str
        Content the generator produces.
    """

    path: Path
    old: str | None
    new: str


def read_text(path: Path) -> str | None:
    """The UTF-8 text of ``path`` without newline translation, or None if it does not exist.

    Parameters
    ----------
    path : pathlib.Path
        The file to read.

    Returns
    -------
    str or None
    """
    try:
        return Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None


def write_files(files: Mapping[str | os.PathLike[str], str], *, dry_run: bool = False) -> list[Change]:
    """Bring ``files`` (a mapping path -> text) to disk; return what differed, sorted by path.

    Parameters
    ----------
    files : Mapping[Path, str]
    dry_run : bool
        If True, write nothing (the ``--check`` mode).

    Returns
    -------
    list of Change
        The files that were (or, in dry-run mode, would be) created or rewritten.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.py"
    >>> [c.old for c in write_files({target: "x = 1\\n"})], write_files({target: "x = 1\\n"})
    ([None], [])
    """
    changes = []
    for path, new in sorted((Path(p), text) for p, text in files.items()):
        old = read_text(path)
        if old == new:
            continue
        changes.append(Change(path, old, new))
        if not dry_run:
            atomic_write(path, new)
    return changes


def unified_diff(change: Change) -> str:
    """A unified diff from the file on disk to what the generator produces.

    Parameters
    ----------
    change : Change
        A file whose content differs from the generator's: its path, the text on disk (None when
        the file does not exist) and the new text.

    Returns
    -------
    str
        The diff text (from ``/dev/null`` for a new file).
    """
    old = [] if change.old is None else change.old.splitlines(keepends=True)
    return "".join(difflib.unified_diff(
        old, change.new.splitlines(keepends=True),
        fromfile=f"{change.path} (on disk)" if change.old is not None else "/dev/null",
        tofile=f"{change.path} (generated)"))
