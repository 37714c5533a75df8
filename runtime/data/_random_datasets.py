"""The labelled random data set (``crystal-fourier dataset make``).

:func:`make_dataset` makes ``size`` random crystals (:mod:`.random_crystals`), labels them
(:func:`~crystal_fourier.runtime.data._labels.emt_labels`) in parallel processes, appends each
finished row to ``OUT.partial`` (so an interrupted run resumes where it stopped, skipping the
material_ids already there) and writes ``OUT`` atomically in the CDVAE CSV format at the end.
Every row is a deterministic function of (seed, index): the same command gives the same file for
any number of workers.

EMT needs ASE (``pip install ase``; the ``data`` extra).
"""

from __future__ import annotations

import csv
import errno
import math
import os
from concurrent.futures import as_completed
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._processes import worker_pool
from crystal_fourier._progress import progress_bar
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.data._elastic import ELASTIC_COLUMNS
from crystal_fourier.runtime.data._emt import EMT_ELEMENTS, emt_calculator
from crystal_fourier.runtime.data._labels import (
    ATTEMPTS,
    LABEL_COLUMNS,
    EMTLabels,
    emt_labels,
    label_columns,
)
from crystal_fourier.runtime.structure_io._structures import Crystal

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["labelled_random_row", "make_dataset", "dataset_estimate", "PARTIAL_STAMP"]


def labelled_random_row(task: tuple) -> dict:
    """One row of the data set: a random crystal of a group, scaled to its EMT equilibrium, and its labels.

    Parameters
    ----------
    task : tuple
        ``(material_id, group, seed, index, species, max_atoms)`` and optionally the target
        (:data:`~crystal_fourier.runtime.data._labels.DATASET_TARGETS`, default ``"eos"``); the crystal is drawn
        from ``numpy.random.default_rng([seed, index, attempt])``, attempt 0 first and
        the next one when a fit fails, so the row does not depend on the worker.

    Returns
    -------
    dict
        The columns of :func:`label_columns` of the target. For ``elastic_tensor`` the CIF holds the
        standardized conventional cell (:func:`~crystal_fourier.runtime.standardize`) and the tensor is
        in its Cartesian frame (clamped ions, :func:`crystal_fourier.runtime.data._elastic.elastic_tensor`).
    """
    from crystal_fourier.runtime.structure_io._cif_writer import write_cif
    from crystal_fourier.runtime.symmetry._random_crystals import random_crystal

    material_id, group, seed, index, species, max_atoms = task[:6]
    target = task[6] if len(task) > 6 else "eos"
    failure = None
    for attempt in range(ATTEMPTS):
        rng = np.random.default_rng([seed, index, attempt])
        made = random_crystal(group, seed=rng, species=species, max_atoms=max_atoms)
        try:
            labels = emt_labels(made.crystal)
        except CrystalFourierError as error:
            failure = error
            continue
        crystal = Crystal(made.crystal.lattice * labels.scale, made.crystal.positions, made.crystal.numbers)
        if target == "elastic_tensor":
            return _elastic_row(material_id, crystal, labels)
        return {"material_id": material_id, "cif": write_cif(crystal, name=material_id),
                "spacegroup": made.number, "energy_per_atom": labels.energy_per_atom,
                "bulk_modulus": labels.bulk_modulus}
    raise CrystalFourierError(f"{material_id}: no labelled crystal of group {group} in {ATTEMPTS} attempts "
                              f"(last error: {failure})")


def _elastic_row(material_id: str, crystal: Crystal, labels: EMTLabels) -> dict:
    """The row of target ``elastic_tensor``: the standardized cell and the tensor in its frame."""
    from crystal_fourier.runtime.data._elastic import elastic_tensor, vrh_moduli
    from crystal_fourier.runtime.structure_io._cif_writer import write_cif
    from crystal_fourier.runtime.symmetry._standardization import standardize

    standardized = standardize(crystal)
    tensor = elastic_tensor(standardized.crystal, standardized.hall_number)  # raises on a symmetry violation
    try:
        moduli = vrh_moduli(tensor.voigt)
    except CrystalFourierError:
        moduli = {"K_VRH": math.nan, "G_VRH": math.nan}
    return {"material_id": material_id, "cif": write_cif(standardized.crystal, name=material_id),
            "spacegroup": standardized.number, "energy_per_atom": labels.energy_per_atom,
            "bulk_modulus": labels.bulk_modulus, **tensor.columns,
            "bulk_modulus_vrh": moduli["K_VRH"], "shear_modulus_vrh": moduli["G_VRH"]}


PARTIAL_STAMP = "# crystal-fourier dataset make "
"""First line of ``OUT.partial``, followed by the options that made it (JSON), so rows never mix runs."""


