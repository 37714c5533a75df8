"""Extended XYZ frames: the reader shared by single structure files and data sets (no ASE needed).

A frame is a count line; a comment line with ``Lattice="ax ay az bx by bz cx cy cz"``,
``Properties=species:S:1:pos:R:3[:...]`` (or ``Z:I:1`` instead of species) and other
``key=value`` pairs; then one line per atom, Cartesian positions in Angstrom.
:func:`extxyz_frames` splits a file into frames, :func:`extxyz_crystal` reads one frame's
crystal and :func:`read_extxyz` reads a file that holds exactly one structure. The numeric
``key=value`` pairs become targets in ``runtime.data`` (``load_extxyz``), which builds on these.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._coincident import check_no_coincident_atoms
from crystal_fourier.runtime.structure_io._elements import element_number
from crystal_fourier.runtime.structure_io._structures import Crystal
from crystal_fourier.runtime.structure_io._text_files import file_reader, open_text

__all__ = ["extxyz_frames", "extxyz_crystal", "parse_extxyz", "read_extxyz"]

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

    Raises
    ------
    CrystalFourierError
        A count line that is not a number, or a frame cut short by the end of the file.
    """
    with open_text(path) as handle:
        lines = handle.read().splitlines()
    return _frames(lines, path, limit)


def _frames(lines: list[str], path, limit: int | None) -> list[tuple[int, int, dict[str, str], list[str]]]:
    frames = []
    index = 0
    while index < len(lines) and (limit is None or len(frames) < limit):
        if not lines[index].strip():
            index += 1
            continue
        where = f"{path}, line {index + 1}"
        try:
            count = int(lines[index].split()[0])
        except ValueError:
            raise CrystalFourierError(f"{where}: expected the number of atoms of a frame, "
                                      f"got {lines[index]!r}") from None
        if index + 2 + count > len(lines):
            raise CrystalFourierError(f"{where}: the frame announces {count} atoms but the file ends first")
        pairs = _comment_pairs(lines[index + 1])
        frames.append((index, count, pairs, lines[index + 2:index + 2 + count]))
        index += 2 + count
    return frames


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
def read_extxyz(path: "str | os.PathLike") -> Crystal:
    """The one structure of an extended XYZ file; a file with several frames is refused, never read as its first.

    Raises
    ------
    CrystalFourierError
        A malformed frame (as :func:`extxyz_crystal`), several frames, or none.
    """
    from crystal_fourier.runtime.structure_io._structure_files import structure_file_bytes

    return parse_extxyz(str(path), structure_file_bytes(path))


@file_reader("extxyz")
def parse_extxyz(source: str, data: bytes) -> Crystal:
    """The one structure of extended XYZ content ``data`` (UTF-8 bytes) of the file named ``source``.

    ``source`` comes first: it names the file in every message (:func:`file_reader`).

    Raises
    ------
    CrystalFourierError
        As :func:`read_extxyz`.
    """
    path = source
    # The first two frames are read whole, so a bad second frame is reported as such.
    lines = data.decode("utf-8-sig").splitlines()
    frames = [extxyz_crystal(pairs, atom_lines, f"{path}, frame {number} (line {start + 1})")
              for number, (start, _count, pairs, atom_lines) in enumerate(_frames(lines, path, limit=2))]
    if len(frames) > 1:  # never silently the first of several structures
        raise CrystalFourierError(
            f"{path} holds several structures (extxyz frames); give one structure per file, or use it as a "
            "data file (crystal-fourier evaluate --data, or load_dataset)")
    if not frames:
        raise CrystalFourierError(f"{path} holds no structure")
    return frames[0]
