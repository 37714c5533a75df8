"""Routing tables in the slot indices of :class:`~crystal_fourier.runtime.routing.RoutingEncoder`.

Slots. Groups 143-194 (hexagonal axes) use the hexagonal shell, the others the cubic one
(CONVENTIONS.md). The slot set is their union: slots 0 .. |U_cubic|-1 are the cubic shell in
canonical order, followed by the frequencies of the hexagonal shell that the cubic one lacks
(hexagonal canonical order). Slot n always means the same Miller indices (h, k, l), so a
weight is shared by every group whose shell holds n; it is unused (z_n = 0) for the others.
Without ``include_constant`` the k = 0 slot is dropped.

Two tables per setting (Hall number), both exact integers until the last step:

* :class:`SlotTable`, the sparse routing matrix S_G of DESIGN.md: for each present slot n its
  orbit O(n) and phase, z_n(x) = e(phase_n / 24) psi_O(n)(x), with
  psi_O(x) = (1/|O|) sum_{m in O} e(-phase_m / 24) e(m . x);
* :class:`RealRouting`, the same features through n_orbits real functions f_i (one cosine per
  term): z = T f with T sparse (one or two entries per slot). A centric orbit (-O = O) needs
  one f, evaluated on half its members; a pair O, -O needs two (Re and Im of the first one's
  sum), so the terms number at most the present slots and often half of them.

Shipped sets read generated/<shell>_<cutoff>/__init__.py (standard settings); everything else
is derived with :mod:`crystal_fourier.derive` on first use. All tables are cached.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from crystal_fourier.errors import CrystalFourierError

__all__ = ["SlotTable", "RealRouting", "slot_frequencies", "slot_table", "real_routing"]

_SHELLS = ("ball", "box")


def _check(shell, cutoff) -> None:
    if shell not in _SHELLS:
        raise CrystalFourierError(f"unknown shell {shell!r}: expected one of {', '.join(_SHELLS)}")
    if isinstance(cutoff, bool) or not isinstance(cutoff, (int, np.integer)) or cutoff < 0:
        raise CrystalFourierError(f"cutoff must be an integer >= 0, got {cutoff!r}")


@lru_cache(maxsize=None)
def _shipped_index(shell: str, cutoff: int):
    """The generated index module of (shell, cutoff), or None if that set is not shipped."""
    name = f"crystal_fourier.generated.{shell}_{cutoff}"
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name)


@lru_cache(maxsize=None)
def _shells(shell: str, cutoff: int) -> tuple[np.ndarray, np.ndarray]:
    """(cubic, hexagonal) shells, shape=(n, 3), int64, canonical order."""
    index = _shipped_index(shell, cutoff)
    if index is not None:
        return (np.array(index.CUBIC_FREQUENCIES, dtype=np.int64).reshape(-1, 3),
                np.array(index.HEXAGONAL_FREQUENCIES, dtype=np.int64).reshape(-1, 3))
    from crystal_fourier.derive import shell_frequencies

    return np.asarray(shell_frequencies(shell, cutoff, False)), np.asarray(shell_frequencies(shell, cutoff, True))


@lru_cache(maxsize=None)
def _slot_maps(shell: str, cutoff: int, include_constant: bool):
    """(slot hkl, cubic row -> slot, hexagonal row -> slot); -1 marks the dropped k = 0."""
    cubic, hexagonal = _shells(shell, cutoff)
    position = {tuple(row): i for i, row in enumerate(cubic.tolist())}
    extra = [row for row in hexagonal.tolist() if tuple(row) not in position]
    union = np.concatenate([cubic, np.asarray(extra, dtype=np.int64).reshape(-1, 3)])
    for i, row in enumerate(extra, start=len(cubic)):
        position[tuple(row)] = i
    keep = np.ones(len(union), dtype=bool) if include_constant else np.any(union != 0, axis=1)
    renumber = np.where(keep, np.cumsum(keep) - 1, -1)
    cubic_slot = renumber[np.arange(len(cubic))]
    hexagonal_slot = renumber[[position[tuple(row)] for row in hexagonal.tolist()]]
    return union[keep], cubic_slot.astype(np.int64), np.asarray(hexagonal_slot, dtype=np.int64)


def slot_frequencies(shell: str = "ball", cutoff: int = 6, include_constant: bool = False) -> np.ndarray:
    """Miller indices of the encoder's slots, shape=(n_slots, 3), dtype=int64.

    Examples
    --------
    >>> len(slot_frequencies("ball", 5, True)), len(slot_frequencies("box", 2))
    (549, 124)
    """
    _check(shell, cutoff)
    return _slot_maps(shell, cutoff, bool(include_constant))[0].copy()


@dataclass(frozen=True, slots=True, eq=False)
class SlotTable:
    """One setting's routing table in slot indices (absent slots left out).

    Attributes
    ----------
    hall_number : int
    slot : np.ndarray
        shape=(F,), int64: present slots, grouped by orbit.
    phase_24 : np.ndarray
        shape=(F,), int64: z_slot = e(phase_24 / 24) psi_orbit.
    orbit : np.ndarray
        shape=(F,), int64: orbit of each entry, 0 .. n_orbits - 1.
    size : np.ndarray
        shape=(n_orbits,), int64: |O|.
    """

    hall_number: int
    slot: np.ndarray
    phase_24: np.ndarray
    orbit: np.ndarray
    size: np.ndarray

    @property
    def n_orbits(self) -> int:
        return len(self.size)


@lru_cache(maxsize=None)
def _routing_rows(shell: str, cutoff: int, hall_number: int):
    """(hexagonal, frequency rows, phase_24, offsets) of one setting, shipped or derived."""
    index = _shipped_index(shell, cutoff)
    if index is not None:
        number = {hall: n for n, hall in index.HALL_NUMBERS.items()}.get(hall_number)
        if number is not None:
            frequency, phase, offsets = (np.array(text.split(), dtype=np.int64) for text in index.ROUTING[number])
            return number in index.HEXAGONAL, frequency, phase, offsets
    from crystal_fourier.derive import basis
    from crystal_fourier.derive.codegen import routing_table

    derived = basis(None, cutoff, shell, hall_number=hall_number)
    table = routing_table(derived)
    return bool(derived.frequencies.hexagonal), table.frequency, table.phase_24, table.offsets


@lru_cache(maxsize=None)
def slot_table(shell: str, cutoff: int, hall_number: int, include_constant: bool = False) -> SlotTable:
    """The routing table of Hall number ``hall_number`` in the encoder's slot indices.

    Examples
    --------
    >>> table = slot_table("ball", 5, 523)  # Fm-3m: 136 frequencies in 9 orbits without k = 0
    >>> len(table.slot), table.n_orbits
    (136, 9)
    """
    _check(shell, cutoff)
    if isinstance(hall_number, bool) or not isinstance(hall_number, (int, np.integer)) or not 1 <= hall_number <= 530:
        raise CrystalFourierError(f"Hall number must be an integer in 1-530, got {hall_number!r}")
    hexagonal, frequency, phase, offsets = _routing_rows(shell, cutoff, int(hall_number))
    _, cubic_slot, hexagonal_slot = _slot_maps(shell, cutoff, bool(include_constant))
    slot = (hexagonal_slot if hexagonal else cubic_slot)[frequency]
    orbit = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    keep = slot >= 0
    orbit_kept = np.unique(orbit[keep])
    renumber = np.searchsorted(orbit_kept, orbit[keep])
    arrays = [slot[keep], phase[keep], renumber, np.bincount(renumber, minlength=len(orbit_kept))]
    arrays = [np.ascontiguousarray(a, dtype=np.int64) for a in arrays]
    for array in arrays:
        array.setflags(write=False)
    return SlotTable(int(hall_number), *arrays)


@dataclass(frozen=True, slots=True, eq=False)
class RealRouting:
    """One setting's slot features through real functions: z_n(x) = sum_i T[n, i] f_i(x).

    f_i(x) = sum over the terms j of function i of cos(2 pi m_j . x - 2 pi p_j / 48), and
    T[n, i] = scale * e(q / 48) on the entries (n, i).

    Attributes
    ----------
    term_slot, term_phase_48, term_function : np.ndarray
        shape=(n_terms,), int64: slot of m_j, p_j in [0, 48), function i.
    entry_slot, entry_function, entry_phase_48 : np.ndarray
        shape=(n_entries,), int64: the nonzeros (n, i, q) of T.
    entry_scale : np.ndarray
        shape=(n_entries,), float64: 1/|O|, or 2/|O| for a centric orbit (evaluated on half).
    n_functions : int
        Number of f_i, the number of present orbits.
    """

    term_slot: np.ndarray
    term_phase_48: np.ndarray
    term_function: np.ndarray
    entry_slot: np.ndarray
    entry_function: np.ndarray
    entry_phase_48: np.ndarray
    entry_scale: np.ndarray
    n_functions: int


@lru_cache(maxsize=None)
def _negative_slots(shell: str, cutoff: int, include_constant: bool) -> np.ndarray:
    """Slot of -m for every slot m (both shells are closed under k -> -k)."""
    hkl = _slot_maps(shell, cutoff, include_constant)[0]
    position = {tuple(row): i for i, row in enumerate(hkl.tolist())}
    return np.array([position[tuple(-v for v in row)] for row in hkl.tolist()], dtype=np.int64)


@lru_cache(maxsize=None)
def real_routing(shell: str, cutoff: int, hall_number: int, include_constant: bool = False) -> RealRouting:
    """The real form of one setting's routing table (module docstring).

    With U_O = sum_{m in O} e(-phase_m / 24) e(m . x) = |O| psi_O and, for m in O,
    kappa = -(phase_m + phase_{-m}) mod 24 (the same for every m of O, else the table is
    inconsistent), U_{-O} = e(kappa / 24) conj(U_O). A centric orbit has
    U_O = e(kappa / 48) f with f = sum_{m in O} cos(2 pi m.x - 2 pi (2 phase_m + kappa) / 48)
    (each term twice, so f is evaluated on half the members and T carries 2/|O|); a pair
    gives f_re = Re U_O and f_im = Im U_O (p = 2 phase_m and 2 phase_m + 12).

    Raises
    ------
    CrystalFourierError
        If the phases of an orbit and its negative are inconsistent (a corrupt table).

    Examples
    --------
    >>> form = real_routing("ball", 5, 523)  # Fm-3m, centrosymmetric: one function per orbit
    >>> form.n_functions, len(form.term_slot), len(form.entry_slot)
    (9, 68, 136)
    """
    table = slot_table(shell, cutoff, hall_number, include_constant)
    hkl, _, _ = _slot_maps(shell, cutoff, bool(include_constant))
    negative = _negative_slots(shell, cutoff, bool(include_constant))
    orbit_of = np.full(len(hkl), -1, dtype=np.int64)
    phase_of = np.zeros(len(hkl), dtype=np.int64)
    orbit_of[table.slot] = table.orbit
    phase_of[table.slot] = table.phase_24
    partner = orbit_of[negative[table.slot]]
    kappa = (-(table.phase_24 + phase_of[negative[table.slot]])) % 24
    first = np.searchsorted(table.orbit, np.arange(table.n_orbits))
    if np.any(partner < 0) or np.any(kappa != kappa[first][table.orbit]) or np.any(
            partner != partner[first][table.orbit]):
        raise CrystalFourierError(f"routing table of Hall number {hall_number} is inconsistent under k -> -k")
    orbit_partner = partner[first]
    function = np.full(table.n_orbits, -1, dtype=np.int64)
    count = 0
    for orbit in range(table.n_orbits):  # centric: 1 function; first of a pair: 2; second: its partner's
        if orbit_partner[orbit] >= orbit:
            function[orbit] = count
            count += 1 if orbit_partner[orbit] == orbit else 2
    terms, entries = [], []
    rows = zip(table.slot.tolist(), table.phase_24.tolist(), table.orbit.tolist(), strict=True)
    for k, (slot, phase, orbit) in enumerate(rows):
        mate, inverse_size = int(orbit_partner[orbit]), 1.0 / int(table.size[orbit])
        kap = int(kappa[k])
        if mate == orbit:
            row = hkl[slot]
            nonzero = row[np.flatnonzero(row)[:1]]
            if len(nonzero) == 0 or nonzero[0] > 0:  # one of each pair {m, -m}; k = 0 is its own pair
                terms.append((slot, (2 * phase + kap) % 48, function[orbit]))
            scale = inverse_size if len(nonzero) == 0 else 2 * inverse_size
            entries.append((slot, function[orbit], (2 * phase + kap) % 48, scale))
        elif mate > orbit:
            terms.append((slot, (2 * phase) % 48, function[orbit]))
            terms.append((slot, (2 * phase + 12) % 48, function[orbit] + 1))
            entries.append((slot, function[orbit], (2 * phase) % 48, inverse_size))
            entries.append((slot, function[orbit] + 1, (2 * phase + 12) % 48, inverse_size))
        else:
            entries.append((slot, function[mate], (2 * phase + 2 * kap) % 48, inverse_size))
            entries.append((slot, function[mate] + 1, (2 * phase + 2 * kap - 12) % 48, inverse_size))
    term_array = np.array(terms, dtype=np.int64).reshape(-1, 3)
    entry_array = np.array([e[:3] for e in entries], dtype=np.int64).reshape(-1, 3)
    arrays = [term_array[:, 0], term_array[:, 1], term_array[:, 2], entry_array[:, 0], entry_array[:, 1],
              entry_array[:, 2], np.array([e[3] for e in entries], dtype=np.float64)]
    arrays = [np.ascontiguousarray(a) for a in arrays]
    for array in arrays:
        array.setflags(write=False)
    return RealRouting(*arrays, n_functions=count)
