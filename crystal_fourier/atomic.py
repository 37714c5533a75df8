"""Atomic file writes: a reader never sees a half-written file.

Text is written as UTF-8 bytes with the line ends it has (byte-for-byte
determinism), to a temporary file in the target's directory, then moved into
place with ``os.replace``. Used for generated code, certificates, datasets and
model files alike.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_torch_save"]


def atomic_write(path, text: "str | bytes") -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and ``os.replace``.

    Keeps the permission bits of an existing file; a new file gets 0o644 less the umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o644 & ~umask
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text if isinstance(text, bytes) else text.encode("utf-8"))
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def atomic_write_bytes(path, data: bytes) -> bool:
    """:func:`atomic_write` unless the file already holds exactly ``data``.

    Returns False (the file untouched, mtime included) when nothing changed,
    True when the file was written.
    """
    path = Path(path)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write(path, data)
    return True


def atomic_write_text(path, text: str) -> bool:
    """:func:`atomic_write_bytes` of ``text`` as UTF-8 (line ends kept as given)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, data) -> None:
    """:func:`atomic_write` of ``data`` as JSON (indent 2, sorted keys, trailing newline)."""
    import json

    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def atomic_torch_save(obj, path) -> None:
    """``torch.save`` through :func:`atomic_write`: an interrupted save never leaves a broken file."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(path, buffer.getvalue())
