"""One engine that maps a function over chunks of work: in this process, in local workers, or on Dask.

``predict`` and ``audit`` both apply a function to many structures. They cut their inputs into
chunks (lists of picklable items) and hand them to :func:`map_in_order`, which yields
``function(chunk)`` for each chunk **in input order**, whatever finished first:

* ``workers=1`` (the default): in this process, one chunk after another, as a plain loop would;
* ``workers=N``: N local processes (forked from a fork server that has imported torch and the
  package once, else spawned: never forked from this process, which may hold torch threads), each ending with its parent
  (:func:`~crystal_fourier._processes.die_with_parent`) and running torch and BLAS on one thread;
* ``scheduler=ADDRESS``: an existing Dask distributed cluster (the optional extra ``cluster``).

At most ``window`` chunks are in flight at once (default two per worker), so memory is bounded by
the window, never by the number of chunks. What runs in a worker must be picklable: a module-level
function (with :func:`functools.partial` arguments) and items such as paths or crystals. State a
worker should build once (a model) belongs in a ``functools.lru_cache`` of the function it calls:
each worker process then builds it once, not once per chunk.

A worker that dies (killed, out of memory) ends the map with :class:`WorkerLost`: the chunks
already yielded stay valid, so a command that wrote them can resume after them. The command line
exits with :data:`EXIT_WORKER_LOST` then.
"""

from __future__ import annotations

import os
from collections import deque
from typing import TYPE_CHECKING

from crystal_fourier.errors import CrystalFourierError, WorkerLost

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

__all__ = ["EXIT_WORKER_LOST", "CHUNK_FLUSH_ROWS", "chunked", "map_in_order", "check_engine_options"]

EXIT_WORKER_LOST = 4
"""Exit status of a command whose worker died mid-run: the finished chunks are written; rerun with --resume."""

CONNECT_SECONDS = 10.0
"""How long to wait for a Dask scheduler to answer before calling it unreachable."""

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def chunked(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last may be shorter), read lazily.

    Parameters
    ----------
    items : iterable
        Anything; consumed one chunk at a time.
    size : int
        Items per chunk, at least 1.

    Yields
    ------
    list
        The next ``size`` items.

    Examples
    --------
    >>> [len(c) for c in chunked(range(5), 2)]
    [2, 2, 1]
    """
    if size < 1:
        raise CrystalFourierError(f"chunk size must be at least 1, got {size}")
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_engine_options(workers: int, scheduler: str | None) -> None:
    """Refuse impossible engine options in one line, before anything is read or written.

    Parameters
    ----------
    workers : int
        Local worker processes (1: this process).
    scheduler : str or None
        A Dask scheduler address; then ``workers`` must stay 1 (the cluster has its own).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise CrystalFourierError(f"workers must be a positive integer, got {workers!r}")
    if scheduler is not None and workers != 1:
        raise CrystalFourierError("give either --workers (local processes) or --scheduler (a Dask cluster), not both")
    if scheduler is not None and not str(scheduler).strip():
        raise CrystalFourierError("--scheduler needs an address such as tcp://host:8786")


def map_in_order(function: Callable, chunks: Iterable, *, workers: int = 1, scheduler: str | None = None,
                 window: int | None = None) -> Iterator:
    """``function(chunk)`` for each chunk, in input order, computed here, in local workers or on Dask.

    Parameters
    ----------
    function : callable
        ``chunk -> result``; picklable (a module-level function or a partial of one) unless ``workers == 1``.
    chunks : iterable
        The chunks, consumed lazily: at most ``window`` are in flight.
    workers : int, default 1
        Local processes; 1 runs in this process.
    scheduler : str, optional
        Address of a running Dask distributed scheduler (``tcp://host:8786``); needs ``dask[distributed]``.
    window : int, optional
        Most chunks submitted and not yet yielded (default two per worker, or per Dask worker thread).

    Yields
    ------
    object
        ``function(chunk)``, chunk by chunk, in the order of ``chunks``.

    Raises
    ------
    WorkerLost
        A worker died while computing a chunk (the results before it were yielded).
    CrystalFourierError
        Bad options, ``distributed`` missing, the scheduler unreachable, or a chunk that cannot be pickled.

    Examples
    --------
    >>> list(map_in_order(sum, [[1, 2], [3]]))
    [3, 3]
    """
    check_engine_options(workers, scheduler)
    if scheduler is not None:
        yield from _on_dask(function, chunks, str(scheduler).strip(), window)
    elif workers == 1:
        for chunk in chunks:
            yield function(chunk)
    else:
        yield from _in_processes(function, chunks, workers, window or 2 * workers)


