"""One group's whole derivation at one cutoff, cached by (Hall number, shell, cutoff).

The cost grows as the cube of the cutoff times the number of operations, so
:func:`work_estimate` predicts it (seconds, bytes) before any work starts, and the
commands refuse beyond :data:`WORK_LIMIT_SECONDS` / :data:`WORK_LIMIT_BYTES`
unless asked to go ahead (``--allow-large``). The cache of derived bases is bounded
by their estimated memory (:data:`CACHE_BYTES`), not by a count: 1,024 bases at
cutoff 40 would be hundreds of gigabytes.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from crystal_fourier.derive._dual_graphs import DualGraph, dual_graph
from crystal_fourier.derive._frequency_sets import FrequencySet, check_shell_cutoff, frequency_set
from crystal_fourier.derive._orbits import OrbitDecomposition, orbit_decomposition
from crystal_fourier.derive._plane_groups import PlaneGroup, as_plane_group
from crystal_fourier.derive._real_bases import RealBasis, real_basis
from crystal_fourier.derive._space_groups import SpaceGroup, space_group
from crystal_fourier.errors import CrystalFourierError

__all__ = ["Basis", "basis", "DEFAULT_CUTOFF", "DEFAULT_SHELL", "WorkEstimate", "work_estimate", "check_work",
           "WORK_LIMIT_SECONDS", "WORK_LIMIT_BYTES", "CACHE_BYTES", "clear_caches"]

DEFAULT_CUTOFF = 5
"""The paper's ball radius R = 5 (see ``faithful`` for where it is too small)."""
DEFAULT_SHELL = "ball"


@dataclass(frozen=True, slots=True, eq=False)
class Basis:
    """Everything derived for one group on one frequency set.

    Attributes
    ----------
    group : SpaceGroup
    frequencies : FrequencySet
    graph : DualGraph
    decomposition : OrbitDecomposition
    real : RealBasis
    plane_group : PlaneGroup or None
        For a plane group: the group; ``group`` is then its embedding and the frequencies are
        (h, k, 0) (see :mod:`~crystal_fourier.derive._plane_groups`).
    """

    group: SpaceGroup
    frequencies: FrequencySet
    graph: DualGraph
    decomposition: OrbitDecomposition
    real: RealBasis
    plane_group: PlaneGroup | None = None

    @property
    def dim(self) -> int:
        """Number of real basis functions, k = 0 included."""
        return len(self.real)

    def summary(self) -> dict:
        """The counts of ``crystal-fourier summary`` (k = 0 included in every count)."""
        d = self.decomposition
        present = ~d.absent
        plane = self.plane_group
        return {
            "sg": self.group.number if plane is None else plane.number,
            "hall_number": self.group.hall_number,
            "symbol": self.group.symbol if plane is None else plane.symbol,
            "n_operations": len(self.group.operations),
            "n_frequencies": len(self.frequencies),
            "n_present_frequencies": int(present[d.orbit_of].sum()),
            "n_present_orbits": int(present.sum()),
            "n_absent_orbits": int(d.absent.sum()),
            "dim": self.dim,
        }


# Measured on one core (tracemalloc peaks; bench-style runs of groups 1, 191, 225 at cutoffs 8-30):
# every edge (frequency x operation) of the dual graph costs about 0.75 us, 70 bytes at the peak
# and 17 bytes kept; every orbit (at least n_frequencies / |P|) about 100 us, 1,000 bytes at the
# peak and 400 kept. The estimates round these up.
_SECONDS_PER_EDGE, _PEAK_BYTES_PER_EDGE, _KEPT_BYTES_PER_EDGE = 0.8e-6, 72, 18
_SECONDS_PER_ORBIT, _PEAK_BYTES_PER_ORBIT, _KEPT_BYTES_PER_ORBIT = 110e-6, 1100, 420
# Rendering the closed forms (export.render, text or JSON) costs far more: measured 4.5 ms per real
# function for P1 and 0.5-1.4 ms per frequency for groups 191 and 225 (cutoffs 6-16).
_RENDER_SECONDS_PER_ORBIT, _RENDER_SECONDS_PER_FREQUENCY = 5e-3, 1.5e-3

WORK_LIMIT_SECONDS = 300.0
"""Estimated seconds beyond which the commands refuse to start without ``--allow-large``."""
WORK_LIMIT_BYTES = 2 * 2**30
"""Estimated peak memory (2 GiB) beyond which the commands refuse to start without ``--allow-large``."""
CACHE_BYTES = 512 * 2**20
"""Estimated memory of the derived bases kept for reuse (least recently used dropped first)."""


