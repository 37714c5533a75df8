"""CIF reader (gemmi's parser for the syntax, exact semantics here) and P1 writer.

This module reads the cell, the sites and the formula, expands the sites by the operations and
decides between origin choices; the syntax layer is :mod:`~crystal_fourier.runtime.structure_io._cif_syntax`
and which operations a block declares is :mod:`~crystal_fourier.runtime.structure_io._cif_symmetry`.

**Syntax** is gemmi's (``gemmi.cif.read_string``): data blocks, tags (case-insensitive),
loops, quoted strings, ``;`` text fields, comments, a UTF-8 byte-order mark; numbers with
standard uncertainties such as ``1.234(5)``; ``?`` and ``.`` mean missing.

**Semantics** are ours, and every problem is one :class:`CrystalFourierError` naming the
source, the data block, the tag or site and the line:

* *Blocks.* Only blocks with atom sites are structures. One is read; a file with several
  is refused unless ``block=`` names one (:func:`parse_cif_blocks` reads them all). Never
  silently the first.
* *Operations*, in this order: the ``_space_group_symop_operation_xyz`` /
  ``_symmetry_equiv_pos_as_xyz`` loop (parsed by
  :meth:`crystal_fourier.derive._operations.Operation.parse`); the Hall symbol
  (``_space_group_name_Hall``, via gemmi); the Hermann-Mauguin symbol or the number. A
  symbol with an explicit setting (``F d -3 m:1``, ``R -3:H``) or
  ``_space_group_IT_coordinate_system_code`` is exact. A bare symbol or number of one of
  the 24 groups with two origin choices is decided from the file: the choice that expands
  to ``_chemical_formula_sum`` (times ``_cell_formula_units_Z``), or to the declared
  ``_atom_site_symmetry_multiplicity``, without atoms closer than :data:`OVERLAP_DISTANCE`;
  when that does not single one out, it is an error naming both choices. No symmetry at
  all means P1.
* *Sites*: fractional or Cartesian coordinates; the element from
  ``_atom_site_type_symbol``, else from ``_atom_site_label``, by the one rule of
  :func:`~crystal_fourier.runtime.structure_io._structures.element_number` (``CU`` is Cu, ``NA1`` Na).
  Partial occupancy, or two species on one point, is an error (disorder is not supported).
  Images of one site closer than :data:`MERGE_TOLERANCE` are one atom; images of two sites only when
  of one species and on one point (``COINCIDENT_DISTANCE`` of ``_coincident``, 0.001 A).
* *Magnetic CIFs* (mcif): the spatial parts of ``_space_group_symop_magn_operation.xyz`` times
  ``_space_group_symop_magn_centering.xyz`` (time reversal and spins are ignored); a magnetic
  block without those operations, and any modulated (incommensurate) block, is refused.
* *Size*: at most :data:`MAX_CIF_ATOMS` atoms after expansion; images are merged through a grid
  of bins (n log n), so a file of 100,000 atoms reads in about a second.
* *Formula*: when the file has ``_chemical_formula_sum`` as a plain sum of element symbols
  with counts (``'Na Cl'``, ``'Si O2'``; anything with brackets or charges is not checked),
  the expanded cell must contain it a whole number of times (exactly
  ``_cell_formula_units_Z`` times, or once, when Z is given), else it is an error: the file
  and its atoms disagree.
"""

from __future__ import annotations

import re
import warnings

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._cif_symmetry import (
    file_operations,
    hall_operations,
    magnetic_operations,
    setting_operations,
    symbol_settings,
)
from crystal_fourier.runtime.structure_io import _cif_expansion
from crystal_fourier.runtime.structure_io._cif_expansion import (  # re-exported: the reader's documented bounds
    MAX_CIF_ATOMS,
    MERGE_TOLERANCE,
    OVERLAP_DISTANCE,
    expand_sites as _expand,
    has_overlap as _overlap,
    too_many_atoms as _too_many_atoms,
)
from crystal_fourier.runtime.structure_io._cif_syntax import CifBlock, cif_number, cif_numbers, data_blocks
from crystal_fourier.runtime.structure_io._elements import ELEMENTS, element_number
from crystal_fourier.runtime.structure_io._structures import Crystal, lattice_from_parameters

