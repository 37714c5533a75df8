"""A small CIF reader and P1 writer, with no dependency beyond numpy.

Reads the CIF 1.1 syntax that structure files use (data blocks, tags, loops,
quoted strings, ``;`` text fields, ``#`` comments) and builds a :class:`Crystal`
from the cell parameters, the symmetry operations and the atom sites:

* operations from ``_space_group_symop_operation_xyz`` or
  ``_symmetry_equiv_pos_as_xyz`` (or, without them, from the space-group symbol or
  number in the package's standard setting; without any, P1);
* fractional (``_atom_site_fract_*``) or Cartesian (``_atom_site_Cartn_*``) sites,
  species from ``_atom_site_type_symbol`` or the label;
* standard uncertainties such as ``1.234(5)`` are dropped; ``?`` and ``.`` mean missing;
* every site is expanded by the operations and images closer than
  :data:`MERGE_TOLERANCE` are merged; two different species on one site, or a
  partial occupancy, is an error (disorder is not supported).

Every problem raises one :class:`CrystalFourierError` naming the source, the line
where it applies, and what was expected.
"""

from __future__ import annotations

import os
import re
from fractions import Fraction
from pathlib import Path

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structures import (
    ELEMENTS,
    Crystal,
    atomic_number,
    cell_parameters,
    lattice_from_parameters,
)

__all__ = ["MERGE_TOLERANCE", "parse_cif", "read_cif", "write_cif", "cif_blocks"]

MERGE_TOLERANCE = 1e-2
"""Cartesian distance (Angstrom) under which two symmetry images are one atom. CIF
coordinates are printed to 4-8 digits (0.3333 for 1/3), so images of a special
position miss each other by up to ~1e-3 A; real atoms are never 0.01 A apart."""

_SYMOP_TAGS = ("_space_group_symop_operation_xyz", "_space_group_symop.operation_xyz",
               "_symmetry_equiv_pos_as_xyz", "_symmetry_equiv.pos_as_xyz")
_SYMBOL_TAGS = ("_space_group_name_h-m_alt", "_space_group.name_h-m_alt", "_symmetry_space_group_name_h-m")
_NUMBER_TAGS = ("_space_group_it_number", "_space_group.it_number", "_symmetry_int_tables_number")


class _Block:
    """One data block: scalar tags and loops (lower-cased tag -> list of (value, line))."""

    def __init__(self, name: str, line: int):
        self.name = name
        self.line = line
        self.values: dict[str, list[tuple[str, int]]] = {}

    def first(self, *tags: str):
        for tag in tags:
            if tag in self.values:
                return self.values[tag]
        return None


