"""The one error type of crystal-fourier.

Every error a user can cause (an unknown group, a bad cutoff, a malformed file)
is a :class:`CrystalFourierError`; the command line prints its message on one
line and exits with status 2, never with a traceback.
"""

from __future__ import annotations

__all__ = ["CrystalFourierError", "WorkerLost"]


class CrystalFourierError(ValueError):
    """Bad input or a failed check, with a message that names the value and the fix."""


class WorkerLost(CrystalFourierError):
    """A worker process died (killed, out of memory) while it held a chunk of work; the chunks before it are
    complete. The command line exits with status 4 (``EXIT_WORKER_LOST``): rerun with ``--resume`` to finish."""