__all__ = ["MAX_CIF_ATOMS", "MERGE_TOLERANCE", "OVERLAP_DISTANCE", "cif_text", "parse_cif", "parse_cif_blocks"]

_OCCUPANCY_TOLERANCE = 1e-3
"""Largest |occupancy - 1| of an atom site that still counts as fully occupied (ordered)."""
_FORMULA_TOLERANCE = 1e-2
"""Relative tolerance of the atom counts against _chemical_formula_sum (printed amounts are rounded)."""
_ONE_LETTER_ELEMENTS = frozenset(symbol for symbol in ELEMENTS[1:] if len(symbol) == 1)


# --------------------------------------------------------------------------- cell
def _cell(block: CifBlock) -> np.ndarray:
    parameters = []
    for tag in ("_cell_length_a", "_cell_length_b", "_cell_length_c",
                "_cell_angle_alpha", "_cell_angle_beta", "_cell_angle_gamma"):
        values = block.column(tag)
        if values is None:
            raise CrystalFourierError(f"{block.where()}: no {tag}; a structure needs all six "
                                      "_cell_length_a/b/c and _cell_angle_alpha/beta/gamma")
        number = cif_number(values[0], block.where(tag), tag)
        if number is None:
            raise CrystalFourierError(f"{block.where(tag)}: {tag} is missing ('{values[0]}')")
        parameters.append(number)
    try:
        return lattice_from_parameters(*parameters)
    except CrystalFourierError as error:
        raise CrystalFourierError(f"{block.where()}: {error}") from None


# --------------------------------------------------------------------------- sites
def _species(block: CifBlock) -> tuple[list[tuple[int, str]], str]:
    type_values = block.column("_atom_site_type_symbol")
    labels = block.column("_atom_site_label")
    tag, entries = ("_atom_site_type_symbol", type_values) if type_values is not None else \
        ("_atom_site_label", labels)
    if entries is None:
        raise CrystalFourierError(f"{block.where()}: no _atom_site_type_symbol or _atom_site_label column: "
                                  "no atoms to read")
    if len(entries) > _cif_expansion.MAX_CIF_ATOMS:
        raise _too_many_atoms(block.where(tag), f"at least {len(entries):,} ({len(entries):,} sites)")
    names = labels if labels is not None and len(labels) == len(entries) else entries
    numbers: dict[str, int] = {}  # one reading per distinct symbol: files repeat a handful of them
    species = []
    for row, value in enumerate(entries):
        if value not in numbers:
            where = f"{block.where(tag)}: atom site {row + 1} ({names[row]!r}), {tag}"
            numbers[value] = element_number(value, where=where)
        species.append((numbers[value], names[row]))
    return species, tag


def _sites(block: CifBlock, lattice: np.ndarray) -> tuple[np.ndarray, list[tuple[int, str]]]:
    species, _ = _species(block)
    fractional = [f"_atom_site_fract_{axis}" for axis in "xyz"]
    cartesian = [f"_atom_site_cartn_{axis}" for axis in "xyz"]
    tags = fractional if all(block.column(t) is not None for t in fractional) else cartesian
    columns = [block.column(t) for t in tags]
    if any(c is None for c in columns):
        raise CrystalFourierError(f"{block.where()}: no complete _atom_site_fract_x/y/z "
                                  "(or _atom_site_Cartn_x/y/z) columns")
    if any(len(c) != len(species) for c in columns):
        raise CrystalFourierError(f"{block.where(tags[0])}: the atom-site columns have different lengths")
    positions = np.empty((len(species), 3))
    for axis, (tag, column) in enumerate(zip(tags, columns, strict=True)):
        positions[:, axis] = cif_numbers(column)
        for row in np.nonzero(~np.isfinite(positions[:, axis]))[0]:  # name the first bad one, as cif_number says it
            where = f"{block.where(tag)}: atom site {row + 1} ({species[row][1]!r})"
            if cif_number(column[row], where, tag) is None:
                raise CrystalFourierError(f"{where}: {tag} is missing ('{column[row]}')")
    if tags is cartesian:
        positions = np.linalg.solve(lattice.T, positions.T).T
    occupancies = block.column("_atom_site_occupancy")
    if occupancies is not None and len(occupancies) == len(species):
        values = cif_numbers(occupancies)
        for row in np.nonzero(~(np.abs(values - 1.0) <= _OCCUPANCY_TOLERANCE))[0]:
            text = occupancies[row]
            where = f"{block.where('_atom_site_occupancy')}: atom site {row + 1} ({species[row][1]!r})"
            occupancy = cif_number(text, where, "_atom_site_occupancy")
            if occupancy is not None and abs(occupancy - 1.0) > _OCCUPANCY_TOLERANCE:
                raise CrystalFourierError(
                    f"{where} has occupancy {text}; partially occupied (disordered) sites are not supported: "
                    "order the structure first")
    return positions, species


