"""VASP POSCAR / CONTCAR reader and writer (VASP 5 layout, with the species line).

Layout read: comment line; scale (one number: a factor, or a negative target
volume in Angstrom^3; or three per-axis factors); three lattice rows; species
symbols; counts; optional ``Selective dynamics``; ``Direct`` or ``Cartesian``
(only the first letter counts, as in VASP: D/d direct, C/c/K/k Cartesian); one
position per atom (flags and trailing labels ignored).

VASP 4 files have no species line. Their species are, in this order: ``species=``
(``--species Na,Cl`` on the command line), or the comment line when it is exactly a list of
element symbols, one per count (``Na Cl``, as ASE reads it); otherwise the file is refused
with a message saying so. When a VASP 5 file has a species line and ``species=`` is given
too, the two must agree. Species names are read by
:func:`~crystal_fourier.runtime.structure_io._structures.element_number` (``Fe_pv`` is Fe).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._coincident import check_no_coincident_atoms
from crystal_fourier.runtime.structure_io._elements import ELEMENTS, element_number
from crystal_fourier.runtime.structure_io._structures import Crystal

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["parse_poscar", "write_poscar"]


def _floats(line: str, count: int, what: str, source: str, number: int) -> list[float]:
    parts = line.split()
    try:
        values = [float(v) for v in parts[:count]]
    except ValueError:
        values = []
    if len(values) != count:
        raise CrystalFourierError(f"{source}, line {number}: expected {count} numbers ({what}), got {line.strip()!r}")
    return values


def parse_poscar(text: str, *, species: Iterable[str] | None = None, source: str = "<string>") -> Crystal:
    """The crystal in POSCAR/CONTCAR ``text``.

    Parameters
    ----------
    text : str
    species : sequence of str, optional
        Element of each species block, for VASP 4 files without a species line; checked
        against the species line of a VASP 5 file.
    source : str
        Name used in error messages.

    Raises
    ------
    CrystalFourierError
        A missing or unreadable line, counts that do not match the positions, or an
        unknown element; the message names the line.

    Examples
    --------
    >>> text = '''NaCl rock salt
    ... 5.64
    ... 0 0.5 0.5
    ... 0.5 0 0.5
    ... 0.5 0.5 0
    ... Na Cl
    ... 1 1
    ... Direct
    ... 0 0 0
    ... 0.5 0.5 0.5
    ... '''
    >>> crystal = parse_poscar(text)
    >>> crystal.formula, round(crystal.volume, 4)
    ('ClNa', 44.8515)
    """
    lines = text.splitlines()
    if len(lines) < 8:
        raise CrystalFourierError(f"{source}: a POSCAR needs at least 8 lines (comment, scale, 3 lattice rows, "
                                  f"counts, coordinate mode, positions); got {len(lines)}")
    lattice, factor = _scaled_lattice(lines, source)
    names, line_index = _species_names(lines, species, source)
    if line_index >= len(lines):
        raise CrystalFourierError(f"{source}: the file ends before the line of atom counts")
    try:
        counts = [int(v) for v in lines[line_index].split()]
    except ValueError:
        raise CrystalFourierError(f"{source}, line {line_index + 1}: expected atom counts (integers), "
                                  f"got {lines[line_index].strip()!r}") from None
    if len(counts) != len(names):
        raise CrystalFourierError(f"{source}, line {line_index + 1}: {len(counts)} counts for {len(names)} "
                                  f"species ({' '.join(names)})")
    if any(c < 0 for c in counts) or sum(counts) == 0:
        raise CrystalFourierError(f"{source}, line {line_index + 1}: counts must be non-negative "
                                  "with at least one atom")
    line_index += 1
    if line_index < len(lines) and lines[line_index].strip()[:1].lower() == "s":
        line_index += 1  # Selective dynamics
    if line_index >= len(lines):
        raise CrystalFourierError(f"{source}: the file ends before the 'Direct'/'Cartesian' line")
    mode = lines[line_index].strip()[:1].lower()
    if mode not in ("d", "c", "k"):
        raise CrystalFourierError(f"{source}, line {line_index + 1}: expected 'Direct' or 'Cartesian', "
                                  f"got {lines[line_index].strip()!r}")
    line_index += 1
    total = sum(counts)
    if line_index + total > len(lines):
        raise CrystalFourierError(f"{source}: the counts announce {total} atoms but only "
                                  f"{len(lines) - line_index} position lines follow")
    positions = np.array([_floats(lines[line_index + i], 3, "atom position", source, line_index + i + 1)
                          for i in range(total)])
    numbers = np.repeat([element_number(name) for name in names], counts)
    if mode in ("c", "k"):  # Cartesian positions are scaled like the lattice
        crystal = Crystal.from_arrays(lattice, positions * factor[None, :], numbers, cartesian=True)
    else:
        crystal = Crystal(lattice, positions, numbers)
    return check_no_coincident_atoms(crystal, source)


def _scaled_lattice(lines: list[str], source: str) -> tuple[np.ndarray, np.ndarray]:
    """Lines 2-5: the scaled lattice rows (Angstrom) and the scale factor of each axis, shape=(3,)."""
    scale_parts = lines[1].split()
    scale = _floats(lines[1], 3 if len(scale_parts) >= 3 and _all_numbers(scale_parts[:3]) else 1,
                    "scale factor", source, 2)
    lattice = np.array([_floats(lines[i], 3, "lattice vector", source, i + 1) for i in (2, 3, 4)])
    if len(scale) == 3:  # VASP 6: factors for the Cartesian x, y, z components (lattice and positions)
        if min(scale) <= 0:
            raise CrystalFourierError(f"{source}, line 2: per-axis scale factors must be positive, got {scale}")
        factor = np.array(scale)
    elif scale[0] < 0:  # a negative scale is the target cell volume
        volume = abs(np.linalg.det(lattice))
        if volume == 0:
            raise CrystalFourierError(f"{source}: the lattice vectors are linearly dependent (zero volume)")
        factor = np.full(3, (-scale[0] / volume) ** (1.0 / 3.0))
    elif scale[0] == 0:
        raise CrystalFourierError(f"{source}, line 2: scale factor must not be 0")
    else:
        factor = np.full(3, scale[0])
    return lattice * factor[None, :], factor


def _species_names(lines: list[str], species, source: str) -> tuple[list[str], int]:
    """The element of each species block, and the index of the line of counts after them.

    From the species line of a VASP 5 file (checked against ``species`` when given), else
    from ``species``, else from the comment line.
    """
    line_index = 5
    tokens = lines[line_index].split()
    given = None if species is None else [ELEMENTS[element_number(s, where=f"{source}: species")] for s in species]
    if tokens and not _all_numbers(tokens):
        names = [ELEMENTS[element_number(t, where=f"{source}, line 6: species line")] for t in tokens]
        if given is not None and given != names:
            raise CrystalFourierError(f"{source}, line 6: the species line says {' '.join(names)}, but the species "
                                      f"given are {' '.join(given)}")
        line_index += 1
    else:
        names = given if given is not None else _comment_species(lines[0], len(tokens))
        if names is None:
            raise CrystalFourierError(
                f"{source}, line 6: no species line (VASP 4 format) and the comment line {lines[0].strip()!r} is "
                "not a list of element symbols; give the elements in the order of the counts: --species Na,Cl "
                "on the command line, species=['Na', 'Cl'] in Python, or add the VASP 5 species line")
    return names, line_index


def _all_numbers(tokens) -> bool:
    try:
        [float(t) for t in tokens]
    except ValueError:
        return False
    return True


def _comment_species(comment: str, count: int) -> list[str] | None:
    """The comment line's elements when it is exactly ``count`` element symbols (any case), else None."""
    tokens = comment.replace(",", " ").split()
    if len(tokens) != count:
        return None
    names = []
    for token in tokens:
        key = token[:1].upper() + token[1:].lower()
        if key not in ELEMENTS[1:]:
            return None
        names.append(key)
    return names


