"""Atomic writes: a reader never sees a half-written file or a half-written directory.

Text is written as UTF-8 bytes with the line ends it has (byte-for-byte
determinism), to a temporary file in the target's directory, then moved into
place with ``os.replace``. A directory (a saved model) is written the same way as
a whole: every file goes into a temporary sibling directory, which then takes the
target's place in one rename (``renameat2(RENAME_EXCHANGE)`` on Linux). Used for
generated code, certificates, datasets and model files alike.

A temporary file or directory is named ``.NAME.XXXXXXXX.tmp`` and is locked
(``flock``) by its writer while it lives; one left behind by a killed writer (no
lock held, older than :data:`STALE_SECONDS`) is removed by the next write of the
same target. :func:`exclusive_lock` keeps two processes from writing one target.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
import time
from pathlib import Path

from crystal_fourier.errors import CrystalFourierError

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_torch_save",
           "atomic_write_directory", "atomic_directory", "exclusive_lock", "json_safe", "json_text",
           "remove_stale_temporaries", "torch_bytes", "STALE_SECONDS"]

STALE_SECONDS = 2.0
"""A temporary older than this whose writer holds no lock is a leftover of a killed writer."""


def _mode(path: Path, default: int) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return default & ~umask


def _is_locked(path: Path) -> bool:
    """True when some process holds a flock on ``path`` (or it cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops our lock, if we got it
    return False


def remove_stale_temporaries(path) -> list[Path]:
    """Remove ``.NAME.*.tmp`` siblings of ``path`` left by killed writers; returns those removed.

    A temporary counts as stale when no process holds its lock and it is older
    than :data:`STALE_SECONDS` (a writer takes the lock right after creating it).
    """
    path = Path(path)
    removed = []
    try:
        import glob

        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return removed
    now = time.time()
    for candidate in candidates:
        try:
            if now - candidate.lstat().st_mtime < STALE_SECONDS or _is_locked(candidate):
                continue
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate)
            else:
                candidate.unlink()
            removed.append(candidate)
        except OSError:
            continue
    return removed


