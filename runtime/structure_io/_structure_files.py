"""Reading one structure file: what the path is, a bounded read, gzip, then the reader its format names.

:func:`read_structure` is the one door to a structure file: ``predict``, ``audit`` and the Python API reach
it through :func:`~crystal_fourier.runtime.iter_structures` (``_structure_sources``), which also reads the
inputs that hold many structures. Before a byte is parsed:

* the path is examined without opening it: standard input (``-``), a pipe (FIFO), a directory, a
  socket or device, a loop of symbolic links, a dangling link and a missing file each get their own
  message (opening a FIFO would block; reading a directory or device is never meant);
* the file's size is checked before it is read: at most :data:`MAX_STRUCTURE_FILE_BYTES`;
* a gzip file (by its magic bytes, whatever its name) is inflated in memory, at most
  :data:`MAX_STRUCTURE_FILE_BYTES` of output (a gzip bomb stops there); the format then comes from
  the name without ``.gz`` (``POSCAR.gz`` is a POSCAR, ``x.cif.gz`` a CIF) or from the content.
  Other compressions (bzip2, xz, zstd, zip) are refused as compressed, never parsed as text.
"""

from __future__ import annotations

import errno
import os
import stat
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["MAX_STRUCTURE_FILE_BYTES", "STRUCTURE_FORMATS", "read_structure", "structure_file_bytes"]

MAX_STRUCTURE_FILE_BYTES = 128 << 20
"""Largest structure file read (128 MiB, after gzip inflation): a CIF of MAX_CIF_ATOMS = 1,000,000 atoms
is about 70 MB. Larger files are refused before they are read (peak memory stays under 1 GB)."""

STRUCTURE_FORMATS = ("cif", "poscar", "extxyz", "json")