def write_poscar(crystal: Crystal, *, comment: str | None = None) -> str:
    """POSCAR text (VASP 5, Direct) of ``crystal``, atoms grouped by species in first-seen order.

    Parameters
    ----------
    crystal : Crystal
        The crystal (lattice in Angstrom, fractional positions).
    comment : str, optional
        The first line; the formula by default.

    Returns
    -------
    str

    Examples
    --------
    >>> cu = Crystal.from_arrays(3.6 * np.eye(3), [[0, 0, 0], [0, .5, .5]], [29, 29])
    >>> parse_poscar(write_poscar(cu)).formula
    'Cu2'
    """
    order = []
    for number in crystal.numbers.tolist():
        if number not in order:
            order.append(number)
    groups = [np.flatnonzero(crystal.numbers == number) for number in order]
    symbols = [crystal.symbols[g[0]] for g in groups]
    lines = [comment or crystal.formula, "1.0"]
    lines += ["  " + "  ".join(f"{v:.12f}" for v in row) for row in crystal.lattice]
    lines += ["  ".join(symbols), "  ".join(str(len(g)) for g in groups), "Direct"]
    for g in groups:
        lines += ["  " + "  ".join(f"{v:.12f}" for v in crystal.positions[i]) for i in g]
    return "\n".join(lines) + "\n"
