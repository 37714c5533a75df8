"""A sample store: standardized samples written once as plain numpy arrays, memory-mapped by every reader.

``crystal-fourier dataset prepare`` reads and standardizes a data set once
(:func:`~crystal_fourier.runtime.learning._samples.prepare_samples`) and writes the
:class:`~crystal_fourier.runtime.network._batching.Sample` objects with
:func:`write_sample_store`; ``train --data STORE`` opens it with :func:`open_sample_store`. Every
rank of a torchrun job maps the same files read-only, so the operating system's page cache holds
one copy per machine and a rank reads only the pages of the samples it touches.

The store is a directory, written atomically as a whole (:func:`crystal_fourier._atomic.atomic_write_directory`):

* ``manifest.json``: format, package version, symprec, handedness, target and label shape, the
  neighbourhood spec (or null), the counts, and for each array its dtype, shape and sha256;
* ``.npy`` files (``np.save``; read with ``allow_pickle=False``, memory-mapped): per-sample
  scalars (``hall_numbers``, ``groups``, ``lattice``, ``log_volume``, ``targets``), the atoms of all
  samples concatenated (``numbers``, ``positions``) with ``atom_offsets``, the ids as UTF-8 bytes
  with ``id_offsets``, and, when stored, the neighbourhood rows (``neighbour_atoms``,
  ``neighbour_species``, ``neighbour_sums``) with ``neighbour_offsets``.

Every array is stored with the dtype the sample holds, so a sample read back is the one written,
bit for bit, and training from a store gives the numbers training from the data file gives.
Opening checks the manifest's size, its format and package version, each file's size against
its header and the manifest's shape (before any byte is mapped), each file's sha256, and the
offsets; a damaged store is one :class:`~crystal_fourier.errors.CrystalFourierError` (exit status 2).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._atomic import atomic_directory, json_text
from crystal_fourier._version import __version__
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._batching import Sample
from crystal_fourier.runtime.network._cell_features import MAX_ATOMIC_NUMBER
from crystal_fourier.runtime.network._neighbourhood import SampleNeighbours

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import ArrayLike

__all__ = ["SampleStore", "write_sample_store", "open_sample_store", "is_sample_store", "STORE_MANIFEST"]

STORE_MANIFEST = "manifest.json"
"""The file that makes a directory a sample store."""
_FORMAT = "crystal-fourier sample store"
_FORMAT_VERSION = 1
_MAX_MANIFEST_BYTES = 1 << 20
"""A manifest is a few kB; a larger file is not one (refused before it is parsed)."""
_CHUNK = 1 << 22
_APPEND_BUFFER = 1 << 18
"""Bytes buffered per array while samples are appended (14 arrays: 3.5 MiB in all, whatever the data set)."""


def is_sample_store(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a directory holding a store manifest.

    Parameters
    ----------
    path : path-like
        A ``--data`` argument.
    """
    return Path(path).is_dir() and (Path(path) / STORE_MANIFEST).is_file()


class _Column:
    """One array of the store, written as it grows: its rows are appended to a raw part file, and the
    ``.npy`` file (the header ``np.save`` writes, then the rows) is made, and hashed, at the end."""

    def __init__(self, folder: Path, name: str, dtype: str, row_shape: tuple = ()):
        self.folder, self.name = folder, name
        self.dtype, self.row_shape = np.dtype(dtype), tuple(row_shape)
        self.rows = 0
        self.part = folder / f".{name}.part"
        self.handle = open(self.part, "wb", buffering=_APPEND_BUFFER)  # noqa: SIM115 - closed by finish

    def append(self, values, rows: int | None = None) -> None:
        """Append ``values`` (converted to the column's dtype; ``rows`` rows of ``row_shape``, default 1)."""
        array = np.ascontiguousarray(np.asarray(values, dtype=self.dtype))
        count = 1 if rows is None else rows
        if array.size != count * math.prod(self.row_shape):
            raise CrystalFourierError(f"{self.name}: {array.shape} values, {count} rows of {self.row_shape} expected")
        self.handle.write(array.tobytes())
        self.rows += count

    def finish(self) -> dict:
        """Write ``NAME.npy`` (the bytes ``np.save`` writes for the whole array) and remove the part; its entry."""
        self.handle.close()
        shape = (self.rows, *self.row_shape)
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(self.dtype),
                                                      "fortran_order": False, "shape": shape})
        digest = hashlib.sha256(header.getvalue())
        target = self.folder / f"{self.name}.npy"
        with open(self.part, "rb") as rows, _created(target) as out:
            out.write(header.getvalue())
            while chunk := rows.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        self.part.unlink()
        return {"dtype": self.dtype.str, "shape": list(shape), "sha256": digest.hexdigest()}