_COMPRESSIONS = ((b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"),
                 (b"PK\x03\x04", "zip"), (b"\x5d\x00\x00", "lzma"))
"""Magic bytes of compressed files that are refused (gzip, b'\\x1f\\x8b', is read)."""

_KINDS = ((stat.S_ISDIR, "is a directory, not a structure file: give the files in it (e.g. DIR/*.cif)"),
          (stat.S_ISFIFO, "is a pipe (FIFO), not a regular file: structure files are read by name; save the "
                          "structure to a file first"),
          (stat.S_ISSOCK, "is a socket, not a regular file"),
          (stat.S_ISCHR, "is a character device, not a regular file"),
          (stat.S_ISBLK, "is a block device, not a regular file"))


def _examined(path: Path, *, bounded: bool = True) -> int:
    """The size of the regular file ``path`` (symbolic links followed); one error naming what else it is.

    ``bounded=False`` skips the size check, for files read a bounded piece at a time (the sources of
    ``_structure_sources``: trajectories, CSV files, databases).
    """
    if str(path) == "-":
        raise CrystalFourierError("'-' (standard input) is not read: structure files are read by name, their format "
                                  "from the name or content; save the structure to a file and give its name")
    try:
        status = os.stat(path)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise CrystalFourierError(f"{path} is a loop of symbolic links (it never reaches a file)") from None
        if error.errno in (errno.ENOENT, errno.ENOTDIR) and os.path.islink(path):
            raise CrystalFourierError(f"{path} is a symbolic link to {os.readlink(path)}, which does not "
                                      "exist") from None
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            raise CrystalFourierError(f"structure file {str(path)!r} does not exist") from None
        raise CrystalFourierError(f"{path}: cannot be read ({error.strerror or error})") from None
    for is_kind, message in _KINDS:
        if is_kind(status.st_mode):
            raise CrystalFourierError(f"{path} {message}")
    if bounded:
        _check_size(path, status.st_size, "")
    return status.st_size


def _check_size(path, size: int, what: str) -> None:
    if size > MAX_STRUCTURE_FILE_BYTES:
        raise CrystalFourierError(f"{path}: {what}{size:,} bytes, more than MAX_STRUCTURE_FILE_BYTES = "
                                  f"{MAX_STRUCTURE_FILE_BYTES:,}; refused unread")


def _inflated(path, data: bytes) -> bytes:
    """The content of gzip ``data`` (every member), at most MAX_STRUCTURE_FILE_BYTES of it."""
    pieces, total = [], 0
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            piece = inflater.decompress(data, MAX_STRUCTURE_FILE_BYTES + 1 - total)
        except zlib.error as error:
            raise CrystalFourierError(f"{path}: a damaged gzip stream ({error})") from None
        total += len(piece)
        if total > MAX_STRUCTURE_FILE_BYTES or inflater.unconsumed_tail:
            raise CrystalFourierError(f"{path}: the gzip file inflates to more than MAX_STRUCTURE_FILE_BYTES = "
                                      f"{MAX_STRUCTURE_FILE_BYTES:,} bytes; refused")
        if not inflater.eof:
            raise CrystalFourierError(f"{path}: the gzip stream is cut short (a truncated file)")
        pieces.append(piece)
        data = inflater.unused_data.lstrip(b"\x00")  # members may follow; zero padding may end the file
    return b"".join(pieces)


def structure_file_bytes(path: "str | os.PathLike") -> bytes:
    """The content of structure file ``path``: examined, size-bounded, gzip inflated.

    Raises
    ------
    CrystalFourierError
        ``path`` is standard input, a pipe, a directory, a device, a symlink loop or dangling
        link, missing, unreadable, larger than :data:`MAX_STRUCTURE_FILE_BYTES` (before or after
        inflation), or compressed in another format than gzip.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "POSCAR.gz"
    >>> _ = path.write_bytes(gzip.compress(b"Cu"))
    >>> structure_file_bytes(path)
    b'Cu'
    """
    path = Path(path)
    _examined(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_STRUCTURE_FILE_BYTES + 1)
    except OSError as error:
        raise CrystalFourierError(f"{path}: cannot be read ({error.strerror or error})") from None
    _check_size(path, len(data), "at least ")  # it grew since it was examined
    if data[:2] == b"\x1f\x8b":
        return _inflated(path, data)
    for magic, name in _COMPRESSIONS:
        if data.startswith(magic):
            raise CrystalFourierError(f"{path} is compressed ({name}); decompress it first (gzip files are read "
                                      "as they are)")
    return data


def _format_from_name(path: Path) -> str | None:
    """The format a file's name says (extension, or a POSCAR/CONTCAR name; ``.gz`` ignored); None when none."""
    if path.suffix.lower() == ".gz":
        path = path.with_suffix("")
    name = path.name.lower()
    suffix = path.suffix.lower()
    if suffix == ".cif":
        return "cif"
    if suffix in (".vasp", ".poscar") or name.startswith(("poscar", "contcar")):
        return "poscar"
    if suffix in (".extxyz", ".xyz"):
        return "extxyz"
    if suffix == ".json":
        return "json"
    return None


def _format_from_content(path: Path, data: bytes) -> str:
    head = data[:4096].decode("utf-8", errors="replace")
    lines = [line.strip() for line in head.splitlines() if line.strip() and not line.strip().startswith("#")]
    if any(line.lower().startswith("data_") for line in lines) or "_cell_length_a" in head:
        return "cif"
    if head.lstrip().startswith("{"):
        return "json"
    if lines and lines[0].isdigit() and len(lines) > 1 and "lattice=" in lines[1].lower():
        return "extxyz"
    if len(lines) >= 7:
        return "poscar"
    raise CrystalFourierError(
        f"cannot tell the format of {path}: use a .cif, .vasp/POSCAR, .extxyz or .json name, or pass format=")


def read_structure(path: "str | os.PathLike", *, format: str | None = None,
                   species: Iterable[str] | None = None) -> Crystal:
    """Read one crystal from a file, choosing the reader by extension or content.

    Formats: CIF (``.cif``, or text with a ``data_`` block; one structure block),
    POSCAR/CONTCAR (``POSCAR*``, ``CONTCAR*``, ``.vasp``, ``.poscar``), extended XYZ
    (``.extxyz``, ``.xyz``; one frame) and pymatgen ``Structure`` JSON (``.json``), each also
    gzip-compressed (``x.cif.gz``). A file with several structures is refused, never read as its
    first (:func:`~crystal_fourier.runtime.iter_structures` reads every frame). The path is examined
    and the size bounded before anything is read (:func:`structure_file_bytes`); every reader refuses
    two atoms on one point.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    format : {'cif', 'poscar', 'extxyz', 'json'}, optional
        Skip the guess.
    species : sequence of str, optional
        Elements of a VASP 4 POSCAR (no species line), in the order of its counts
        (``--species Na,Cl`` on the command line); checked against the species line of
        a VASP 5 file. Ignored by the other formats.

    Raises
    ------
    CrystalFourierError
        A path that is not a readable regular file (said as what it is), a file over the size
        limit, another compression than gzip, an unknown format, or a reader's error (which
        names the file and the problem).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "POSCAR").write_text("Cu\\n3.6\\n1 0 0\\n0 1 0\\n0 0 1\\nCu\\n1\\nDirect\\n0 0 0\\n")
    >>> read_structure(folder / "POSCAR").formula
    'Cu'
    """
    if format is not None and format.lower() not in (*STRUCTURE_FORMATS, "xyz"):
        raise CrystalFourierError(f"unknown structure format {format!r}: expected one of "
                                  f"{', '.join(STRUCTURE_FORMATS)}")
    path = Path(path)
    data = structure_file_bytes(path)
    fmt = (format or _format_from_name(path) or _format_from_content(path, data)).lower()
    source = str(path)
    if fmt == "cif":
        from crystal_fourier.runtime.structure_io._cif import cif_text, parse_cif

        return parse_cif(cif_text(data), source=source)
    if fmt == "poscar":
        from crystal_fourier.runtime.structure_io._poscar import parse_poscar

        return parse_poscar(data.decode("utf-8-sig", errors="replace"), species=species, source=source)
    if fmt in ("extxyz", "xyz"):
        from crystal_fourier.runtime.structure_io._extxyz import parse_extxyz

        return parse_extxyz(source, data)
    from crystal_fourier.runtime.structure_io._pymatgen_dicts import structure_from_dict

    import json

    try:
        content = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as error:
        raise CrystalFourierError(f"{path}: not valid JSON ({str(error).splitlines()[0][:120]})") from None
    except RecursionError:
        raise CrystalFourierError(f"{path}: its JSON is nested deeper than Python's recursion limit (a structure is "
                                  "a few levels deep)") from None
    return structure_from_dict(content, where=source)