# --------------------------------------------------------------------------- formula
def _formula(block: CifBlock) -> tuple[dict[int, float] | None, bool]:
    """(atom counts of ``_chemical_formula_sum``, whether the text is ambiguous); (None, False) without one.

    Each whitespace-separated term is one element and its count ('Na12 SI2 O8'), its element read by
    the one rule of :func:`element_number` ('SI2' is Si, as the label 'SI2' is); a term that packs
    several symbols ('NaCl') is split at capitals. A term in non-standard case whose two letters are
    also two one-letter elements ('SI': Si, or S and I) makes the formula ambiguous. Brackets,
    charges and moieties ('(H2 O)2') are not a plain sum: nothing to check against (None).
    """
    tag, text = block.value(("_chemical_formula_sum", "_chemical_formula.sum"))
    if text is None:
        return None, False
    counts: dict[int, float] = {}
    ambiguous = False
    for term in text.split():
        whole = re.fullmatch(r"([A-Za-z]{1,2})([0-9]*\.?[0-9]*)", term)
        packed = re.findall(r"([A-Z][a-z]?)([0-9]*\.?[0-9]*)", term)
        if whole is not None and (len(packed) <= 1 or not term[:1].isupper() or not term[1:2].islower()):
            letters = whole.group(1)
            pieces = [(letters, whole.group(2))]
            ambiguous |= len(letters) == 2 and letters != letters.capitalize() and \
                all(symbol.upper() in _ONE_LETTER_ELEMENTS for symbol in letters)
        elif packed and "".join(a + b for a, b in packed) == term:
            pieces = packed
        else:
            return None, False  # brackets, charges, moieties: not a plain sum
        for symbol, amount in pieces:
            try:
                number = element_number(symbol)
            except CrystalFourierError:
                return None, False
            if len(ELEMENTS[number]) != len(symbol):  # 'Xq' read as X: the term is no element symbol
                return None, False
            counts[number] = counts.get(number, 0.0) + (float(amount) if amount else 1.0)
    return (counts or None), ambiguous


def _formula_units(block: CifBlock) -> float | None:
    tag, text = block.value(("_cell_formula_units_z", "_cell.formula_units_z"))
    return None if text is None else cif_number(text, block.where(tag), tag)


def _formula_matches(numbers: np.ndarray, formula: dict[int, float], units: float | None) -> bool:
    """Whether the cell holds the formula once, Z times, or (Z unknown) a whole number of times."""
    present, counts = np.unique(numbers, return_counts=True)
    cell = dict(zip(present.tolist(), counts.astype(float).tolist(), strict=True))
    if set(cell) != set(formula):
        return False

    def times(k: float) -> bool:
        return all(abs(cell[z] - k * formula[z]) <= _FORMULA_TOLERANCE * max(1.0, k * formula[z]) for z in cell)

    if units is not None:
        return times(1.0) or times(units)
    first = next(iter(cell))
    k = cell[first] / formula[first]
    return abs(k - round(k)) < _FORMULA_TOLERANCE and round(k) >= 1 and times(float(round(k)))


