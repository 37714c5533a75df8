"""Random crystals of any space group, built on the package's exact operations.

A random crystal of group n (CONVENTIONS.md standard setting) is made in three steps:

1. a lattice obeying the metric constraints of the crystal system (cubic a = b = c;
   tetragonal a = b; hexagonal and trigonal, rhombohedral groups included, on
   hexagonal axes a = b, gamma = 120; monoclinic unique axis b; ...);
2. orbits of random points under the exact operations of the group (centring
   included), images wrapped into [0, 1) and duplicates merged by periodic
   distance. A point is drawn either in general position or on a symmetry
   element: the common fixed points of a few operations, found by solving
   (R - I) x = -(t + n) for a lattice vector n (exact: the fixed points of the
   ITA operations are multiples of 1/24 where they are isolated);
3. a scale chosen so that the volume per atom is ``volume_per_atom``, and every
   orbit accepted only if all interatomic distances (Cartesian, periodic, every
   lattice image) stay at least ``min_distance``.

The group the structure really has is then detected with spglib and recorded: it
contains the requested one and can be larger (a random arrangement can have more
symmetry than asked for).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive._operations import DEN
from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.symmetry._periodic import periodic_distances
from crystal_fourier.runtime.structure_io._elements import atomic_number
from crystal_fourier.runtime.structure_io._structures import Crystal, lattice_from_parameters

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from numpy.typing import ArrayLike

    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = [
    "EMT_SPECIES",
    "RandomCrystal",
    "random_crystal",
    "random_lattice",
    "orbit",
    "fixed_points",
    "operations_with_fixed_points",
    "MIN_TEST_DISTANCE",
    "crystals_of",
    "crystal_of",
]

EMT_SPECIES = ("Al", "Cu", "Ag", "Au", "Ni", "Pd", "Pt")
"""Default species: the metals ASE's EMT potential describes (labels.py)."""

MERGE_TOLERANCE = 1e-6
"""Fractional distance under which two images of a point are the same atom. The images of
an exact special position agree to ~1e-15; anything between this and ``min_distance``
is a near-special point, which the distance check rejects."""

_LINEAR_TOLERANCE = 1e-9
"""Round-off bound in the small linear systems of integer rotations and 1/24 translations (residuals,
singular values, distance to the 1/24 grid); their exact values are 0 or at least 1/24."""
_GENERAL_PROBABILITY = 0.5
_PATIENCE = 60  # consecutive rejected points after which a non-empty crystal is taken as full


@dataclass(frozen=True)
class RandomCrystal:
    """A random crystal and its symmetry.

    Attributes
    ----------
    crystal : Crystal
        Conventional cell in the standard setting (CONVENTIONS.md) of the requested
        group, or, when spglib finds more symmetry, the standardized cell of the group found.
    requested : int
        The group asked for, 1-230; the structure is invariant under its operations.
    number : int
        The group spglib detects at ``symprec`` (contains ``requested``; can be larger).
    symprec : float
        Tolerance of the detection, in Angstrom.
    seed : int or None
        The seed that reproduces it, when one was given.
    """

    crystal: Crystal
    requested: int
    number: int
    symprec: float
    seed: "int | None" = None