def _tokens(text: str, source: str):
    """Yield (token, line, quoted) for CIF 1.1 text."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        number = index + 1
        if line.startswith(";"):
            body = [line[1:]]
            index += 1
            while index < len(lines) and not lines[index].startswith(";"):
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise CrystalFourierError(f"{source}, line {number}: text field opened with ';' is never closed")
            yield "\n".join(body).strip(), number, True
            index += 1
            continue
        position = 0
        while position < len(line):
            char = line[position]
            if char.isspace():
                position += 1
                continue
            if char == "#":
                break
            if char in "'\"":
                end = position + 1
                while True:
                    end = line.find(char, end)
                    if end == -1:
                        raise CrystalFourierError(
                            f"{source}, line {number}: unterminated {char}-quoted string: {line.strip()!r}")
                    if end + 1 == len(line) or line[end + 1].isspace():
                        break
                    end += 1
                yield line[position + 1:end], number, True
                position = end + 1
                continue
            end = position
            while end < len(line) and not line[end].isspace():
                end += 1
            yield line[position:end], number, False
            position = end
        index += 1


def _blocks(text: str, source: str) -> list[_Block]:
    blocks: list[_Block] = []
    tokens = list(_tokens(text, source))
    i = 0
    current: _Block | None = None
    while i < len(tokens):
        token, line, quoted = tokens[i]
        lower = token.lower()
        if not quoted and lower.startswith("data_"):
            current = _Block(token[5:], line)
            blocks.append(current)
            i += 1
            continue
        if not quoted and (lower.startswith("save_") or lower in ("global_", "stop_")):
            i += 1  # save frames and global blocks carry no structure; skip their markers
            continue
        if current is None:
            raise CrystalFourierError(
                f"{source}, line {line}: {token!r} appears before any 'data_' block header; is this a CIF file?")
        if not quoted and lower == "loop_":
            i += 1
            tags = []
            while i < len(tokens) and not tokens[i][2] and tokens[i][0].startswith("_"):
                tags.append(tokens[i][0].lower())
                i += 1
            if not tags:
                raise CrystalFourierError(f"{source}, line {line}: 'loop_' is not followed by any tag")
            values = []
            while i < len(tokens):
                value, value_line, value_quoted = tokens[i]
                if not value_quoted and (value.startswith("_") or value.lower().startswith(("data_", "loop_", "save_"))):
                    break
                values.append((value, value_line))
                i += 1
            if len(values) % len(tags):
                raise CrystalFourierError(
                    f"{source}, line {line}: loop with {len(tags)} tags ({', '.join(tags[:3])}, ...) has "
                    f"{len(values)} values, not a multiple of {len(tags)}; a row is incomplete or a value "
                    "with spaces is not quoted")
            for column, tag in enumerate(tags):
                current.values[tag] = values[column::len(tags)]
            continue
        if not quoted and token.startswith("_"):
            if i + 1 >= len(tokens) or (not tokens[i + 1][2] and (tokens[i + 1][0].startswith("_") or
                                                                 tokens[i + 1][0].lower() in ("loop_",))):
                raise CrystalFourierError(f"{source}, line {line}: tag {token} has no value")
            current.values[lower] = [(tokens[i + 1][0], tokens[i + 1][1])]
            i += 2
            continue
        raise CrystalFourierError(f"{source}, line {line}: unexpected value {token!r} outside a loop (no tag before it)")
    return blocks


def _number(value: str, line: int, tag: str, source: str) -> float | None:
    """A CIF number: '1.234(5)' -> 1.234; '?' or '.' -> None."""
    if value in ("?", "."):
        return None
    match = re.fullmatch(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?:\(\d+\))?", value.strip())
    if not match:
        raise CrystalFourierError(f"{source}, line {line}: {tag} = {value!r} is not a number")
    return float(match.group(1))


def _scalar(block: _Block, tag: str, source: str) -> float:
    entry = block.values.get(tag)
    if entry is None:
        raise CrystalFourierError(f"{source}: data block '{block.name}' has no {tag}; a structure needs all six "
                                  "_cell_length_a/b/c and _cell_angle_alpha/beta/gamma")
    value, line = entry[0]
    number = _number(value, line, tag, source)
    if number is None:
        raise CrystalFourierError(f"{source}, line {line}: {tag} is missing ('{value}')")
    return number


def _parse_operation(text: str, line: int, source: str) -> tuple[np.ndarray, np.ndarray]:
    """'x, -y, z+1/2' -> (integer rotation (3, 3), float translation (3,))."""
    parts = text.replace(" ", "").lower().split(",")
    if len(parts) != 3:
        raise CrystalFourierError(f"{source}, line {line}: symmetry operation {text!r} must have three parts")
    rotation = np.zeros((3, 3), dtype=np.int64)
    translation = np.zeros(3)
    for row, part in enumerate(parts):
        terms = re.findall(r"[+-]?[^+-]+", part)
        if not terms or "".join(terms) != part:
            raise CrystalFourierError(f"{source}, line {line}: cannot read symmetry operation {text!r}")
        for term in terms:
            match = re.fullmatch(r"([+-]?)(\d*(?:\.\d+)?(?:/\d+)?)\*?([xyz])?", term)
            if not match or (not match.group(2) and not match.group(3)):
                raise CrystalFourierError(
                    f"{source}, line {line}: cannot read term {term!r} of symmetry operation {text!r}")
            sign = -1 if match.group(1) == "-" else 1
            if match.group(3):
                coefficient = int(match.group(2)) if match.group(2) else 1
                rotation[row, "xyz".index(match.group(3))] += sign * coefficient
            else:
                translation[row] += sign * float(Fraction(match.group(2)))
    if round(abs(np.linalg.det(rotation))) != 1:
        raise CrystalFourierError(f"{source}, line {line}: symmetry operation {text!r} is not a crystallographic "
                                  "operation (its matrix has determinant other than +-1)")
    return rotation, translation


def _operations(block: _Block, source: str) -> list[tuple[np.ndarray, np.ndarray]]:
    entries = block.first(*_SYMOP_TAGS)
    if entries:
        return [_parse_operation(value, line, source) for value, line in entries]
    from crystal_fourier.derive.operations import DEN
    from crystal_fourier.derive.space_groups import space_group

    name = block.first(*_SYMBOL_TAGS)
    number = block.first(*_NUMBER_TAGS)
    group = None
    if name and name[0][0] not in ("?", "."):
        group = space_group(name[0][0])
    elif number and number[0][0] not in ("?", "."):
        group = space_group(int(_number(number[0][0], number[0][1], "space-group number", source)))
    if group is None:
        return [(np.eye(3, dtype=np.int64), np.zeros(3))]
    rotations, translations_24 = group.arrays
    return [(r, t / DEN) for r, t in zip(rotations, translations_24)]


def _species(block: _Block, source: str) -> list[tuple[int, int, str]]:
    entries = block.first("_atom_site_type_symbol")
    labels = block.first("_atom_site_label")
    if entries is None:
        entries = labels
    if entries is None:
        raise CrystalFourierError(f"{source}: data block '{block.name}' has no _atom_site_type_symbol or "
                                  "_atom_site_label loop: no atoms to read")
    names = [value for value, _ in labels] if labels is not None and len(labels) == len(entries) else None
    species = []
    for row, (value, line) in enumerate(entries):
        match = re.match(r"([A-Za-z][a-z]?)", value)
        symbol = match.group(1) if match else value
        try:
            species.append((atomic_number(symbol[0].upper() + symbol[1:].lower()), line, names[row] if names else value))
        except CrystalFourierError:
            try:  # 'Os' vs 'O' + 's': fall back to the one-letter element
                species.append((atomic_number(symbol[0].upper()), line, names[row] if names else value))
            except CrystalFourierError:
                raise CrystalFourierError(
                    f"{source}, line {line}: atom site species {value!r} is not an element symbol") from None
    return species


def _sites(block: _Block, lattice: np.ndarray, source: str) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    species = _species(block, source)
    fractional = [block.values.get(f"_atom_site_fract_{axis}") for axis in "xyz"]
    cartesian = [block.values.get(f"_atom_site_cartn_{axis}") for axis in "xyz"]
    columns = fractional if all(c is not None for c in fractional) else cartesian
    if any(c is None for c in columns):
        raise CrystalFourierError(f"{source}: data block '{block.name}' has no complete _atom_site_fract_x/y/z "
                                  "(or _atom_site_Cartn_x/y/z) columns")
    if any(len(c) != len(species) for c in columns):
        raise CrystalFourierError(f"{source}: the atom-site columns of block '{block.name}' have different lengths")
    positions = np.empty((len(species), 3))
    for axis, column in enumerate(columns):
        for row, (value, line) in enumerate(column):
            number = _number(value, line, "atom site coordinate", source)
            if number is None:
                raise CrystalFourierError(f"{source}, line {line}: atom site {species[row][2]!r} has a missing coordinate")
            positions[row, axis] = number
    if columns is cartesian:
        positions = np.linalg.solve(lattice.T, positions.T).T
    occupancies = block.values.get("_atom_site_occupancy")
    if occupancies is not None:
        for (value, line), (_, _, label) in zip(occupancies, species):
            occupancy = _number(value, line, "_atom_site_occupancy", source)
            if occupancy is not None and abs(occupancy - 1.0) > 1e-3:
                raise CrystalFourierError(
                    f"{source}, line {line}: site {label!r} has occupancy {value}; partially occupied "
                    "(disordered) sites are not supported: order the structure first")
    return positions, species


def _expand(lattice, positions, species, operations, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Apply every operation to every site, wrap into [0, 1) and merge coincident images."""
    kept_positions: list[np.ndarray] = []
    kept_numbers: list[int] = []
    kept_labels: list[str] = []
    for position, (number, line, label) in zip(positions, species):
        images = np.array([rotation @ position + translation for rotation, translation in operations])
        images = np.mod(images, 1.0)
        images[images > 1.0 - 1e-12] = 0.0
        for image in images:
            if kept_positions:
                difference = np.array(kept_positions) - image
                difference -= np.round(difference)
                distance = np.linalg.norm(difference @ lattice, axis=1)
                close = np.flatnonzero(distance < MERGE_TOLERANCE)
                if len(close):
                    other = int(close[0])
                    if kept_numbers[other] != number:
                        raise CrystalFourierError(
                            f"{source}, line {line}: site {label!r} ({ELEMENTS[number]}) lands on site "
                            f"{kept_labels[other]!r} ({ELEMENTS[kept_numbers[other]]}) under the symmetry "
                            f"operations (closer than {MERGE_TOLERANCE} A); mixed sites are not supported")
                    continue
            kept_positions.append(image)
            kept_numbers.append(number)
            kept_labels.append(label)
    return np.array(kept_positions), np.array(kept_numbers, dtype=np.int64)


