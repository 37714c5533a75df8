"""Data-set records to model inputs: each structure standardized once, in the records' order.

:func:`prepare_samples` takes records of ``runtime.data`` (or ``(crystal, targets, id)`` tuples),
standardizes each crystal (in worker processes when asked) and returns :class:`Sample` objects with
the chosen target's label (:class:`~crystal_fourier.runtime.learning._target.Target`: a float, or the
elastic tensor in the standardized frame); records without a value of the target are skipped with a warning.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings
from typing import TYPE_CHECKING

from crystal_fourier._progress import progress_bar
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.learning._targets import target_for
from crystal_fourier.runtime.network._batching import Sample, sample_from_standardized
from crystal_fourier.runtime.symmetry._standardization import DEFAULT_SYMPREC

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from crystal_fourier.runtime.data._datasets import Record
    from crystal_fourier.runtime.learning._target import Target
    from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["prepare_samples", "iter_samples"]


def prepare_samples(records: Iterable[Record | tuple[Crystal, Mapping[str, float] | None, str]],
                    target: str | Target | None,
                    symprec: float = DEFAULT_SYMPREC, progress: bool = False, workers: int = 1,
                    handedness: str = "canonical") -> list[Sample]:
    """Standardize dataset records into :class:`Sample` objects, in the records' order.

    Records whose ``target`` is missing (NaN) are skipped with a warning, so a
    labelled data set with holes still trains.

    Parameters
    ----------
    records : iterable
        Records of :mod:`crystal_fourier.runtime.data._datasets` (with ``crystal``,
        ``targets`` and ``id``), or ``(crystal, targets, id)`` tuples.
    target : str, Target or None
        The target whose label to take (a name means ``target_for(name)``: a column, or
        ``"elastic_tensor"`` for the 21 elastic columns); None for unlabelled samples (none skipped).
    symprec : float
        spglib tolerance for the group detection, Angstrom.
    workers : int
        Processes for the standardization (spglib plus the canonical choice,
        tens of milliseconds per crystal); 1 runs in this process.
    handedness : {"canonical", "keep"}
        Passed to :func:`~crystal_fourier.runtime.symmetry._standardization.standardize`: one
        sample for a crystal and its mirror image, or the input's own hand.

    Raises
    ------
    CrystalFourierError
        Unknown target column, or a structure that cannot be standardized (naming its id).
    """
    return list(iter_samples(records, target, symprec, progress, workers, handedness))


def iter_samples(records: Iterable[Record | tuple[Crystal, Mapping[str, float] | None, str]],  # noqa: PLR0913
                 target: str | Target | None, symprec: float = DEFAULT_SYMPREC, progress: bool = False,
                 workers: int = 1, handedness: str = "canonical",
                 neighbours: "tuple[float, int] | None" = None) -> Iterator[Sample]:
    """The samples of :func:`prepare_samples`, one at a time, as they are standardized (a stream).

    ``dataset prepare`` writes each to the sample store as it comes
    (:func:`~crystal_fourier.runtime.learning._sample_store.write_sample_store`), so memory holds a
    few chunks of samples, never the data set's.

    Parameters
    ----------
    records : iterable
        As :func:`prepare_samples` takes them (scanned once for missing labels before the first is standardized).
    target : str, Target or None
        As :func:`prepare_samples`.
    symprec : float
        spglib tolerance for the group detection, Angstrom.
    progress : bool, default False
        A progress bar on stderr.
    workers : int
        Processes (the engine's local workers, :func:`crystal_fourier._engine.map_in_order`: at most two
        chunks each in flight); 1 runs in this process.
    handedness : {"canonical", "keep"}
        As :func:`prepare_samples`.
    neighbours : tuple of (float, int), optional
        (cutoff, n_rbf): each sample also gets its neighbourhoods
        (:func:`~crystal_fourier.runtime.network._neighbourhood.with_neighbours`), in the same worker.

    Yields
    ------
    Sample
        In the records' order, records without a value of the target left out (one warning says how many).
    """
    from crystal_fourier._engine import chunked, map_in_order

    if isinstance(target, str):
        target = target_for(target)
    jobs = []
    skipped = 0
    for record in records:
        crystal, targets, ident = _unpack_record(record)
        raw = None
        if target is not None:
            raw = target.raw_label(targets, ident)
            if raw is None:
                skipped += 1
                continue
        jobs.append((crystal, target, raw, ident, symprec, handedness, neighbours))
    if skipped:
        warnings.warn(f"skipped {skipped} structures without a value of {target.name!r}", stacklevel=3)
    if workers > 1 and len(jobs) > 4 * workers:
        size = max(1, min(_CHUNK_SAMPLES, len(jobs) // (16 * workers)))
        done = itertools.chain.from_iterable(map_in_order(_standardized_samples, chunked(jobs, size),
                                                          workers=workers))
    else:
        done = map(_standardized_sample, jobs)
    yield from progress_bar(done, "standardize", progress, total=len(jobs))


_CHUNK_SAMPLES = 64
"""Most samples one worker job standardizes (the engine keeps two jobs per worker in flight)."""


def _standardized_samples(jobs: list) -> list[Sample]:
    return [_standardized_sample(job) for job in jobs]


def _standardized_sample(job) -> Sample:
    from crystal_fourier.runtime.symmetry._standardization import standardize

    crystal, target, raw, ident, symprec, handedness, neighbours = job
    try:
        standardized = standardize(crystal, symprec=symprec, handedness=handedness)
    except CrystalFourierError as error:
        raise CrystalFourierError(f"structure {ident!r}: {error}") from None
    sample = sample_from_standardized(standardized, id=ident)
    if target is not None:
        sample = dataclasses.replace(sample, target=target.standardized_label(raw, crystal, standardized))
    if neighbours is not None:
        from crystal_fourier.runtime.network._neighbourhood import with_neighbours

        sample = with_neighbours([sample], *neighbours)[0]
    return sample


def _unpack_record(record):
    if hasattr(record, "crystal"):
        return record.crystal, dict(getattr(record, "targets", {}) or {}), str(getattr(record, "id", ""))
    crystal, targets, ident = record
    return crystal, dict(targets or {}), str(ident)