def _created(path: Path):
    """``path`` opened for writing, created with mode 0o644 less the umask (the mode of the store's files)."""
    return open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), "wb")


class _StoreColumns:
    """The store's arrays, filled sample by sample (each in the dtype the sample holds: int64, float64)."""

    def __init__(self, folder: Path, label_shape: tuple, neighbours: "tuple[float, int] | None"):
        self.label_shape, self.neighbours = label_shape, neighbours
        spec = [("atom_offsets", "<i8", ()), ("numbers", "<i8", ()), ("positions", "<f8", (3,)),
                ("hall_numbers", "<i8", ()), ("groups", "<i8", ()), ("lattice", "<f8", (6,)),
                ("log_volume", "<f8", ()), ("targets", "<f8", label_shape), ("id_offsets", "<i8", ()),
                ("id_bytes", "|u1", ())]
        if neighbours is not None:
            spec += [("neighbour_offsets", "<i8", ()), ("neighbour_atoms", "<i8", ()),
                     ("neighbour_species", "<i8", ()), ("neighbour_sums", "<f8", (neighbours[1],))]
        self.columns = {name: _Column(folder, name, dtype, shape) for name, dtype, shape in spec}
        self.count = 0
        self.totals = {"atom_offsets": 0, "id_offsets": 0, "neighbour_offsets": 0}
        for name in self.totals:
            if name in self.columns:
                self.columns[name].append(0)

    def _offset(self, name: str, length: int) -> None:
        self.totals[name] += length
        self.columns[name].append(self.totals[name])

    def append(self, sample: Sample) -> None:
        c = self.columns
        atoms = len(sample)
        ident = sample.id.encode("utf-8")
        c["numbers"].append(sample.numbers, atoms)
        c["positions"].append(sample.positions, atoms)
        self._offset("atom_offsets", atoms)
        c["hall_numbers"].append(sample.hall_number)
        c["groups"].append(sample.number)
        c["lattice"].append(sample.lattice)
        c["log_volume"].append(sample.log_volume_per_atom)
        c["targets"].append(sample.target)
        c["id_bytes"].append(np.frombuffer(ident, dtype=np.uint8), len(ident))
        self._offset("id_offsets", len(ident))
        if self.neighbours is not None:
            rows = sample.neighbours
            if rows is None or not rows.matches(*self.neighbours):
                raise CrystalFourierError(f"every sample must hold its neighbourhoods at {self.neighbours} to store "
                                          f"them; {sample.id!r} does not")
            c["neighbour_atoms"].append(rows.atoms, len(rows.atoms))
            c["neighbour_species"].append(rows.species, len(rows.atoms))
            c["neighbour_sums"].append(rows.sums, len(rows.atoms))
            self._offset("neighbour_offsets", len(rows.atoms))
        self.count += 1

    def finish(self) -> dict:
        """Write every ``.npy`` file; name -> its manifest entry."""
        return {name: column.finish() for name, column in self.columns.items()}

    def close(self) -> None:
        for column in self.columns.values():
            column.handle.close()


