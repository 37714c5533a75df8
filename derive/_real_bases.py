"""The real symmetry-adapted basis: one real function per complex dimension.

Every basis function is stored in one exact form, a sum of cosines

    f(x) = sum_j cos(2 pi (m_j . x) + 2 pi p_j / 48),

with integer frequencies m_j and integer phases p_j in 48ths (mod 48). Per
CONVENTIONS.md, with psi_O = sum_{m in O} e(phi_m / 24) e(m . x) the orbit
function of a present orbit O (normalised here so each plane wave has unit
weight):

* a centric orbit (-O = O) gives f = e(-c/48) psi_O / 2 with c = phi_{-k0}, which
  is real; its terms are one m of each pair {m, -m} with p = 2 phi_m - c
  (the constant function k = 0 is cos(0) = 1);
* a pair O != -O gives Re psi_O (p = 2 phi_m) and Im psi_O (p = 2 phi_m - 12,
  since sin a = cos(a - pi/2)), attached to whichever of O, -O comes first.

Functions are ordered by orbit, then 're' before 'im'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crystal_fourier.derive._orbits import OrbitDecomposition

__all__ = ["PHASE_DEN", "RealFunction", "RealBasis", "real_basis"]

PHASE_DEN = 48
"""Denominator of the real basis' phases: centric orbits need half of a 24th."""


@dataclass(frozen=True, slots=True)
class RealFunction:
    """One real basis function f(x) = sum_j cos(2 pi m_j.x + 2 pi p_j/48).

    Attributes
    ----------
    orbit : int
        Index of the orbit it belongs to.
    part : str
        'centric', 're' or 'im'.
    frequencies : tuple of (h, k, l)
        m_j, in canonical order.
    phases_48 : tuple of int
        p_j in [0, 48).
    """

    orbit: int
    part: str
    frequencies: tuple[tuple[int, int, int], ...]
    phases_48: tuple[int, ...]

    def __call__(self, positions) -> np.ndarray:
        """Evaluate at fractional ``positions`` shape=(..., 3), float64."""
        x = np.asarray(positions, dtype=np.float64)
        m = np.array(self.frequencies, dtype=np.float64)
        p = np.array(self.phases_48, dtype=np.float64)
        return np.cos(2 * np.pi * (x @ m.T + p / PHASE_DEN)).sum(axis=-1)


@dataclass(frozen=True, slots=True, eq=False)
class RealBasis:
    """All real basis functions of one group and frequency set, as flat arrays.

    Attributes
    ----------
    decomposition : OrbitDecomposition
    orbit : np.ndarray
        shape=(dim,), int64: orbit of each function.
    part : tuple of str
        'centric', 're' or 'im' per function.
    term_function, term_frequency, term_phase_48 : np.ndarray
        shape=(n_terms,), int64: the cosine terms, grouped by function; the
        frequency is an index into the frequency set.
    """

    decomposition: OrbitDecomposition
    orbit: np.ndarray
    part: tuple[str, ...]
    term_function: np.ndarray
    term_frequency: np.ndarray
    term_phase_48: np.ndarray

    def __len__(self) -> int:
        return len(self.orbit)

    def function(self, index: int) -> RealFunction:
        """Function ``index`` as a :class:`RealFunction` value.

        Parameters
        ----------
        index : int
            Index of the function in this basis.

        Returns
        -------
        RealFunction
            Its orbit, part and cosine terms (frequencies and phases in 48ths).
        """
        rows = self.term_function == index
        hkl = self.decomposition.graph.frequencies.hkl[self.term_frequency[rows]]
        return RealFunction(int(self.orbit[index]), self.part[index],
                            tuple(tuple(int(v) for v in row) for row in hkl),
                            tuple(int(p) for p in self.term_phase_48[rows]))

    def functions(self) -> tuple[RealFunction, ...]:
        """All functions, in order."""
        return tuple(self.function(i) for i in range(len(self)))

    def __call__(self, positions) -> np.ndarray:
        """Evaluate all functions at fractional ``positions`` shape=(n, 3): shape=(n, dim), float64."""
        x = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
        hkl = self.decomposition.graph.frequencies.hkl[self.term_frequency].astype(np.float64)
        terms = np.cos(2 * np.pi * (x @ hkl.T + self.term_phase_48 / PHASE_DEN))
        values = np.zeros((len(x), len(self)))
        np.add.at(values.T, self.term_function, terms.T)
        return values


def real_basis(decomposition: OrbitDecomposition) -> RealBasis:
    """The real basis of CONVENTIONS.md, exact integer phases in 48ths.

    Its length is the number of present orbits (real dimension = complex
    dimension).

    Parameters
    ----------
    decomposition : OrbitDecomposition
        The orbit decomposition of a frequency set.

    Returns
    -------
    RealBasis
        One function per present centric orbit (``'centric'``) and two per pair of Friedel-partner
        orbits (``'re'``, ``'im'``), with integer phases in 48ths.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> len(basis(1, 2, "box").real), len(basis(1, 5).real)
    (125, 515)
    >>> f = basis(2, 1, "box").real.function(1)  # P-1, orbit {(1,0,0), (-1,0,0)}
    >>> f.part, f.frequencies, f.phases_48
    ('centric', ((1, 0, 0),), (0,))
    """
    hkl = decomposition.graph.frequencies.hkl
    negatives = decomposition.graph.frequencies.index(-hkl)
    phase_24 = decomposition.phase_24
    orbit_rows = []
    parts = []
    term_function, term_frequency, term_phase = [], [], []
    order = np.argsort(decomposition.orbit_of, kind="stable")
    boundaries = np.searchsorted(decomposition.orbit_of[order], np.arange(len(decomposition) + 1))
    for orbit in range(len(decomposition)):
        if decomposition.absent[orbit]:
            continue
        members = order[boundaries[orbit]:boundaries[orbit + 1]]
        if decomposition.centric[orbit]:
            c = int(phase_24[negatives[decomposition.representative[orbit]]])
            half = members[members <= negatives[members]]
            pieces = [("centric", half, (2 * phase_24[half] - c) % 48)]
        elif decomposition.partner[orbit] > orbit:
            pieces = [("re", members, (2 * phase_24[members]) % 48),
                      ("im", members, (2 * phase_24[members] - 12) % 48)]
        else:
            continue
        for part, frequencies, phases in pieces:
            index = len(parts)
            parts.append(part)
            orbit_rows.append(orbit)
            term_function.append(np.full(len(frequencies), index, dtype=np.int64))
            term_frequency.append(np.asarray(frequencies, dtype=np.int64))
            term_phase.append(np.asarray(phases, dtype=np.int64))
    arrays = [np.asarray(orbit_rows, dtype=np.int64)] + [
        np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        for chunks in (term_function, term_frequency, term_phase)
    ]
    for array in arrays:
        array.setflags(write=False)
    return RealBasis(decomposition, arrays[0], tuple(parts), *arrays[1:])
