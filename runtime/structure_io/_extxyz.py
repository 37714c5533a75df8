"""Extended XYZ frames: the reader shared by single structure files and data sets (no ASE needed).

A frame is a count line; a comment line with ``Lattice="ax ay az bx by bz cx cy cz"``,
``Properties=species:S:1:pos:R:3[:...]`` (or ``Z:I:1`` instead of species) and other
``key=value`` pairs; then one line per atom, Cartesian positions in Angstrom.
:func:`extxyz_frames` splits a file into frames, :func:`extxyz_crystal` reads one frame's
crystal and :func:`parse_extxyz` the content of a file that holds exactly one structure. The numeric
``key=value`` pairs become targets in ``runtime.data`` (``load_extxyz``), which builds on these.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._coincident import check_no_coincident_atoms
from crystal_fourier.runtime.structure_io._elements import element_number
from crystal_fourier.runtime.structure_io._structures import Crystal
from crystal_fourier.runtime.structure_io._text_files import file_reader, open_text

__all__ = ["extxyz_frames", "extxyz_crystal", "parse_extxyz", "scan_extxyz"]

_PAIR = re.compile(r"""([A-Za-z_][\w\-.]*)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*'|\{[^}]*\}|\S+)|([A-Za-z_][\w\-.]*)""")


def _comment_pairs(line: str) -> dict[str, str]:
    pairs = {}
    for match in _PAIR.finditer(line):
        if match.group(1):
            value = match.group(2)
            if value[:1] in "\"'{" and len(value) >= 2:
                value = value[1:-1]
            pairs[match.group(1)] = value
        else:
            pairs[match.group(3)] = "T"
    return pairs


def _properties(spec: str, where: str) -> tuple[list[tuple[str, str, int]], int]:
    parts = spec.split(":")
    if len(parts) % 3:
        raise CrystalFourierError(f"{where}: Properties={spec!r} is not a list of name:type:count triples")
    columns = [(parts[i], parts[i + 1].upper(), int(parts[i + 2])) for i in range(0, len(parts), 3)]
    return columns, sum(c[2] for c in columns)


def extxyz_frames(path: Path, limit: int | None = None) -> list[tuple[int, int, dict[str, str], list[str]]]:
    """The frames of the extended XYZ file ``path``, unread: (index of the count line, atom count,
    the comment line's ``key=value`` pairs, the atom lines), at most ``limit`` of them.

    Parameters
    ----------
    path : pathlib.Path
        The file (gzip-compressed when its name ends in ``.gz``).
    limit : int, optional
        Most frames returned (default all).

    Raises
    ------
    CrystalFourierError
        A count line that is not a number, or a frame cut short by the end of the file.
    """
    with open_text(path) as handle:
        lines = handle.read().splitlines()
    return _frames(iter(lines), path, limit)


def _frames(lines, path, limit: int | None) -> list[tuple[int, int, dict[str, str], list[str]]]:
    """The frames of ``lines`` (str), raising the first framing error."""
    frames = []
    for start, pairs, atom_lines, error in scan_extxyz(((line, None) for line in lines)):
        if error is not None:
            raise CrystalFourierError(f"{path}, line {start + 1}: {error}")
        frames.append((start, len(atom_lines), pairs, atom_lines))
        if limit is not None and len(frames) >= limit:
            break
    return frames


class _Lines:
    """An iterator of (line index, text or None, problem or None) with a look-ahead of any depth."""

    def __init__(self, lines):
        self._lines = enumerate(lines)
        self._ahead: list = []

    def peek(self, depth: int = 0):
        while len(self._ahead) <= depth:
            entry = next(self._lines, None)
            if entry is None:
                return None
            self._ahead.append((entry[0], *entry[1]))
        return self._ahead[depth]

    def take(self):
        entry = self.peek()
        if entry is not None:
            self._ahead.pop(0)
        return entry


def _count(text: "str | None") -> int | None:
    """The atom count a frame's first line announces, or None when it is not a count."""
    fields = (text or "").split()
    if not fields or not fields[0].isdigit():
        return None
    return int(fields[0])


def _frame_start(lines: _Lines) -> bool:
    """Whether the next line is a count and the one after it a comment line with a lattice (resynchronising)."""
    first, second = lines.peek(), lines.peek(1)
    return (first is not None and second is not None and _count(first[1]) is not None
            and "lattice=" in (second[1] or "").lower())


def scan_extxyz(lines, *, max_frame_bytes: int | None = None):
    """The frames of extended XYZ ``lines``, one at a time: (count line index, pairs, atom lines, error).

    Framing only (a count line, a comment line, that many atom lines); :func:`extxyz_crystal` reads a frame.
    Memory holds one frame: its lines are let go when the next frame is read.

    Parameters
    ----------
    lines : iterable of (str or None, str or None)
        Each physical line of the file in order: its text without the line end, or None with the reason it
        could not be read (longer than the bound, not UTF-8).
    max_frame_bytes : int, optional
        Most characters of one frame (count, comment and atom lines); a longer frame is an error, its lines
        skipped unkept. Default: no bound.

    Yields
    ------
    tuple
        ``(index of the count line, the comment line's pairs, atom lines, None)`` for a well-framed frame,
        ``(index, None, None, reason)`` for one that is not (the caller names the file and line). After a
        count line that is not a count, lines are skipped up to the next count line followed by a comment
        line with ``Lattice=``, so the frames after a damaged one are still read; a file cut short ends
        with its error.
    """
    lines = _Lines(lines)
    while True:
        while (entry := lines.peek()) is not None and entry[1] is not None and not entry[1].strip():
            lines.take()
        entry = lines.take()
        if entry is None:
            return
        index, text, problem = entry
        count = _count(text)
        if count is None:
            while lines.peek() is not None and not _frame_start(lines):
                lines.take()
            yield index, None, None, problem or f"expected the number of atoms of a frame, got {text!r}"
            continue
        comment = lines.take()
        atom_lines, problem, ended = _atom_lines(lines, count, comment, len(text), max_frame_bytes)
        if ended:
            yield index, None, None, problem or f"the frame announces {count} atoms but the file ends first"
            return
        if problem is not None:
            yield index, None, None, problem
            continue
        yield index, _comment_pairs(comment[1]), atom_lines, None