def write_sample_store(path: str | os.PathLike[str], samples: Iterable[Sample], *, symprec: float, handedness: str,
                       target: str | None, label_shape: tuple = (),
                       neighbours: "tuple[float, int] | None" = None) -> Path:
    """Write ``samples`` as a sample store at ``path`` as they come, as a whole (all files or none).

    Parameters
    ----------
    path : path-like
        The store directory; replaced atomically if it exists (the caller decides whether it may).
    samples : iterable of Sample
        Standardized, labelled samples (:func:`~crystal_fourier.runtime.learning._samples.prepare_samples`,
        or :func:`~crystal_fourier.runtime.learning._samples.iter_samples` to stream them).
    symprec : float
        spglib tolerance they were standardized with (recorded; ``train`` must use the same).
    handedness : {"canonical", "keep"}
        The standardization's handedness (recorded).
    target : str or None
        Name of the target whose labels the samples hold (recorded); None for unlabelled samples.
    label_shape : tuple of int, default ()
        Shape of one label: () for a scalar, (6, 6) for the elastic tensor.
    neighbours : tuple of (float, int), optional
        (cutoff, n_rbf) of the neighbourhoods the samples hold, stored with them; None stores none.

    Returns
    -------
    pathlib.Path
        The store's path.

    Raises
    ------
    CrystalFourierError
        No samples, or samples without the neighbourhoods asked for.

    Notes
    -----
    Memory is bounded by one sample, not by the store: ``samples`` is consumed one sample at a time and each is
    appended to its arrays' files (in a temporary sibling directory) before the next is taken. When the last
    is written, each array's ``.npy`` file and sha256 are made and the manifest written last; the directory
    then replaces ``path`` in one step (:func:`~crystal_fourier._atomic.atomic_directory`). An error
    raised by ``samples`` (a structure that cannot be standardized) or a kill leaves ``path`` as it was.
    """
    label_shape = tuple(int(n) for n in label_shape)
    path = Path(path)
    with atomic_directory(path) as folder:
        columns = _StoreColumns(folder, label_shape, neighbours)
        try:
            for sample in samples:
                columns.append(sample)
        finally:
            columns.close()
        if not columns.count:
            raise CrystalFourierError("no samples to store")
        manifest = {
            "format": _FORMAT, "format_version": _FORMAT_VERSION, "version": __version__,
            "count": columns.count, "atoms": columns.totals["atom_offsets"],
            "symprec": float(symprec), "handedness": str(handedness),
            "target": None if target is None else str(target),
            "label_shape": list(label_shape),
            "neighbours": None if neighbours is None else {"cutoff": float(neighbours[0]), "n_rbf": int(neighbours[1])},
            "arrays": columns.finish(),
        }
        with _created(folder / STORE_MANIFEST) as handle:  # last: a directory with a manifest is complete
            handle.write(json_text(manifest).encode("utf-8"))
    return path


def _expected_arrays(manifest: dict) -> dict:
    """name -> (dtype, shape) that the manifest's counts imply; refuses counts that are not counts."""
    counts = {}
    for key in ("count", "atoms"):
        value = manifest.get(key)
        if type(value) is not int or value < (1 if key == "count" else 0):
            raise CrystalFourierError(f"manifest {key!r} is not a positive count: {value!r}")
        counts[key] = value
    label_shape = manifest.get("label_shape")
    if not isinstance(label_shape, list) or not all(type(n) is int and 0 < n <= 64 for n in label_shape):
        raise CrystalFourierError(f"manifest 'label_shape' is not a shape: {label_shape!r}")
    n, atoms = counts["count"], counts["atoms"]
    i8, f8 = np.dtype("<i8"), np.dtype("<f8")
    expected = {"atom_offsets": (i8, (n + 1,)), "numbers": (i8, (atoms,)), "positions": (f8, (atoms, 3)),
                "hall_numbers": (i8, (n,)), "groups": (i8, (n,)), "lattice": (f8, (n, 6)), "log_volume": (f8, (n,)),
                "targets": (f8, (n, *label_shape)), "id_offsets": (i8, (n + 1,)), "id_bytes": (np.dtype("|u1"), None)}
    spec = manifest.get("neighbours")
    if spec is not None:
        if (not isinstance(spec, dict) or type(spec.get("n_rbf")) is not int or not 0 < spec["n_rbf"] <= 4096
                or not isinstance(spec.get("cutoff"), float) or not 0 < spec["cutoff"] < math.inf):
            raise CrystalFourierError(f"manifest 'neighbours' is not a neighbourhood spec: {spec!r}")
        expected.update({"neighbour_offsets": (i8, (n + 1,)), "neighbour_atoms": (i8, None),
                         "neighbour_species": (i8, None), "neighbour_sums": (f8, None)})
    return expected


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:  # read(), not a map: hashing leaves nothing in this process's memory
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _map_array(path: Path, dtype: np.dtype, shape: tuple, sha256: str) -> np.ndarray:
    """The array of ``path``, memory-mapped read-only, once its header, size and sha256 match."""
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                      else np.lib.format.read_array_header_2_0)(handle)
            offset = handle.tell()
    except (OSError, ValueError) as error:
        raise CrystalFourierError(f"{path.name}: not a numpy array file ({str(error).splitlines()[0][:120]})") from None
    found_shape, fortran, found_dtype = header
    if found_dtype != dtype or fortran or tuple(found_shape) != tuple(shape):
        raise CrystalFourierError(f"{path.name}: holds {found_dtype} {tuple(found_shape)}, the manifest says "
                                  f"{dtype} {tuple(shape)}")
    size = offset + math.prod(shape) * dtype.itemsize
    if path.stat().st_size != size:
        raise CrystalFourierError(f"{path.name}: {path.stat().st_size} bytes, {size} expected (truncated or damaged)")
    if _sha256(path) != sha256:
        raise CrystalFourierError(f"{path.name}: sha256 differs from the manifest's (damaged)")
    if math.prod(shape) == 0:
        return np.zeros(shape, dtype=dtype)
    return np.load(path, mmap_mode="r", allow_pickle=False).view(np.ndarray)


