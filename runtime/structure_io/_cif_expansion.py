"""Expansion of CIF atom sites by the file's operations: images, merging, size and overlap checks.

Split from :mod:`~crystal_fourier.runtime.structure_io._cif` (the reader), which decides the
operations and the origin choice; this module applies them. Operations are deduplicated and
bounded (:data:`MAX_CIF_OPERATIONS`) before anything is expanded: the images of one site are
compared pairwise (operations squared), so 6,000 copies of 'x,y,z' would otherwise take gigabytes.
"""

from __future__ import annotations

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._close_pairs import close_pairs
from crystal_fourier.runtime.structure_io._coincident import COINCIDENT_DISTANCE, coincident_atoms_error, periodic_gap
from crystal_fourier.runtime.structure_io._elements import ELEMENTS

__all__ = ["MAX_CIF_ATOMS", "MAX_CIF_OPERATIONS", "MERGE_TOLERANCE", "OVERLAP_DISTANCE", "distinct_operations",
           "expand_sites", "has_overlap", "too_many_atoms"]

MERGE_TOLERANCE = 1e-2
"""Cartesian distance (Angstrom) under which two symmetry images of one site are one atom. CIF
coordinates are printed to 4-8 digits (0.3333 for 1/3), so images of a special position miss
each other by up to ~1e-3 A. Images of two different sites merge only within COINCIDENT_DISTANCE."""

OVERLAP_DISTANCE = 0.5
"""Angstrom. Two atoms closer than this (and farther than :data:`MERGE_TOLERANCE`) cannot
both be real (the shortest bond, H-H, is 0.74 A): an origin choice that produces them is
the wrong one."""

MAX_CIF_ATOMS = 1_000_000
"""Most atoms one CIF may expand to (sites times their symmetry images): a bound on time and memory
(reading takes about 1 s per 100,000 atoms). A larger file is refused with one line before its
sites are read when it has more sites than this, else as soon as the expansion passes it."""

_IMAGE_BLOCK = 1 << 20
"""Site images (operations squared per site) compared at once when merging a site's own images."""
_CANDIDATES_PER_ATOM = 4096
"""Most candidate neighbours examined per atom when merging images across sites; only a crowd of
coincident sites reaches it (a real crystal has a few atoms within 0.5 A bins)."""

MAX_CIF_OPERATIONS = 1536
"""Most distinct symmetry operations one CIF may list: 192 (Fm-3m and every other cubic F group, centring
included) times 8, room for the group of a 2x2x2 supercell setting. Duplicates are removed first; a file
with more distinct operations is refused before any site is expanded (their images are compared pairwise,
so time and memory grow with the square of this number: about 60 MB for one site at the bound)."""


def distinct_operations(operations, where: str) -> list:
    """``operations`` [(rotation, translation)] without repeats (translations mod 1, to 1e-9), in file order.

    Raises
    ------
    CrystalFourierError
        More than :data:`MAX_CIF_OPERATIONS` distinct operations.

    Examples
    --------
    >>> identity = (np.eye(3, dtype=np.int64), np.zeros(3))
    >>> len(distinct_operations([identity] * 6000, "x.cif"))
    1
    """
    seen = {}
    for operation in operations:
        rotation = np.asarray(operation[0]).astype(np.int64)
        translation = np.round(np.mod(np.asarray(operation[1], dtype=np.float64), 1.0) * 1e9).astype(np.int64)
        seen.setdefault((rotation.tobytes(), tuple(translation % 1_000_000_000)), operation)
        if len(seen) > MAX_CIF_OPERATIONS:
            raise CrystalFourierError(f"{where}: the file lists more than MAX_CIF_OPERATIONS = {MAX_CIF_OPERATIONS:,} "
                                      "distinct symmetry operations (a space group has at most 192 in its "
                                      "conventional cell); refused before expanding its sites")
    return list(seen.values())