def _formula_text(formula: dict[int, float]) -> str:
    return " ".join(f"{ELEMENTS[z]}{v:g}" for z, v in sorted(formula.items()))


def _composition(numbers: np.ndarray) -> str:
    present, counts = np.unique(numbers, return_counts=True)
    return " ".join(f"{ELEMENTS[z]}{n}" for z, n in zip(present.tolist(), counts.tolist(), strict=True))


# --------------------------------------------------------------------------- one block
def _crystal(block: CifBlock) -> Crystal:
    lattice = _cell(block)
    positions, species = _sites(block, lattice)
    (formula, ambiguous_formula), units = _formula(block), _formula_units(block)
    operations = magnetic_operations(block)
    source = "the file's magnetic operations (spatial parts)"
    if operations is None:
        operations, source = file_operations(block), "the file's operations"
    if operations is None:
        operations = hall_operations(block)
    if operations is not None:
        settings = [(source, operations)]
        named = ""
    else:
        candidates, named = symbol_settings(block, lattice)
        settings = candidates or [("P1 (the block names no symmetry)", setting_operations(1))]
    if len(settings) == 1:
        expanded, numbers, _ = _expand(lattice, positions, species, settings[0][1], block.where())
        if formula is not None and not _formula_matches(numbers, formula, units):
            message = (
                f"{block.where('_chemical_formula_sum')}: the atom sites expanded by {settings[0][0]} give "
                f"{_composition(numbers)}, which is not _chemical_formula_sum '{_formula_text(formula)}'"
                + (f" times Z = {units:g}" if units is not None else " a whole number of times"))
            if not ambiguous_formula:
                raise CrystalFourierError(message + "; the file's symmetry, sites or formula are inconsistent")
            warnings.warn(message + " as read by the one element rule; the formula's case is ambiguous (two "
                          "one-letter elements or one two-letter element), so the atom sites are kept",
                          stacklevel=3)
        return Crystal(lattice, expanded, numbers)
    return _decide_origin(block, lattice, positions, species, settings, named,
                          None if ambiguous_formula else formula, units)


def _decide_origin(block, lattice, positions, species, settings, named, formula, units) -> Crystal:
    """Pick the one origin choice that the file's formula, multiplicities and atom distances allow."""
    multiplicity_column = block.column("_atom_site_symmetry_multiplicity")
    declared = None
    if multiplicity_column is not None and len(multiplicity_column) == len(species):
        values = [cif_number(v, block.where("_atom_site_symmetry_multiplicity"), "_atom_site_symmetry_multiplicity")
                  for v in multiplicity_column]
        declared = None if any(v is None for v in values) else [int(round(v)) for v in values]
    outcomes = []
    for name, operations in settings:
        try:
            expanded, numbers, multiplicities = _expand(lattice, positions, species, operations, block.where())
        except CrystalFourierError as error:
            outcomes.append((name, None, None, str(error).split(": ", 2)[-1], {}))
            continue
        facts = {
            "formula": None if formula is None else _formula_matches(numbers, formula, units),
            "multiplicity": None if declared is None else multiplicities == declared,
            "overlap": _overlap(lattice, expanded),
        }
        outcomes.append((name, expanded, numbers, None, facts))
    viable = [o for o in outcomes if o[1] is not None and not o[4]["overlap"]]
    for evidence in ("formula", "multiplicity"):
        matching = [o for o in viable if o[4][evidence]]
        if any(o[4][evidence] is not None for o in viable) and len(matching) == 1:
            return Crystal(lattice, matching[0][1], matching[0][2])
        if formula is not None and evidence == "formula" and not matching:
            break
    if len(viable) == 1 and formula is None and declared is None:
        return Crystal(lattice, viable[0][1], viable[0][2])
    described = []
    for name, expanded, numbers, failure, facts in outcomes:
        if expanded is None:
            described.append(f"{name} fails ({failure})")
            continue
        notes = [f"gives {len(numbers)} atoms ({_composition(numbers)})"]
        if facts["overlap"]:
            notes.append(f"with atoms closer than {OVERLAP_DISTANCE} A")
        if facts["formula"] is False:
            notes.append("not matching _chemical_formula_sum" + (" and Z" if units is not None else ""))
        if facts["multiplicity"] is False:
            notes.append("not matching _atom_site_symmetry_multiplicity")
        described.append(f"{name} {', '.join(notes)}")
    raise CrystalFourierError(
        f"{block.where()}: {named} names a group with two origin choices, and the file does not say which: "
        + "; ".join(described) + ". Add ':1' or ':2' to the symbol (e.g. 'F d -3 m:1'), a _space_group_name_Hall, "
        "the symmetry operations, or _chemical_formula_sum with _cell_formula_units_Z")