def _check_offsets(name: str, offsets: np.ndarray, total: int, least: int) -> None:
    steps = np.diff(offsets)
    if offsets[0] != 0 or offsets[-1] != total or (len(steps) and steps.min() < least):
        raise CrystalFourierError(f"{name}: not the offsets of {total} entries")


def _check_contents(arrays: dict, manifest: dict) -> None:
    """The offsets, atomic numbers and neighbour rows agree with each other and with the manifest."""
    _check_offsets("atom_offsets", arrays["atom_offsets"], manifest["atoms"], 1)
    _check_offsets("id_offsets", arrays["id_offsets"], len(arrays["id_bytes"]), 0)
    numbers = arrays["numbers"]
    if len(numbers) and (numbers.min() < 1 or numbers.max() > MAX_ATOMIC_NUMBER):
        raise CrystalFourierError(f"numbers: atomic numbers outside 1-{MAX_ATOMIC_NUMBER}")
    if manifest["neighbours"] is None:
        return
    rows = arrays["neighbour_offsets"]
    _check_offsets("neighbour_offsets", rows, len(arrays["neighbour_atoms"]), 0)
    q, n_rbf = len(arrays["neighbour_atoms"]), manifest["neighbours"]["n_rbf"]
    if arrays["neighbour_species"].shape != (q,) or arrays["neighbour_sums"].shape != (q, n_rbf):
        raise CrystalFourierError("neighbour arrays of different lengths")
    atoms = arrays["neighbour_atoms"]
    if q and (atoms.min() < 0 or (atoms >= np.repeat(np.diff(arrays["atom_offsets"]), np.diff(rows))).any()):
        raise CrystalFourierError("neighbour_atoms: an atom index outside its crystal")


def open_sample_store(path: str | os.PathLike[str]) -> "SampleStore":
    """Open the sample store at ``path``, checked (see the module's notes), memory-mapped.

    Parameters
    ----------
    path : path-like
        A directory written by :func:`write_sample_store` (``crystal-fourier dataset prepare``).

    Returns
    -------
    SampleStore

    Raises
    ------
    CrystalFourierError
        Not a store, a store of another format or package version, or a damaged one (a size, a
        header, a sha256 or the offsets do not match the manifest); the message names the store.
    """
    path = Path(path)
    try:
        return SampleStore._open(path)
    except CrystalFourierError as error:
        raise CrystalFourierError(f"sample store {path}: {error}") from None


