"""Routing tables of :class:`~crystal_fourier.runtime.network._routing.RoutingEncoder`, read from the generated modules.

Slots. Groups 143-194 (hexagonal axes) use the hexagonal shell, the others the cubic one
(CONVENTIONS.md). The slot set is their union: slots 0 .. |U_cubic|-1 are the cubic shell in
canonical order, followed by the frequencies of the hexagonal shell that the cubic one lacks
(hexagonal canonical order). Slot n always means the same Miller indices (h, k, l), so a
weight is shared by every group whose shell holds n; it is unused (z_n = 0) for the others.
Without ``include_constant`` the k = 0 slot is dropped. Both shells come from the generated
index package of the set (``crystal_fourier.generated.<shell>_<cutoff>``).

One encoding. A setting's routing is the generated per-group module itself (its exact real-term
tables, derive/_real_bases.py) plus :meth:`crystal_fourier.kernel.GeneratedBasis.slot_entries`, which writes the
slot features z_n = (1/|G|) sum_g e(n . g x) (docs/design.md) through the module's functions:
z = T f with one or two exact entries T[n, i] = (a/b) e(q/48) per present slot. Nothing here
re-derives orbits, phases or the centric/pair split: the transformer is assembled from the same
tables that ``invariant_basis`` evaluates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from crystal_fourier._checks import check_int
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.kernel import _parse_integers
from crystal_fourier.runtime.network._config import CutoffSpec

__all__ = ["SettingRouting", "slot_frequencies", "setting_routing"]


def _check_spec(spec: object) -> CutoffSpec:
    """``spec`` itself when it is a :class:`CutoffSpec` (validated when it was made), else one clear error."""
    if not isinstance(spec, CutoffSpec):
        raise CrystalFourierError(f"expected a CutoffSpec(shell, cutoff), got {spec!r}; e.g. CutoffSpec('ball', 6)")
    return spec


@lru_cache(maxsize=None)
def _slot_maps(spec: CutoffSpec, include_constant: bool):
    """(slot hkl, the slot of a row: :class:`_SlotLookup`); the k = 0 slot is left out without ``include_constant``."""
    from crystal_fourier.runtime.network._invariant_bases import shell_index

    index = shell_index(spec)
    cubic = _parse_integers(index.CUBIC_FREQUENCIES).reshape(-1, 3)
    hexagonal = _parse_integers(index.HEXAGONAL_FREQUENCIES).reshape(-1, 3)
    known = {tuple(row) for row in cubic.tolist()}
    extra = np.asarray([row for row in hexagonal.tolist() if tuple(row) not in known], dtype=np.int64).reshape(-1, 3)
    union = np.concatenate([cubic, extra])
    if not include_constant:
        union = union[np.any(union != 0, axis=1)]
    union.setflags(write=False)
    return union, _SlotLookup(union)


class _SlotLookup:
    """The slot of each frequency row (-1 for one that is not a slot): a dense table over the box that holds the
    slots, indexed by the row's code, so that a group's few hundred entries are one gather, not a dict lookup each."""

    def __init__(self, slots: np.ndarray) -> None:
        self.bound = int(np.abs(slots).max(initial=0))
        self.base = 2 * self.bound + 1
        self.table = np.full(self.base ** 3, -1, dtype=np.int64)
        self.table[self._codes(slots)] = np.arange(len(slots))

    def _codes(self, rows: np.ndarray) -> np.ndarray:
        shifted = rows + self.bound
        return (shifted[:, 0] * self.base + shifted[:, 1]) * self.base + shifted[:, 2]

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """shape=(n,), int64: the slot of each row of ``rows`` (shape=(n, 3), integers), -1 where none."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        inside = np.all(np.abs(rows) <= self.bound, axis=1)
        slot = np.full(len(rows), -1, dtype=np.int64)
        slot[inside] = self.table[self._codes(rows[inside])]
        return slot


def slot_frequencies(spec: CutoffSpec = CutoffSpec(), include_constant: bool = False) -> np.ndarray:  # noqa: B008
    """Miller indices of the encoder's slots, shape=(n_slots, 3), dtype=int64.

    Parameters
    ----------
    spec : CutoffSpec, default CutoffSpec() (ball, R = 6)
        The frequency set (shell and cutoff), validated when it was made.
    include_constant : bool, default False
        Keep the k = 0 slot.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> len(slot_frequencies(CutoffSpec("ball", 5), True)), len(slot_frequencies(CutoffSpec("box", 2)))
    (549, 124)
    """
    return _slot_maps(_check_spec(spec), bool(include_constant))[0].copy()


@dataclass(frozen=True, slots=True, eq=False)
class SettingRouting:
    """One setting's slot features through its generated module: z_n(x) = sum_i T[n, i] f_i(x).

    Attributes
    ----------
    hall_number : int
    basis_class : type
        The generated :class:`~crystal_fourier.kernel.GeneratedBasis` subclass whose functions f_i are routed.
    entry_slot, entry_function : np.ndarray
        shape=(n_entries,), int64: the nonzeros (n, i) of T.
    entry_re, entry_im : np.ndarray
        shape=(n_entries,), float64: Re and Im of T[n, i] = (a/b) e(q/48), evaluated from exact a, b, q.
    slot : np.ndarray
        Sorted present slots (those with at least one entry).
    n_functions : int
    """

    hall_number: int
    basis_class: type
    entry_slot: np.ndarray
    entry_function: np.ndarray
    entry_re: np.ndarray
    entry_im: np.ndarray
    slot: np.ndarray
    n_functions: int


@lru_cache(maxsize=2048)
def setting_routing(spec: CutoffSpec, hall_number: int, include_constant: bool = False) -> SettingRouting:
    """The routing of Hall number ``hall_number`` in the encoder's slot indices (module docstring).

    Parameters
    ----------
    spec : CutoffSpec
        The frequency set (shell and cutoff), validated when it was made.
    hall_number : int
        spglib Hall number, 1-530.
    include_constant : bool, default False
        Keep the k = 0 slot.

    Returns
    -------
    SettingRouting
        Per term: slot, function, and the real and imaginary parts of its coefficient.

    Raises
    ------
    CrystalFourierError
        Bad set or Hall number, or a module whose frequencies are not in the slot set.

    Examples
    --------
    >>> routing = setting_routing(CutoffSpec("ball", 5), 523)  # Fm-3m: 136 present frequencies without k = 0
    >>> len(routing.slot), routing.n_functions
    (136, 10)
    """
    _check_spec(spec)
    check_int("Hall number", hall_number, 1, 530, allow_numpy=True)
    from crystal_fourier.runtime.network._invariant_bases import basis_class

    cls = basis_class(spec, int(hall_number))
    hkl, function, phase_48, numerator, denominator = cls.slot_entries()
    _, position = _slot_maps(spec, bool(include_constant))
    slot = position(hkl)
    constant = np.all(hkl == 0, axis=1)
    if np.any((slot < 0) & ~constant):
        raise CrystalFourierError(f"generated module {cls.__name__} uses frequencies outside the "
                                  f"{spec.shell} {spec.cutoff} slots")
    keep = slot >= 0
    scale = numerator[keep] / denominator[keep]
    angle = (2 * math.pi / 48) * phase_48[keep]
    arrays = [slot[keep], function[keep], scale * np.cos(angle), scale * np.sin(angle), np.unique(slot[keep])]
    for array in arrays:
        array.setflags(write=False)
    return SettingRouting(int(hall_number), cls, *arrays, n_functions=int(cls.dim))
