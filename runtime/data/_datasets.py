"""Loaders for the data formats materials-ML users have, all returning :class:`Record` lists.

* CDVAE CSV (MP-20, perov-5, carbon-24, and what ``crystal-fourier dataset make``
  writes): columns ``material_id``, ``cif`` and numeric property columns;
* extended XYZ, read by the parser of :mod:`crystal_fourier.runtime.structure_io._extxyz` (no ASE
  needed): ``Lattice=``, ``Properties=species:S:1:pos:R:3...`` and numeric ``key=value`` pairs as targets;
* matbench / pymatgen JSON: ``{"columns", "data"}`` tables of pymatgen ``Structure``
  dicts, lists of ``{"structure": ..., target: ...}``, or one structure dict.

A file's own space-group column is never used as truth (it is not even returned
as a target): the group is detected from the structure when it is standardized
(:mod:`crystal_fourier.runtime.symmetry._standardization`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping
from typing import TYPE_CHECKING

from crystal_fourier._atomic import atomic_write_text
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._extxyz import extxyz_crystal, extxyz_frames
from crystal_fourier.runtime.structure_io._pymatgen_dicts import structure_from_dict
from crystal_fourier.runtime.structure_io._structures import Crystal
from crystal_fourier.runtime.structure_io._text_files import file_reader, open_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = [
    "GROUP_COLUMNS",
    "Record",
    "load_dataset",
    "load_cdvae_csv",
    "load_extxyz",
    "load_matbench_json",
    "write_cdvae_csv",
    "write_extxyz",
]

GROUP_COLUMNS = frozenset({"spacegroup", "spacegroup.number", "space_group", "spacegroup_number",
                           "space_group_number", "sg", "spg", "symmetry"})
"""Columns that hold a space group: never targets, never trusted."""

_NOT_TARGETS = frozenset({"", "material_id", "cif", "id", "index", "unnamed: 0", "formula", "pretty_formula",
                          "elements", "structure", "name"}) | GROUP_COLUMNS


@dataclass(frozen=True, eq=False)
class Record:
    """One structure of a data set and its target values.

    Attributes
    ----------
    id : str
        The data set's identifier (``material_id``; for extxyz an ``id`` key or ``stem:frame``).
    crystal : Crystal
    targets : Mapping[str, float]
        Read-only map from property name to value (NaN where the file has none).
    """

    id: str
    crystal: Crystal
    targets: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", MappingProxyType(dict(self.targets)))

    def __repr__(self) -> str:
        return f"Record({self.id!r}, {self.crystal!r}, targets={dict(self.targets)})"


def _float(value) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if text == "" or text.lower() in ("nan", "none", "null", "?"):
        return math.nan
    return float(text)


def _is_number(value) -> bool:
    try:
        _float(value)
    except (TypeError, ValueError):
        return False
    return True


def _select_targets(available: dict[str, list], requested, where: str) -> list[str]:
    if requested is not None:
        requested = [requested] if isinstance(requested, str) else list(requested)
        missing = [name for name in requested if name not in available]
        if missing:
            raise CrystalFourierError(f"{where}: no column {missing[0]!r}; the numeric columns are "
                                      f"{', '.join(sorted(n for n in available if n.lower() not in _NOT_TARGETS))}")
        return requested
    return [name for name, values in available.items()
            if name.lower() not in _NOT_TARGETS and all(_is_number(v) for v in values)]


# --------------------------------------------------------------------------- CDVAE CSV
@file_reader("CDVAE CSV")
def load_cdvae_csv(path: "str | os.PathLike", *, targets: str | Iterable[str] | None = None,
                   limit: int | None = None) -> list[Record]:
    """Read a CDVAE-format CSV: ``material_id``, ``cif`` and property columns.

    Parameters and Returns as :func:`load_dataset`; the default ``targets`` are every numeric column
    except ids and space-group columns.

    Raises
    ------
    CrystalFourierError
        Missing file or columns, a bad CIF (the message names the material_id), or
        a non-numeric value in a requested target column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from crystal_fourier.runtime.structure_io._cif_writer import write_cif
    >>> cu = Crystal.from_arrays(3.6 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [29] * 4)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.csv"
    >>> write_cdvae_csv(path, [{"material_id": "cu-1", "cif": write_cif(cu), "spacegroup": 225, "energy": -0.1}])
    >>> [(r.id, r.crystal.formula, dict(r.targets)) for r in load_cdvae_csv(path)]
    [('cu-1', 'Cu4', {'energy': -0.1})]
    """
    from crystal_fourier.runtime.structure_io._cif import parse_cif

    path = Path(path)
    if not path.is_file():
        raise CrystalFourierError(f"data file {str(path)!r} does not exist")
    csv.field_size_limit(2**31 - 1)
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        for required in ("material_id", "cif"):
            if required not in columns:
                raise CrystalFourierError(f"{path}: no {required!r} column; a CDVAE CSV has material_id, cif and "
                                          f"property columns (found {', '.join(columns) or 'nothing'})")
        rows = []
        for row in reader:
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
    names = _select_targets({c: [r[c] for r in rows] for c in columns}, targets, str(path))
    records = []
    for number, row in enumerate(rows, start=2):
        crystal = parse_cif(row["cif"], source=f"{path} (material_id {row['material_id']}, CSV row {number})")
        try:
            values = {name: _float(row[name]) for name in names}
        except ValueError:
            bad = next(n for n in names if not _is_number(row[n]))
            raise CrystalFourierError(f"{path}, material_id {row['material_id']}: {bad} = {row[bad]!r} "
                                      "is not a number") from None
        records.append(Record(str(row["material_id"]), crystal, values))
    return records


def write_cdvae_csv(path: "str | os.PathLike", rows: Iterable[Mapping[str, object]], *,
                    columns: Sequence[str] | None = None) -> None:
    """Write rows (dicts) as a CDVAE CSV, atomically (temporary file + ``os.replace``).

    ``columns`` fixes the order (default: material_id, cif, then the other keys of
    the first row in their order).

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file to write.
    rows : iterable of mapping
        One dict per crystal; keys not in ``columns`` are left out.
    columns : sequence of str, optional
        The column order.

    Returns
    -------
    None
    """
    rows = list(rows)
    if columns is None:
        first = list(rows[0]) if rows else ["material_id", "cif"]
        columns = ["material_id", "cif"] + [c for c in first if c not in ("material_id", "cif")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _csv_value(value) for key, value in row.items()})
    atomic_write_text(path, buffer.getvalue())


def _csv_value(value):
    if isinstance(value, float):
        return repr(value)
    return value


# --------------------------------------------------------------------------- extxyz
@file_reader("extxyz")
def load_extxyz(path: "str | os.PathLike", *, targets: Iterable[str] | None = None,
                limit: int | None = None) -> list[Record]:
    """Read the frames of an extended XYZ file (own parser; ASE is not needed).

    Each frame: a count line; a comment line with ``Lattice="ax ay az bx by bz cx cy cz"``,
    ``Properties=species:S:1:pos:R:3[:...]`` (or ``Z:I:1`` instead of species) and
    other ``key=value`` pairs, whose numeric scalars are the targets (all by default); then one line
    per atom. Parameters and Returns as :func:`load_dataset` (``limit`` counts frames).

    Raises
    ------
    CrystalFourierError
        A frame without a lattice or positions, a non-periodic frame, a short frame,
        or an unreadable number (the message names the line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "two.extxyz"
    >>> _ = path.write_text('''1
    ... Lattice="3 0 0 0 3 0 0 0 3" Properties=species:S:1:pos:R:3 energy=-1.5 pbc="T T T"
    ... Cu 0 0 0
    ... 2
    ... Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 energy=-2.5
    ... Na 0 0 0
    ... Cl 2 2 2
    ... ''')
    >>> [(r.id, r.crystal.formula, dict(r.targets)) for r in load_extxyz(path)]
    [('two:0', 'Cu', {'energy': -1.5}), ('two:1', 'ClNa', {'energy': -2.5})]
    """
    path = Path(path)
    if not path.is_file():
        raise CrystalFourierError(f"data file {str(path)!r} does not exist")
    frames = extxyz_frames(path, limit)
    available: dict[str, list] = {}
    for _, _, pairs, _ in frames:
        for key, value in pairs.items():
            if key not in ("Lattice", "Properties", "pbc") and " " not in value.strip():
                available.setdefault(key, []).append(value)
    available = {k: v for k, v in available.items() if len(v) == len(frames)}
    names = _select_targets(available, targets, str(path))
    records = []
    for number, (start, _count, pairs, atom_lines) in enumerate(frames):
        crystal = extxyz_crystal(pairs, atom_lines, f"{path}, frame {number} (line {start + 1})")
        try:
            values = {name: _float(pairs.get(name)) for name in names}
        except ValueError:
            raise CrystalFourierError(f"{path}, frame {number}: a target value is not a number") from None
        identifier = pairs.get("material_id") or pairs.get("id") or f"{path.stem.split('.')[0]}:{number}"
        records.append(Record(str(identifier), crystal, values))
    return records


def write_extxyz(path: "str | os.PathLike", records: Iterable[Record]) -> None:
    """Write records as extended XYZ (Cartesian positions, targets as key=value), atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    records : iterable of Record
        The crystals (Angstrom) with their targets.

    Returns
    -------
    None
    """
    lines = []
    for record in records:
        crystal = record.crystal
        lattice = " ".join(f"{v:.12g}" for v in crystal.lattice.reshape(-1))
        extra = " ".join(f"{key}={value!r}" for key, value in record.targets.items())
        lines += [str(crystal.n_atoms),
                  f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 id={record.id} {extra} pbc="T T T"'.rstrip()]
        for symbol, position in zip(crystal.symbols, crystal.cartesian_positions, strict=True):
            lines.append(f"{symbol} " + " ".join(f"{v:.12f}" for v in position))
    atomic_write_text(path, "\n".join(lines) + "\n")


# --------------------------------------------------------------------------- pymatgen / matbench JSON
def _matbench_items(data, path: Path) -> list[dict]:
    """One dict per entry of a parsed matbench table, list of objects or single Structure dict.

    Each dict holds a ``structure`` and a ``material_id`` and the entry's other values.
    """
    if isinstance(data, dict) and "columns" in data and "data" in data:
        columns = list(data["columns"])
        if "structure" not in columns:
            raise CrystalFourierError(f"{path}: the table has no 'structure' column (columns: {columns})")
        index = data.get("index") or list(range(len(data["data"])))
        # Row names, rows and each row's cells against the columns: one table, equal lengths.
        return [dict(zip(columns, row, strict=True), material_id=str(name))
                for name, row in zip(index, data["data"], strict=True)]
    if isinstance(data, list):
        items = [dict(item) for item in data]
        for number, item in enumerate(items):
            if "structure" not in item:
                raise CrystalFourierError(f"{path}: entry {number} has no 'structure' key")
            item.setdefault("material_id", item.get("id", str(number)))
        return items
    if isinstance(data, dict) and "sites" in data:
        return [{"structure": data, "material_id": path.stem}]
    raise CrystalFourierError(f"{path}: expected a matbench table (columns/data), a list of "
                              "{'structure': ...} objects, or a pymatgen Structure dict")


@file_reader("matbench JSON")
def load_matbench_json(path: "str | os.PathLike", *, targets: Iterable[str] | None = None,
                       limit: int | None = None) -> list[Record]:
    """Read matbench / pymatgen JSON (``.json`` or ``.json.gz``).

    Accepts a matbench table ``{"index": [...], "columns": ["structure", "e_form"], "data": [[{...}, -0.5], ...]}``,
    a list of objects ``{"structure": {...}, "material_id": ..., <target>: value}``, or one
    Structure dict. Parameters and Returns as :func:`load_dataset`.

    Raises
    ------
    CrystalFourierError
        Unreadable JSON, no structure column, or a malformed structure dict.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> site = {"species": [{"element": "Al", "occu": 1}], "abc": [0, 0, 0]}
    >>> table = {"index": ["mb-1"], "columns": ["structure", "e_form"],
    ...          "data": [[{"lattice": {"matrix": [[4, 0, 0], [0, 4, 0], [0, 0, 4]]}, "sites": [site]}, -0.25]]}
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "mb.json"
    >>> _ = path.write_text(json.dumps(table))
    >>> [(r.id, r.crystal.formula, dict(r.targets)) for r in load_matbench_json(path)]
    [('mb-1', 'Al', {'e_form': -0.25})]
    """
    path = Path(path)
    if not path.is_file():
        raise CrystalFourierError(f"data file {str(path)!r} does not exist")
    try:
        with open_text(path) as handle:
            data = json.load(handle)
    except (ValueError, UnicodeDecodeError, OSError) as error:
        raise CrystalFourierError(f"{path}: not valid JSON ({error})") from None
    items = _matbench_items(data, path)
    if limit is not None:
        items = items[:limit]
    available = {}
    for item in items:
        for key, value in item.items():
            if key not in ("structure",) and not isinstance(value, (dict, list)):
                available.setdefault(key, []).append(value)
    available = {k: v for k, v in available.items() if len(v) == len(items)}
    names = _select_targets(available, targets, str(path))
    records = []
    for number, item in enumerate(items):
        crystal = structure_from_dict(item["structure"], where=f"{path}, entry {number}")
        records.append(Record(str(item["material_id"]), crystal, {name: _float(item[name]) for name in names}))
    return records


def load_dataset(path: "str | os.PathLike", *, targets: str | Iterable[str] | None = None,
                 limit: int | None = None) -> list[Record]:
    """Read a data set, choosing the loader by extension (.csv, .extxyz/.xyz, .json/.json.gz).

    Parameters
    ----------
    path : str or os.PathLike
        A CDVAE-style CSV (``material_id``, ``cif``, property columns; gzipped too), an extended
        XYZ file (properties in each frame's info line) or a matbench JSON file.
    targets : str or iterable of str, optional
        The property columns to keep (default: every numeric one).
    limit : int, optional
        Read at most this many rows.

    Returns
    -------
    list of Record
        One record per row: the crystal, its targets and its id, for :func:`prepare_samples`.

    Raises
    ------
    CrystalFourierError
        For an unknown extension, or the loader's error.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return load_cdvae_csv(path, targets=targets, limit=limit)
    if name.endswith((".extxyz", ".xyz", ".extxyz.gz", ".xyz.gz")):
        return load_extxyz(path, targets=targets, limit=limit)
    if name.endswith((".json", ".json.gz")):
        return load_matbench_json(path, targets=targets, limit=limit)
    raise CrystalFourierError(f"cannot tell the format of {path}: expected .csv (CDVAE), .extxyz/.xyz or .json(.gz)")
