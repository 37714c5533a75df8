"""spglib's conventional cell projected onto an exactly G-symmetric one, independently of the input's order.

:func:`symmetrized` averages the input itself, mapped into spglib's conventional cell, over the
operations of the group (a Reynolds average of the metric and of each site's displacement), so the
result does not depend on the order of the atoms or on which of several translation-equivalent
atoms comes first, as spglib's own idealized cell can at the level of the input's noise. Each input
atom is assigned to its nearest ideal site (:func:`_assign_to_sites`, linear in the atoms) and the
images of the sites under a few generators of the group are found by exact lookup (:func:`_site_index`),
those under the other operations composed from them
(:func:`~crystal_fourier.runtime.symmetry._normalizer._generator_steps`).
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np

from crystal_fourier.derive._operations import DEN
from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.runtime.structure_io._structures import Crystal
from crystal_fourier.runtime.symmetry._normalizer import _encode, _generator_steps, _group_table

__all__ = ["input_frame", "inverse_3x3", "residual_exceeds", "site_assignment", "symmetry_residual", "symmetrized"]


def symmetrized(crystal: Crystal, data, hall_number: int, symprec: float, *,
                assigned=None, frame=None) -> tuple[np.ndarray, np.ndarray]:
    """Metric and positions of the conventional cell, projected onto G-symmetric ones (Reynolds average).

    spglib's own idealized cell depends, at the level of the input's noise, on the
    order of the atoms and on the origin. Averaging the input itself, mapped by
    spglib's exact transformation x_std = P x + p, over the operations of G does
    not: a change of p moves the average only along polar axes, which the
    canonical choice fixes afterwards. For an exactly symmetric input this is the
    identity (to round-off).

    Parameters
    ----------
    crystal : Crystal
        The crystal spglib was given.
    data : spglib dataset
        spglib's answer for ``crystal``, in the setting ``hall_number``.
    hall_number : int
    symprec : float
        spglib's tolerance (Angstrom); an input atom farther than 4 symprec from its site falls back
        to spglib's idealization.
    assigned : tuple, optional
        :func:`site_assignment` of ``(crystal, data)``, when the caller already has it.
    frame : tuple, optional
        :func:`input_frame` of ``(crystal, data)``, when the caller already has it.

    Returns
    -------
    metric : numpy.ndarray, shape=(3, 3), dtype=float64
        (1/|P|) sum_R R^T G_raw R, G_raw the input metric in the conventional basis.
    positions : numpy.ndarray, shape=(n_std, 3), dtype=float64
        Averaged positions in the order of spglib's ``std_positions``.
    """
    table = _group_table(hall_number)
    _, lattice_raw, raw = frame if frame is not None else input_frame(crystal, data)
    metric_raw = lattice_raw @ lattice_raw.T
    rotations, translations = _float_operations(hall_number)
    # np.add.reduce / n is np.mean's own arithmetic (the same bytes) without its Python-level checks
    metric = np.add.reduce(np.transpose(rotations, (0, 2, 1)) @ metric_raw @ rotations, axis=0) / len(rotations)
    ideal = np.asarray(data.std_positions, dtype=np.float64)
    types = np.asarray(data.std_types)
    # Every image of an input atom under the centring translations, assigned to its nearest ideal site
    # of the same species; a site's displacement is the mean over all images assigned to it, so the
    # result does not depend on which of several translation-equivalent input atoms comes first.
    if assigned is None:
        assigned = _assign_to_sites(raw, crystal.numbers, ideal, types, lattice_raw, table.centrings_24, data)
    if assigned is None:
        return _ideal_metric(data), ideal  # fall back to spglib's idealization (defensive; not seen in tests)
    nearest, difference, distance = assigned
    counts = np.bincount(nearest, minlength=len(ideal))
    if not counts.all() or np.sqrt(distance.max()) > 4 * symprec:   # a site without atoms, or one too far
        return _ideal_metric(data), ideal  # fall back to spglib's idealization (defensive; not seen in tests)
    # the sums of np.add.at, in the same order (bincount adds left to right from 0): the same bytes, faster;
    # one bincount over (site, component) bins adds each bin's terms in the same order as one per component
    bins = (3 * nearest[:, None] + _COMPONENTS).ravel()
    displacement = np.bincount(bins, weights=difference.ravel(), minlength=3 * len(ideal)).reshape(-1, 3)
    displacement /= counts[:, None]
    # image index k(i, g): g(ideal_i) == ideal_k, found by exact lookup (memory n_ops x n_std, not n_std^2) for a
    # few generators of G only; an operation g = a b (a a generator) permutes the sites as a after b, so the other
    # rows are composed from those (integer gathers, exact): a few lookups instead of one per operation
    generator_rotations, generator_translations, steps = _generator_steps(hall_number)
    images = ideal @ generator_rotations.transpose(0, 2, 1) + generator_translations[:, None, :]
    found = _site_index(images.reshape(-1, 3), ideal, tolerance=1e-6)
    if found is None or (found < 0).any():
        return _ideal_metric(data), ideal  # fall back to spglib's idealization (defensive; not seen in tests)
    generator_match = found.reshape(len(generator_rotations), len(ideal))
    if (types[generator_match] != types[None, :]).any():   # then every composition keeps the species too
        return _ideal_metric(data), ideal  # fall back to spglib's idealization (defensive; not seen in tests)
    transposed = _transposed_inverse_rotations(hall_number)  # (n_ops, 3, 3)
    match = np.empty((len(transposed), len(ideal)), dtype=np.int64)
    match[steps[0][0]] = np.arange(len(ideal))                                  # the identity
    for operations, generators, previous in steps[1:]:   # generator_match[generator, match[previous]], flat
        match[operations] = generator_match.ravel().take(match[previous] + len(ideal) * generators[:, None])
    # np.take and a contiguous transpose: the same products and sums as displacement[match] @ inverse^T, faster
    averaged = np.add.reduce(np.matmul(displacement.take(match, axis=0), transposed), axis=0) / len(transposed)
    return metric, ideal + averaged


def inverse_3x3(matrix) -> np.ndarray:
    """``np.linalg.inv(matrix)`` of a 3x3 matrix, the same bytes, cached by the matrix's float64 bytes: spglib's
    transformations and the normalizer's integer matrices repeat from crystal to crystal (read-only).

    Parameters
    ----------
    matrix : array_like
        shape=(3, 3), invertible.

    Returns
    -------
    numpy.ndarray
        shape=(3, 3), dtype=float64, read-only.
    """
    return _inverse(np.ascontiguousarray(matrix, dtype=np.float64).tobytes())


def determinant_3x3(matrix) -> float:
    """``float(np.linalg.det(matrix))`` of a 3x3 matrix, cached like :func:`inverse_3x3`.

    Parameters
    ----------
    matrix : array_like
        shape=(3, 3).
    """
    return _determinant(np.ascontiguousarray(matrix, dtype=np.float64).tobytes())


@lru_cache(maxsize=4096)
def _inverse(key: bytes) -> np.ndarray:
    inverse = np.linalg.inv(np.frombuffer(key, dtype=np.float64).reshape(3, 3))
    inverse.setflags(write=False)
    return inverse


@lru_cache(maxsize=4096)
def _determinant(key: bytes) -> float:
    return float(np.linalg.det(np.frombuffer(key, dtype=np.float64).reshape(3, 3)))


def input_frame(crystal: Crystal, data) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """spglib's transformation P, the input lattice in the conventional basis and the input positions mapped
    into the conventional cell (x_std = P x + p), for :func:`site_assignment`, :func:`symmetry_residual` and
    :func:`symmetrized`, which all need them (computed once by a caller that calls all three).

    Parameters
    ----------
    crystal : Crystal
        The crystal spglib was given.
    data : spglib dataset
        spglib's answer for ``crystal``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(P, lattice_raw, raw)``: shapes (3, 3), (3, 3) and (n_atoms, 3), float64.
    """
    transformation = np.asarray(data.transformation_matrix, dtype=np.float64)
    lattice_raw = inverse_3x3(transformation).T @ crystal.lattice
    raw = crystal.positions @ transformation.T + np.asarray(data.origin_shift, dtype=np.float64)
    return transformation, lattice_raw, raw


def site_assignment(crystal: Crystal, data, frame=None):
    """The nearest ideal site of every centring image of every input atom (see :func:`symmetrized`).

    Parameters
    ----------
    crystal : Crystal
        The crystal spglib was given.
    data : spglib dataset
        spglib's answer for ``crystal``.
    frame : tuple, optional
        :func:`input_frame` of ``(crystal, data)``, when the caller already has it.

    Returns
    -------
    tuple or None
        ``(nearest, difference, squared_distance)``, images in the order (centring, atom), distances in
        Angstrom^2; None when an image has no site of its species.
    """
    _, lattice_raw, raw = frame if frame is not None else input_frame(crystal, data)
    return _assign_to_sites(raw, crystal.numbers, np.asarray(data.std_positions, dtype=np.float64),
                            np.asarray(data.std_types), lattice_raw, _group_table(int(data.hall_number)).centrings_24,
                            data)


def symmetry_residual(crystal: Crystal, data, assigned=None, frame=None) -> float:
    """How far ``crystal`` is from exactly having the symmetry spglib found, in Angstrom.

    Parameters
    ----------
    crystal : Crystal
        The crystal spglib was given.
    data : spglib dataset
        spglib's answer for ``crystal``.
    assigned : tuple, optional
        :func:`site_assignment` of ``(crystal, data)``, when the caller already has it.
    frame : tuple, optional
        :func:`input_frame` of ``(crystal, data)``, when the caller already has it.

    Returns
    -------
    float
        2 d + e: d the largest Cartesian distance of an input atom (or its image under a centring
        translation) from its ideal site in spglib's conventional cell, so that an operation moves an
        atom onto an atom within 2 d; e the largest length change that the input lattice's departure
        from spglib's ideal metric can make to a cell vector no longer than the input's longest
        (spectral norm of the Cartesian strain between the metrics, times that length). ``inf`` when
        the sites cannot be assigned.

    Notes
    -----
    spglib accepts an operation when it moves every atom within ``symprec`` of an atom and keeps
    the lattice within ``symprec``; an answer whose residual is well below ``symprec`` has no
    operation near that threshold, so no other order of the same atoms can lose one of them.
    """
    frame, sites = _frame_and_sites(crystal, data, assigned, frame)
    if sites is None:
        return float("inf")
    strain = float(_spectral_norm(_strain(frame, _metric_difference(frame, data))))
    return sites + strain * _longest(crystal)


def _frame_and_sites(crystal: Crystal, data, assigned, frame) -> tuple:
    """(frame, 2 d) of :func:`symmetry_residual` (d the largest distance from the ideal sites), with the given
    ``assigned`` and ``frame`` or computed; 2 d is None when the sites cannot be assigned."""
    frame = frame if frame is not None else input_frame(crystal, data)
    if assigned is None:
        assigned = site_assignment(crystal, data, frame)
    if assigned is None:
        return frame, None
    return frame, 2.0 * float(np.sqrt(assigned[2].max(initial=0.0)))


def residual_exceeds(crystal: Crystal, data, threshold: float, assigned=None, frame=None) -> bool:
    """``symmetry_residual(crystal, data, assigned, frame) > threshold``, the same answer, without the inverse and
    the SVD when bounds settle it.

    The residual is 2 d + e with e >= 0, so 2 d above ``threshold`` exceeds it; :func:`_strain_bound` bounds the
    strain's computed spectral norm from above, so 2 d plus that bound at or below ``threshold`` does not. Only in
    between is the residual computed, with :func:`symmetry_residual`'s arithmetic.

    Parameters
    ----------
    crystal, data, assigned, frame
        As for :func:`symmetry_residual`.
    threshold : float
        In Angstrom.
    """
    frame, sites = _frame_and_sites(crystal, data, assigned, frame)
    if sites is None:
        return float("inf") > threshold
    if sites > threshold:
        return True
    difference = _metric_difference(frame, data)
    longest = _longest(crystal)
    if sites + _strain_bound(frame[1], difference) * longest <= threshold:   # NaN compares False: decided below
        return False
    return sites + float(_spectral_norm(_strain(frame, difference))) * longest > threshold


_BOUND_MARGIN = 1.0 + 1e-6
"""Relative margin of :func:`_strain_bound` over the round-off of both its own arithmetic and the exact path's
(inverse, products, SVD): each is at most a few hundred ulps times the condition number, below 1e-9 under
:data:`_CONDITION_LIMIT`."""

_CONDITION_LIMIT = 1e6
"""Above this Frobenius condition number of the cell :func:`_strain_bound` gives up (returns inf)."""


def _strain_bound(lattice: np.ndarray, difference: np.ndarray) -> float:
    """An upper bound on the spectral norm that :func:`symmetry_residual` computes for the strain
    A D A^T (A the inverse of ``lattice``, D the metric ``difference``): ||A||_F^2 ||D||_F, A from the adjugate
    in Python floats (no LAPACK call), times :data:`_BOUND_MARGIN`; inf for a cell whose condition number
    exceeds :data:`_CONDITION_LIMIT` (the margin would not cover the round-off) or a singular one."""
    (a, b, c), (d, e, f), (g, h, i) = lattice.tolist()
    minors = (e * i - f * h, f * g - d * i, d * h - e * g, c * h - b * i, a * i - c * g, b * g - a * h,
              b * f - c * e, c * d - a * f, a * e - b * d)
    determinant = a * minors[0] + b * minors[1] + c * minors[2]
    adjugate = sum(m * m for m in minors)                                   # ||adj L||_F^2 = det^2 ||A||_F^2
    size = sum(x * x for x in (a, b, c, d, e, f, g, h, i))                  # ||L||_F^2
    squared = determinant * determinant
    if not squared > 0 or size * adjugate > _CONDITION_LIMIT ** 2 * squared:
        return math.inf
    return adjugate / squared * math.sqrt(sum(x * x for x in difference.ravel().tolist())) * _BOUND_MARGIN


def _metric_difference(frame, data) -> np.ndarray:
    """The input metric minus spglib's ideal one, in the conventional basis, shape=(3, 3)."""
    lattice_raw = frame[1]
    ideal_lattice = np.asarray(data.std_lattice, dtype=np.float64)
    return lattice_raw @ lattice_raw.T - ideal_lattice @ ideal_lattice.T


