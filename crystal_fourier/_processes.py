"""Worker processes that never outlive the command that started them.

``ProcessPoolExecutor`` workers wait on a queue; when their parent is killed
(SIGKILL, the OOM killer) they would wait forever. :func:`die_with_parent`, given
as the pool's ``initializer``, asks Linux to send the worker SIGKILL when its
parent dies (``prctl(PR_SET_PDEATHSIG)``); elsewhere a watcher thread polls the
parent's pid.
"""

from __future__ import annotations

import os
import signal
import threading
import time

__all__ = ["die_with_parent", "worker_pool"]


def die_with_parent() -> None:
    """Make this process end when its parent ends (use as a pool ``initializer``)."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent:  # the parent died before the request took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:  # pragma: no cover - non-Linux fallback
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def worker_pool(workers: int):
    """A ``ProcessPoolExecutor`` of ``workers`` processes that die with this one."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent)
