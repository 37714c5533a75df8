"""Model calls that cannot sink an audit: an exception or a time-out is captured per call and named.

A model that raises on one crystal (a neighbour list that overflows, a species it was never
trained on, a CUDA error) must not lose the checks already made: :func:`guarded_calls` returns,
for each crystal, either its checked outputs or a :class:`ModelError` saying what went wrong,
and the audit goes on with the other crystals.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from crystal_fourier.errors import CrystalFourierError

__all__ = ["ModelError", "ModelTimeout", "guarded_calls"]


@dataclass(frozen=True)
class ModelError:
    """A model call that raised or ran past its time limit.

    Attributes
    ----------
    crystal : str
        Name of the audited crystal.
    kind, label : str
        The re-description the model was called on; ``'original'``, ``'as given'`` for the crystal
        itself, whose failure skips every re-description of it.
    message : str
        ``ExceptionType: message`` (first line), or ``timed out after S s``.
    """

    crystal: str
    kind: str
    label: str
    message: str


class ModelTimeout(Exception):
    """Raised inside a model call that runs past ``timeout`` seconds."""


@contextmanager
def _time_limit(seconds: "float | None"):
    """Raise :class:`ModelTimeout` in the main thread after ``seconds`` (None: no limit; needs SIGALRM)."""
    if seconds is None:
        yield
        return
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        raise CrystalFourierError("--timeout needs a POSIX system and the main thread (SIGALRM)")

    def expire(signum, frame):
        raise ModelTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _message(error: BaseException) -> str:
    if isinstance(error, ModelTimeout):
        return str(error)
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def guarded_calls(adapter, crystals: list, *, timeout: "float | None" = None) -> tuple[list, float]:
    """Checked outputs of ``adapter`` for each crystal, or the exception it raised, and the seconds spent.

    Without a time limit the adapter's own batching is tried first (:meth:`evaluate_many`); when
    the batch raises, each crystal is called alone so that only the culprits are lost. With
    ``timeout`` every crystal is its own call, each limited to ``timeout`` seconds.

    Returns
    -------
    (list, float)
        Per crystal a dict of outputs (see :mod:`~crystal_fourier.audit._adapters`) or the
        message of the exception (str); and the wall time of the model calls.
    """
    from crystal_fourier.audit._adapters import _checked

    start = time.perf_counter()
    if timeout is None and len(crystals) > 1:
        try:
            raw = adapter.evaluate_many(crystals)
            results = [_checked(r, c, adapter.name) for r, c in zip(raw, crystals, strict=True)]
            return results, time.perf_counter() - start
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception:   # noqa: BLE001 - any failure of a user's model is captured, per crystal below
            pass
    results = []
    for crystal in crystals:
        try:
            with _time_limit(timeout):
                results.append(_checked(adapter.evaluate(crystal), crystal, adapter.name))
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as error:   # noqa: BLE001 - a user's model may raise anything: it is reported
            results.append(_message(error))
    return results, time.perf_counter() - start
