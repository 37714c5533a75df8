"""Orbits of frequencies under the point group, with exact member phases.

The orbits are the connected components of the dual graph: the sets
{R^T k : R in P}. Each orbit is named by its representative, the member that
comes first in the frequency set's canonical order. For a present orbit with
representative k0, the member m = R^T k0 carries the phase phi_m = 24 (k0 . t)
mod 24, the same for every operation mapping k0 to m (CONVENTIONS.md: that is
exactly the absence rule), and the orbit function is
psi(x) = (1/|O|) sum_{m in O} e(phi_m / 24) e(m . x).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crystal_fourier.derive._dual_graphs import DualGraph

__all__ = ["Orbit", "OrbitDecomposition", "orbit_decomposition"]


@dataclass(frozen=True, slots=True)
class Orbit:
    """One orbit of frequencies, as exact integers.

    Attributes
    ----------
    representative : tuple of 3 ints
        The first member in canonical order.
    members : tuple of (h, k, l) tuples
        All members, in canonical order.
    phases_24 : tuple of ints or None
        phi_m for each member (24ths, mod 24); None for an absent orbit.
    absent : bool
        Systematically absent: some operation fixes k0 with k0.t not integer.
    witness : int or None
        Index of the first operation that proves the absence.
    centric : bool
        -O = O.
    """

    representative: tuple[int, int, int]
    members: tuple[tuple[int, int, int], ...]
    phases_24: tuple[int, ...] | None
    absent: bool
    witness: int | None
    centric: bool


@dataclass(frozen=True, slots=True, eq=False)
class OrbitDecomposition:
    """Orbits, absences and phases of one group on one frequency set, as arrays.

    Attributes
    ----------
    graph : DualGraph
    orbit_of : np.ndarray
        shape=(n_frequencies,), int64: orbit index of each frequency (orbits are
        numbered in the canonical order of their representatives).
    representative : np.ndarray
        shape=(n_orbits,), int64: frequency index of each representative.
    absent : np.ndarray
        shape=(n_orbits,), bool.
    witness : np.ndarray
        shape=(n_orbits,), int64: operation index proving absence, -1 if present.
    centric : np.ndarray
        shape=(n_orbits,), bool.
    partner : np.ndarray
        shape=(n_orbits,), int64: orbit index of -O (itself when centric).
    phase_24 : np.ndarray
        shape=(n_frequencies,), int64: phi_m relative to the representative of
        m's orbit; 0 for members of absent orbits (their phases are inconsistent).
    """

    graph: DualGraph
    orbit_of: np.ndarray
    representative: np.ndarray
    absent: np.ndarray
    witness: np.ndarray
    centric: np.ndarray
    partner: np.ndarray
    phase_24: np.ndarray

    def __len__(self) -> int:
        return len(self.representative)

    def members(self, orbit: int) -> np.ndarray:
        """Frequency indices of the members of ``orbit``, ascending.

        Parameters
        ----------
        orbit : int
            Index of the orbit.

        Returns
        -------
        numpy.ndarray
            int64 indices into the frequency set.
        """
        return np.flatnonzero(self.orbit_of == orbit)

    def orbit(self, index: int) -> Orbit:
        """The orbit ``index`` as an :class:`Orbit` value.

        Parameters
        ----------
        index : int
            Index of the orbit.

        Returns
        -------
        Orbit
            Representative, members, their phases in 24ths (None when absent), absence, witness and
            centric flag.
        """
        hkl = self.graph.frequencies.hkl
        members = self.members(index)
        absent = bool(self.absent[index])
        return Orbit(
            representative=tuple(int(v) for v in hkl[self.representative[index]]),
            members=tuple(tuple(int(v) for v in hkl[m]) for m in members),
            phases_24=None if absent else tuple(int(self.phase_24[m]) for m in members),
            absent=absent,
            witness=None if self.witness[index] < 0 else int(self.witness[index]),
            centric=bool(self.centric[index]),
        )

    def orbits(self) -> tuple[Orbit, ...]:
        """All orbits as :class:`Orbit` values, in canonical order."""
        return tuple(self.orbit(i) for i in range(len(self)))


def orbit_decomposition(graph: DualGraph) -> OrbitDecomposition:
    """Decompose a frequency set into orbits, absences and exact phases.

    Integer array work only: the orbit of k is the row ``graph.image[k]``, so its
    canonical representative is the row minimum; k is absent iff some operation
    with R^T k = k has k.t not integer.

    Parameters
    ----------
    graph : DualGraph
        The dual graph of a group on a frequency set.

    Returns
    -------
    OrbitDecomposition
        Orbits (representative = smallest index), absence flags and witnesses, centric flags, Friedel
        partners and the phase (in 24ths) of each member relative to its representative; read-only
        arrays.

    Examples
    --------
    >>> from crystal_fourier.derive import space_group, frequency_set, dual_graph
    >>> g = space_group(227)
    >>> d = orbit_decomposition(dual_graph(g, frequency_set(g, 5)))
    >>> present = ~d.absent
    >>> int(present.sum()) - 1, int(present[d.orbit_of].sum()) - 1  # without k = 0
    (7, 106)
    """
    image, phase_24 = graph.image, graph.phase_24
    n_frequencies, n_operations = image.shape
    root = image.min(axis=1)
    representative, orbit_of = np.unique(root, return_inverse=True)
    orbit_of = orbit_of.reshape(-1)

    stabilizes = image == np.arange(n_frequencies)[:, None]
    violates = stabilizes & (phase_24 != 0)
    absent_frequency = violates.any(axis=1)
    first_violation = np.where(absent_frequency, violates.argmax(axis=1), -1)
    absent = absent_frequency[representative]
    witness = first_violation[representative]

    # phi_m: the phase of the edge k0 -> m from the representative (any edge; consistent when present).
    phase_of_member = np.zeros(n_frequencies, dtype=np.int64)
    phase_of_member[image[representative].reshape(-1)] = phase_24[representative].reshape(-1)
    phase_of_member[absent[orbit_of]] = 0

    negatives = graph.frequencies.index(-graph.frequencies.hkl)
    partner = orbit_of[negatives[representative]]
    centric = partner == np.arange(len(representative))

    for array in (orbit_of, representative, absent, witness, centric, partner, phase_of_member):
        array.setflags(write=False)
    return OrbitDecomposition(graph, orbit_of, representative, absent, witness, centric, partner, phase_of_member)