def _partial_options(seed: int, groups, species, max_atoms: int, target: str = "eos") -> dict:
    """The options a row depends on (the size only adds rows), as stamped into ``OUT.partial``.

    The target is stamped only when it is not ``eos``, so partial files of earlier versions still resume.
    """
    options = {"groups": [int(g) for g in groups], "max_atoms": int(max_atoms), "seed": int(seed),
               "species": [str(s) for s in species]}
    if target != "eos":
        options["target"] = target
    return options


def _stamp_line(options: dict) -> str:
    import json

    return PARTIAL_STAMP + json.dumps(options, sort_keys=True) + "\n"


def _open_partial(path: Path):
    """Open ``OUT.partial`` for reading and appending, never through a link, locked against a second run."""
    import fcntl
    import stat

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        raise CrystalFourierError(f"{path} is {kind}; refusing to write through it (remove it and rerun)")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise CrystalFourierError(f"{path} is a symbolic link; refusing to write through it") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CrystalFourierError(f"{path} is not a regular file; refusing to write through it")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise CrystalFourierError(f"another `dataset make` is writing {path}; wait for it or choose another --out") \
            from None
    return fd


def _row_is_complete(row: list, columns: tuple = LABEL_COLUMNS) -> bool:
    if len(row) != len(columns) or not row[0] or not row[1].rstrip().endswith("1"):
        return False
    try:
        return 1 <= int(row[2]) <= 230 and all(not math.isinf(float(v)) for v in row[3:]) \
            and all(math.isfinite(float(v)) for v in row[3:len(LABEL_COLUMNS) + len(ELASTIC_COLUMNS)])
    except ValueError:
        return False


def _resume_partial(fd: int, path: Path, options: dict, columns: tuple = LABEL_COLUMNS) -> dict[str, dict]:
    """Rows already finished in ``OUT.partial`` (opened as ``fd``), after checking its stamp.

    A torn last row (an interrupted write: no line end, or missing fields) and
    anything after it is cut off the file, so the row is made again.

    Raises
    ------
    CrystalFourierError
        The file was made with other options (the difference is named) or has no stamp.
    """
    import io
    import json

    data = b""
    while chunk := os.read(fd, 1 << 20):
        data += chunk
    text = data.decode("utf-8", errors="replace")
    header = ",".join(columns) + "\n"
    if not text.strip():
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, (_stamp_line(options) + header).encode("utf-8"))
        return {}
    first, _, rest = text.partition("\n")
    try:
        stamped = json.loads(first[len(PARTIAL_STAMP):]) if first.startswith(PARTIAL_STAMP) else None
    except ValueError:
        stamped = None
    if not isinstance(stamped, dict):
        raise CrystalFourierError(f"{path} has no stamp of the options that made it (an older version or another "
                                  "file); delete it to start again")
    differences = [f"{key} {stamped.get(key)!r} there, {value!r} now" for key, value in options.items()
                   if stamped.get(key) != value]
    if differences:
        raise CrystalFourierError(f"{path} was made with other options ({'; '.join(differences)}); rerun with the "
                                  "same options to resume, or delete it to start again")
    if not rest.startswith(header):
        raise CrystalFourierError(f"{path}: the second line is not the header {header.strip()!r}; delete it")
    consumed = [len(first) + 1 + len(header)]  # characters read so far

    def lines():
        for line in io.StringIO(rest[len(header):], newline=""):
            consumed[0] += len(line)
            yield line

    done, good_end = {}, consumed[0]
    reader = csv.reader(lines())
    try:
        for row in reader:
            if not text[:consumed[0]].endswith("\n") or not _row_is_complete(row, columns):
                break
            done[row[0]] = dict(zip(columns, row, strict=True))
            good_end = consumed[0]
    except csv.Error:
        pass
    keep = len(text[:good_end].encode("utf-8"))
    if keep < len(data):  # a torn tail: cut it off and make those rows again
        os.ftruncate(fd, keep)
    os.lseek(fd, 0, os.SEEK_END)
    return done


def dataset_estimate(size: int, max_atoms: int = 32, workers: int = 1) -> tuple[float, int]:
    """(seconds, bytes) :func:`make_dataset` is expected to need, before it starts.

    Measured on one core: about 0.4 s per crystal (EMT scan and fit, 32 atoms at most)
    and 1.6 KB of CSV per row; the rows are held in memory about three times (finished
    rows, the CSV text, its bytes), with 600 bytes of task per crystal.

    Parameters
    ----------
    size : int
        Number of crystals.
    max_atoms : int, default 32
        Most atoms per crystal.
    workers : int, default 1
        Processes sharing the work (divides the time only).

    Returns
    -------
    tuple of (float, int)
        Wall-clock seconds and peak bytes.

    Examples
    --------
    >>> seconds, memory = dataset_estimate(10**9)
    >>> memory > 2**40
    True
    """
    row_bytes = 600 + 80 * max_atoms
    return size * 0.4 / max(1, workers), size * (3 * row_bytes + 600)