class SampleStore(Sequence):
    """The samples of a store (or a subset of them, :meth:`take`), read on demand from memory-mapped arrays.

    ``store[i]`` builds the :class:`~crystal_fourier.runtime.network._batching.Sample` ``i`` whose arrays
    are read-only views of the maps (only its label is copied); ``store[a:b]`` is a list of samples.
    Made by :func:`open_sample_store`.

    Attributes
    ----------
    manifest : dict
        The store's manifest (symprec, handedness, target, neighbours, counts, arrays).
    """

    def __init__(self, arrays: dict, manifest: dict, indices: "np.ndarray | None" = None):
        self._arrays = arrays
        self.manifest = manifest
        self._indices = np.arange(manifest["count"], dtype=np.int64) if indices is None else indices
        spec = manifest["neighbours"]
        self._spec = None if spec is None else (spec["cutoff"], spec["n_rbf"])

    @classmethod
    def _open(cls, path: Path) -> "SampleStore":
        manifest_path = path / STORE_MANIFEST
        if not path.is_dir() or not manifest_path.is_file():
            raise CrystalFourierError(f"not a sample store (no {STORE_MANIFEST})")
        if manifest_path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise CrystalFourierError(f"{STORE_MANIFEST} is over {_MAX_MANIFEST_BYTES} bytes: not a manifest")
        try:
            manifest = json.loads(manifest_path.read_bytes())
        except (ValueError, UnicodeDecodeError) as error:
            raise CrystalFourierError(f"{STORE_MANIFEST} is not JSON ({str(error)[:120]})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise CrystalFourierError(f"{STORE_MANIFEST} is not a sample store's manifest")
        if manifest.get("format_version") != _FORMAT_VERSION or manifest.get("version") != __version__:
            raise CrystalFourierError(
                f"prepared by crystal-fourier {manifest.get('version')!r} (format {manifest.get('format_version')!r}); "
                f"this is {__version__} (format {_FORMAT_VERSION}): run `dataset prepare` again")
        listed = manifest.get("arrays")
        expected = _expected_arrays(manifest)
        if not isinstance(listed, dict) or set(listed) != set(expected):
            raise CrystalFourierError(f"the manifest lists the arrays {sorted(listed or ())}, "
                                      f"expected {sorted(expected)}")
        arrays = {}
        for name, (dtype, shape) in expected.items():
            entry = listed[name]
            if (not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str)
                    or not isinstance(entry.get("shape"), list)
                    or not all(type(n) is int and n >= 0 for n in entry["shape"])):
                raise CrystalFourierError(f"manifest entry of {name!r} is damaged")
            # shape None: a length set by other arrays (offsets), checked by _check_contents
            arrays[name] = _map_array(path / f"{name}.npy", dtype, tuple(entry["shape"]) if shape is None else shape,
                                      entry["sha256"])
        _check_contents(arrays, manifest)
        return cls(arrays, manifest)

    @property
    def neighbour_spec(self) -> "tuple[float, int] | None":
        """(cutoff, n_rbf) of the stored neighbourhoods, or None."""
        return self._spec

    def __len__(self) -> int:
        return len(self._indices)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self._sample(int(i)) for i in self._indices[item]]
        return self._sample(int(self._indices[item]))

    def _sample(self, i: int) -> Sample:
        a = self._arrays
        start, stop = a["atom_offsets"][i], a["atom_offsets"][i + 1]
        label = a["targets"][i]
        neighbours = None
        if self._spec is not None:
            first, last = a["neighbour_offsets"][i], a["neighbour_offsets"][i + 1]
            neighbours = SampleNeighbours(a["neighbour_atoms"][first:last], a["neighbour_species"][first:last],
                                          a["neighbour_sums"][first:last], *self._spec)
        id_start, id_stop = a["id_offsets"][i], a["id_offsets"][i + 1]
        return Sample(numbers=a["numbers"][start:stop], positions=a["positions"][start:stop],
                      hall_number=int(a["hall_numbers"][i]), number=int(a["groups"][i]), lattice=a["lattice"][i],
                      log_volume_per_atom=float(a["log_volume"][i]),
                      target=float(label) if label.ndim == 0 else np.array(label),
                      id=a["id_bytes"][id_start:id_stop].tobytes().decode("utf-8", errors="replace"),
                      neighbours=neighbours)

    def take(self, indices: ArrayLike) -> "SampleStore":
        """The samples at ``indices`` (positions in this store), in that order, as a store that reads the same maps.

        Parameters
        ----------
        indices : array_like of int
            Positions in this store.
        """
        return SampleStore(self._arrays, self.manifest, self._indices[np.asarray(indices, dtype=np.int64)])

    def targets(self) -> np.ndarray:
        """The labels of these samples, shape=(len, *label shape), float64 (a copy)."""
        return np.array(self._arrays["targets"][self._indices])

    def groups(self) -> np.ndarray:
        """The space-group numbers of these samples, shape=(len,), int64 (a copy)."""
        return np.array(self._arrays["groups"][self._indices])