def cif_blocks(text: str, *, source: str = "<string>") -> list[str]:
    """Names of the data blocks in CIF ``text``, in file order.

    >>> cif_blocks("data_a\\n_cell_length_a 1\\ndata_b\\n")
    ['a', 'b']
    """
    return [block.name for block in _blocks(text, source)]


def parse_cif(text: str, *, block: "str | int | None" = None, source: str = "<string>") -> Crystal:
    """The crystal of one data block of CIF ``text``.

    Parameters
    ----------
    text : str
        CIF 1.1 text.
    block : str or int, optional
        Which data block: its name (without ``data_``) or its index. By default the
        first block that has atom sites (CIFs from databases often start with a
        block of publication data).
    source : str
        Name used in error messages.

    Returns
    -------
    Crystal
        Positions wrapped into [0, 1), one atom per symmetry image.

    Raises
    ------
    CrystalFourierError
        Malformed CIF, missing cell or sites, unknown block, unreadable numbers or
        operations, partial occupancy or two species on one site.

    Examples
    --------
    >>> text = '''data_NaCl
    ... _cell_length_a 5.64(1)
    ... _cell_length_b 5.64
    ... _cell_length_c 5.64
    ... _cell_angle_alpha 90
    ... _cell_angle_beta 90
    ... _cell_angle_gamma 90
    ... _symmetry_space_group_name_H-M 'F m -3 m'
    ... loop_
    ... _atom_site_label
    ... _atom_site_fract_x
    ... _atom_site_fract_y
    ... _atom_site_fract_z
    ... Na1 0 0 0
    ... Cl1 0.5 0.5 0.5
    ... '''
    >>> crystal = parse_cif(text)
    >>> crystal.n_atoms, crystal.formula
    (8, 'Cl4Na4')
    """
    blocks = _blocks(text, source)
    if not blocks:
        raise CrystalFourierError(f"{source}: no 'data_' block found; is this a CIF file?")
    if block is None:
        candidates = [b for b in blocks if b.first("_atom_site_fract_x", "_atom_site_cartn_x")]
        if not candidates:
            raise CrystalFourierError(f"{source}: none of the {len(blocks)} data block(s) "
                                      f"({', '.join(b.name for b in blocks)}) has atom sites")
        chosen = candidates[0]
    elif isinstance(block, int):
        if not -len(blocks) <= block < len(blocks):
            raise CrystalFourierError(f"{source}: block index {block} is out of range; the file has {len(blocks)} block(s)")
        chosen = blocks[block]
    else:
        matches = [b for b in blocks if b.name.lower() == str(block).lower()]
        if not matches:
            raise CrystalFourierError(f"{source}: no data block named {block!r}; the blocks are "
                                      f"{', '.join(repr(b.name) for b in blocks)}")
        chosen = matches[0]
    parameters = [_scalar(chosen, f"_cell_length_{axis}", source) for axis in "abc"]
    parameters += [_scalar(chosen, f"_cell_angle_{angle}", source) for angle in ("alpha", "beta", "gamma")]
    try:
        lattice = lattice_from_parameters(*parameters)
    except CrystalFourierError as error:
        raise CrystalFourierError(f"{source}: block '{chosen.name}': {error}") from None
    positions, species = _sites(chosen, lattice, source)
    operations = _operations(chosen, source)
    positions, numbers = _expand(lattice, positions, species, operations, source)
    return Crystal(lattice, positions, numbers)


