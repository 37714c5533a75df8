"""The affine normalizer of a space group, as the standardization uses it: exact integer tables.

A description x -> M x + s of a G-invariant crystal is another G-invariant description in the
same setting when M (an integer basis change) normalizes the point group and keeps the centring,
and s solves the congruences of :func:`_origin_shifts`. :func:`_linear_parts` lists the M that
give the most reduced cell of a lattice (near-degenerate cells: every tie is kept), and
:func:`_origin_shifts` the shifts of each, in 48ths. Used by
:mod:`crystal_fourier.runtime.symmetry._standardization` for its canonical choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from crystal_fourier._unimodular import unimodular_matrices
from crystal_fourier.derive._operations import DEN
from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.errors import CrystalFourierError

__all__ = ["METRIC_TIE_TOLERANCE", "normalizer_elements"]

_SHIFT_DEN = 2 * DEN  # origin shifts of the normalizer are multiples of 1/48


def _encode(vectors: np.ndarray, modulus: int) -> np.ndarray:
    """(v0 mod m) m^2 + (v1 mod m) m + (v2 mod m) of integer vectors, shape=(...), exact in int64 (m^3 < 2^63)."""
    return np.mod(vectors, modulus) @ _place_values(modulus)


@lru_cache(maxsize=16)
def _place_values(modulus: int) -> np.ndarray:
    values = np.array([modulus * modulus, modulus, 1], dtype=np.int64)
    values.setflags(write=False)
    return values


@dataclass(frozen=True, eq=False)
class _GroupTable:
    rotations: np.ndarray          # (n_rot, 3, 3) distinct rotations
    translations_24: np.ndarray    # (n_rot, 3) one translation per rotation
    allowed: tuple                 # per rotation: encoded 2*t24 mod 48 of every operation with it
    rotation_keys: dict            # rotation bytes -> index
    centrings_24: np.ndarray       # (n_centring, 3)
    polar_axes: tuple              # coordinate axes i along which G commutes with translations


@lru_cache(maxsize=None)
def _group_table(hall_number: int) -> _GroupTable:
    group = space_group(hall_number=hall_number)
    rotations, translations_24 = group.arrays
    keys: dict[bytes, int] = {}
    distinct, representatives, allowed = [], [], []
    for rotation, t24 in zip(rotations, translations_24, strict=True):
        key = rotation.tobytes()
        if key not in keys:
            keys[key] = len(distinct)
            distinct.append(rotation)
            representatives.append(t24)
            allowed.append([])
        allowed[keys[key]].append(int(_encode(2 * t24, _SHIFT_DEN)))
    identity = np.eye(3, dtype=np.int64)
    centrings = translations_24[np.all(rotations == identity, axis=(1, 2))]
    polar = group.polar_axes
    if group.origin_freedom != len(polar):  # pragma: no cover - guarded by a test over all 230 standard settings
        raise CrystalFourierError(f"Hall number {hall_number}: polar directions are not coordinate axes")
    return _GroupTable(
        rotations=np.array(distinct), translations_24=np.array(representatives),
        allowed=tuple(np.array(sorted(set(a)), dtype=np.int64) for a in allowed),
        rotation_keys=keys, centrings_24=centrings, polar_axes=polar)


@lru_cache(maxsize=None)
def _restrictive_order(hall_number: int) -> tuple[int, ...]:
    """Indices of the non-identity rotations, rank of (I - R) descending: the first filter of
    :func:`_origin_shifts` then leaves the fewest candidate shifts (8 for -1, 48^3 for none)."""
    rotations = _group_table(hall_number).rotations
    identity = np.eye(3, dtype=np.int64)
    ranks = [int(np.linalg.matrix_rank(identity - r)) for r in rotations]
    return tuple(int(i) for i in sorted(range(len(rotations)), key=lambda i: -ranks[i]) if ranks[i] > 0)


@lru_cache(maxsize=8)
def _shift_grid(polar_axes: tuple) -> np.ndarray:
    """Every shift S/48 with S in [0, 48)^3 and 0 on the polar axes, lexicographic; shape=(48^k, 3), read-only."""
    free = [i for i in range(3) if i not in polar_axes]
    grid = np.zeros((_SHIFT_DEN ** len(free), 3), dtype=np.int64)
    if free:
        grid[:, free] = np.indices((_SHIFT_DEN,) * len(free)).reshape(len(free), -1).T
    grid.setflags(write=False)
    return grid


@lru_cache(maxsize=16)
def _grid_images(polar_axes: tuple, matrix: bytes) -> tuple[np.ndarray, np.ndarray]:
    """The codes :func:`_encode` (A S, 48) of every S of :func:`_shift_grid`, sorted, and the grid rows in that order
    (a stable sort, so equal codes keep the grid's order), int32: for the integer 3x3 ``matrix`` A (int64 bytes).
    Seven singular A occur as the first congruence of the 230 standard settings, 0.9 MiB each at most."""
    grid = _shift_grid(polar_axes)
    codes = _encode(grid @ np.frombuffer(matrix, dtype=np.int64).reshape(3, 3).T, _SHIFT_DEN)
    order = np.argsort(codes, kind="stable").astype(np.int32)   # both below 48^3: int32 halves the memory
    sorted_codes = codes[order].astype(np.int32)
    for array in (sorted_codes, order):
        array.setflags(write=False)
    return sorted_codes, order


def _grid_solutions(polar_axes: tuple, matrix: np.ndarray, offset: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The rows S of :func:`_shift_grid` with matrix @ S + offset = a (mod 48) for some encoded a in ``allowed``,
    in the grid's order: the filter of the grid, by lookup of the codes a - offset among :func:`_grid_images`
    (A S + o = a exactly when A S = a - o, componentwise mod 48) instead of a pass over every row."""
    sorted_codes, order = _grid_images(polar_axes, np.ascontiguousarray(matrix, dtype=np.int64).tobytes())
    wanted = _encode(_decode(allowed) - offset, _SHIFT_DEN)
    starts, stops = sorted_codes.searchsorted(wanted, side="left"), sorted_codes.searchsorted(wanted, side="right")
    rows = np.sort(np.concatenate([order[a:b] for a, b in zip(starts.tolist(), stops.tolist(), strict=True)]))
    return _shift_grid(polar_axes)[rows]


def _solved_shifts(matrix: np.ndarray, offset: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Every S in [0, 48)^3 with matrix @ S + offset = a (mod 48) for some encoded a in ``allowed``,
    for an invertible integer ``matrix`` A (I - R' of a rotation without a fixed direction, e.g. -1):
    S = adj(A) (a - offset + 48 n) / det A, integral, for n in [0, |det A|)^3 (n + det e_k gives
    S + 48 adj(A) e_k, the same shift). In the lexicographic order of the grid it replaces, so the
    result is exactly the grid's filter, without the 48^3 pass."""
    determinant = round(float(np.linalg.det(matrix)))
    adjugate = np.rint(np.linalg.inv(matrix) * determinant).astype(np.int64)
    size = abs(determinant)
    targets = _decode(allowed)                                                           # (k, 3)
    steps = np.indices((size,) * 3).reshape(3, -1).T                                     # (size^3, 3)
    right = (targets[:, None, :] - offset + _SHIFT_DEN * steps[None, :, :]).reshape(-1, 3)
    numerators = right @ adjugate.T
    integral = np.all(numerators % determinant == 0, axis=1)
    codes = np.unique(_encode(numerators[integral] // determinant, _SHIFT_DEN))   # sorted: the grid's order
    return _decode(codes)


def _decode(codes: np.ndarray, modulus: int = _SHIFT_DEN) -> np.ndarray:
    """The rows v in [0, modulus)^3 whose :func:`_encode` (v, modulus) are ``codes``, shape=(k, 3), int64."""
    return np.stack([codes // (modulus * modulus), (codes // modulus) % modulus, codes % modulus],
                    axis=1).astype(np.int64)


@lru_cache(maxsize=8192)
def _origin_shifts(hall_number: int, matrix: tuple) -> np.ndarray:
    """Shifts S/48 (polar coordinates 0) making x -> M x + S/48 map G-invariant sets to G-invariant sets.

    Exact integer work: M t + (I - R') s = t' (mod 1) for every rotation R of G, with
    R' = M R M^-1 and (R', t') an operation of G. Returns shape=(k, 3), dtype=int64
    (numerators over 48), one per class modulo the centring translations.
    """
    table = _group_table(hall_number)
    m = np.array(matrix, dtype=np.int64)
    m_inv = np.rint(np.linalg.inv(m)).astype(np.int64)
    grid = _shift_grid(table.polar_axes)
    identity = np.eye(3, dtype=np.int64)
    for step, r in enumerate(_restrictive_order(hall_number)):  # the identity is skipped: it holds for every s
        rotation, t24 = table.rotations[r], table.translations_24[r]
        image = m @ rotation @ m_inv
        index = table.rotation_keys.get(image.tobytes())
        if index is None:
            return np.zeros((0, 3), dtype=np.int64)
        if step == 0:   # the whole grid: solved in closed form, or looked up among the grid's images
            if round(abs(np.linalg.det(identity - image))) > 0:
                grid = _solved_shifts(identity - image, 2 * (m @ t24), table.allowed[index])
            else:
                grid = _grid_solutions(table.polar_axes, identity - image, 2 * (m @ t24), table.allowed[index])
            continue
        values = (2 * (m @ t24))[None, :] + grid @ (identity - image).T
        grid = grid[np.isin(_encode(values, _SHIFT_DEN), table.allowed[index])]
        if len(grid) == 0:
            break
    # one representative per class modulo centring translations
    if len(grid):
        classes = np.stack([_encode(grid + 2 * c, _SHIFT_DEN) for c in table.centrings_24], axis=1).min(axis=1)
        _, first = np.unique(classes, return_index=True)
        grid = grid[np.sort(first)]
    grid.setflags(write=False)
    return grid


METRIC_TIE_TOLERANCE = 1e-6
"""Relative tolerance (of the largest squared cell length) under which two cells of the same
lattice count as equally reduced. The symmetrized metric of one crystal given in two ways agrees
to round-off (~1e-12 relative); two different cells of one lattice differ by far more, unless the
lattice itself is within this of a tie, where both are kept and the atoms decide."""

_MAX_REDUCTION_STEPS = 64


@lru_cache(maxsize=None)
def _normalizer_matrices(hall_number: int, proper: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Unimodular M (entries -1, 0, 1) normalizing the point group and keeping the centring,
    one per coset M P of the point group, with their inverses: shape=(k, 3, 3), dtype=int64.

    Vectorized over the 3,480 (6,960 with ``proper=False``) matrices of
    :func:`~crystal_fourier._unimodular.unimodular_matrices`; cached per Hall number.
    """
    table = _group_table(hall_number)
    matrices, inverses = unimodular_matrices(proper=proper)
    rotations = table.rotations
    in_group = np.zeros(3 ** 9, dtype=bool)   # membership of P by key: a lookup instead of np.isin's sort
    in_group[_matrix_keys(rotations)] = True
    keep = np.ones(len(matrices), dtype=bool)
    # M P M^-1 = P exactly when M g M^-1 is in P for each g of a generating set of P (the images generate
    # M P M^-1, a group of the same order): the rotations of G's generators (_generator_steps), the identity
    # (a centring) left out, instead of all of P's up to 48 rotations; the same matrices kept
    generators = np.rint(_generator_steps(hall_number)[0]).astype(np.int64)
    for rotation in generators[np.any(generators != np.eye(3, dtype=np.int64), axis=(1, 2))]:
        alive = np.flatnonzero(keep)
        images = matrices[alive] @ rotation @ inverses[alive]
        inside = np.all(np.abs(images) <= 1, axis=(1, 2))
        keep[alive] = inside & in_group[_matrix_keys(np.clip(images, -1, 1))]
    centrings = np.mod(table.centrings_24, DEN)
    alive = np.flatnonzero(keep)   # the centring test for the normalizing matrices only
    images_c = np.mod(centrings @ np.transpose(matrices[alive], (0, 2, 1)), DEN)     # M c, (m, c, 3)
    keep[alive] = np.all(np.isin(_encode(images_c, DEN), _encode(centrings, DEN)), axis=1)
    matrices, inverses = matrices[keep], inverses[keep]
    # proper matrices first, so a coset that has one is represented by it (no needless reflection)
    order = np.argsort(-np.round(np.linalg.det(matrices)).astype(np.int64), kind="stable")
    matrices, inverses = matrices[order], inverses[order]
    # one per coset M P: the smallest key of M R over R (entries of M R lie in -3..3)
    products = matrices[:, None] @ rotations[None]
    coset = np.min(_matrix_keys(products + 3, base=7), axis=1)
    _, first = np.unique(coset, return_index=True)
    first = np.sort(first)
    matrices, inverses = np.ascontiguousarray(matrices[first]), np.ascontiguousarray(inverses[first])
    matrices.setflags(write=False)
    inverses.setflags(write=False)
    return matrices, inverses


@lru_cache(maxsize=None)
def _generator_steps(hall_number: int) -> tuple:
    """Generators of the setting's operations and how every operation is composed from them, cached per setting.

    Returns ``(rotations, translations, steps)``: the generators' rotations, shape=(k, 3, 3), and translations
    t24 / 24, shape=(k, 3), float64; ``steps[0]`` = ([identity], [], []), then per breadth-first level
    ``(operations, generators, previous)``, index arrays with operation = generator after previous (mod the
    lattice), operations indexing ``space_group(...).arrays``, every previous one in an earlier level. The
    generators are taken greedily in the order of the operations (each one not generated by those before).
    """
    rotations, translations_24 = space_group(hall_number=hall_number).arrays
    keys = [(r.tobytes(), tuple(np.mod(t, DEN).tolist())) for r, t in zip(rotations, translations_24, strict=True)]
    index = {key: i for i, key in enumerate(keys)}
    identity = index[(np.eye(3, dtype=rotations.dtype).tobytes(), (0, 0, 0))]

    def levels(generators: list) -> list:   # breadth-first levels of rows (operation, generator, previous)
        seen, found = {identity}, [[(identity, -1, -1)]]
        while found[-1]:
            found.append([])
            for previous, _, _ in found[-2]:
                for g, a in enumerate(generators):   # x -> R_a (R_p x + t_p) + t_a
                    key = ((rotations[a] @ rotations[previous]).tobytes(),
                           tuple(np.mod(rotations[a] @ translations_24[previous] + translations_24[a], DEN).tolist()))
                    if index[key] not in seen:
                        seen.add(index[key])
                        found[-1].append((index[key], g, previous))
        return found[:-1]

    generators: list[int] = []
    generated = {identity}
    for candidate in range(len(keys)):
        if candidate not in generated:
            generators.append(candidate)
            generated = {row[0] for level in levels(generators) for row in level}
    steps = tuple(tuple(np.array(column, dtype=np.int64).reshape(-1) for column in zip(*level, strict=True))
                  for level in levels(generators))
    chosen = (rotations[generators].astype(np.float64), translations_24[generators] / DEN)
    for array in (*chosen, *[column for step in steps for column in step]):
        array.setflags(write=False)
    return (*chosen, steps)


def _matrix_keys(matrices: np.ndarray, *, base: int = 3) -> np.ndarray:
    """An integer per 3x3 matrix of entries in [-1, 1] (or [0, base) when base != 3), shape=(...)."""
    digits = (matrices + 1 if base == 3 else matrices).reshape(*matrices.shape[:-2], 9)
    return digits @ (base ** np.arange(9, dtype=np.int64))


def _metric_keys(metrics: np.ndarray) -> np.ndarray:
    """Reduction key of each metric, shape=(k, 7): (a^2+b^2+c^2, a^2, b^2, c^2, G12, G02, G01).

    The canonical cell minimizes it lexicographically: shortest cell vectors first (for the
    monoclinic plane the two shortest, ITA's choice), then a <= b <= c where the group allows a
    permutation, then the most negative off-diagonal entries (obtuse angles, beta > 90 as in ITA).
    """
    diagonal = np.diagonal(metrics, axis1=1, axis2=2)
    return np.column_stack([diagonal.sum(axis=1), diagonal, metrics[:, 1, 2], metrics[:, 0, 2], metrics[:, 0, 1]])


def _has_shifts(hall_number: int, m: np.ndarray) -> bool:
    return len(_origin_shifts(hall_number, tuple(map(tuple, m.tolist())))) > 0


@lru_cache(maxsize=None)
def _shift_mask(hall_number: int, proper: bool = True) -> np.ndarray:
    """Which of :func:`_normalizer_matrices` admit an origin shift (:func:`_has_shifts`), shape=(k,), dtype=bool.

    The linear parts that admit a shift are those of the affine normalizer, a group L; so for R in L,
    M R is in L exactly when M is; :func:`_linear_parts` (whose reduction R is always in L) reads this
    mask instead of solving the congruences for every product.
    """
    matrices = _normalizer_matrices(hall_number, proper)[0]
    if all(np.any(allowed == 0) for allowed in _group_table(hall_number).allowed):
        # every rotation comes with the translation 0: s = 0 solves M t + (I - R') s = t' (mod 1) for every
        # M (t = 0, and (R', 0) is an operation), e.g. the 3,480 matrices of P1 and P-1
        mask = np.ones(len(matrices), dtype=bool)
    else:
        mask = np.array([_has_shifts(hall_number, m) for m in matrices], dtype=bool)
    mask.setflags(write=False)
    return mask


@lru_cache(maxsize=None)
def _key_forms(hall_number: int, proper: bool = True) -> np.ndarray:
    """The :func:`_metric_keys` of M^-T G M^-1 as linear forms in G, for each of :func:`_normalizer_matrices`:
    shape=(7, k, 9), dtype=float64, so that ``forms @ G.ravel()`` gives every key of every cell at once
    (entry (a, b) of M^-T G M^-1 is sum_ij A_ia A_jb G_ij, A = M^-1)."""
    inverses = _normalizer_matrices(hall_number, proper)[1]
    entry = np.einsum("kia,kjb->abkij", inverses, inverses).reshape(3, 3, len(inverses), 9)
    forms = np.stack([entry[0, 0] + entry[1, 1] + entry[2, 2], entry[0, 0], entry[1, 1], entry[2, 2],
                      entry[1, 2], entry[0, 2], entry[0, 1]]).astype(np.float64)
    forms.setflags(write=False)
    return forms


def _linear_parts(hall_number: int, metric: np.ndarray, *, proper: bool = True) -> tuple[np.ndarray, ...]:
    """:func:`_linear_stack` as a tuple of read-only (3, 3) arrays."""
    return tuple(_linear_stack(hall_number, metric, proper=proper))


def _linear_stack(hall_number: int, metric: np.ndarray, *, proper: bool = True) -> np.ndarray:
    """Integer bases M (x -> M x) of the lattice in which the crystal is described in the same setting
    with the most reduced cell: one per coset of the point group (M and M R give the same
    descriptions up to a shift).

    The candidates are the unimodular M normalizing the point group, keeping the centring and
    admitting an origin shift (:func:`_origin_shifts`). Starting from ``metric`` (G, shape=(3, 3)),
    the cell is reduced by steps among them (each step the one of least :func:`_metric_keys`
    trace below the current one) until none shortens it; then every candidate whose transformed
    metric M^-T G M^-1 ties with the best on the whole key, within :data:`METRIC_TIE_TOLERANCE`,
    is returned (composed with the reduction). So the set depends on the lattice, not on the basis
    spglib happened to return: two cells within symprec of a tie (a Pc cell with |a + c| = |a|)
    are both kept whenever they tie to round-off, and otherwise the shorter one wins for every
    description. With ``proper=False``, improper M (mirror images) are candidates too. Returns
    shape=(k, 3, 3), dtype=int64, read-only; the traces and keys are read from :func:`_key_forms`.
    """
    matrices, inverses = _normalizer_matrices(hall_number, proper)
    admits_shift = _shift_mask(hall_number, proper)   # for matrices[i] @ reduction too: reduction is in L
    if len(matrices) == 1 and admits_shift[0]:
        # one coset, the point group itself: it keeps the G-invariant metric (to round-off, far below
        # METRIC_TIE_TOLERANCE), so there is no step to take and no other cell to compare: the one matrix
        return matrices
    forms = _key_forms(hall_number, proper)
    tolerance = METRIC_TIE_TOLERANCE * float(np.abs(metric.diagonal()).max())
    reduction = None   # the identity
    for _ in range(_MAX_REDUCTION_STEPS):
        traces = forms[0] @ metric.ravel()                   # trace of M^-T G M^-1 for every M
        shorter = ((traces < float(metric.trace()) - tolerance) & admits_shift).nonzero()[0]
        if len(shorter) == 0:
            break
        step = int(shorter[np.argmin(traces[shorter])])      # the shortest; the first of equals
        reduction = matrices[step] if reduction is None else matrices[step] @ reduction
        metric = inverses[step].T @ metric @ inverses[step]
    near = (traces <= float(metric.trace()) + tolerance).nonzero()[0]
    alive = near[admits_shift[near]]
    keys = forms[:, alive] @ metric.ravel()   # _metric_keys of M^-T G M^-1, as columns (7, alive)
    # Column by column, keep the cells within the tolerance of the column's least value. A column whose spread
    # is within the tolerance keeps every cell, and filtering only shrinks the spreads of the later columns.
    if 1 < len(alive) <= _PYTHON_FILTER:   # a few cells: Python floats, the same comparisons without numpy's calls
        alive = alive[_lexicographic_rows(keys.tolist(), tolerance, largest=False)]
    else:
        keys = keys.T   # (alive, 7)
        while len(alive) > 1:
            spread = ((keys.max(axis=0) - keys.min(axis=0)) > tolerance).nonzero()[0]
            if len(spread) == 0:
                break
            values = keys[:, spread[0]]
            keep = values <= values.min() + tolerance
            alive, keys = alive[keep], keys[keep][:, spread[0] + 1:]
    kept = matrices[alive] if reduction is None else matrices[alive] @ reduction
    kept.setflags(write=False)
    return kept


_PYTHON_FILTER = 8
"""Up to this many rows :func:`_lexicographic_rows` filters, for :func:`_linear_stack` and the canonical choice's
``_keep_largest``, in Python floats (measured faster than numpy's calls on tiny arrays)."""


def _lexicographic_rows(columns: list, tolerance: float, *, largest: bool) -> list:
    """The rows a column-by-column lexicographic filter keeps, for key columns given as Python lists: a column
    whose spread (max - min) exceeds ``tolerance`` keeps the rows within ``tolerance`` of its maximum
    (``largest``) or of its minimum; ascending row indices. Python floats make numpy's IEEE comparisons and
    differences, so the same rows as the numpy filters of the callers."""
    kept = list(range(len(columns[0])))
    for column in columns:
        values = column if len(kept) == len(column) else [column[i] for i in kept]
        low, high = min(values), max(values)
        if high - low > tolerance:
            if largest:
                floor = high - tolerance
                kept = [i for i, value in zip(kept, values, strict=True) if value >= floor]
            else:
                ceiling = low + tolerance
                kept = [i for i, value in zip(kept, values, strict=True) if value <= ceiling]
            if len(kept) == 1:
                break
    return kept


def normalizer_elements(hall_number: int, metric: np.ndarray, *, limit: int | None = None,
                        rng: np.random.Generator | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """Elements x -> M x + s of the Euclidean normalizer of a setting that keep a reduced cell: (M, 48 s) pairs.

    The linear parts M (integer, {-1, 0, 1}) are those of :func:`_linear_parts` for ``metric`` (every
    tie of a near-degenerate cell kept), followed, for a group without inversion, by their negatives
    (improper: M R M^-1 = (-M) R (-M)^-1, so -M normalizes the point group when M does; in a
    centrosymmetric group -M is M composed with an inversion of G, the same coset). Each M comes with
    every origin shift s that makes x -> M x + s map G-invariant descriptions to G-invariant ones, as
    exact integer numerators over 48 (:func:`_origin_shifts`). The audit's normalizer re-descriptions
    are these elements applied to the standardized crystal.

    Parameters
    ----------
    hall_number : int
        The setting, 1-530.
    metric : numpy.ndarray
        shape=(3, 3), dtype=float64: L L^T of the standardized cell (rows a, b, c).
    limit : int, optional
        Stop after this many elements.
    rng : numpy.random.Generator, optional
        With ``limit``: draw the elements uniformly from all (M, s) pairs, without replacement, from
        ``rng`` (kept in the fixed order); default the first ``limit`` in the fixed order.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        (M, shift_48): M shape=(3, 3), dtype=int64; shift_48 shape=(3,), dtype=int64, s = shift_48 / 48.

    Examples
    --------
    >>> elements = normalizer_elements(523, np.eye(3) * 3.6 ** 2)   # Fm-3m, a cubic cell
    >>> len(elements) >= 2, all(m.dtype == s.dtype == np.int64 for m, s in elements)
    (True, True)
    """
    proper = _linear_parts(hall_number, metric)
    improper = () if space_group(hall_number=hall_number).centrosymmetric else tuple(-m for m in proper)
    matrices = [*proper, *improper]
    tables = [_origin_shifts(hall_number, tuple(map(tuple, m.tolist()))) for m in matrices]
    pairs = [(i, j) for i, shifts in enumerate(tables) for j in range(len(shifts))]
    if limit is not None and len(pairs) > limit:
        # uniform over the cosets (M, s), without replacement, so that every shift of every M can be drawn
        # (sorting a permutation of each M's shifts kept the first ones: 150 of 150 draws took one of two)
        if rng is None:
            pairs = pairs[:limit]
        else:
            pairs = [pairs[k] for k in sorted(rng.choice(len(pairs), size=limit, replace=False).tolist())]
    return [(matrices[i], tables[i][j]) for i, j in pairs]