@dataclass(frozen=True, slots=True)
class WorkEstimate:
    """Predicted cost of deriving bases: counts, seconds on one core, peak and kept bytes."""

    n_frequencies: int
    n_operations: int
    seconds: float
    peak_bytes: int
    kept_bytes: int

    def __add__(self, other: "WorkEstimate") -> "WorkEstimate":
        """Work done one after the other: times add, the peak is the larger one (the cache is bounded)."""
        return WorkEstimate(max(self.n_frequencies, other.n_frequencies), max(self.n_operations, other.n_operations),
                            self.seconds + other.seconds, max(self.peak_bytes, other.peak_bytes),
                            max(self.kept_bytes, other.kept_bytes))

    def describe(self) -> str:
        return (f"about {self.n_frequencies:,} frequencies x {self.n_operations} operations: "
                f"~{_duration(self.seconds)} and ~{self.peak_bytes / 2**30:.1f} GiB of memory")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _frequency_count(cutoff: int, shell: str, hexagonal: bool, plane: bool = False) -> int:
    """The number of frequencies, from the volume of the shell (exact for small cutoffs is not needed)."""
    if shell == "box":
        section = 3 * cutoff * cutoff + 3 * cutoff + 1 if hexagonal else (2 * cutoff + 1) ** 2
        return section if plane else section * (2 * cutoff + 1)
    if plane:
        return int(math.pi * cutoff ** 2 * (math.sqrt(3.0) / 2.0 if hexagonal else 1.0)) + 1
    volume = 4.0 / 3.0 * math.pi * cutoff ** 3
    return int(volume * (math.sqrt(3.0) / 2.0 if hexagonal else 1.0)) + 1


def work_estimate(group: SpaceGroup | PlaneGroup | int | str, cutoff: int, shell: str = DEFAULT_SHELL, *,
                  hall_number: int | None = None, render: bool = False) -> WorkEstimate:
    """Predicted cost of :func:`basis` for ``group`` at ``cutoff`` (no derivation is done).

    With ``render``, the time of writing out every closed form (``crystal-fourier basis``) is included.
    The constants were measured on one core; the estimate aims to be within a factor of about 3.

    Parameters
    ----------
    group : SpaceGroup, PlaneGroup, int or str
        Number, symbol, :class:`SpaceGroup` or plane group (``'p4gm'``, :class:`PlaneGroup`).
    cutoff : int
        Ball radius or box size.
    shell : {'ball', 'box'}
        The frequency shell.
    hall_number : int, optional
        Any of the 530 settings instead of ``group``.
    render : bool
        Include the time of printing every closed form.

    Returns
    -------
    WorkEstimate
        Frequencies, operations, seconds on one core, peak and kept bytes.

    Examples
    --------
    >>> estimate = work_estimate(225, 40)
    >>> estimate.n_operations, estimate.peak_bytes > 2**31
    (192, True)
    """
    plane = as_plane_group(group)
    resolved = plane.embedding if plane is not None else space_group(group, hall_number=hall_number)
    cutoff = check_shell_cutoff(shell, cutoff)
    n = _frequency_count(cutoff, shell, resolved.hexagonal_axes, plane is not None)
    operations = len(resolved.operations)
    edges, orbits = n * operations, n / resolved.point_group_order
    seconds = edges * _SECONDS_PER_EDGE + orbits * _SECONDS_PER_ORBIT
    if render:
        seconds += orbits * _RENDER_SECONDS_PER_ORBIT + n * _RENDER_SECONDS_PER_FREQUENCY
    return WorkEstimate(n, operations, seconds,
                        int(edges * _PEAK_BYTES_PER_EDGE + orbits * _PEAK_BYTES_PER_ORBIT),
                        int(edges * _KEPT_BYTES_PER_EDGE + orbits * _KEPT_BYTES_PER_ORBIT))


def check_work(estimate: WorkEstimate, what: str, allow_large: bool = False) -> None:
    """Refuse ``estimate`` beyond the limits unless ``allow_large``, naming the estimate and the flag.

    Parameters
    ----------
    estimate : WorkEstimate
        The estimated time and peak memory of a derivation.
    what : str
        What is being derived, for the message (for example ``"group 227, ball cutoff 12"``).
    allow_large : bool, default False
        Go ahead whatever the estimate (the CLI's ``--allow-large``).

    Returns
    -------
    None

    Raises
    ------
    CrystalFourierError
        The estimate exceeds :data:`WORK_LIMIT_SECONDS` or :data:`WORK_LIMIT_BYTES`.
    """
    if allow_large or (estimate.seconds <= WORK_LIMIT_SECONDS and estimate.peak_bytes <= WORK_LIMIT_BYTES):
        return
    raise CrystalFourierError(
        f"{what} needs {estimate.describe()}, beyond the limits of {_duration(WORK_LIMIT_SECONDS)} and "
        f"{WORK_LIMIT_BYTES / 2**30:.0f} GiB; choose a smaller cutoff, or pass --allow-large to go ahead")


