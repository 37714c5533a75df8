"""The canonical choice among the descriptions of a crystal that its group's affine normalizer allows.

spglib's conventional cell is determined only up to the affine normalizer of the group (which
origin, which direction of a polar axis, which of several equally reduced bases). Each candidate
description (M, s): x -> M x + s comes from :mod:`~crystal_fourier.runtime.symmetry._normalizer`
(linear parts M and their exact origin shifts s), slid along the polar axes so that the weighted
structure factor of the first polar harmonic with |F| > 0 is real and positive. The chosen one has
the lexicographically largest weighted structure factors (Re F(h), Im F(h)) over the box |h| <= 2,
compared to within :data:`TIE_TOLERANCE`; a tie in all of them is broken by the atom set itself
(:func:`_set_key`), which cannot tie between different sets. Every description of one crystal
gives the same candidates, hence the same choice.

What depends only on the setting and the linear parts (the candidates' origin shifts, the images
M^T h of each chunk of frequencies with v and -v sharing one exponential, the phases e(h . s) of a
setting without polar axes) is cached per (Hall number, linear parts, chunk) (:func:`_candidates`,
:func:`_chunk_images`, :func:`_chunk_phases`); per crystal remain the structure factors at the
distinct images and the filtering. Only the chosen candidate's positions are formed.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np

from crystal_fourier.derive._operations import DEN
from crystal_fourier.derive._space_groups import space_group
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.symmetry._normalizer import (
    _SHIFT_DEN,
    _decode,
    _encode,
    _PYTHON_FILTER,
    _group_table,
    _linear_stack,
    _origin_shifts,
    _lexicographic_rows,
)

__all__ = ["TIE_TOLERANCE", "canonical_description"]

TIE_TOLERANCE = 1e-6
"""Relative tolerance (of sum of weights) under which two structure factors count as
equal when choosing the canonical description. Spglib's symmetrized positions of the
same crystal agree to ~1e-12; genuinely different descriptions differ by far more."""

_MAX_POLAR_HARMONIC = 6
_SCORE_CHUNK = 8


@lru_cache(maxsize=1)
def _score_box() -> np.ndarray:
    box = np.array(list(itertools.product(range(-2, 3), repeat=3)), dtype=np.int64)
    order = np.lexsort((box[:, 2], box[:, 1], box[:, 0], np.sum(box * box, axis=1)))
    return box[order][1:]  # drop k = 0, which every description shares


@lru_cache(maxsize=None)
def _score_frequencies(hall_number: int) -> np.ndarray:
    """The box |h| <= 2 in the order of the comparison, without the systematic absences of the setting.

    F(h) = 0 for every G-invariant set when some operation (R, t) has h R = h and h . t not an integer
    (F(h) = e(h . t) F(h R)); every candidate is such a set, so an absent h would tie all of them (its
    values are round-off, far below :data:`TIE_TOLERANCE`) and leaving it out changes no choice. It
    saves the first chunks of centred groups, whose lowest frequencies are all absent.
    """
    box = _score_box()
    rotations, translations_24 = space_group(hall_number=hall_number).arrays
    fixed = np.all(np.einsum("ki,gij->gkj", box, rotations) == box[None], axis=-1)     # (ops, k): h R = h
    phase = np.mod(translations_24 @ box.T, DEN) != 0                                 # (ops, k): h . t not in Z
    present = box[~np.any(fixed & phase, axis=0)]
    present.setflags(write=False)
    return present


@lru_cache(maxsize=4096)
def _candidates(hall_number: int, linear: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(owner, origin) of the candidates before any polar slide: for the linear parts ``linear`` (their int64
    bytes, shape=(k, 3, 3)), the index of each candidate's M and its origin shift S/48 (:func:`_origin_shifts`),
    in the order (M, shift). A function of the setting and the linear parts only, so cached on both."""
    matrices = np.frombuffer(linear, dtype=np.int64).reshape(-1, 3, 3)
    tables = [_origin_shifts(hall_number, tuple(map(tuple, m.tolist()))) / _SHIFT_DEN for m in matrices]
    owner = np.concatenate([np.full(len(t), index) for index, t in enumerate(tables)])
    origin = np.concatenate(tables)
    owner.setflags(write=False)
    origin.setflags(write=False)
    return owner, origin


