"""One group's whole derivation at one cutoff, cached by (Hall number, shell, cutoff)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from crystal_fourier.derive.dual_graph import DualGraph, dual_graph
from crystal_fourier.derive.frequency_sets import SHELLS, FrequencySet, frequency_set
from crystal_fourier.derive.orbits import OrbitDecomposition, orbit_decomposition
from crystal_fourier.derive.real_basis import RealBasis, real_basis
from crystal_fourier.derive.space_groups import SpaceGroup, space_group
from crystal_fourier.errors import CrystalFourierError

__all__ = ["Basis", "basis", "DEFAULT_CUTOFF", "DEFAULT_SHELL"]

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
    """

    group: SpaceGroup
    frequencies: FrequencySet
    graph: DualGraph
    decomposition: OrbitDecomposition
    real: RealBasis

    @property
    def dim(self) -> int:
        """Number of real basis functions, k = 0 included."""
        return len(self.real)

    def summary(self) -> dict:
        """The counts of ``crystal-fourier summary`` (k = 0 included in every count)."""
        d = self.decomposition
        present = ~d.absent
        return {
            "sg": self.group.number,
            "hall_number": self.group.hall_number,
            "symbol": self.group.symbol,
            "n_operations": len(self.group.operations),
            "n_frequencies": len(self.frequencies),
            "n_present_frequencies": int(present[d.orbit_of].sum()),
            "n_present_orbits": int(present.sum()),
            "n_absent_orbits": int(d.absent.sum()),
            "dim": self.dim,
        }


def _check_cutoff(cutoff) -> int:
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 0:
        raise CrystalFourierError(f"cutoff must be an integer >= 0, got {cutoff!r}")
    return cutoff


@lru_cache(maxsize=1024)
def _basis(hall_number: int, cutoff: int, shell: str) -> Basis:
    group = space_group(hall_number=hall_number)
    frequencies = frequency_set(group, cutoff, shell)
    graph = dual_graph(group, frequencies)
    decomposition = orbit_decomposition(graph)
    return Basis(group, frequencies, graph, decomposition, real_basis(decomposition))


def basis(group, cutoff: int = DEFAULT_CUTOFF, shell: str = DEFAULT_SHELL, *, hall_number: int | None = None) -> Basis:
    """Derive the exact symmetry-adapted basis of ``group`` (number, symbol or SpaceGroup).

    Pure integer work (no SymPy). Cached per (Hall number, cutoff, shell).

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
    """
    if shell not in SHELLS:
        raise CrystalFourierError(f"unknown shell {shell!r}: expected one of {', '.join(SHELLS)}")
    resolved = space_group(group, hall_number=hall_number)
    return _basis(resolved.hall_number, _check_cutoff(cutoff), shell)
