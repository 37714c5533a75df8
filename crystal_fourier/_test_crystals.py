"""Test crystals of exactly one space group (:func:`crystals_of`, :func:`crystal_of`), re-exported by
:mod:`crystal_fourier.testing`: the one builder the tests and benchmarks share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["MIN_TEST_DISTANCE", "crystals_of", "crystal_of"]



MIN_TEST_DISTANCE = 1.2
"""Angstrom: test crystals whose atoms come closer (nearest image of the fractional difference) are skipped."""


def crystals_of(number: int, *, seeds: Iterable[int] = range(200),
                lattice: Callable[[np.random.Generator, int], np.ndarray] | None = None,
                min_distance: float = MIN_TEST_DISTANCE) -> Iterator[Crystal]:
    """Crystals of exactly space group ``number`` (standard setting): a special orbit (Cu) and a general one (Al).

    For each seed, in order: the special point is drawn on the common fixed set of 1-3 random
    operations of the group (as :func:`~crystal_fourier.runtime.random_crystal` does), the general
    point uniformly; both are expanded into orbits, put on ``lattice(rng, n_atoms)``, and the crystal
    is yielded when its atoms are at least ``min_distance`` apart (nearest image of each fractional
    difference) and spglib detects exactly ``number`` (a special point can raise the symmetry).

    Parameters
    ----------
    number : int
        Space-group number, 1-230.
    seeds : iterable of int
        numpy seeds tried in order (default 0-199); the same seed gives the same crystal.
    lattice : callable, optional
        ``(rng, n_atoms) -> shape=(3, 3) float64`` lattice rows (Angstrom), drawn after the
        positions; default :func:`~crystal_fourier.runtime.random_lattice` of the group's system at
        18 cubic Angstrom per atom.
    min_distance : float
        Closest approach of two atoms, Angstrom.

    Yields
    ------
    Crystal
        Lazily, one per accepted seed.

    Examples
    --------
    >>> from crystal_fourier.runtime import detect_group
    >>> detect_group(crystal_of(227))
    227
    """
    from crystal_fourier.derive._space_groups import space_group
    from crystal_fourier.runtime.structure_io._structures import Crystal
    from crystal_fourier.runtime.symmetry._random_crystals import _candidate_point, orbit, random_lattice
    from crystal_fourier.runtime.symmetry._standardization import detect_group

    if lattice is None:
        def lattice(rng, n_atoms):
            return random_lattice(number, rng, volume=18.0 * n_atoms)

    group = space_group(number)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        special = orbit(group, _candidate_point(group, rng, 0))
        general = orbit(group, rng.random(3))
        positions = np.vstack([special, general])
        cell = lattice(rng, len(positions))
        gap = positions[:, None, :] - positions[None, :, :]
        gap -= np.round(gap)
        distance = np.linalg.norm(gap @ cell, axis=-1) + np.eye(len(positions)) * 1e9
        if distance.min() < min_distance:
            continue
        crystal = Crystal(cell, positions, [29] * len(special) + [13] * len(general))
        if detect_group(crystal) == number:
            yield crystal


def crystal_of(number: int, *, seeds: Iterable[int] = range(200),
               lattice: Callable[[np.random.Generator, int], np.ndarray] | None = None,
               min_distance: float = MIN_TEST_DISTANCE) -> Crystal:
    """The first of :func:`crystals_of` (same parameters): one crystal of exactly group ``number``.

    Parameters
    ----------
    number : int
        Space-group number, 1-230.
    seeds : iterable of int, default range(200)
        numpy seeds tried in order.
    lattice : callable, optional
        ``(rng, n_atoms) -> shape=(3, 3)`` lattice rows (Angstrom); as for :func:`crystals_of`.
    min_distance : float, default MIN_TEST_DISTANCE
        Closest approach of two atoms, Angstrom.

    Returns
    -------
    Crystal

    Raises
    ------
    CrystalFourierError
        No seed gives a crystal of exactly that group.

    Examples
    --------
    >>> crystal_of(2).n_atoms
    3
    """
    from crystal_fourier.errors import CrystalFourierError

    seeds = tuple(seeds)
    for crystal in crystals_of(number, seeds=seeds, lattice=lattice, min_distance=min_distance):
        return crystal
    raise CrystalFourierError(f"no crystal of exactly group {number} in {len(seeds)} seeds "
                              f"(atoms at least {min_distance} A apart)")