def expand_sites(lattice, positions, species, operations, where: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Apply every operation to every site, wrap into [0, 1) and merge coincident images.

    Returns positions, atomic numbers and the number of atoms each site gave. An image closer than
    :data:`MERGE_TOLERANCE` to an earlier image of the same site (a special position), or of one species
    with an earlier site and closer than ``COINCIDENT_DISTANCE`` (``_coincident``), is that atom; two
    species that close are the readers' one error for atoms on one point. Linear in the
    sites within a site's images (operations x operations each), n log n across them
    (:func:`~crystal_fourier.runtime.structure_io._close_pairs.close_pairs`); more than
    :data:`MAX_CIF_ATOMS` atoms is refused.
    """
    operations = distinct_operations(operations, where)
    rotations = np.array([r for r, _ in operations], dtype=np.float64)
    translations = np.array([t for _, t in operations], dtype=np.float64)
    n_sites, n_operations = len(positions), len(operations)
    numbers = np.array([number for number, _ in species], dtype=np.int64)
    labels = [label for _, label in species]
    kept_images, kept_sites = [], []
    chunk = max(1, _IMAGE_BLOCK // (n_operations * n_operations))
    for start in range(0, n_sites, chunk):  # images of one site that coincide (a special position)
        images = np.mod(np.einsum("oij,sj->soi", rotations, np.asarray(positions[start:start + chunk]))
                        + translations, 1.0)
        images[images > 1.0 - 1e-12] = 0.0
        gap = images[:, :, None, :] - images[:, None, :, :]
        gap -= np.round(gap)
        close = np.linalg.norm(gap @ lattice, axis=-1) < MERGE_TOLERANCE
        fresh = ~np.any(np.tril(close, k=-1), axis=2)
        kept_images.append(images[fresh])
        kept_sites.append(np.nonzero(fresh)[0] + start)
        if sum(len(k) for k in kept_images) > MAX_CIF_ATOMS:
            raise too_many_atoms(where, f"more than {MAX_CIF_ATOMS:,} after {start + len(images):,} of "
                                         f"{n_sites:,} sites")
    images = np.concatenate(kept_images) if kept_images else np.zeros((0, 3))
    site_of = np.concatenate(kept_sites) if kept_sites else np.zeros(0, dtype=np.int64)
    # images of two sites: one atom only when of one species and on one point (COINCIDENT_DISTANCE);
    # two species there are the one error of every reader (KSbF8's F pairs 0.0066 A apart are two atoms)
    pairs = close_pairs(lattice, images, COINCIDENT_DISTANCE,
                        max_candidates=_CANDIDATES_PER_ATOM * max(len(images), 1))
    if pairs is None:
        raise CrystalFourierError(f"{where}: the {len(images):,} atoms crowd together (more than "
                                  f"{_CANDIDATES_PER_ATOM} near neighbours each within a few "
                                  f"{COINCIDENT_DISTANCE} A bins); sites are repeated or the cell is wrong")
    pairs = pairs[site_of[pairs[:, 0]] != site_of[pairs[:, 1]]]
    mixed = pairs[numbers[site_of[pairs[:, 0]]] != numbers[site_of[pairs[:, 1]]]]
    if len(mixed):
        earlier, later = site_of[mixed[0, 0]], site_of[mixed[0, 1]]
        raise coincident_atoms_error(where, f"site {labels[later]!r} ({ELEMENTS[numbers[later]]})",
                                     f"site {labels[earlier]!r} ({ELEMENTS[numbers[earlier]]})",
                                     periodic_gap(lattice, images[mixed[0, 0]], images[mixed[0, 1]]))
    fresh = np.ones(len(images), dtype=bool)
    fresh[pairs[:, 1]] = False
    multiplicities = np.bincount(site_of[fresh], minlength=n_sites).tolist()
    return images[fresh], numbers[site_of[fresh]], multiplicities


def too_many_atoms(where: str, count: str) -> CrystalFourierError:
    return CrystalFourierError(f"{where}: the sites expand to {count} atoms; at most MAX_CIF_ATOMS = "
                               f"{MAX_CIF_ATOMS:,} atoms are read from one CIF (a bound on time and memory)")


def has_overlap(lattice: np.ndarray, positions: np.ndarray) -> bool:
    """Whether two atoms are closer than :data:`OVERLAP_DISTANCE` (nearest lattice image of the reduced difference).

    The distance is an upper bound of the minimum-image distance, exact for cells near
    orthogonal (conventional ITA cells mostly are): a short bond it reports is real, but in a
    strongly skewed cell it can miss one. XXX:
    :func:`crystal_fourier.runtime.symmetry._periodic.periodic_distances` is exact for every cell;
    switching to it changes which origin choices are refused, so it is left for a change that says so.
    """
    pairs = close_pairs(lattice, positions, OVERLAP_DISTANCE,
                        max_candidates=_CANDIDATES_PER_ATOM * max(len(positions), 1))
    return pairs is None or len(pairs) > 0