def random_lattice(number: int, rng: np.random.Generator, *, volume: float = 1.0) -> np.ndarray:
    """A random lattice with the metric constraints of group ``number``'s crystal system.

    Lengths are drawn with aspect ratios in [1/1.8, 1.8]; free angles in [70, 110]
    degrees (monoclinic beta in [90, 120]); then the cell is scaled to ``volume``.

    Parameters
    ----------
    number : int
        Space-group number 1-230 (standard setting: monoclinic unique axis b,
        trigonal and hexagonal on hexagonal axes).
    rng : numpy.random.Generator
    volume : float
        Cell volume in Angstrom^3.

    Returns
    -------
    numpy.ndarray, shape=(3, 3), dtype=float64
        Rows a, b, c in the canonical frame of :func:`lattice_from_parameters`.

    Examples
    --------
    >>> from crystal_fourier.runtime.structure_io._structures import cell_parameters
    >>> lattice = random_lattice(194, np.random.default_rng(0), volume=100.0)
    >>> p = cell_parameters(lattice)
    >>> bool(np.isclose(p[0], p[1]) and np.isclose(p[5], 120.0)), round(float(abs(np.linalg.det(lattice))), 6)
    (True, 100.0)
    """
    group = space_group(number)
    system = group.crystal_system
    a, b, c = rng.uniform(1.0, 1.8, size=3)
    alpha = beta = gamma = 90.0
    if system == "triclinic":
        for _ in range(100):
            alpha, beta, gamma = rng.uniform(70.0, 110.0, size=3)
            try:
                lattice_from_parameters(a, b, c, alpha, beta, gamma)
                break
            except CrystalFourierError:
                continue
    elif system == "monoclinic":
        beta = rng.uniform(90.0, 120.0)
    elif system == "tetragonal":
        b = a
    elif system in ("trigonal", "hexagonal"):
        b = a
        gamma = 120.0
    elif system == "cubic":
        b = c = a
    lattice = lattice_from_parameters(a, b, c, alpha, beta, gamma)
    return lattice * (volume / abs(np.linalg.det(lattice))) ** (1.0 / 3.0)


def orbit(number_or_group: int | SpaceGroup, point: ArrayLike, *, tolerance: float = MERGE_TOLERANCE) -> np.ndarray:
    """The orbit of a fractional point under a group's operations, wrapped and merged.

    Parameters
    ----------
    number_or_group : int or SpaceGroup
        Group number (standard setting) or a SpaceGroup in any setting.
    point : array_like, shape=(3,), dtype=float64
    tolerance : float
        Images closer than this (fractional, periodic, max-norm) are one point.

    Returns
    -------
    numpy.ndarray, shape=(multiplicity, 3), dtype=float64
        Distinct images in [0, 1), the given point's image first.

    Examples
    --------
    >>> len(orbit(225, [0.11, 0.23, 0.37])), len(orbit(225, [0, 0, 0])), len(orbit(227, [1/8, 1/8, 1/8]))
    (192, 4, 8)
    """
    group = space_group(number_or_group) if not hasattr(number_or_group, "arrays") else number_or_group
    rotations, translations_24 = group.arrays
    images = np.einsum("nij,j->ni", rotations, np.asarray(point, dtype=np.float64)) + translations_24 / DEN
    images = np.mod(images, 1.0)
    images[images >= 1.0] = 0.0
    difference = images[:, None, :] - images[None, :, :]
    close = np.max(np.abs(difference - np.round(difference)), axis=-1) <= tolerance
    # keep image i unless an earlier image j < i coincides with it
    duplicate = np.any(np.tril(close, k=-1), axis=1)
    return images[~duplicate]