@lru_cache(maxsize=4096)
def _chunk_phases(hall_number: int, linear: bytes, start: int, stop: int) -> np.ndarray:
    """e(h . s) for the shifts s of :func:`_candidates` (plus a zero polar slide, as for one crystal) and the
    frequencies h of :func:`_chunk_images`: shape=(candidates, f), complex128, cached on the same key."""
    _, origin = _candidates(hall_number, linear)
    chunk = _chunk_images(hall_number, linear, start, stop)[3]
    phases = np.exp(2j * np.pi * ((origin + np.zeros(3)) @ chunk))
    phases.setflags(write=False)
    return phases


@lru_cache(maxsize=4096)
def _chunk_images(hall_number: int, linear: bytes, start: int, stop: int) -> tuple[np.ndarray, ...]:
    """The frequencies ``start:stop`` of :func:`_score_frequencies` mapped by each linear part, h -> M^T h (rows
    h M), for ``linear`` (the parts' int64 bytes, shape=(k, 3, 3)). The images v and -v share one column (the
    structure factor of real weights has F(-v) = conj F(v), so half the exponentials): the distinct columns,
    shape=(3, d), float64; for each M and frequency the column of its image, shape=(k, f), and whether the
    image is minus that column, shape=(k, f), bool; and the frequencies as columns, shape=(3, f), float64.
    A function of the setting and the linear parts only, so cached on both (the absences depend on the setting)."""
    chunk = _score_frequencies(hall_number)[start:stop]                                   # (f, 3), int64
    matrices = np.frombuffer(linear, dtype=np.int64).reshape(-1, 3, 3)
    images = (chunk @ matrices).reshape(-1, 3)                                          # rows h M
    bound = int(np.max(np.abs(images)))                      # one integer key per frequency, in base 2 bound + 1
    base = 2 * bound + 1
    codes = _encode(images + bound, base)
    flipped = codes > _encode(np.full(3, bound), base)       # the code of -v is reflected about the code of 0
    codes = np.where(flipped, _encode(bound - images, base), codes)
    distinct, inverse = np.unique(codes, return_inverse=True)
    vectors = _decode(distinct, base) - bound
    shape = (len(matrices), len(chunk))
    result = (np.ascontiguousarray(vectors.T, dtype=np.float64), inverse.reshape(shape), flipped.reshape(shape),
              np.ascontiguousarray(chunk.T, dtype=np.float64))
    for array in result:
        array.setflags(write=False)
    return result


def _polar_shifts(moved: list[np.ndarray], weights: np.ndarray, axes: tuple) -> list[list[list]]:
    """For each of the position arrays ``moved`` (one per linear part M): the shifts along the polar axes making
    F(m e_i) real and positive, m the first harmonic with |F| > 0, as a list of p_M rows [s_0, s_1, s_2] (floats;
    the caller makes one array of all of them, cheaper than one small array per M).

    Vectorized over the arrays and the axes (one exponential per harmonic for all of them), each distinct
    coordinate column once (linear parts that keep a polar axis give the same column); each F is the same sum,
    row by row, as for one array alone, so the shifts are the same to the bit.
    """
    total = float(weights.sum())
    n_axes = len(axes)
    distinct: dict[bytes, int] = {}
    columns, which = [], []   # the distinct polar coordinate columns; for each (array, axis) its column
    for x in moved:
        for axis in axes:
            column = x[:, axis]
            index = distinct.setdefault(column.tobytes(), len(columns))
            if index == len(columns):
                columns.append(column)
            which.append(index)
    rows = np.array(columns)                 # contiguous: shape=(distinct columns, n_atoms); np.stack's copy
    chosen = [None] * len(rows)   # per row: (harmonic, value) of the first harmonic with |F| > 0, or None
    open_ = np.arange(len(rows))
    for harmonic in range(1, _MAX_POLAR_HARMONIC + 1):
        values = (weights * np.exp(2j * np.pi * harmonic * rows[open_])).sum(axis=1)
        found = np.abs(values) > 1e3 * TIE_TOLERANCE * total
        for row, value in zip(open_[found].tolist(), values[found], strict=True):
            chosen[row] = (harmonic, value)
        open_ = open_[~found]
        if len(open_) == 0:
            break
    slides = [None] * len(rows)   # per row: the slides along its axis
    for row, pick in enumerate(chosen):
        if pick is None:   # every low harmonic vanishes: keep the origin where it is
            slides[row] = [0.0]
            continue
        harmonic, value = pick
        base = -np.arctan2(value.imag, value.real) / (2 * np.pi * harmonic)   # np.angle's own arithmetic
        slides[row] = [base + k / harmonic for k in range(harmonic)]
    # arrays whose polar columns are the same rows get the same shifts: built once (read-only below)
    built: dict[tuple, list] = {}
    result = []
    for index in range(len(moved)):
        own = tuple(which[index * n_axes:(index + 1) * n_axes])
        if own not in built:
            built[own] = _slide_rows([slides[row] for row in own], axes)
        result.append(built[own])
    return result


