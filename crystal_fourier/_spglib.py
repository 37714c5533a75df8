"""The one door to spglib: its warnings silenced here, its failures raised as CrystalFourierError.

spglib 2.x warns (DeprecationWarning, "Set OLD_ERROR_HANDLING to false ...") on every
call while its legacy error handling is on, and reports a failure either by returning
None and leaving a message in a module-level slot (the legacy handling, the default up
to 2.7) or by raising ``spglib.error.SpglibError`` (2.8 and later, or with
``OLD_ERROR_HANDLING = False``). Every call from derive/ and runtime/ goes through
:func:`call`, which handles both without touching spglib's global switch (other code in
the same process, e.g. ASE or pymatgen, may rely on it), and raises one
:class:`~crystal_fourier.errors.CrystalFourierError` naming what failed and why.

This module sits below derive/ (like ``errors``), so both layers can use it.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np

from crystal_fourier.errors import CrystalFourierError

__all__ = ["call", "check_symprec", "spacegroup_type", "symmetry_from_database", "symmetry_dataset",
           "niggli_reduce", "niggli_reduced"]

# What spglib's message slot holds when nothing went wrong (it varies between versions).
_NO_ERROR = ("", "no error", "none", "spglib_success")


def call(function: str, *args, action: str, hint: str = "", **kwargs):
    """``spglib.<function>(*args, **kwargs)``, quiet, returning its result or raising.

    Parameters
    ----------
    function : str
        Name of the spglib function, e.g. ``"get_symmetry_dataset"``.
    action : str
        What the call does, for the message: "spglib could not <action> (<reason>)<hint>".
    hint : str
        The fix to suggest, appended to the message (start it with "; ").

    Raises
    ------
    CrystalFourierError
        When spglib raises or returns None; the reason is spglib's own message.

    Examples
    --------
    >>> call("get_spacegroup_type", 526, action="read Hall number 526").number
    227
    >>> call("get_spacegroup_type", 531, action="read Hall number 531")
    Traceback (most recent call last):
    ...
    crystal_fourier.errors.CrystalFourierError: spglib could not read Hall number 531 (no result)
    """
    import spglib

    reason = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            result = getattr(spglib, function)(*args, **kwargs)
            if result is None:
                reason = str(spglib.get_error_message())
    except Exception as error:  # noqa: BLE001 - spglib's error classes differ between versions
        result, reason = None, str(error)
    if result is None:
        reason = reason.strip()
        if reason.lower() in _NO_ERROR:
            reason = "no result"
        raise CrystalFourierError(f"spglib could not {action} ({reason}){hint}")
    return result


@lru_cache(maxsize=None)
def spacegroup_type(hall_number: int):
    """spglib's ``SpglibSpacegroupType`` of a Hall number 1-530 (number, symbols, choice), cached.

    >>> spacegroup_type(458).choice, spacegroup_type(434).choice
    ('H', 'R')
    """
    return call("get_spacegroup_type", hall_number, action=f"read the space-group type of Hall number {hall_number}")


def symmetry_from_database(hall_number: int) -> dict:
    """``{'rotations': (n, 3, 3) int, 'translations': (n, 3) float}`` of a Hall number from spglib's database.

    >>> len(symmetry_from_database(526)["rotations"])
    192
    """
    return call("get_symmetry_from_database", hall_number,
                action=f"read the operations of Hall number {hall_number}")


def check_symprec(symprec) -> float:
    """``symprec`` as a float, or CrystalFourierError when it is not a positive finite tolerance.

    >>> check_symprec(0.1)
    0.1
    """
    import math

    try:
        valid = math.isfinite(symprec) and symprec > 0
    except TypeError:
        valid = False
    if not valid:
        raise CrystalFourierError(f"symprec must be a positive tolerance in Angstrom, got {symprec!r}")
    return float(symprec)


def symmetry_dataset(cell, *, symprec: float, angle_tolerance: float = -1.0, hall_number: int = 0,
                     subject: str = "the crystal"):
    """spglib's symmetry dataset of ``cell = (lattice, positions, numbers)`` at ``symprec`` (Angstrom).

    Raises
    ------
    CrystalFourierError
        ``symprec`` not a positive number, or spglib finding no symmetry (e.g. atoms
        closer than ``symprec``); the message names ``subject`` and suggests --symprec.
    """
    check_symprec(symprec)
    return call("get_symmetry_dataset", cell, symprec=symprec, angle_tolerance=angle_tolerance,
                hall_number=hall_number,
                action=f"determine the symmetry of {subject} at symprec={symprec} A",
                hint="; check for overlapping atoms or try another symprec (--symprec on the command line)")


def niggli_reduce(lattice, *, eps: float = 1e-5):
    """spglib's Niggli-reduced lattice (rows a, b, c), shape=(3, 3); raises when spglib declines.

    >>> import numpy as np
    >>> reduced = niggli_reduce(np.array([[1.0, 0, 0], [1.0, 1.0, 0], [0, 0, 1.0]]))
    >>> np.linalg.norm(reduced, axis=1).round(6).tolist()   # the sheared cell is the unit cube
    [1.0, 1.0, 1.0]
    """
    return call("niggli_reduce", lattice, eps=eps, action="Niggli-reduce the lattice")


_UNIMODULAR_TOLERANCE = 1e-6
"""How far spglib's Niggli transformation may be from an integer matrix (float round-off of a 3x3 inverse)."""


def niggli_reduced(lattice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(reduced, U)`` with reduced = U @ lattice and U integer unimodular; ``(lattice, I)`` when spglib declines.

    Parameters
    ----------
    lattice : numpy.ndarray, shape=(3, 3), dtype=float64, rows a, b, c in Angstrom

    Examples
    --------
    >>> reduced, u = niggli_reduced(np.array([[1.0, 0, 0], [5.0, 1.0, 0], [0, 0, 1.0]]))
    >>> np.linalg.norm(reduced, axis=1).round(12).tolist(), abs(round(np.linalg.det(u)))
    ([1.0, 1.0, 1.0], 1)
    """
    try:
        reduced = niggli_reduce(lattice)
    except CrystalFourierError:  # spglib declined: fall back to no reduction
        reduced = None
    if reduced is not None:
        transform = np.asarray(reduced) @ np.linalg.inv(lattice)
        rounded = np.rint(transform)
        if (np.max(np.abs(transform - rounded)) < _UNIMODULAR_TOLERANCE
                and abs(round(np.linalg.det(rounded))) == 1):
            return rounded @ lattice, rounded
    return lattice.copy(), np.eye(3)