# --------------------------------------------------------------------------- public
def parse_cif_blocks(text: str, *, source: str = "<string>") -> dict[str, Crystal]:
    """Every structure of CIF ``text``: {block name: Crystal} for each block with atom sites, in file order.

    Raises
    ------
    CrystalFourierError
        As :func:`parse_cif`, for the first block that fails; or when no block has atom sites.
    """
    blocks = data_blocks(text, source)
    structures = {block.name: _crystal(block) for block in blocks if block.has_sites()}
    if not structures:
        raise CrystalFourierError(f"{source}: none of the {len(blocks)} data block(s) has atom sites")
    return structures


def parse_cif(text: str, *, block: "str | int | None" = None, source: str = "<string>") -> Crystal:
    """The crystal of one data block of CIF ``text``.

    Parameters
    ----------
    text : str
        CIF 1.1 text.
    block : str or int, optional
        Which data block: its name (without ``data_``) or its index among all blocks. By
        default the one block that has atom sites (blocks of publication data are
        skipped); several structure blocks without ``block`` are an error.
    source : str
        Name used in error messages.

    Returns
    -------
    Crystal
        Positions wrapped into [0, 1), one atom per symmetry image.

    Raises
    ------
    CrystalFourierError
        Malformed CIF, missing cell or sites, several structure blocks, an unknown block,
        unreadable numbers or operations, an undecidable origin choice, a formula the
        atoms do not give, partial occupancy or two species on one site.

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
    ... NA1 0 0 0
    ... CL1 0.5 0.5 0.5
    ... '''
    >>> crystal = parse_cif(text)
    >>> crystal.n_atoms, crystal.formula
    (8, 'Cl4Na4')
    """
    blocks = data_blocks(text, source)
    if not blocks:
        raise CrystalFourierError(f"{source}: no 'data_' block found; is this a CIF file?")
    if block is None:
        candidates = [b for b in blocks if b.has_sites()]
        if not candidates:
            raise CrystalFourierError(f"{source}: none of the {len(blocks)} data block(s) "
                                      f"({', '.join(b.name for b in blocks)}) has atom sites")
        if len(candidates) > 1:
            raise CrystalFourierError(
                f"{source}: {len(candidates)} data blocks hold structures "
                f"({', '.join(repr(b.name) for b in candidates)}); give one file per structure, choose one with "
                "block=NAME, or read them all with parse_cif_blocks")
        chosen = candidates[0]
    elif isinstance(block, int) and not isinstance(block, bool):
        if not -len(blocks) <= block < len(blocks):
            raise CrystalFourierError(f"{source}: block index {block} is out of range; "
                                      f"the file has {len(blocks)} block(s)")
        chosen = blocks[block]
    else:
        matches = [b for b in blocks if b.name.lower() == str(block).lower()]
        if not matches:
            raise CrystalFourierError(f"{source}: no data block named {block!r}; the blocks are "
                                      f"{', '.join(repr(b.name) for b in blocks)}")
        chosen = matches[0]
    return _crystal(chosen)


def cif_text(data: bytes) -> str:
    """CIF bytes as text: UTF-8 (a byte-order mark skipped), else ISO-8859-1 (old CIFs' author names)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")