def read_cif(path: "str | os.PathLike", *, block: "str | int | None" = None) -> Crystal:
    """Read the crystal of one data block of a CIF file; see :func:`parse_cif`.

    Raises
    ------
    CrystalFourierError
        If the file cannot be read or :func:`parse_cif` fails (the message names the file).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise CrystalFourierError(f"cannot read CIF file {str(path)!r}: {error.strerror}") from None
    return parse_cif(text, block=block, source=str(path))


def write_cif(crystal: Crystal, *, name: str | None = None) -> str:
    """CIF text of ``crystal`` in P1, in the layout pymatgen writes (and CDVAE CSVs hold).

    Positions are printed with 12 decimals, so a crystal that is exactly symmetric
    stays symmetric to 1e-12 after a round trip through :func:`parse_cif`.

    Parameters
    ----------
    crystal : Crystal
    name : str, optional
        Data block name (default: the formula).

    Examples
    --------
    >>> cu = Crystal.from_arrays(3.6 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [29] * 4)
    >>> again = parse_cif(write_cif(cu))
    >>> again.formula, bool(np.allclose(again.positions, cu.positions))
    ('Cu4', True)
    """
    a, b, c, alpha, beta, gamma = cell_parameters(crystal.lattice)
    block = re.sub(r"\s+", "_", name or crystal.formula)
    symbols, counts = np.unique(np.array(crystal.symbols), return_counts=True)
    formula = " ".join(f"{s}{n}" for s, n in zip(symbols.tolist(), counts.tolist()))
    lines = [
        "# generated by crystal-fourier",
        f"data_{block}",
        "_symmetry_space_group_name_H-M   'P 1'",
        f"_cell_length_a   {a:.10f}",
        f"_cell_length_b   {b:.10f}",
        f"_cell_length_c   {c:.10f}",
        f"_cell_angle_alpha   {alpha:.10f}",
        f"_cell_angle_beta   {beta:.10f}",
        f"_cell_angle_gamma   {gamma:.10f}",
        "_symmetry_Int_Tables_number   1",
        f"_chemical_formula_sum   '{formula}'",
        f"_cell_volume   {crystal.volume:.10f}",
        "loop_",
        " _symmetry_equiv_pos_site_id",
        " _symmetry_equiv_pos_as_xyz",
        "  1  'x, y, z'",
        "loop_",
        " _atom_site_type_symbol",
        " _atom_site_label",
        " _atom_site_symmetry_multiplicity",
        " _atom_site_fract_x",
        " _atom_site_fract_y",
        " _atom_site_fract_z",
        " _atom_site_occupancy",
    ]
    for index, (symbol, position) in enumerate(zip(crystal.symbols, crystal.positions)):
        x, y, z = (0.0 if abs(v) < 5e-13 else float(v) for v in position)
        lines.append(f"  {symbol}  {symbol}{index}  1  {x:.12f}  {y:.12f}  {z:.12f}  1")
    return "\n".join(lines) + "\n"
