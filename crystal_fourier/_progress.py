"""The one progress bar: tqdm on stderr, or a silent stand-in with the same interface.

Below derive/ (like ``errors``), so the proofs, the runtime and the CLI all use it.
"""

from __future__ import annotations

import sys

__all__ = ["progress_bar"]


class _Silent:
    """What :func:`progress_bar` returns when disabled: iterates like the iterable, counts nothing."""

    def __init__(self, iterable):
        self._iterable = iterable

    def __iter__(self):
        return iter(() if self._iterable is None else self._iterable)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def update(self, count: int = 1) -> None:
        pass

    def set_postfix(self, *args, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(iterable=None, description: str = "", enabled: bool | None = True, *, total: int | None = None,
                 initial: int = 0, unit: str = "it", leave: bool = False):
    """A tqdm bar on stderr over ``iterable`` (or a manual one, driven by ``update``, when it is None).

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over; None for a bar advanced by ``bar.update(n)``.
    description : str
        Label in front of the bar.
    enabled : bool or None
        False: silent; None: only when stderr is a terminal (tqdm's ``disable=None``).
    total, initial, unit, leave
        As in tqdm; ``leave=False`` clears the bar when it closes.

    Returns
    -------
    tqdm or a silent stand-in
        Either way it iterates over ``iterable`` and has ``update``, ``set_postfix`` and
        ``close``, and is a context manager; the stand-in when disabled or tqdm is missing.

    Examples
    --------
    >>> bar = progress_bar(range(3), "count", enabled=False)
    >>> list(bar), bar.update(1), bar.close()
    ([0, 1, 2], None, None)
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return _Silent(iterable)
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency, but never fail for a bar
        return _Silent(iterable)
    return tqdm(iterable, desc=description, total=total, initial=initial, unit=unit, leave=leave,
                file=sys.stderr, dynamic_ncols=True)