@lru_cache(maxsize=None)
def operations_with_fixed_points(hall_number: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Every (R, t24 + 24 n), n in {-1, 0, 1}^3, R != I, that fixes some point (no screw or glide part).

    Parameters
    ----------
    hall_number : int
        The setting, a spglib Hall number 1-530.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Pairs (R, t): R shape=(3, 3) int64, t shape=(3,) int64 in 24ths (within -24 to 47).
    """
    rotations, translations_24 = space_group(hall_number=hall_number).arrays
    identity = np.eye(3, dtype=np.int64)
    shifts = DEN * np.array(list(itertools.product((-1, 0, 1), repeat=3)), dtype=np.int64)
    found = []
    for rotation, t24 in zip(rotations, translations_24, strict=True):
        if np.array_equal(rotation, identity):
            continue
        # (R - I) x = -t is solvable iff t lies in the column space of R - I
        matrix = rotation - identity
        outside = np.eye(3) - matrix @ np.linalg.pinv(matrix)
        candidates = t24 + shifts
        solvable = np.max(np.abs(candidates @ outside.T), axis=1) < _LINEAR_TOLERANCE
        found.extend((rotation, candidate) for candidate in candidates[solvable])
    return tuple(found)


def fixed_points(operations: Sequence[tuple[np.ndarray, np.ndarray]]) -> "tuple[np.ndarray, np.ndarray] | None":
    """Common fixed points of affine operations x -> R x + t24/24 (not reduced mod Z^3).

    Solves the stacked system (R_i - I) x = -t_i. Isolated solutions are snapped to
    the 1/24 grid when they lie on it (they do for the ITA operations).

    Parameters
    ----------
    operations : iterable of (rotation, translation_24)
        ``rotation`` shape=(3, 3) int, ``translation_24`` shape=(3,) int (any integers:
        a lattice translation may be folded in).

    Returns
    -------
    tuple of numpy.ndarray or None
        ``(x0, basis)``: a particular fixed point, shape=(3,), and an orthonormal
        basis of the directions along which it may move, shape=(d, 3), d = 0..3;
        ``None`` when the operations have no common fixed point.

    Examples
    --------
    >>> x0, basis = fixed_points([(-np.eye(3, dtype=int), [12, 0, 0])])   # inversion at (1/4, 0, 0)
    >>> x0.tolist(), basis.shape
    ([0.25, 0.0, 0.0], (0, 3))
    """
    matrix = []
    rhs = []
    for rotation, translation_24 in operations:
        matrix.append(np.asarray(rotation, dtype=np.float64) - np.eye(3))
        rhs.append(-np.asarray(translation_24, dtype=np.float64) / DEN)
    matrix = np.vstack(matrix)
    rhs = np.concatenate(rhs)
    x0, *_ = np.linalg.lstsq(matrix, rhs, rcond=None)
    if np.max(np.abs(matrix @ x0 - rhs)) > _LINEAR_TOLERANCE:
        return None
    _, singular, vt = np.linalg.svd(matrix)
    rank = int(np.sum(singular > _LINEAR_TOLERANCE))
    basis = vt[rank:]
    if rank == 3:
        snapped = np.round(x0 * DEN) / DEN
        if np.max(np.abs(snapped - x0)) < _LINEAR_TOLERANCE:
            x0 = snapped
    return x0 + 0.0, basis


def _candidate_point(group, rng: np.random.Generator, max_atoms: int) -> np.ndarray:
    """A random point: general, or on the common fixed set of 1-3 random operations."""
    operations = operations_with_fixed_points(group.hall_number)
    general_fits = len(group.operations) <= max_atoms
    if not operations or (general_fits and rng.random() < _GENERAL_PROBABILITY):  # P1, screws/glides only
        return rng.random(3)
    stabilizer = [operations[int(rng.integers(len(operations)))]]
    x0, basis = fixed_points(stabilizer)
    # Impose further operations when they share fixed points: a site of higher symmetry.
    for _ in range(int(rng.integers(0, 3))):
        if len(basis) == 0:
            break
        extra = operations[int(rng.integers(len(operations)))]
        solution = fixed_points(stabilizer + [extra])
        if solution is not None:
            stabilizer.append(extra)
            x0, basis = solution
    return x0 + (rng.random(len(basis)) * 2.0) @ basis if len(basis) else x0.copy()


def random_crystal(
    group: SpaceGroup | int | str,
    *,
    seed: "int | np.random.Generator | None" = None,
    species: Iterable[str | int] = EMT_SPECIES,
    max_atoms: int = 32,
    min_distance: float = 2.0,
    volume_per_atom: float = 18.0,
    symprec: float | None = None,
    max_tries: int = 400,
) -> RandomCrystal:
    """A random crystal of ``group`` with atoms at general and special positions.

    The structure is exactly invariant under every operation of the group
    (standard setting): each orbit is closed under the operations by construction.
    The same seed gives the same crystal on every platform numpy supports.

    Parameters
    ----------
    group : int or str
        Space group number 1-230 or symbol.
    seed : int or numpy.random.Generator, optional
    species : sequence of str or int
        Elements to draw from, one per orbit (default: the EMT metals).
    max_atoms : int
        Most atoms in the conventional cell.
    min_distance : float
        Least interatomic distance in Angstrom, all lattice images included.
    volume_per_atom : float
        Cell volume per atom in Angstrom^3 after scaling.
    symprec : float, optional
        spglib tolerance (Angstrom) for the group the crystal really has; default the
        standardization's :data:`~crystal_fourier.runtime.symmetry._standardization.DEFAULT_SYMPREC`.
        When that group is not the requested one, the crystal is replaced by its
        standardized, exactly symmetric cell (atoms within ``symprec`` of a symmetric
        arrangement move onto it, so distances may drop below ``min_distance`` by up
        to 2 ``symprec``).
    max_tries : int
        Candidate points tried before giving up.

    Raises
    ------
    CrystalFourierError
        If no orbit of the group fits in ``max_atoms`` (e.g. Ia-3d needs 16 atoms).

    Examples
    --------
    >>> made = random_crystal(225, seed=1)
    >>> made.requested, made.number, made.crystal.n_atoms
    (225, 225, 16)
    >>> random_crystal(225, seed=1).crystal.positions.tolist() == made.crystal.positions.tolist()
    True
    """
    from crystal_fourier.runtime.symmetry._standardization import detect_group, standardize

    if symprec is None:
        from crystal_fourier.runtime.symmetry._standardization import DEFAULT_SYMPREC as symprec
    group = space_group(group)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    numbers = [atomic_number(s) for s in species]
    if not numbers:
        raise CrystalFourierError("species must name at least one element")
    if max_atoms < 1:
        raise CrystalFourierError(f"max_atoms must be at least 1, got {max_atoms}")
    shape = random_lattice(group.number, rng, volume=1.0)
    target = int(rng.integers(1, max_atoms + 1))
    positions = np.zeros((0, 3))
    kinds: list[int] = []
    failures = 0
    for _ in range(max_tries):
        if len(positions) >= target or (len(positions) and failures >= _PATIENCE):
            break
        failures += 1
        point = _candidate_point(group, rng, max_atoms)
        images = orbit(group, point)
        total = len(positions) + len(images)
        if total > max_atoms:
            continue
        # The scale grows with the atom count, so distances accepted earlier only grow.
        lattice = shape * (total * volume_per_atom) ** (1.0 / 3.0)
        candidate = np.vstack([positions, images])
        distances = periodic_distances(lattice, images, candidate)
        distances[np.arange(len(images)), len(positions) + np.arange(len(images))] = np.inf
        if np.min(distances) < min_distance:
            continue
        failures = 0
        positions = candidate
        kinds.extend([numbers[int(rng.integers(len(numbers)))]] * len(images))
    if len(positions) == 0:
        raise CrystalFourierError(
            f"could not place any orbit of group {group.number} ({group.symbol}) with max_atoms={max_atoms} "
            f"and min_distance={min_distance} A in {max_tries} tries: raise max_atoms "
            f"(the smallest orbit of {group.symbol} may need more atoms) or lower min_distance")
    lattice = shape * (len(positions) * volume_per_atom) ** (1.0 / 3.0)
    crystal = Crystal(lattice, positions, np.array(kinds, dtype=np.int64))
    number = detect_group(crystal, symprec=symprec)
    if number != group.number:
        # More symmetry than asked for (within symprec): store the exactly symmetric cell of the group
        # found, so that labels and the model's standardization see the same structure.
        crystal = standardize(crystal, symprec=symprec, handedness="keep").crystal
    return RandomCrystal(crystal=crystal, requested=group.number, number=number, symprec=symprec,
                         seed=None if isinstance(seed, np.random.Generator) else seed)


MIN_TEST_DISTANCE = 1.2
"""Angstrom: test crystals whose atoms come closer (nearest image of the fractional difference) are skipped."""


def crystals_of(number: int, *, seeds: Iterable[int] = range(200),
                lattice: Callable[[np.random.Generator, int], np.ndarray] | None = None,
                min_distance: float = MIN_TEST_DISTANCE) -> Iterator[Crystal]:
    """Crystals of exactly space group ``number`` (standard setting): a special orbit (Cu) and a general one (Al).

    The test crystals of the package's own tests and benchmarks, and of a user's: small, deterministic, and
    of exactly the group asked for.

    For each seed, in order: the special point is drawn on the common fixed set of 1-3 random
    operations of the group (as :func:`random_crystal` does), the general
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
        positions; default :func:`random_lattice` of the group's system at
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
    from crystal_fourier.runtime.symmetry._standardization import detect_group   # it sits above this module

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
    seeds = tuple(seeds)
    for crystal in crystals_of(number, seeds=seeds, lattice=lattice, min_distance=min_distance):
        return crystal
    raise CrystalFourierError(f"no crystal of exactly group {number} in {len(seeds)} seeds "
                              f"(atoms at least {min_distance} A apart)")
