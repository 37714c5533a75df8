"""Reciprocal-space symmetry as International Tables Vol. B, A1.4.4 lists it: equivalent reflections,
phase shifts, centric zones with their restricted phases, and epsilon factors.

For the structure factor F(h) = sum_j f_j e(h . x_j) of a structure invariant under (R, t), the
reflection R^T h is equivalent to h with

    F(R^T h) = e(-h . t) F(h),   i.e.  |F(R^T h)| = |F(h)|,  phi(R^T h) = phi(h) - 2 pi h . t.

A reflection is **centric** when some R maps it to its Friedel mate, R^T h = -h; then
F(-h) = conj F(h) forces phi(h) = pi h . t (mod pi): the phase is restricted to pi h.t or
pi h.t + pi. The **epsilon factor** of h is the number of point-group operations that fix it,
#{R : R^T h = h} (Vol. B; the centring translations are not counted); gemmi's ``epsilon_factor``
also counts them, ``epsilon_factor_without_centering`` does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from crystal_fourier.derive._operations import DEN
from crystal_fourier.derive._reflection_conditions import (
    _fixed_lattice,
    _form_text,
    _label,
    _lattice_key,
    zone_coordinates,
)
from crystal_fourier.derive._space_groups import SpaceGroup, space_group

__all__ = ["CentricZone", "centric_zones", "epsilon_factors", "centric_flags", "restricted_phase",
           "equivalent_reflections"]


@dataclass(frozen=True, slots=True)
class CentricZone:
    """A zone {h : R^T h = -h} of centric reflections and its restricted phase.

    Attributes
    ----------
    zone : str
        Label as in :class:`~crystal_fourier.derive._reflection_conditions.ZoneCondition` (``'hkl'``
        when the group is centrosymmetric).
    basis : tuple of (h, k, l)
    letters : str
    phase_numerators : tuple of int
        The restricted phase is phi = 2 pi (sum_j a_j n_j) / 48 mod pi, a_j these numerators and n
        the zone coordinates (phi = pi h . t with t the operation's translation).
    """

    zone: str
    basis: tuple[tuple[int, int, int], ...]
    letters: str
    phase_numerators: tuple[int, ...]

    @property
    def text(self) -> str:
        """E.g. ``'h0l: phi = 0 or pi'`` or ``'hk0: phi = pi(h+k)/2 mod pi'``."""
        g = np.gcd.reduce([*self.phase_numerators, 48])
        numerators = [a // g for a in self.phase_numerators]
        denominator = 48 // g     # phi / (2 pi) = form / denominator; phi / pi = 2 form / denominator
        if not any(a % denominator for a in numerators) or denominator == 1:
            return f"{self.zone}: phi = 0 or pi"
        g2 = np.gcd.reduce([*(2 * a for a in numerators), denominator])
        form = _form_text([2 * a // g2 for a in numerators], self.letters)
        shown = denominator // g2
        form = form if len(form) == 1 else f"({form})"
        return f"{self.zone}: phi = pi*{form}/{shown} mod pi" if shown != 1 else f"{self.zone}: phi = pi*{form} mod pi"


def _transpose(r):
    return tuple(tuple(r[j][i] for j in range(3)) for i in range(3))


@lru_cache(maxsize=None)
def _centric_zones_of_hall(hall_number: int) -> tuple[CentricZone, ...]:
    group = space_group(hall_number=hall_number)
    found = {}
    for op in group.operations:
        minus = tuple(tuple(-v for v in row) for row in op.rotation)     # R^T h = -h  <=>  (-R)^T h = h
        basis = _fixed_lattice(minus)
        if not basis:
            continue
        # orbit key: zones equivalent under the point group are listed once
        images = {_lattice_key([tuple(sum(_transpose(r)[i][j] * b[j] for j in range(3)) for i in range(3))
                                for b in basis]) for r in group.rotations}
        key = min(images)
        if key in found and len(found[key].basis) >= len(basis):
            continue
        label, letters = _label(basis)
        # phi = pi h.t = 2 pi (h.t24) / 48; on the zone h = sum n_j b_j: a_j = b_j . t24.
        numerators = tuple(sum(b[i] * op.translation_24[i] for i in range(3)) for b in basis)
        found[key] = CentricZone(label, basis, letters, numerators)
    zones = sorted(found.values(), key=lambda z: (-len(z.basis), z.zone))
    # A zone inside a larger centric zone adds nothing (its restriction is the larger zone's there).
    maximal = [z for z in zones if not any(len(w.basis) > len(z.basis) and
                                           all(zone_coordinates(w.basis, b) is not None for b in z.basis)
                                           for w in zones)]
    return tuple(maximal)


def centric_zones(group: "int | str | SpaceGroup", *, hall_number: int | None = None) -> tuple[CentricZone, ...]:
    """The centric zones of a setting, one per class of equivalent zones, with their restricted phases.

    Parameters
    ----------
    group : int, str or SpaceGroup
        Space-group number, Hermann-Mauguin symbol or group.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.

    Returns
    -------
    tuple of CentricZone
        The classes of centric zones with their restricted phases.

    Examples
    --------
    >>> [z.text for z in centric_zones("P2_1/c")]
    ['hkl: phi = 0 or pi']
    >>> [z.text for z in centric_zones("P2_12_12_1")]
    ['0kl: phi = pi*k/2 mod pi', 'h0l: phi = pi*l/2 mod pi', 'hk0: phi = pi*h/2 mod pi']
    """
    return _centric_zones_of_hall(space_group(group, hall_number=hall_number).hall_number)


def _images(group: SpaceGroup, hkl: np.ndarray) -> np.ndarray:
    rotations, _ = group.arrays
    # (R^T h)_i = sum_j R[j, i] h_j, for every operation: shape (n_ops, n_hkl, 3)
    return np.einsum("gji,nj->gni", rotations, hkl)


def epsilon_factors(group: SpaceGroup, hkl: ArrayLike, *, with_centring: bool = False) -> np.ndarray:
    """#{R in P : R^T h = h} for each h (``hkl`` shape=(n, 3) int), shape=(n,) int64.

    ``with_centring`` counts every operation of G/Z^3 (gemmi's ``epsilon_factor``).

    Parameters
    ----------
    group : SpaceGroup
        The space group.
    hkl : array_like
        shape=(n, 3), integer Miller indices.
    with_centring : bool, default False
        Count all operations of G/Z^3 instead of the point-group operations only.

    Returns
    -------
    numpy.ndarray
        shape=(n,), int64: the epsilon factor of each reflection.

    Examples
    --------
    >>> int(epsilon_factors(space_group(14), [[0, 2, 0]])[0]), int(epsilon_factors(space_group(14), [[1, 2, 3]])[0])
    (2, 1)
    """
    hkl = np.asarray(hkl, dtype=np.int64).reshape(-1, 3)
    fixed = np.all(_images(group, hkl) == hkl[None], axis=2)
    count = fixed.sum(axis=0)
    return count if with_centring else count // group.n_centring


def centric_flags(group: SpaceGroup, hkl: ArrayLike) -> np.ndarray:
    """True where some R maps h to -h (``hkl`` shape=(n, 3) int), shape=(n,) bool.

    Parameters
    ----------
    group : SpaceGroup
        The space group.
    hkl : array_like
        shape=(n, 3), integer Miller indices.

    Returns
    -------
    numpy.ndarray
        shape=(n,), bool: True for centric reflections.
    """
    hkl = np.asarray(hkl, dtype=np.int64).reshape(-1, 3)
    return np.any(np.all(_images(group, hkl) == -hkl[None], axis=2), axis=0)


def restricted_phase(group: SpaceGroup, hkl: Sequence[int]) -> Fraction | None:
    """phi / (2 pi) modulo 1/2 of a centric reflection (phi = pi h . t), or None when h is acentric.

    Parameters
    ----------
    group : SpaceGroup
        The space group.
    hkl : sequence of int
        The Miller indices (h, k, l).

    Returns
    -------
    fractions.Fraction or None
        The restricted phase in turns, in [0, 1/2), from the first operation with R^T h = -h.

    Examples
    --------
    >>> restricted_phase(space_group("P2_12_12_1"), (0, 1, 2)), restricted_phase(space_group(1), (1, 0, 0))
    (Fraction(1, 4), None)
    """
    h = tuple(int(v) for v in hkl)
    for op in group.operations:
        image = tuple(sum(op.rotation[j][i] * h[j] for j in range(3)) for i in range(3))
        if image == tuple(-v for v in h):
            return Fraction(sum(a * b for a, b in zip(h, op.translation_24, strict=True)), 2 * DEN) % Fraction(1, 2)
    return None


def equivalent_reflections(group: SpaceGroup, hkl: Sequence[int]) -> list[tuple[tuple[int, int, int], Fraction]]:
    """Each R^T h with its phase shift -h . t (in turns, modulo 1), one per distinct image, in operation order.

    Parameters
    ----------
    group : SpaceGroup
        The space group.
    hkl : sequence of int
        The Miller indices (h, k, l).

    Returns
    -------
    list of (tuple of int, fractions.Fraction)
        Each distinct image R^T h with the phase shift -h.t in turns, in [0, 1), of its first operation.

    Examples
    --------
    >>> equivalent_reflections(space_group(4), (1, 1, 1))    # P2_1: (-h, k, -l) with -k/2
    [((1, 1, 1), Fraction(0, 1)), ((-1, 1, -1), Fraction(1, 2))]
    """
    h = tuple(int(v) for v in hkl)
    seen = {}
    for op in group.operations:
        image = tuple(sum(op.rotation[j][i] * h[j] for j in range(3)) for i in range(3))
        shift = Fraction(-sum(a * b for a, b in zip(h, op.translation_24, strict=True)), DEN) % 1
        seen.setdefault(image, shift)
    return list(seen.items())
