"""Reading text files of structures and data sets: gzip-aware opening, one clear error per bad file.

:func:`open_text` opens plain or gzip-compressed UTF-8 text; :func:`file_reader` decorates a loader so
that anything a malformed file provokes becomes one :class:`~crystal_fourier.errors.CrystalFourierError`
naming the file. The extended-XYZ reader here and the data-set loaders of ``runtime.data`` share both.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from crystal_fourier.errors import CrystalFourierError

__all__ = ["file_reader", "open_text"]


def file_reader(kind: str):
    """Decorate a loader so that any malformed file gives one CrystalFourierError naming the file.

    The loaders check what they expect; this is the net under them for what no check
    foresaw (bytes that are not UTF-8, a value of the wrong JSON type, a cut gzip
    stream), so a user never sees a traceback for a bad file.
    """
    import functools
    import zlib

    def decorate(loader):
        @functools.wraps(loader)
        def load(path, *args, **kwargs):
            try:
                return loader(path, *args, **kwargs)
            except CrystalFourierError as error:
                if str(path) in str(error):
                    raise
                raise CrystalFourierError(f"{path}: {error}") from None
            except UnicodeDecodeError as error:
                raise CrystalFourierError(f"{path}: not UTF-8 text at byte {error.start} "
                                          f"(is it a {kind} file?)") from None
            except OSError as error:
                raise CrystalFourierError(f"{path}: cannot read ({error.strerror or error})") from None
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, ZeroDivisionError,
                    EOFError, RecursionError, csv.Error, zlib.error) as error:
                reason = (str(error).strip().splitlines() or [""])[0][:160]
                raise CrystalFourierError(f"{path}: malformed {kind} file ({type(error).__name__}: {reason})") from None
        return load
    return decorate


def open_text(path: Path):
    """``path`` opened for reading as UTF-8 text (a byte-order mark skipped), through gzip when it ends in .gz."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")
