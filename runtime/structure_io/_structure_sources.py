"""Structure sources: every structure of files, directories, trajectories, databases, CSV files and list files.

:func:`iter_structures` is the one reader of ``crystal-fourier predict``, ``audit --structures`` and the
Python API when an input may hold many structures. It yields one :class:`StructureItem` per structure,
in input order, and reads lazily: a source is opened when the previous ones are done, and memory holds
one frame, one CSV row or one page of database rows at a time, never the whole input.

========================= =============================================== ================================
source                    structures                                      ``frame``
========================= =============================================== ================================
structure file            one (:func:`read_structure`: CIF, POSCAR, JSON)  None
directory                 its structure files, sorted by name, not        as each file
                          recursive (subdirectories and hidden files
                          skipped)
``.extxyz`` / ``.xyz``    every frame (gzipped too), read frame by frame  frame index, from 0
``.db``, ASE ``.json``    every row of an ASE database (needs ``ase``)    row id (``id``, from 1)
``.csv`` (``.csv.gz``)    one CIF per row, column ``cif`` (CDVAE format)  ``material_id``, else the row
                                                                          index from 0 (header not
                                                                          counted)
``@LIST`` (a ``str``)     each line of the file LIST is a source (any     as each source
                          kind but a list), relative to the current
                          directory; blank lines and ``#`` lines skipped
========================= =============================================== ================================

Bounds: a frame of a trajectory, a CSV row and a line of a list file are each at most
:data:`MAX_FRAME_BYTES` (128 MiB, as one structure file), so a long trajectory is never refused for its
length; an ASE ``.json`` database (parsed whole by ASE) is held to the 128 MiB file limit, an SQLite
``.db`` is read :data:`DATABASE_PAGE_ROWS` rows at a time.

Nothing here raises for bad input: a structure that cannot be read, and a source that cannot be read at
all (a missing file, an empty directory, a CSV without its ``cif`` column, an unreadable database, ASE
missing), is an item whose :meth:`~StructureItem.load` raises one ``CrystalFourierError`` naming it.
A damaged frame of a trajectory is one such item and the frames after it are still read (after a count
line that is not a count, reading resumes at the next count line followed by a ``Lattice=`` comment).
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._structure_files import (
    MAX_STRUCTURE_FILE_BYTES,
    _check_size,
    _examined,
    _format_from_name,
    read_structure,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["DATABASE_PAGE_ROWS", "MAX_FRAME_BYTES", "StructureItem", "iter_structures"]

MAX_FRAME_BYTES = MAX_STRUCTURE_FILE_BYTES
"""Most bytes of one trajectory frame, one CSV row or one line of a list file (128 MiB, as one structure file)."""
DATABASE_PAGE_ROWS = 64
"""Rows of an SQLite ASE database fetched at a time."""

_ASE_JSON = re.compile(rb'^\s*\{\s*"(\d+|ids|nextid)"\s*:')
"""How an ASE JSON database starts (``{"1": {...``); a pymatgen structure dict starts otherwise."""


@dataclass(frozen=True)
class StructureItem:
    """One structure of a source, not yet read: where it is, and :meth:`load` to read it.

    Parameters
    ----------
    source : str
        The file (or directory entry, or line of a list file) as given.
    frame : int or str or None
        Which structure of the source (see the module's table); None for a one-structure file.
    label : str
        What ``frame`` counts: ``'frame'``, ``'id'``, ``'material_id'`` or ``'row'`` ('' when None).
    """

    source: str
    frame: "int | str | None"
    label: str = ""
    _read: "Callable" = field(default=None, repr=False, compare=False)
    _args: tuple = field(default=(), repr=False, compare=False)

    @property
    def name(self) -> str:
        """``source``, or ``source, <label> <frame>`` (``traj.extxyz, frame 3``): what messages and reports say."""
        return self.source if self.frame is None else f"{self.source}, {self.label} {self.frame}"

    def load(self) -> Crystal:
        """The crystal; raises one ``CrystalFourierError`` naming :attr:`name` when it cannot be read.

        An item made by hand (``StructureItem("x.cif", None)``) reads its source as one structure file.
        """
        return (self._read or _read_file)(self.name, *self._args)


def iter_structures(sources: "str | os.PathLike | Iterable[str | os.PathLike]", *,
                    species: "Iterable[str] | None" = None) -> Iterator[StructureItem]:
    """Every structure of ``sources``, in order, one :class:`StructureItem` at a time.

    Parameters
    ----------
    sources : str, os.PathLike, or an iterable of them
        Structure files, directories, extended XYZ trajectories, ASE databases, CSV files with a ``cif``
        column, and ``'@LIST'`` strings naming a file of sources, one per line (see the module's table).
    species : sequence of str, optional
        Elements of VASP 4 POSCAR files (as :func:`read_structure`).

    Yields
    ------
    StructureItem
        One per structure; a source that cannot be read at all yields one item whose ``load`` raises.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.extxyz"
    >>> _ = path.write_text('''1
    ... Lattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3
    ... Cu 0 0 0
    ... 2
    ... Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3
    ... Na 0 0 0
    ... Cl 2 2 2
    ... ''')
    >>> [(item.frame, item.load().formula) for item in iter_structures(path)]
    [(0, 'Cu'), (1, 'ClNa')]
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    species = None if species is None else tuple(species)
    for source in sources:
        if isinstance(source, str) and source.startswith("@"):
            yield from _listed(source, species)
        else:
            yield from _items(os.fspath(source), species)


# --------------------------------------------------------------------------- readers of one item (picklable)
def _failed(name: str, message: str) -> Crystal:
    raise CrystalFourierError(message)


def _read_file(name: str, species=None) -> Crystal:
    return read_structure(name, species=species)


def _read_frame(name: str, pairs: dict, atom_lines: list, start: int) -> Crystal:
    from crystal_fourier.runtime.structure_io._extxyz import extxyz_crystal

    return extxyz_crystal(pairs, atom_lines, f"{name} (line {start + 1})")


def _read_cif(name: str, text: str) -> Crystal:
    from crystal_fourier.runtime.structure_io._cif import parse_cif

    return parse_cif(text, source=name)


def _read_row(name: str, lattice, positions, numbers, pbc) -> Crystal:
    import numpy as np

    from crystal_fourier.runtime.structure_io._coincident import check_no_coincident_atoms
    from crystal_fourier.runtime.structure_io._structures import Crystal

    if not all(pbc):
        raise CrystalFourierError(f"{name}: not periodic in 3 directions (pbc={[bool(p) for p in pbc]}); "
                                  "a crystal needs a full cell")
    try:
        crystal = Crystal.from_arrays(lattice, positions, numbers, cartesian=True)
    except (CrystalFourierError, ValueError, np.linalg.LinAlgError) as error:
        message = " ".join(str(error).split())
        raise CrystalFourierError(message if name in message else f"{name}: {message}") from None
    return check_no_coincident_atoms(crystal, name)


def _failure(source: str, message: str, frame=None, label: str = "") -> StructureItem:
    return StructureItem(source, frame, label, _failed, (message,))


# --------------------------------------------------------------------------- sources
def _kind(path: Path) -> str:
    """'extxyz', 'database', 'csv' or 'file', by the name (and the first bytes of a .json)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".extxyz", ".xyz")):
        return "extxyz"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".db"):
        return "database"
    if path.name.lower().endswith(".json") and path.is_file():  # never open a pipe or device to look
        try:
            with open(path, "rb") as handle:
                head = handle.read(64)
        except OSError:
            return "file"  # read_structure says why
        if _ASE_JSON.match(head):
            return "database"
    return "file"


def _items(name: str, species) -> Iterator[StructureItem]:
    path = Path(name)
    if path.is_dir():
        yield from _directory(path, name, species)
        return
    kind = _kind(path)
    if kind == "file":
        yield StructureItem(name, None, "", _read_file, (species,))
        return
    try:
        _examined(path, bounded=False)  # a pipe, device, missing file ... said as what it is
    except CrystalFourierError as error:
        yield _failure(name, str(error))
        return
    if kind == "extxyz":
        yield from _trajectory(path, name)
    elif kind == "csv":
        yield from _csv_rows(path, name)
    else:
        yield from _database(path, name)


def _directory(path: Path, name: str, species) -> Iterator[StructureItem]:
    try:
        entries = sorted(os.listdir(path))
    except OSError as error:
        yield _failure(name, f"{name}: the directory cannot be read ({error.strerror or error})")
        return
    found = False
    for entry in entries:
        child = path / entry
        if entry.startswith(".") or _format_from_name(child) is None or not child.is_file():
            continue
        found = True
        yield from _items(os.path.join(name, entry), species)
    if not found:
        yield _failure(name, f"{name}: a directory with no structure files (names ending .cif, .vasp, .poscar, "
                             ".extxyz, .xyz or .json, or starting POSCAR or CONTCAR, each also .gz); "
                             "subdirectories are not searched")


def _opened(path: Path):
    """``path`` open for reading bytes, through gzip when its first bytes say so."""
    handle = open(path, "rb")
    if handle.read(2) == b"\x1f\x8b":
        handle.seek(0)
        return gzip.GzipFile(fileobj=handle, mode="rb")
    handle.seek(0)
    return handle


def _lines(handle, limit: int) -> Iterator[tuple[str | None, str | None]]:
    """(text without the line end, None), or (None, why not) for a line that is too long or not UTF-8.

    A read error (a damaged gzip stream) is the last line's problem.
    """
    first = True
    while True:
        try:
            line = handle.readline(limit + 1)
            if not line:
                return
            if len(line) > limit and not line.endswith(b"\n"):
                while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                    pass  # skip the rest of the line, a piece at a time
                yield None, f"a line of more than {limit:,} bytes"
                continue
        except (OSError, EOFError, zlib.error) as error:
            yield None, f"the file cannot be read on ({error})"
            return
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            yield None, f"not UTF-8 text at byte {error.start} of the line"
            continue
        if first:
            text, first = text.removeprefix("\ufeff"), False
        yield text.rstrip("\r\n"), None


def _trajectory(path: Path, name: str) -> Iterator[StructureItem]:
    from crystal_fourier.runtime.structure_io._extxyz import scan_extxyz

    try:
        handle = _opened(path)
    except OSError as error:
        yield _failure(name, f"{name}: cannot be read ({error.strerror or error})")
        return
    number = 0
    with handle:
        for start, pairs, atom_lines, error in scan_extxyz(_lines(handle, MAX_FRAME_BYTES),
                                                           max_frame_bytes=MAX_FRAME_BYTES):
            if error is not None:
                yield _failure(name, f"{name}, frame {number} (line {start + 1}): {error}", number, "frame")
            else:
                yield StructureItem(name, number, "frame", _read_frame, (pairs, atom_lines, start))
            number += 1
    if not number:
        yield _failure(name, f"{name} holds no frame (an empty extended XYZ file)")


class _RowTooLong(Exception):
    pass


def _csv_rows(path: Path, name: str) -> Iterator[StructureItem]:
    if csv.field_size_limit() < MAX_FRAME_BYTES:
        csv.field_size_limit(MAX_FRAME_BYTES)  # a CIF may be as large as a structure file
    try:
        handle = _opened(path)
    except OSError as error:
        yield _failure(name, f"{name}: cannot be read ({error.strerror or error})")
        return
    size = [0]

    def lines():
        for text, problem in _lines(handle, MAX_FRAME_BYTES):
            size[0] += len(text or "")
            if problem is not None or size[0] > MAX_FRAME_BYTES:
                raise _RowTooLong(problem or f"a row of more than MAX_FRAME_BYTES = {MAX_FRAME_BYTES:,} bytes")
            yield text + "\n"

    with handle:
        reader = csv.reader(lines())
        try:
            header = next(reader, None)
        except (csv.Error, _RowTooLong) as error:
            yield _failure(name, f"{name}: an unreadable CSV header ({error})")
            return
        if not header or "cif" not in header:
            found = ", ".join(repr(column) for column in header or []) or "nothing"
            yield _failure(name, f"{name}: no 'cif' column; a CSV of structures holds one CIF per row in a column "
                                 f"named cif (the CDVAE format: material_id, cif, properties); found {found}")
            return
        cif_at = header.index("cif")
        id_at = header.index("material_id") if "material_id" in header else None
        label = "row" if id_at is None else "material_id"
        number = 0
        while True:
            size[0] = 0
            try:
                row = next(reader, None)
            except (csv.Error, _RowTooLong) as error:
                yield _failure(name, f"{name}, line {reader.line_num}: {error}; the rows after it are not read",
                               number, "row")
                return
            if row is None:
                break
            if not row:
                continue  # a blank line
            frame = number if id_at is None else (row[id_at] if id_at < len(row) else "")
            if cif_at >= len(row) or not row[cif_at].strip():
                yield _failure(name, f"{name}, line {reader.line_num}: the row has no CIF in column 'cif'",
                               frame, label)
            else:
                yield StructureItem(name, frame, label, _read_cif, (row[cif_at],))
            number += 1
    if not number:
        yield _failure(name, f"{name}: a CSV with a header and no rows")


def _database(path: Path, name: str) -> Iterator[StructureItem]:
    try:
        import ase.db
    except ImportError:
        yield _failure(name, f"{name}: reading an ASE database needs ASE: pip install ase "
                             "(or 'crystal-fourier[structures]')")
        return
    import sqlite3

    sqlite = not path.name.lower().endswith(".json")
    try:
        if sqlite:
            _check_ase_tables(path)
        else:
            _check_size(path, path.stat().st_size, "")  # ASE parses a JSON database whole
        database = ase.db.connect(name, type="db" if sqlite else "json", create_indices=False,
                                  use_lock_file=False, serial=True)
        count = 0
        for row in _database_rows(database, sqlite):
            count += 1
            yield StructureItem(name, int(row.id), "id", _read_row,
                                (_array(row.cell), _array(row.positions), _array(row.numbers), _array(row.pbc)))
    except CrystalFourierError as error:
        yield _failure(name, str(error))
        return
    except (sqlite3.Error, OSError, ValueError, KeyError, TypeError, AttributeError, AssertionError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        yield _failure(name, f"{name}: not a readable ASE database ({type(error).__name__}: {reason})")
        return
    if not count:
        yield _failure(name, f"{name}: an ASE database with no rows")


def _array(value):
    import numpy as np

    return np.array(value)


def _check_ase_tables(path: Path) -> None:
    """Refuse an SQLite file that is not an ASE database, opened read-only (ASE would add its tables to it)."""
    import sqlite3

    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise CrystalFourierError(f"{path}: not an SQLite file, so not an ASE .db database")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        connection.close()
    if "systems" not in tables:
        raise CrystalFourierError(f"{path}: an SQLite file without ASE's 'systems' table, not an ASE database")


def _database_rows(database, sqlite: bool):
    """The rows in id order: an SQLite database a page at a time (ASE fetches a whole query at once)."""
    if not sqlite:
        yield from database.select(sort="id", include_data=False)
        return
    last = 0
    while True:
        page = list(database.select(f"id>{last}", sort="id", limit=DATABASE_PAGE_ROWS, include_data=False))
        yield from page
        if len(page) < DATABASE_PAGE_ROWS:
            return
        last = page[-1].id


def _listed(argument: str, species) -> Iterator[StructureItem]:
    path = Path(argument[1:])
    try:
        _examined(path, bounded=False)
        handle = open(path, "rb")
    except CrystalFourierError as error:
        yield _failure(argument, f"list file {argument}: {error}")
        return
    except OSError as error:
        yield _failure(argument, f"list file {argument}: cannot be read ({error.strerror or error})")
        return
    listed = 0
    with handle:
        for number, (text, problem) in enumerate(_lines(handle, MAX_FRAME_BYTES), start=1):
            if problem is not None:
                yield _failure(argument, f"list file {argument}, line {number}: {problem}")
                continue
            entry = text.strip()
            if not entry or entry.startswith("#"):
                continue
            listed += 1
            yield from _items(entry, species)
    if not listed:
        yield _failure(argument, f"list file {argument} lists no sources (one path per line)")
