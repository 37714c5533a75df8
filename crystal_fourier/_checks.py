"""One check for integer arguments and one for float arguments, shared by every stage (derive, runtime, visual).

A bool is never an integer here (``True`` is not a cutoff or a layer count), and the message is one
line that names the value and the accepted range, as every CrystalFourierError does.
"""

from __future__ import annotations

import math

from crystal_fourier.errors import CrystalFourierError

__all__ = ["check_int", "check_float"]


def check_int(name: str, value: object, low: int, high: int | None = None, *, allow_numpy: bool = False) -> int:
    """``value`` as an int if it is an integer (not a bool) in [low, high]; else one CrystalFourierError.

    Parameters
    ----------
    name : str
        What the value is, for the message ("Hall number", "cutoff").
    value : object
        The value to check.
    low, high : int
        Inclusive bounds; ``high`` None for no upper bound.
    allow_numpy : bool
        Also accept numpy integer scalars (arguments of array code); saved configs accept Python ints only.

    Examples
    --------
    >>> check_int("n_layers", 3, 1, 64)
    3
    >>> check_int("cutoff", -1, 0)
    Traceback (most recent call last):
    ...
    crystal_fourier.errors.CrystalFourierError: cutoff must be an integer >= 0, got -1
    """
    kinds: tuple[type, ...] = (int,)
    if allow_numpy:
        import numpy as np

        kinds = (int, np.integer)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < low or (high is not None and value > high):
        accepted = f">= {low}" if high is None else f"in {low}-{high}"
        raise CrystalFourierError(f"{name} must be an integer {accepted}, got {value!r}")
    return int(value)


def check_float(name: str, value: object, low: float, high: float, *, open_low: bool = False) -> float:
    """``value`` as a float if it is a finite number in [low, high] (``(low, high]`` with ``open_low``).

    >>> check_float("lr", 5e-4, 0, 10, open_low=True)
    0.0005
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value > high or value < low or (open_low and value == low):
        interval = f"{'(' if open_low else '['}{low:g}, {high:g}]"
        raise CrystalFourierError(f"{name} must be a finite number in {interval}, got {value!r}")
    return float(value)
