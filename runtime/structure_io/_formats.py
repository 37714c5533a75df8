"""The registry of structure-file formats: one reader per format, chosen by name or content (:func:`read_structure`).

ASE's ``ase/io/formats.py`` is the pattern: this module holds the table and the guess; each reader
(:mod:`~crystal_fourier.runtime.structure_io._cif`, ``_poscar``, ``_extxyz``, ``_pymatgen_dicts``) imports
only the structure type (:mod:`~crystal_fourier.runtime.structure_io._structures`), never this module or
another reader, so no import cycle can form. A reader is imported when its format is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["STRUCTURE_FORMATS", "read_structure"]

STRUCTURE_FORMATS = ("cif", "poscar", "extxyz", "json")
"""The formats :func:`read_structure` reads (``xyz`` is read as ``extxyz``)."""


def read_structure(path: "str | os.PathLike", *, format: str | None = None,
                   species: Iterable[str] | None = None) -> Crystal:
    """Read one crystal from a file, choosing the reader by extension or content.

    Formats: CIF (``.cif``, or text with a ``data_`` block; one structure block),
    POSCAR/CONTCAR (``POSCAR*``, ``CONTCAR*``, ``.vasp``, ``.poscar``), extended XYZ
    (``.extxyz``, ``.xyz``; one frame) and pymatgen ``Structure`` JSON (``.json``). A file
    with several structures is refused, never read as its first.

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
        Missing file, unknown format, or a reader's error (which names the file and the problem).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "POSCAR").write_text("Cu\\n3.6\\n1 0 0\\n0 1 0\\n0 0 1\\nCu\\n1\\nDirect\\n0 0 0\\n")
    >>> read_structure(folder / "POSCAR").formula
    'Cu'
    """
    path = Path(path)
    if not path.is_file():
        raise CrystalFourierError(f"structure file {str(path)!r} does not exist")
    fmt = (format or _guess_format(path)).lower()
    if fmt == "cif":
        from crystal_fourier.runtime.structure_io._cif import read_cif

        return read_cif(path)
    if fmt == "poscar":
        from crystal_fourier.runtime.structure_io._poscar import read_poscar

        return read_poscar(path, species=species)
    if fmt in ("extxyz", "xyz"):
        from crystal_fourier.runtime.structure_io._extxyz import read_extxyz

        return read_extxyz(path)
    if fmt == "json":
        from crystal_fourier.runtime.structure_io._pymatgen_dicts import structure_from_dict

        import json

        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as error:
            raise CrystalFourierError(f"{path}: not valid JSON ({error})") from None
        return structure_from_dict(data, where=str(path))
    raise CrystalFourierError(f"unknown structure format {format!r}: expected one of cif, poscar, extxyz, json")


def _format_from_name(path: Path) -> str | None:
    """The format a file's name says (extension, or a POSCAR/CONTCAR name); None when it says none."""
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


def _guess_format(path: Path) -> str:
    by_name = _format_from_name(path)
    if by_name is not None:
        return by_name
    try:
        head = path.read_text(errors="replace")[:4096]
    except OSError as error:
        raise CrystalFourierError(f"cannot read {path}: {error}") from None
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
