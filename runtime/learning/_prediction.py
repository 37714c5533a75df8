"""The one path from structures to predictions: read, standardize and predict in bounded chunks.

``crystal-fourier predict`` (files) and :meth:`TrainedModel.predict_crystals` (crystals) both
go through :func:`stream_predictions`. Structures are taken :data:`CHUNK_STRUCTURES` at a time
(fewer when their atoms pass :data:`CHUNK_ATOMS`): each chunk is read, standardized, predicted
and handed out before the next is read, so peak memory depends on the chunk, never on the
number of structures. Within a chunk, :func:`~crystal_fourier.runtime.learning._evaluation.predict_samples`
forms batches whose padded attention (structures x largest cell squared) stays under
:data:`~crystal_fourier.runtime.learning._evaluation.PAIR_BUDGET`.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    import numpy as np

    from crystal_fourier.runtime.learning._model_files import TrainedModel

__all__ = ["CHUNK_STRUCTURES", "CHUNK_ATOMS", "PREDICT_MEMORY_LIMIT", "BYTES_PER_PAIR_PER_HEAD", "Prediction",
           "prediction_atom_limit", "prediction_memory", "stream_predictions"]

CHUNK_STRUCTURES = 256
"""Structures read and standardized before they are predicted and let go."""
CHUNK_ATOMS = 50_000
"""Atoms (standardized cells) at most in one chunk; a larger structure makes a chunk of its own."""

PREDICT_MEMORY_LIMIT = 1 << 30
"""Estimated memory (1 GiB) beyond which one structure is not predicted unless asked (``--allow-large``)."""
BYTES_PER_PAIR_PER_HEAD = 7
"""Memory of prediction per atom pair of the standardized cell and attention head: the attention scores,
their softmax and gradients-free buffers (issue 31 measured 3.4 GB for 8,000 atoms at 8 heads: 6.6)."""


def prediction_memory(trained: TrainedModel, n_atoms: int) -> int:
    """Estimated bytes to predict one structure of ``n_atoms`` atoms (standardized cell) with ``trained``.

    ``BYTES_PER_PAIR_PER_HEAD x heads x atoms**2``: attention over all atom pairs dominates.
    """
    return BYTES_PER_PAIR_PER_HEAD * trained.config.model.n_heads * n_atoms * n_atoms


def prediction_atom_limit(trained: TrainedModel) -> int:
    """Most atoms one structure may have for :func:`prediction_memory` to stay within :data:`PREDICT_MEMORY_LIMIT`.

    4,378 atoms for the default model (8 heads).

    Parameters
    ----------
    trained : TrainedModel
        A loaded model; only its number of attention heads matters.

    Returns
    -------
    int
        The largest n with 7 bytes x heads x n^2 <= 1 GiB.
    """
    per_pair = BYTES_PER_PAIR_PER_HEAD * trained.config.model.n_heads
    limit = int((PREDICT_MEMORY_LIMIT // per_pair) ** 0.5)
    while per_pair * (limit + 1) ** 2 <= PREDICT_MEMORY_LIMIT:  # exact integer square root
        limit += 1
    while per_pair * limit * limit > PREDICT_MEMORY_LIMIT:
        limit -= 1
    return limit


def _check_size(trained: TrainedModel, n_atoms: int, max_atoms: int | None, where: str) -> None:
    if max_atoms is not None and n_atoms > max_atoms:
        memory = prediction_memory(trained, n_atoms) / 2**30
        raise CrystalFourierError(
            f"{n_atoms:,} atoms {where}, more than the {max_atoms:,} one structure may have (estimated memory "
            f"{memory:.2g} GiB, limit {PREDICT_MEMORY_LIMIT / 2**30:g} GiB); pass --allow-large to predict it anyway")


_EXPECTED_ERRORS = (CrystalFourierError, OSError, ValueError)
"""What a bad file or structure raises (readers, standardization); anything else is a bug and propagates."""


@dataclass(frozen=True)
class Prediction:
    """The outcome for one structure: its name, the value (target units, in the structure's own frame: a float,
    or an array of the target's label shape) or the reason it failed, and the spglib tolerance (Angstrom) its
    standardization used (the first of the retry sequence that worked; None when it was not standardized)."""

    name: str
    value: "float | np.ndarray | None"
    error: Exception | None
    symprec: float | None = None


def stream_predictions(trained: TrainedModel, items: Iterable[tuple[str, object]], *,  # noqa: PLR0913
                       load: Callable[[object], object] | None = None, symprec: float | None = None,
                       batch_size: int = 256, max_atoms: int | None = None, workers: int = 1,
                       scheduler: str | None = None, skip: int = 0) -> Iterator[Prediction]:
    """Predictions for ``items`` = (name, source) pairs, in order, computed chunk by chunk.

    Parameters
    ----------
    trained : TrainedModel
    items : iterable of (str, object)
        A name for messages and a source: a Crystal, or whatever ``load`` turns into one
        (a file path for ``predict``). Consumed lazily, one chunk at a time.
    load : callable, optional
        ``source -> Crystal`` (default: the source is the crystal).
    symprec : float, optional
        Standardization tolerance (default: the one the model was trained with).
    batch_size : int
        Most structures per model batch (the attention budget may make batches smaller).
    max_atoms : int, optional
        A structure with more atoms, as read or standardized, gets an error instead of a prediction
        (``crystal-fourier predict`` passes :func:`prediction_atom_limit` unless ``--allow-large``); default no limit.
    workers : int, default 1
        Local worker processes (:func:`crystal_fourier._engine.map_in_order`); each loads the model
        from ``trained.directory`` once. ``load`` and the sources must then be picklable.
    scheduler : str, optional
        Address of a Dask distributed scheduler to run the chunks on instead (its workers must see
        the model directory and the files at the same paths).
    skip : int, default 0
        Leave out the first ``skip`` items (already predicted: ``predict --resume``). The chunk that holds
        item ``skip`` is still predicted whole and its first rows dropped, so that every other
        prediction is the same bytes as in a run from the start.

    Yields
    ------
    Prediction
        One per item, in input order; a structure that cannot be read, standardized or
        predicted carries its exception and the others are still predicted. The value is the
        model's target (:attr:`TrainedModel.target`) back in the input's frame.

    Notes
    -----
    The chunks are the same for any number of workers and any ``skip`` (:data:`CHUNK_STRUCTURES` items, split
    further where their atoms pass :data:`CHUNK_ATOMS`), so the model sees the same batches and
    the predictions are the same bytes for 1, 2 or N workers.
    """
    from crystal_fourier._engine import chunked, check_engine_options, map_in_order

    check_engine_options(workers, scheduler)
    symprec = trained.config.symprec if symprec is None else symprec
    options = (load, symprec, batch_size, max_atoms)
    model = trained if workers == 1 and scheduler is None else _model_files(trained)
    job = functools.partial(_predict_chunk, model, options)
    if skip < 0:
        raise CrystalFourierError(f"skip must be >= 0, got {skip}")
    start = skip - skip % CHUNK_STRUCTURES  # whole chunks only: a batch's padding changes the last bits
    chunks = chunked(itertools.islice(items, start, None), CHUNK_STRUCTURES)
    predictions = itertools.chain.from_iterable(map_in_order(job, chunks, workers=workers, scheduler=scheduler))
    yield from itertools.islice(predictions, skip - start, None)


@dataclass(frozen=True)
class _ModelFiles:
    """What a worker needs to load the model itself: its directory, device and the sha256 of its files (a model
    is not sent per chunk; a worker that keeps it between jobs, as a Dask worker does, reloads it when the files
    at that path are another model's)."""

    directory: str
    device: str
    sha256: str


def _model_files(trained: TrainedModel) -> _ModelFiles:
    directory = str(trained.directory)
    return _ModelFiles(directory, _device(trained), _files_sha256(directory))


def _files_sha256(directory: str) -> str:
    """sha256 of the files a model is loaded from (config, normalization, weights: a few MB), name by name."""
    import hashlib
    from pathlib import Path

    from crystal_fourier.runtime.learning._model_files import CONFIG_FILE, NORMALIZATION_FILE, WEIGHTS_FILE

    digest = hashlib.sha256()
    for name in (CONFIG_FILE, NORMALIZATION_FILE, WEIGHTS_FILE):
        try:
            data = (Path(directory) / name).read_bytes()
        except OSError:
            data = b""  # load_trained says what is missing
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _device(trained: TrainedModel) -> str:
    parameter = next(trained.model.parameters(), None)
    return "cpu" if parameter is None else str(parameter.device)


@functools.lru_cache(maxsize=2)
def _loaded(model: _ModelFiles) -> TrainedModel:
    """The model of a worker process, loaded once per process and model (not once per chunk, nor per job on a
    Dask worker that runs many jobs); files that are not the ones the job started with are refused."""
    from crystal_fourier.runtime.learning._model_files import load_trained

    if _files_sha256(model.directory) != model.sha256:
        raise CrystalFourierError(f"the model directory {model.directory} seen by this worker is not the one the run "
                                  "started with (another model at that path?); workers must see the same files")
    return load_trained(model.directory, device=model.device)


def _predict_chunk(model: "TrainedModel | _ModelFiles", options: tuple, items: list) -> list[Prediction]:
    """The predictions of one chunk of (name, source) items, in order (what each engine worker runs).

    Parameters
    ----------
    model : TrainedModel or model files
        The model, or where a worker loads it from (once per process).
    options : tuple
        (load, symprec, batch_size, max_atoms) as :func:`stream_predictions` takes them.
    items : list of (str, object)
        The chunk.

    Returns
    -------
    list of Prediction
        One per item.
    """
    trained = _loaded(model) if isinstance(model, _ModelFiles) else model
    load, symprec, batch_size, max_atoms = options
    found: list[Prediction] = []
    part, atoms = [], 0
    for name, source in items:
        entry = _prepared(name, source, load, symprec, trained, max_atoms)
        part.append(entry)
        atoms += 0 if entry[1] is None else len(entry[1].numbers)
        if atoms >= CHUNK_ATOMS:  # many atoms: predict them before reading more
            found += _predicted(trained, part, batch_size)
            part, atoms = [], 0
    if part:
        found += _predicted(trained, part, batch_size)
    return found


def _prepared(name: str, source, load, symprec: float, trained: TrainedModel, max_atoms: int | None):
    """(name, Sample or None, error or None, tolerance used or None, the target's frame of the input) of one item."""
    from crystal_fourier.runtime.network._batching import sample_from_standardized
    from crystal_fourier.runtime.symmetry._standardization import standardize

    try:
        crystal = source if load is None else load(source)
        _check_size(trained, crystal.n_atoms, max_atoms, "in the structure as given")  # before spglib sees them
        standardized = standardize(crystal, symprec=symprec, handedness=trained.config.handedness)
        _check_size(trained, standardized.n_atoms, max_atoms, "in its conventional cell")
        frame = trained.target.frame(crystal, standardized)
        return name, sample_from_standardized(standardized, id=name), None, standardized.symprec, frame
    except _EXPECTED_ERRORS as error:
        return name, None, error, None, None


def _predicted(trained: TrainedModel, chunk: list, batch_size: int) -> Iterator[Prediction]:
    """The chunk's predictions; when the model refuses the chunk, each structure alone finds which fail."""
    target = trained.target
    good = [(name, sample, frame) for name, sample, error, _, frame in chunk if error is None]
    values: dict[int, object] = {}
    failures: dict[int, Exception] = {}
    try:
        outputs = trained.predict_samples([sample for _, sample, _ in good], batch_size) if good else []
        values = {id(sample): _value(target, v, frame) for (_, sample, frame), v in zip(good, outputs, strict=True)}
    except CrystalFourierError:
        for _, sample, frame in good:
            try:
                values[id(sample)] = _value(target, trained.predict_samples([sample], batch_size)[0], frame)
            except CrystalFourierError as error:
                failures[id(sample)] = error
    for name, sample, error, tolerance, _ in chunk:
        failure = error if error is not None else failures.get(id(sample))
        yield Prediction(name, None if failure is not None else values[id(sample)], failure, tolerance)


def _value(target, output, frame):
    """One prediction in the input's frame: a float for a scalar target."""
    if not target.label_shape:
        return float(output)
    return target.to_input_frame(output, frame)