def make_dataset(  # noqa: PLR0913 - keyword-only options of one command, each documented
    out: "str | os.PathLike",
    *,
    groups: Iterable[int],
    size: int,
    seed: int = 0,
    workers: int = 1,
    max_atoms: int = 32,
    species: Sequence[str] = EMT_ELEMENTS,
    progress: bool = True,
    target: str = "eos",
) -> Path:
    """Make a labelled data set of random crystals and write it as a CDVAE CSV.

    Crystal ``i`` (0 <= i < size) belongs to group ``groups[i % len(groups)]`` and has
    material_id ``cf{seed}-{i:06d}-sg{group}``; its row is a deterministic function of
    (seed, i), so the file does not depend on ``workers``.

    Parameters
    ----------
    out : str or os.PathLike
        The CSV to write (columns :data:`LABEL_COLUMNS`); ``OUT.partial`` holds the
        finished rows while the run lasts and lets an interrupted run resume.
    groups : sequence of int
        Space-group numbers, used in turn.
    size : int
        Number of crystals.
    seed : int
    workers : int
        Processes (1: in this process).
    max_atoms : int
        Most atoms in a conventional cell.
    species : sequence of str
        EMT elements to draw from.
    progress : bool
        Show a progress bar on stderr.
    target : str
        ``"eos"`` (columns :data:`LABEL_COLUMNS`) or ``"elastic_tensor"`` (:data:`ELASTIC_LABEL_COLUMNS`:
        also the EMT elastic tensor of the standardized cell, clamped ions, checked against the
        crystal's symmetry; about 0.1 s more per crystal).

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    CrystalFourierError
        Bad arguments, or a crystal that could not be made or labelled (the finished
        rows stay in ``OUT.partial`` for the next run).
    """
    out = Path(out)
    columns = label_columns(target)
    if out.is_dir() or not out.name:
        raise CrystalFourierError(f"--out {str(out)!r} is a directory; name the CSV file to write")
    groups = [int(g) for g in groups]
    if size < 1:
        raise CrystalFourierError(f"size must be at least 1, got {size}")
    if not groups:
        raise CrystalFourierError("give at least one space group")
    if workers < 1:
        raise CrystalFourierError(f"workers must be at least 1, got {workers}")
    bad = sorted({str(s) for s in species} - set(EMT_ELEMENTS))
    if bad:
        raise CrystalFourierError(f"EMT has no parameters for {', '.join(bad)}; choose among {', '.join(EMT_ELEMENTS)}")
    emt_calculator()  # fail now, not in a worker, when ASE is missing
    tasks = [(f"cf{seed}-{i:06d}-sg{groups[i % len(groups)]}", groups[i % len(groups)], seed, i,
              tuple(species), max_atoms, target) for i in range(size)]
    partial = out.with_name(out.name + ".partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_partial(partial)
    try:
        finished = _resume_partial(fd, partial, _partial_options(seed, groups, species, max_atoms, target), columns)
        wanted = {t[0] for t in tasks}
        done = {key: row for key, row in finished.items() if key in wanted}
        pending = [t for t in tasks if t[0] not in done]
        _make_rows(fd, pending, done, size, workers, progress, partial, columns)
        from crystal_fourier.runtime.data._datasets import write_cdvae_csv

        write_cdvae_csv(out, [done[t[0]] for t in tasks], columns=columns)
        partial.unlink()
    finally:
        os.close(fd)
    return out


def _make_rows(fd: int, pending, done: dict, size: int, workers: int, progress: bool, partial: Path,
               columns: tuple = LABEL_COLUMNS) -> None:
    """Make the ``pending`` rows, appending each to ``OUT.partial`` (``fd``) as it is finished."""
    errors: list[str] = []
    bar = progress_bar(None, "dataset", progress, total=size, initial=len(done), unit="crystal", leave=True)
    with open(os.dup(fd), "a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")

        def record(row: dict) -> None:
            writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
            handle.flush()
            done[row["material_id"]] = row
            bar.update(1)

        if workers == 1:
            for task in pending:
                try:
                    record(labelled_random_row(task))
                except CrystalFourierError as error:
                    errors.append(str(error))
                    bar.update(1)
        else:
            with worker_pool(workers) as executor:
                futures = [executor.submit(labelled_random_row, task) for task in pending]
                for future in as_completed(futures):
                    try:
                        record(future.result())
                    except CrystalFourierError as error:
                        errors.append(str(error))
                        bar.update(1)
    bar.close()
    if errors:
        raise CrystalFourierError(f"{len(errors)} of {size} crystals failed (first: {errors[0]}); "
                                  f"{len(done)} finished rows are kept in {partial} and a rerun resumes from them")