def _atom_lines(lines: _Lines, count: int, comment, size: int, max_frame_bytes: int | None):
    """(the frame's atom lines, the first problem or None, whether the file ended first); a refused frame's
    lines are read on and let go, so memory never holds more than ``max_frame_bytes`` of them."""
    if comment is None:
        return [], None, True
    atom_lines, problem = [], comment[2]
    size += len(comment[1] or "")
    for _ in range(count):
        atom = lines.take()
        if atom is None:
            return [], problem, True
        if problem is None and atom[2] is not None:
            problem = f"line {atom[0] + 1}: {atom[2]}"
        size += len(atom[1] or "")
        if problem is None and max_frame_bytes is not None and size > max_frame_bytes:
            problem = (f"the frame holds more than MAX_FRAME_BYTES = {max_frame_bytes:,} characters "
                       f"({count:,} atoms announced); skipped")
        if problem is None:
            atom_lines.append(atom[1])
        else:
            atom_lines = []  # let the lines go; the frame is refused
    return atom_lines, problem, False


def extxyz_crystal(pairs: dict[str, str], atom_lines: list[str], where: str) -> Crystal:
    """The crystal of one frame: its comment line's ``pairs`` (``Lattice``, ``Properties``, ``pbc``) and atom lines.

    Raises
    ------
    CrystalFourierError
        No lattice, a frame not periodic in three directions, no positions or species column,
        a short atom line or an unreadable number (the message starts with ``where``).
    """
    if "Lattice" not in pairs:
        raise CrystalFourierError(f"{where}: no Lattice=\"...\" in the comment line; a crystal needs its cell")
    try:
        lattice = np.array([float(v) for v in pairs["Lattice"].split()]).reshape(3, 3)
    except ValueError:
        raise CrystalFourierError(f"{where}: Lattice must hold 9 numbers, got {pairs['Lattice']!r}") from None
    pbc = pairs.get("pbc", "T T T").replace(",", " ").split()
    if any(flag.upper() not in ("T", "TRUE", "1") for flag in pbc):
        raise CrystalFourierError(f"{where}: pbc={pairs.get('pbc')!r}; "
                                  "only crystals periodic in 3 directions are supported")
    columns, width = _properties(pairs.get("Properties", "species:S:1:pos:R:3"), where)
    offsets, offset = {}, 0
    for name, kind, size in columns:
        offsets[name] = (offset, kind, size)
        offset += size
    if "pos" not in offsets:
        raise CrystalFourierError(f"{where}: Properties has no pos:R:3 column")
    positions, species = [], []
    for line_number, line in enumerate(atom_lines):
        fields = line.split()
        if len(fields) < width:
            raise CrystalFourierError(f"{where}: atom line {line_number + 1} has {len(fields)} fields, "
                                      f"Properties announces {width}: {line.strip()!r}")
        start = offsets["pos"][0]
        try:
            positions.append([float(v) for v in fields[start:start + 3]])
        except ValueError:
            raise CrystalFourierError(f"{where}: atom line {line_number + 1}: "
                                      f"position is not numeric: {line.strip()!r}") from None
        if "species" in offsets:
            species.append(element_number(fields[offsets["species"][0]], where=f"{where}: atom line {line_number + 1}"))
        elif "Z" in offsets:
            species.append(int(fields[offsets["Z"][0]]))
        else:
            raise CrystalFourierError(f"{where}: Properties has neither species:S:1 nor Z:I:1")
    if len(positions) != len(atom_lines) or not atom_lines:
        raise CrystalFourierError(f"{where}: the frame has no atoms")
    return check_no_coincident_atoms(Crystal.from_arrays(lattice, positions, species, cartesian=True), where)


@file_reader("extxyz")
def parse_extxyz(source: str, data: bytes) -> Crystal:
    """The one structure of extended XYZ content ``data`` (UTF-8 bytes) of the file named ``source``.

    ``source`` comes first: it names the file in every message (:func:`file_reader`).

    Raises
    ------
    CrystalFourierError
        A malformed frame (as :func:`extxyz_crystal`), several frames, or none.
    """
    path = source
    # The first two frames are read whole, so a bad second frame is reported as such.
    lines = data.decode("utf-8-sig").splitlines()
    frames = [extxyz_crystal(pairs, atom_lines, f"{path}, frame {number} (line {start + 1})")
              for number, (start, _count, pairs, atom_lines) in enumerate(_frames(iter(lines), path, limit=2))]
    if len(frames) > 1:  # never silently the first of several structures
        raise CrystalFourierError(
            f"{path} holds several structures (extxyz frames); read them with iter_structures (crystal-fourier "
            "predict and audit --structures read every frame), or use it as a data file (load_dataset)")
    if not frames:
        raise CrystalFourierError(f"{path} holds no structure")
    return frames[0]