class _BoundedCache:
    """Least-recently-used map whose entries' estimated sizes sum to at most ``capacity`` bytes."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict = OrderedDict()
        self._sizes: dict = {}
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key, value, size: int) -> None:
        if size > self.capacity:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key], self._sizes[key] = value, size
            self._total += size
            while self._total > self.capacity:
                old, _ = self._entries.popitem(last=False)
                self._total -= self._sizes.pop(old)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._sizes.clear()
            self._total = 0

    @property
    def total_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._entries)


_CACHE = _BoundedCache(CACHE_BYTES)


def _basis(hall_number: int, cutoff: int, shell: str, plane: PlaneGroup | None = None) -> Basis:
    key = (hall_number, cutoff, shell) if plane is None else (hall_number, cutoff, shell, plane.symbol)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    group = space_group(hall_number=hall_number)
    frequencies = frequency_set(group, cutoff, shell, plane=plane is not None)
    graph = dual_graph(group, frequencies)
    decomposition = orbit_decomposition(graph)
    result = Basis(group, frequencies, graph, decomposition, real_basis(decomposition), plane)
    _CACHE.put(key, result, work_estimate(plane or group, cutoff, shell).kept_bytes)
    return result


_basis.cache_clear = _CACHE.clear  # the interface of the functools.lru_cache this replaces


def clear_caches() -> None:
    """Forget every cached derivation: the next :func:`basis` of any group derives it again, cold.

    For timing a cold derivation (bench/bench_derive.py); results never depend on the cache.

    >>> b = basis(227, 2); basis(227, 2) is b
    True
    >>> clear_caches(); basis(227, 2) is b
    False
    """
    _CACHE.clear()


def basis(group: SpaceGroup | PlaneGroup | int | str | None, cutoff: int = DEFAULT_CUTOFF,
          shell: str = DEFAULT_SHELL, *, hall_number: int | None = None) -> Basis:
    """Derive the exact symmetry-adapted basis of ``group`` (number, symbol or SpaceGroup).

    Pure integer work (no SymPy). Cached per (Hall number, cutoff, shell), the cache
    bounded by memory (:data:`CACHE_BYTES`). Check :func:`work_estimate` first for
    a large cutoff: the cost grows as cutoff^3 x operations.

    Parameters
    ----------
    group : SpaceGroup, PlaneGroup, int, str or None
        A space-group number (1-230, its ITA standard setting), a symbol in any usual spelling
        (``"Fd-3m"``, ``"F d -3 m"``, ``"Fd-3m:1"``, a Hall or Schoenflies symbol) or a
        :class:`SpaceGroup`; None when ``hall_number`` is given. Or one of the 17 plane groups,
        by its symbol as Volume A writes it (``"p4gm"``, ``"c2mm"``, lower case) or a
        :class:`~crystal_fourier.derive.PlaneGroup` (``plane_group(12)``): the basis in (h, k)
        and (x, y), derived as the embedding space group's on the frequencies with l = 0.
    cutoff : int
        Ball radius R or box size K, >= 0 (CONVENTIONS.md, frequency shells).
    shell : {'ball', 'box'}
        The frequency shell: q(k) <= R^2 in the group's metric, or max |k_i| <= K.
    hall_number : int, optional
        Any of spglib's 530 settings instead of ``group``.

    Returns
    -------
    Basis
        The frequency set, its orbit decomposition (orbits, absences with witnesses) and the
        exact real basis; ``dim`` real functions, k = 0 included.

    Raises
    ------
    CrystalFourierError
        Unknown group, bad Hall number, negative cutoff or unknown shell.

    Examples
    --------
    >>> basis(1, 2, "box").dim, basis(1).dim
    (125, 515)
    >>> basis("Fm-3m").summary()["n_present_orbits"] - 1   # without k = 0
    9
    >>> basis("p4gm", 2, "box").summary()["dim"]
    5
    """
    cutoff = check_shell_cutoff(shell, cutoff)
    plane = as_plane_group(group)
    if plane is not None:
        if hall_number is not None:
            raise CrystalFourierError(f"{plane} has one setting: give no Hall number")
        return _basis(plane.hall_number, cutoff, shell, plane)
    resolved = space_group(group, hall_number=hall_number)
    return _basis(resolved.hall_number, cutoff, shell)