def _slide_rows(per_axis: list, axes: tuple) -> list[list]:
    """Every combination of one slide per polar axis (``per_axis[a]`` the slides along ``axes[a]``, none empty),
    in the order of ``itertools.product``, as shift rows [s_0, s_1, s_2], 0.0 off the polar axes."""
    rows = []
    for combination in itertools.product(*per_axis):
        row = [0.0, 0.0, 0.0]
        for axis, value in zip(axes, combination, strict=True):
            row[axis] = value
        rows.append(row)
    return rows


class _Candidates:
    """The candidate descriptions of one crystal: candidate c is (M, s) = (linear[owner[c]], origin[c] + slide[c]),
    in the order (M, origin shift, polar slide). Its positions (M x + origin) + slide are formed only for the few
    candidates that need them (:meth:`description`, :meth:`sets`)."""

    def __init__(self, positions: np.ndarray, weights: np.ndarray, linear: np.ndarray, hall_number: int,
                 polar_axes: tuple):
        self.positions, self.weights, self.linear, self.hall_number = positions, weights, linear, hall_number
        self.key = linear.tobytes()
        self.polar = bool(polar_axes)
        if polar_axes:
            self.moved = [positions @ m.T for m in linear]
            # The origin shifts are 0 on the polar axes (_origin_shifts), so the polar slides, which read only the
            # polar coordinates, are the same for every shift of an M: computed once per M (x + 0.0 == x, bit for bit).
            polars = _polar_shifts(self.moved, weights, polar_axes)                 # per M, p_M rows
            owner, origin = _candidates(hall_number, self.key)                    # per (M, origin shift)
            counts = np.array([len(p) for p in polars])[owner]                    # each shift with M's slides
            self.owner, self.origin = np.repeat(owner, counts), np.repeat(origin, counts, axis=0)
            self.slide = np.array([row for k in owner.tolist() for row in polars[k]], dtype=np.float64).reshape(-1, 3)
        else:
            self.moved = [None] * len(linear)   # formed when needed
            self.owner, self.origin = _candidates(hall_number, self.key)
            self.slide = np.zeros(3)
        self.shifts = self.origin + self.slide                                   # (k, 3)

    def __len__(self) -> int:
        return len(self.owner)

    def _moved(self, k: int) -> np.ndarray:
        if self.moved[k] is None:
            self.moved[k] = self.positions @ self.linear[k].T
        return self.moved[k]

    def description(self, c: int):
        """(M, s, positions) of candidate ``c``."""
        k = int(self.owner[c])
        polar = self.slide[c] if self.polar else self.slide
        return self.linear[k], self.origin[c] + polar, (self._moved(k) + self.origin[c]) + polar

    def first_of_each_set(self, alive: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """The first of the candidates ``alive`` (ascending) that describe each distinct atom set."""
        owners = self.owner[alive].tolist()
        polar = self.slide[alive][:, None, :] if self.polar else self.slide
        sets = (np.array([self._moved(k) for k in owners]) + self.origin[alive][:, None, :]) + polar   # description
        firsts = {}
        for i, row in zip(alive.tolist(), _set_codes(sets, numbers), strict=True):
            firsts.setdefault(row.tobytes(), i)   # equal bytes exactly when the set keys are equal
        return np.array(sorted(firsts.values()), dtype=np.int64)

    def keys(self, alive: np.ndarray, start: int, stop: int) -> np.ndarray:
        """(Re F(h1), Im F(h1), Re F(h2), ...) of the candidates ``alive`` for the frequencies ``start:stop``,
        shape=(alive, 2 f).

        F_(M, s)(h) = sum_a w_a e(h . (M x_a + s)) = e(h . s) F(M^T h): the structure factor of the input
        positions at the frequencies M^T h (few distinct ones: the M permute the box), times a phase.
        """
        every = len(alive) == len(self.owner)   # alive is ascending: every candidate is range(len)
        owners = self.owner if every else self.owner[alive]
        used = sorted(set(owners.tolist()))
        if len(used) == len(self.linear):
            vectors, images, flipped, chunk = _chunk_images(self.hall_number, self.key, start, stop)
        else:   # only the linear parts of the candidates still alive: fewer images to evaluate
            vectors, images, flipped, chunk = _chunk_images(self.hall_number, self.linear[used].tobytes(), start, stop)
            renumber = np.zeros(len(self.linear), dtype=np.int64)
            renumber[used] = np.arange(len(used))
            owners = renumber[owners]
        at_images = self.weights @ np.exp(2j * np.pi * (self.positions @ vectors))   # F(v) at the distinct +-v
        if self.polar:
            phases = np.exp(2j * np.pi * ((self.shifts if every else self.shifts[alive]) @ chunk))   # e(h . s)
        else:   # the shifts are the setting's: their phases are cached with them
            phases = _chunk_phases(self.hall_number, self.key, start, stop)
            phases = phases if every else phases[alive]
        factors = at_images[images[owners]]
        factors = np.where(flipped[owners], factors.conj(), factors) * phases   # F(-v) = conj F(v): real weights
        return factors.view(np.float64)


def _keep_largest(alive: np.ndarray, keys: np.ndarray, tolerance: float) -> np.ndarray:
    """The candidates ``alive`` whose ``keys`` rows are lexicographically largest, column by column within
    ``tolerance`` of the column's maximum.

    A column whose spread is within the tolerance keeps every candidate, and filtering only shrinks the
    spreads of the later columns, so only the first column with a larger spread filters, then the next, ...
    A few candidates (the usual case) are filtered in Python floats: the same IEEE comparisons and
    differences as numpy's, without a dozen calls on tiny arrays per column.
    """
    if 1 < len(alive) <= _PYTHON_FILTER:
        return alive[_lexicographic_rows(keys.T.tolist(), tolerance, largest=True)]
    while len(alive) > 1:
        spread = ((keys.max(axis=0) - keys.min(axis=0)) > tolerance).nonzero()[0]
        if len(spread) == 0:
            break
        values = keys[:, spread[0]]
        keep = values >= values.max() - tolerance
        alive, keys = alive[keep], keys[keep][:, spread[0] + 1:]
    return alive


def _chunks(count: int):
    """(start, stop) of the chunks of the ``count`` frequencies that the comparison computes at a time: the first
    :data:`_SCORE_CHUNK`, then each twice the one before. The filter reads the columns in order, so the chunks
    change no choice; the first ones almost always decide, and a tie that outlives them costs fewer calls."""
    start, size = 0, _SCORE_CHUNK
    while start < count:
        yield start, start + size
        start, size = start + size, 2 * size


def canonical_description(positions: np.ndarray, numbers: np.ndarray, metric: np.ndarray, hall_number: int, *,
               proper: bool = True):
    """Choose the canonical description; returns (M, s, new positions). ``proper=False`` admits
    improper M (the mirror image of the crystal, in the same setting) as candidates."""
    weights = numbers.astype(np.float64)
    frequencies = _score_frequencies(hall_number)
    linear = _linear_stack(hall_number, metric, proper=proper)      # (k, 3, 3), int64
    candidates = _Candidates(positions, weights, linear, hall_number, _group_table(hall_number).polar_axes)
    if len(candidates) == 0:  # pragma: no cover - the identity is always a candidate
        raise CrystalFourierError(f"no canonical description found for Hall number {hall_number}")
    tolerance = TIE_TOLERANCE * float(weights.sum())
    alive = np.arange(len(candidates))
    # Lexicographic maximum of (Re F(h1), Im F(h1), Re F(h2), ...), computed a few frequencies at a
    # time: the first ones almost always decide.
    for start, stop in _chunks(len(frequencies)):
        if len(alive) == 1:
            return candidates.description(int(alive[0]))
        if start == _SCORE_CHUNK:
            # Still tied after the first frequencies: often because candidates are one atom set (equal F at
            # every h). Keep the first candidate of each set (the one the final tie-break would pick among
            # them); a single set left is the answer without the other 116 frequencies.
            alive = candidates.first_of_each_set(alive, numbers)
            if len(alive) == 1:
                continue
        alive = _keep_largest(alive, candidates.keys(alive, start, stop), tolerance)
    if len(alive) == 1:
        return candidates.description(int(alive[0]))
    # A tie in every structure factor does not make the sets equal (in Pn-3, Pn-3n, Fm-3c, Fd-3c two
    # different origins can agree on every |h| <= 2): break it by the atom sets themselves.
    keys = [_set_key(candidates.description(int(i))[2], numbers) for i in alive]
    return candidates.description(int(alive[min(range(len(keys)), key=keys.__getitem__)]))


_KEY_GRID = 2 ** 20
"""Snapping grid of the tie-break key, 1/2**20 ~ 1e-6 fractional. A power of two: the rounding
boundaries (2j + 1)/2**21 stay far (>= 1/(24 * 2**21)) from every special coordinate, whose
denominators divide 24 or 48, so round-off (~1e-12) cannot push a special position across one."""


def _snapped(positions: np.ndarray) -> np.ndarray:
    return np.mod(np.rint(np.asarray(positions, dtype=np.float64) * _KEY_GRID).astype(np.int64), _KEY_GRID)


def _set_codes(sets: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """For a stack of atom sets of the same atoms (positions shape=(k, n, 3)): per set, its :func:`_set_key`
    rows coded as one complex number each (real part Z x y in base 2**20, below 2**47 so exact in float64;
    imaginary part z) and sorted, shape=(k, n), complex128. The code is one-to-one and numpy sorts complex
    numbers lexicographically (real, then imaginary part), so two sets have equal rows exactly when their keys
    are equal; cheaper than the keys (one sort for all sets)."""
    snapped = _snapped(sets)
    codes = np.empty(snapped.shape[:-1], dtype=np.complex128)
    codes.real = ((np.asarray(numbers, dtype=np.int64) * _KEY_GRID + snapped[..., 0]) * _KEY_GRID) + snapped[..., 1]
    codes.imag = snapped[..., 2]
    return np.sort(codes, axis=-1)


def _set_key(positions: np.ndarray, numbers: np.ndarray) -> tuple:
    """Exact key of an atom set: sorted (Z, x, y, z) with coordinates snapped to ``_KEY_GRID``.

    Two sets get the same key only if they agree atom for atom to ~1e-6 (fractional), so
    the lexicographic order of keys cannot tie between different atom sets; the same set
    given in another order or with another lattice translation of an atom gets the same key.
    """
    rows = np.column_stack([np.asarray(numbers, dtype=np.int64), _snapped(positions)])
    return tuple(rows[np.lexsort(rows.T[::-1])].ravel().tolist())