def _worker_setup() -> None:
    """Initializer of a local worker: die with the parent, one thread for torch and BLAS (the workers are the
    parallelism; more threads per worker only compete for the same cores)."""
    from crystal_fourier._processes import die_with_parent

    die_with_parent()
    import sys

    for name in _THREAD_VARIABLES:  # read by torch and BLAS when they load: a worker that never needs torch skips it
        os.environ[name] = "1"
    if "torch" in sys.modules:  # pragma: no cover - a spawned or forkserver worker has not loaded it yet
        sys.modules["torch"].set_num_threads(1)


PRELOAD = ("torch", "crystal_fourier.runtime")
"""Modules the fork server imports once, so that each worker forks with them loaded (torch alone takes
seconds to import); importing them starts no thread, so forking after it is safe."""


def _context():
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - macOS, Windows
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))  # takes effect when the server starts (the first pool)
    return context


def _in_processes(function: Callable, chunks: Iterable, workers: int, window: int) -> Iterator:
    import pickle
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_worker_setup)
    pending: deque = deque()
    broken = False
    done = 0
    try:
        # a dead worker breaks the pool: the next future.result() raises BrokenProcessPool, or, when the
        # pool learnt of the death first, the next pool.submit() of the window's refill does
        for future in _submitted(lambda chunk: pool.submit(function, chunk), chunks, window, pending):
            try:
                result = future.result()
            except (pickle.PicklingError, AttributeError, TypeError) as error:
                if "pickle" not in str(error).lower():
                    raise
                raise CrystalFourierError(f"cannot send the work to worker processes ({error}); use --workers 1 "
                                          "or picklable inputs") from error
            yield result
            done += 1
    except BrokenProcessPool as error:
        broken = True
        raise WorkerLost(f"a worker process died (killed, or out of memory) during chunk {done + 1}; "
                         f"the {done} chunks before it are complete; run again with --resume to finish") from error
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=not broken, cancel_futures=True)


_END = object()


def _submitted(submit: Callable, chunks: Iterable, window: int, pending: deque) -> Iterator:
    """The futures of ``chunks`` in input order, with at most ``window`` submitted ahead of the one handed out.

    ``pending`` holds the submitted futures not yet handed out, so that the caller can cancel them.
    """
    iterator = iter(chunks)
    while True:
        while len(pending) < window:
            chunk = next(iterator, _END)
            if chunk is _END:
                break
            pending.append(submit(chunk))
        if not pending:
            return
        yield pending.popleft()


def _client(address: str):
    try:
        from distributed import Client
    except ImportError as error:
        raise CrystalFourierError("--scheduler needs Dask distributed: pip install 'crystal-fourier[cluster]'"
                                  ) from error
    try:
        return Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise CrystalFourierError(f"cannot reach the Dask scheduler at {address} within {CONNECT_SECONDS:g} s: "
                                  f"{reason}") from error


def _on_dask(function: Callable, chunks: Iterable, address: str, window: int | None) -> Iterator:
    from distributed import KilledWorker

    client = _client(address)
    pending: deque = deque()
    try:
        threads = sum(client.nthreads().values()) or 1
        window = window or 2 * threads
        # pure=False: two equal chunks are two tasks (Dask would otherwise share one key)
        for done, future in enumerate(_submitted(lambda chunk: client.submit(function, chunk, pure=False), chunks,
                                                 window, pending)):
            try:
                result = future.result()
            except KilledWorker as error:
                raise WorkerLost(f"Dask workers died on chunk {done + 1} ({error}); the {done} chunks before it are "
                                 "complete; run again with --resume to finish") from error
            yield result
    finally:
        for future in pending:
            future.cancel()
        client.close()

CHUNK_FLUSH_ROWS = 256
"""Rows a command collects before it appends them to its output in one write (one prediction chunk)."""