def _in_directory(path: Path, make):
    """``make`` (mkstemp or mkdtemp) a ``.NAME.XXXXXXXX.tmp`` beside ``path``; an OSError names the directory."""
    try:
        return make(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:  # the random temporary name would only confuse: name the user's directory
        raise type(error)(error.errno, error.strerror, str(path.parent)) from None


@contextlib.contextmanager
def _naming(path: Path):
    """An OSError that names no file (write(2) on a full disk: ENOSPC, EDQUOT, EIO) is raised naming ``path``."""
    try:
        yield
    except OSError as error:
        if error.filename is not None or error.errno is None:
            raise
        raise type(error)(error.errno, error.strerror, str(path)) from None


def atomic_write(path, text: "str | bytes") -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and ``os.replace``.

    Keeps the permission bits of an existing file; a new file gets 0o644 less the umask.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():  # said before a temporary is made, with the user's path (not the temporary's) in the error
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    mode = _mode(path, 0o644)
    remove_stale_temporaries(path)
    handle, temporary = _in_directory(path, tempfile.mkstemp)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with os.fdopen(handle, "wb") as stream, _naming(path):
            stream.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            stream.flush()
            os.chmod(temporary, mode)
            os.replace(temporary, path)  # still locked: no cleaner can take it meanwhile
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


def json_safe(value):
    """``value`` with every non-finite float (NaN, infinities) replaced by None, through dicts, lists and tuples.

    >>> json_safe({"mae": float("nan"), "n": [1, float("inf")]})
    {'mae': None, 'n': [1, None]}
    """
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def json_text(data) -> str:
    """``data`` as strict JSON (indent 2, sorted keys, trailing newline); NaN and infinities are an error."""
    import json

    try:
        return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
    except ValueError as error:
        raise CrystalFourierError(f"refusing to write a non-finite number as JSON ({error})") from None


def atomic_write_json(path, data) -> None:
    """:func:`atomic_write` of ``data`` as strict JSON (:func:`json_text`)."""
    atomic_write(path, json_text(data))


def torch_bytes(obj) -> bytes:
    """The bytes ``torch.save`` writes for ``obj``."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def atomic_torch_save(obj, path) -> None:
    """``torch.save`` through :func:`atomic_write`: an interrupted save never leaves a broken file."""
    atomic_write(path, torch_bytes(obj))


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _write_entries(temporary: Path, path: Path, files) -> set[str]:
    """Write ``files`` (a dict or (name, data) pairs) into ``temporary`` with the modes of ``path``'s; their names."""
    written = set()
    for name, data in (files.items() if isinstance(files, dict) else files):
        if os.sep in name or name in ("", ".", ".."):
            raise ValueError(f"not a plain file name: {name!r}")
        with _naming(path / name):  # the user's path, not the temporary's, in a disk-full error
            (temporary / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        os.chmod(temporary / name, _mode(path / name, 0o644))
        written.add(name)
    return written


class _Unchanged(Exception):
    """Raised inside :func:`atomic_directory` to leave the target untouched (its temporary is removed)."""


def atomic_write_directory(path, files, keep=(), *, unchanged=None) -> bool:
    """Write the directory ``path`` as a whole: exactly ``files`` (name -> bytes or str), all or nothing.

    The files go into a temporary sibling directory (:func:`atomic_directory`), which then replaces
    ``path`` in one atomic exchange, so a reader (or a writer killed at any point) sees the
    old directory or the new one, never a mixture. Entries of the old directory
    named in ``keep`` (and not in ``files``) are moved into the new one first; every
    other old entry is removed with the old directory.

    ``files`` may also be an iterable of ``(name, data)`` pairs, consumed one at a time
    (memory bounded by one file). ``unchanged``, called once every file is written, may
    return True to leave ``path`` untouched (nothing differs): the temporary is removed.
    Returns whether ``path`` was replaced.
    """
    path = Path(path)
    try:
        with atomic_directory(path, keep) as temporary:
            _write_entries(temporary, path, files)
            if unchanged is not None and unchanged():
                raise _Unchanged
    except _Unchanged:
        return False
    return True


@contextlib.contextmanager
def atomic_directory(path, keep=()):
    """A temporary sibling directory that replaces the directory ``path`` as a whole when the block ends.

    The block writes the new directory's entries into the yielded temporary (a
    ``.NAME.XXXXXXXX.tmp`` sibling, locked while it lives) at its own pace, e.g. appending
    to files as data streams in; when the block ends normally the temporary takes ``path``'s place
    in one atomic exchange (a reader sees the old directory or the new one, never a mixture).
    If the block raises, the temporary is removed and ``path`` is untouched; a writer killed
    mid-block leaves a stale temporary that the next write of ``path`` removes.

    Parameters
    ----------
    path : path-like
        The directory to replace (or create).
    keep : iterable of str, default ()
        Entries of the old directory to move into the new one when the block has not written them.

    Yields
    ------
    pathlib.Path
        The temporary directory to fill.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    temporary = Path(_in_directory(path, tempfile.mkdtemp))
    lock = os.open(temporary, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        os.chmod(temporary, _mode(path, 0o755))
        yield temporary
        if path.is_dir():
            for name in keep:
                if not os.path.lexists(temporary / name) and os.path.lexists(path / name):
                    os.rename(path / name, temporary / name)
        if path.is_dir() and _exchange(temporary, path):
            pass  # the old directory now sits at `temporary`, removed below
        elif path.is_dir():  # no atomic exchange here: two renames, the old one kept until the new is in place
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
            os.rename(path, old / "old")
            os.rename(temporary, path)
            temporary = old
        else:
            os.rename(temporary, path)  # fails if `path` is a file: said by the caller
            temporary = None
    except BaseException:
        if temporary is not None and temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    finally:
        os.close(lock)
    if temporary is not None:
        shutil.rmtree(temporary, ignore_errors=True)


@contextlib.contextmanager
def exclusive_lock(path, what: str = "writing"):
    """Hold an exclusive, non-blocking ``flock`` on ``path`` (a directory, or a file created empty if missing).

    Raises
    ------
    CrystalFourierError
        Another process holds the lock (two writers of one output at once).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    else:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise CrystalFourierError(f"{path}: another process is {what} it; wait for it to finish "
                                      "or choose another output") from None
        yield
    finally:
        os.close(fd)