def _strain(frame, difference: np.ndarray) -> np.ndarray:
    """The metric ``difference`` as a Cartesian strain of the input frame, shape=(3, 3)."""
    to_cartesian = np.linalg.inv(frame[1])
    return to_cartesian @ difference @ to_cartesian.T


def _spectral_norm(matrix: np.ndarray) -> np.floating:
    return np.linalg.svd(matrix, compute_uv=False)[0]   # norm(., 2)


def _longest(crystal: Crystal) -> float:
    return float(np.sqrt((crystal.lattice * crystal.lattice).sum(axis=1).max()))   # np.linalg.norm's arithmetic


@lru_cache(maxsize=None)
def _float_operations(hall_number: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rotations of ``_group_table`` as float64, shape=(n, 3, 3), and their translations t24 / 24,
    shape=(n, 3): read-only, cached per setting."""
    table = _group_table(hall_number)
    rotations, translations = table.rotations.astype(np.float64), table.translations_24 / DEN
    rotations.setflags(write=False)
    translations.setflags(write=False)
    return rotations, translations


@lru_cache(maxsize=None)
def _transposed_inverse_rotations(hall_number: int) -> np.ndarray:
    """(R^-1)^T of every operation of the setting, shape=(n_ops, 3, 3), float64, C-contiguous and read-only."""
    inverse = np.linalg.inv(space_group(hall_number=hall_number).arrays[0].astype(np.float64))
    transposed = np.ascontiguousarray(inverse.swapaxes(1, 2))
    transposed.setflags(write=False)
    return transposed


_ASSIGN_CHUNK = 256
_COMPONENTS = np.arange(3)


def _assign_to_sites(raw, raw_numbers, ideal, types, lattice, centrings_24, data):
    """Nearest ideal site (same species, Cartesian periodic distance) of every centring image of every input atom.

    Candidates are the sites of the same primitive atom (spglib's ``mapping_to_primitive`` and
    ``std_mapping_to_primitive``): n_centring of them, so work and memory are linear in the atoms.
    If spglib's mappings are unusable, every site of the same species is a candidate, scanned in
    chunks of ``_ASSIGN_CHUNK`` input images (memory chunk x n_std, never n_in x n_std).

    Returns ``(nearest, difference, squared_distance)`` for the images in the order
    (centring, atom), or None when an image has no candidate.
    """
    images = (raw[None, :, :] + centrings_24[:, None, :] / DEN).reshape(-1, 3)
    n_centrings = len(centrings_24)
    numbers = np.asarray(raw_numbers)
    if n_centrings > 1:
        numbers = np.concatenate([numbers] * n_centrings)   # np.tile, cheaper
    mapping = getattr(data, "mapping_to_primitive", None)
    std_mapping = getattr(data, "std_mapping_to_primitive", None)
    candidates = None
    if mapping is not None and std_mapping is not None and len(mapping) == len(raw):
        mapping, std_mapping = np.asarray(mapping, dtype=np.int64), np.asarray(std_mapping, dtype=np.int64)
        n_primitive = int(max(mapping.max(initial=-1), std_mapping.max(initial=-1))) + 1
        per_site = np.bincount(std_mapping, minlength=n_primitive)
        if len(ideal) and (per_site == per_site[0]).all() and per_site[0] > 0:
            sites_of = std_mapping.argsort(kind="stable").reshape(n_primitive, per_site[0])
            candidates = sites_of[mapping]
            if n_centrings > 1:
                candidates = np.concatenate([candidates] * n_centrings)
    if candidates is not None and candidates.shape[1] == 1:   # one candidate site per image: no nearest to pick
        nearest = candidates[:, 0]
        gap = images - ideal[nearest]
        gap -= np.rint(gap)
        if (types[nearest] != numbers).any():
            return None
        return nearest, gap, ((gap @ lattice) ** 2).sum(axis=-1)
    if candidates is None:  # brute force over all sites, in chunks
        nearest = np.empty(len(images), dtype=np.int64)
        for start in range(0, len(images), _ASSIGN_CHUNK):
            stop = start + _ASSIGN_CHUNK
            gap = images[start:stop, None, :] - ideal[None, :, :]
            gap -= np.round(gap)
            squared = np.sum((gap @ lattice) ** 2, axis=-1)
            squared[numbers[start:stop, None] != types[None, :]] = np.inf
            nearest[start:stop] = np.argmin(squared, axis=1)
        candidates = nearest[:, None]
    gap = images[:, None, :] - ideal[candidates]
    gap -= np.rint(gap)                       # np.round's own arithmetic for 0 decimals
    squared = ((gap @ lattice) ** 2).sum(axis=-1)
    squared[types[candidates] != numbers[:, None]] = np.inf
    best = squared.argmin(axis=1)
    rows = np.arange(len(images))
    nearest = squared[rows, best]
    if not np.isfinite(nearest).all():
        return None
    return candidates[rows, best], gap[rows, best], nearest


_LOOKUP_GRID = 2 ** 16


def _site_index(points: np.ndarray, sites: np.ndarray, *, tolerance: float) -> "np.ndarray | None":
    """Index k with points[i] == sites[k] (mod 1, max-norm within ``tolerance``), -1 where none.

    Sites are hashed by their cell on a 1/2**16 grid (coarser than ``tolerance``) and looked
    up by binary search; a point within ``tolerance`` of a site lies in the site's cell or in
    the neighbouring one towards its nearer cell wall, so 8 probes per point suffice. The cells
    are centred on the grid points (a coordinate's cell is its nearest multiple of 2**-16), so
    that the special coordinates (multiples of 1/48: 2**16 k / 48 is a multiple of 1/3) lie at
    least a third of a cell from every wall and their images are found by the first probe. Time
    O((n_points + n_sites) log n_sites), memory O(n_points). Returns None if two sites share a
    cell (atoms closer than ~1e-5, which spglib would not accept).
    """
    sites = np.mod(sites, 1.0)
    cells = np.rint(sites * _LOOKUP_GRID).astype(np.int64)   # _encode reduces the cell 2**16 to 0
    keys = _encode(cells, _LOOKUP_GRID)
    order = keys.argsort(kind="stable")
    sorted_keys = keys[order]
    if (sorted_keys[1:] == sorted_keys[:-1]).any():
        return None
    scaled = points * _LOOKUP_GRID        # no wrapping needed: _encode reduces the cells, gap the differences
    base = np.rint(scaled)

    def probe(indices, cells):
        where = np.minimum(sorted_keys.searchsorted(cells), len(sorted_keys) - 1)
        candidate = order[where]
        gap = points[indices] - sites[candidate]
        gap -= np.rint(gap)
        found = (sorted_keys[where] == cells) & (np.abs(gap) <= tolerance).all(axis=1)
        return candidate, found

    # the first probe (the point's own cell) finds almost every point: no indexing by the open points
    result, found = probe(slice(None), _encode(base.astype(np.int64), _LOOKUP_GRID))
    if found.all():
        return result
    result[~found] = -1
    open_ = np.flatnonzero(~found)
    if len(open_):
        side = np.where(scaled[open_] < base[open_], -1, 1)   # the nearer wall of the point's cell
        cells = base[open_].astype(np.int64)
        for combination in list(itertools.product((0, 1), repeat=3))[1:]:
            candidate, found = probe(open_, _encode(cells + side * np.array(combination), _LOOKUP_GRID))
            result[open_[found]] = candidate[found]
            open_, cells, side = open_[~found], cells[~found], side[~found]
            if len(open_) == 0:
                break
    return result


def _ideal_metric(data) -> np.ndarray:
    lattice = np.asarray(data.std_lattice, dtype=np.float64)
    return lattice @ lattice.T
