"""The one fast kernel: sums of phased cosines, evaluated for many functions at once.

Every generated per-group module (``crystal_fourier.generated``) and the transformer's routing
encoder evaluate real basis functions of the form (CONVENTIONS.md; derive/_real_bases.py)

    f_i(x) = sum over the terms j of function i of cos(2 pi m_j . x + 2 pi p_j / 48),

m_j integer frequencies, p_j integer phases in 48ths, x fractional coordinates. This module
is the only implementation of that evaluation. Formulation (the fastest measured in
bench/bench_kernel.py, CPU and CUDA alike):

1. positions are reduced exactly to [-1/2, 1/2) (x - round(x); the functions are periodic and
   the smaller angles lose less float32 precision);
2. **one matrix product** for all angles: [x, 1] (N x 4) times the (4 x n_terms) table
   [2 pi m_j ; 2 pi p_j / 48];
3. **one cosine** over the (N x n_terms) block;
4. **segment sums**: terms are stored bucketed by function width (the number of terms of a
   function), so the n functions of width w are n w consecutive terms, summed in groups of w;
5. one column gather back to the derivation's function order (skipped when it is the identity).

Without autograd the block is evaluated transposed, (n_terms x N), so that step 4 reduces over
the middle axis of an (n, w, N) view, vectorised along the positions (summing runs of w adjacent
columns of an (N x n_terms) block cost as much as the cosines); the differentiable path keeps the
(N x n_terms) layout and sums an (N, n, w) view over its last axis.

Inputs are processed in row chunks: without autograd on the CPU, chunks of
``_CHUNK_ELEMENTS`` written into one reused scratch block (cache-resident, no large
temporaries: the cost is that of the cosines); with autograd, under ``torch.compile`` or on an
accelerator, chunks of ``_DEVICE_CHUNK_ELEMENTS`` (bounded peak memory). Works in float32 and float64, on any
device, is differentiable, and compiles with ``torch.compile(fullgraph=True)``.

The module imports torch and numpy only (never derive/ or runtime/), so generated code can
subclass it without an import cycle.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["CosineSums", "GeneratedBasis"]

_CHUNK_ELEMENTS = 1 << 17
"""(rows x terms) block evaluated at once on the CPU without autograd: 512 KB in float32, about the
size of a core's L2 cache, so the cosines are computed where the angles were just written."""

_MIN_CHUNK_ROWS = 4096
"""Fewest rows of a CPU chunk (groups with few terms would otherwise pay per-chunk overhead)."""

_STRIDE_PAD = 16
"""Extra columns of the transposed scratch blocks (64 bytes in float32), so that no row stride is a power of two."""

_DEVICE_CHUNK_ELEMENTS = 1 << 23
"""Block size on accelerators and on the differentiable path (fewer, larger kernels): 32 MB in float32."""


@lru_cache(maxsize=4096)
def _parse_integers(text: str) -> np.ndarray:
    """Space-separated integers (the compact form of generated tables) as int64, read-only and kept: the
    groups of one crystal family share their shell's text, and a group's tables are read twice (its
    routing and its module).

    Parameters
    ----------
    text : str
        Integers separated by whitespace.

    Returns
    -------
    numpy.ndarray
        shape=(n,), int64.

    Examples
    --------
    >>> _parse_integers("3 -1 0").tolist()
    [3, -1, 0]
    """
    values = np.array(text.split(), dtype=np.int64)
    values.setflags(write=False)
    return values


def _as_int_array(values, name: str, ndim: int) -> np.ndarray:
    array = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values)
    if array.size == 0:
        array = array.reshape((0,) * ndim if ndim == 1 else (0, 3))
    if array.ndim != ndim or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise CrystalFourierError(f"{name} must be an integer array with {ndim} axes, got {array.dtype} {array.shape}")
    return array.astype(np.int64)


class CosineSums(nn.Module):
    """f_i(x) = sum_{j in terms of i} cos(2 pi m_j . x + 2 pi p_j / 48) for i < dim (module docstring).

    Parameters
    ----------
    frequencies : array of int, shape=(n_terms, 3)
        m_j, grouped by function.
    phase_48 : array of int, shape=(n_terms,)
        p_j (any integers; only p_j mod 48 matters).
    offsets : array of int, shape=(dim + 1,)
        Function i owns terms ``offsets[i]:offsets[i + 1]``; every function has at least one term.
    dtype : torch.dtype
        Floating dtype of the computation (``.float()`` / ``.double()`` switch it later).

    Attributes
    ----------
    dim : int
        Number of functions.
    n_terms : int

    Examples
    --------
    >>> kernel = CosineSums([[1, 0, 0], [0, 1, 0], [0, 0, 0]], [0, 12, 0], [0, 2, 3])
    >>> x = torch.tensor([[0.25, 0.0, 0.5]], dtype=torch.float64)
    >>> [round(v, 12) for v in kernel(x)[0].tolist()]  # cos(pi/2) + cos(pi/2), cos(0)
    [0.0, 1.0]
    """

    def __init__(self, frequencies: ArrayLike | torch.Tensor, phase_48: ArrayLike | torch.Tensor,
                 offsets: ArrayLike | torch.Tensor, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        frequencies = _as_int_array(frequencies, "frequencies", 2)
        phase_48 = _as_int_array(phase_48, "phase_48", 1)
        offsets = _as_int_array(offsets, "offsets", 1)
        widths = np.diff(offsets)
        if (frequencies.shape[1:] != (3,) or len(phase_48) != len(frequencies) or len(offsets) < 1
                or offsets[0] != 0 or offsets[-1] != len(frequencies) or np.any(widths < 1)):
            raise CrystalFourierError(
                "CosineSums wants frequencies (n_terms, 3), phase_48 (n_terms,) and offsets (dim + 1,) from 0 to "
                f"n_terms with every function owning at least one term; got {frequencies.shape}, {phase_48.shape}, "
                f"offsets {offsets[:4].tolist()}...")
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise CrystalFourierError(f"dtype must be a floating torch dtype, got {dtype!r}")
        self.dim = len(widths)
        self.n_terms = len(frequencies)
        # Functions sorted by width (stable: derivation order within a width); terms follow them.
        order = np.argsort(widths, kind="stable")
        term_order = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in order]) if self.dim else order
        sorted_widths = widths[order]
        edges = np.flatnonzero(np.diff(sorted_widths)) + 1
        starts = np.concatenate([[0], edges]).astype(np.int64)
        counts = np.diff(np.concatenate([starts, [self.dim]]))
        self._buckets = tuple((int(sorted_widths[s]), int(c)) for s, c in zip(starts, counts, strict=True))
        table = np.concatenate([2 * math.pi * frequencies[term_order].T.astype(np.float64),
                                (2 * math.pi / 48) * (phase_48[term_order] % 48).astype(np.float64)[None, :]])
        self.register_buffer("_angle_table", torch.from_numpy(table).to(dtype), persistent=False)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(self.dim)
        self._reorder = not np.array_equal(order, np.arange(self.dim))
        self.register_buffer("_function_order", torch.from_numpy(inverse), persistent=False)

    @property
    def dtype(self) -> torch.dtype:
        """The floating dtype the module computes in."""
        return self._angle_table.dtype

    def _evaluate(self, x: torch.Tensor) -> torch.Tensor:
        """Differentiable path (autograd through the positions, or ``torch.compile``): shape=(n, dim)."""
        table = self._angle_table
        terms = torch.cos(torch.addmm(table[3], x, table[:3]))
        pieces, start = [], 0
        for width, count in self._buckets:
            block = terms[:, start:start + width * count]
            start += width * count
            pieces.append(block if width == 1 else block.unflatten(1, (count, width)).sum(-1))
        values = pieces[0] if len(pieces) == 1 else torch.cat(pieces, dim=1)
        if self._reorder:
            values = values.index_select(1, self._function_order)
        return values

    def _evaluate_no_grad(self, x: torch.Tensor) -> torch.Tensor:
        """Fast path without autograd: cache-sized row chunks, evaluated **transposed**.

        Each chunk's angles are one (n_terms x rows) block, [2 pi m_j ; 2 pi p_j / 48]^T [x, 1]^T,
        written into one reused scratch block, so that the terms of the w functions of a width
        bucket are w*count contiguous rows: their segment sums reduce over the middle axis of a
        (count, w, rows) view, vectorised along the rows. (The row-major (rows x n_terms) layout
        summed runs of 2-12 adjacent columns, as slow as the cosines themselves: 2.0-2.6x the
        cosine floor for Pnma and Fd-3m at R = 5, bench/bench_kernel.py.) One transposed copy (with
        the column gather) writes the chunk's (rows x dim) values.
        """
        table = self._angle_table
        rows = x.shape[0]
        if x.device.type == "cpu":  # at least _MIN_CHUNK_ROWS: few-term groups would pay per-chunk overhead
            chunk = max(_MIN_CHUNK_ROWS, _CHUNK_ELEMENTS // self.n_terms)
        else:
            chunk = max(1, _DEVICE_CHUNK_ELEMENTS // self.n_terms)
        chunk = min(chunk, rows)
        out = x.new_empty(rows, self.dim)
        if self._buckets == ((1, self.dim),) and not self._reorder:  # one term per function (P1, P-1):
            for start in range(0, rows, chunk):  # the cosines are the values, written in place
                torch.addmm(table[3], x[start:start + chunk], table[:3], out=out[start:start + chunk]).cos_()
            return out
        table_t, phase_t = table[:3].T, table[3, :, None]  # (n_terms, 3) and (n_terms, 1) views
        # Row strides padded off powers of two: a stride of 4096 floats put the w terms summed
        # together in one cache set (measured 1.3x slower for Fd-3m at R = 5).
        scratch = x.new_empty(self.n_terms, chunk + _STRIDE_PAD)
        staged = x.new_empty(self.dim, chunk + _STRIDE_PAD)
        for start in range(0, rows, chunk):
            stop = min(start + chunk, rows)
            count_rows = stop - start
            terms = torch.addmm(phase_t, table_t, x[start:stop].T, out=scratch[:, :count_rows]).cos_()
            target = staged[:, :count_rows]
            term, function = 0, 0
            for width, count in self._buckets:
                block = terms[term:term + width * count]
                if width == 1:
                    target[function:function + count].copy_(block)
                else:
                    torch.sum(block.view(count, width, count_rows), dim=1, out=target[function:function + count])
                term += width * count
                function += count
            if self._reorder:
                target = target.index_select(0, self._function_order)
            out[start:stop].copy_(target.T)
        return out

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        """Values at fractional ``positions`` shape=(..., 3): shape=(..., dim), in :attr:`dtype`.

        Parameters
        ----------
        positions : torch.Tensor
            shape=(..., 3), fractional coordinates (any floating type; evaluated in :attr:`dtype`).

        Returns
        -------
        torch.Tensor

        Raises
        ------
        CrystalFourierError
            If the last axis of ``positions`` is not 3.
        """
        if positions.shape[-1] != 3:
            raise CrystalFourierError(f"positions must have shape (..., 3), got {tuple(positions.shape)}")
        x = positions.to(self._angle_table.dtype).reshape(-1, 3)
        x = x - torch.round(x)  # an exact lattice translation: the functions are periodic
        rows = x.shape[0]
        if self.dim == 0 or rows == 0:
            out = x.new_zeros(rows, self.dim)
        elif torch.compiler.is_compiling() or (torch.is_grad_enabled() and x.requires_grad):
            chunk = max(1, _DEVICE_CHUNK_ELEMENTS // self.n_terms)
            out = self._evaluate(x) if rows <= chunk else torch.cat([self._evaluate(p) for p in torch.split(x, chunk)])
        else:
            out = self._evaluate_no_grad(x)
        return out.reshape(positions.shape[:-1] + (self.dim,))

    def extra_repr(self) -> str:
        """The sizes shown by ``repr`` of the module: functions, terms and the distinct widths."""
        return f"dim={self.dim}, n_terms={self.n_terms}, widths={[w for w, _ in self._buckets]}"


def _slot_entries(frequencies: ArrayLike | torch.Tensor, phase_48: ArrayLike | torch.Tensor,
                 offsets: ArrayLike | torch.Tensor,
                 parts: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The slot features z_m (docs/design.md) written through the real functions: z_m = sum_i T[m, i] f_i.

    z_m(x) = (1/|G|) sum_{(R, t)} e(m . (R x + t)) is the symmetrised plane wave of frequency m
    (zero when m is systematically absent). With the real basis of derive/_real_bases.py, a term
    (m, p) of function i gives, exactly,

    * ``part == 'c'`` (centric orbit O, f_i = e(-c/48) psi_O / 2 over one of each pair {m, -m}):
      z_m = (2 / |O|) e(-p/48) f_i with |O| = 2 x (terms of i); for k = 0, z_0 = f_i = 1;
    * ``part == 'r'`` (first orbit of a pair, f_i = Re psi_O, f_{i+1} = Im psi_O):
      z_m = (1 / |O|) e(-p/48) (f_i + i f_{i+1}) with |O| = terms of i;
    * ``part == 'i'``: no entry (its terms repeat those of the 'r' function before it);

    and z_{-m} = conj(z_m) in every case (symmetrisation commutes with conjugation), which
    covers the other half of a centric orbit and the whole partner orbit -O of a pair.

    Parameters
    ----------
    frequencies, phase_48, offsets
        As for :class:`CosineSums`.
    parts : str
        One letter per function: 'c' centric, 'r' real part, 'i' imaginary part.

    Returns
    -------
    tuple of np.ndarray
        ``(hkl, function, phase_48, numerator, denominator)``: one row per nonzero T[m, i],
        T[m, i] = (numerator / denominator) e(phase_48 / 48); ``hkl`` shape=(n_entries, 3). Every
        present frequency of the shell appears, each with one ('c') or two ('r', 'i') entries.

    Examples
    --------
    >>> hkl, function, phase, numerator, denominator = _slot_entries([[0, 0, 0], [1, 0, 0]], [0, 0], [0, 1, 2], "cc")
    >>> hkl.tolist(), function.tolist(), (numerator / denominator).tolist()  # P-1, box K = 1 row
    ([[0, 0, 0], [1, 0, 0], [-1, 0, 0]], [0, 1, 1], [1.0, 1.0, 1.0])
    """
    frequencies = _as_int_array(frequencies, "frequencies", 2)
    phase_48 = _as_int_array(phase_48, "phase_48", 1) % 48
    offsets = _as_int_array(offsets, "offsets", 1)
    widths = np.diff(offsets)
    if len(parts) != len(widths) or set(parts) - set("cri"):
        raise CrystalFourierError(f"parts must hold one of 'c', 'r', 'i' per function ({len(widths)}), got {parts!r}")
    rows = []  # (h, k, l, function, phase_48, numerator, denominator)
    for function, part in enumerate(parts):
        start, stop = int(offsets[function]), int(offsets[function + 1])
        for (h, k, l), p in zip(frequencies[start:stop].tolist(), phase_48[start:stop].tolist(), strict=True):
            if part == "c":
                if h == k == l == 0:
                    rows.append((0, 0, 0, function, 0, 1, 1))
                    continue
                size = 2 * (stop - start)
                rows.append((h, k, l, function, -p % 48, 2, size))
                rows.append((-h, -k, -l, function, p, 2, size))
            elif part == "r":
                size = stop - start
                # z_m = e(-p/48)(f_re + i f_im) / |O|; i e(-p/48) = e((12 - p)/48); conj for -m.
                rows.append((h, k, l, function, -p % 48, 1, size))
                rows.append((h, k, l, function + 1, (12 - p) % 48, 1, size))
                rows.append((-h, -k, -l, function, p, 1, size))
                rows.append((-h, -k, -l, function + 1, (p - 12) % 48, 1, size))
    table = np.array(rows, dtype=np.int64).reshape(-1, 7)
    return (table[:, :3], table[:, 3], table[:, 4], table[:, 5], table[:, 6])


class GeneratedBasis(CosineSums):
    """Base of every generated per-group module: exact tables in, invariant basis values out.

    A generated subclass sets the class attributes ``dim``, ``group``, ``hall_number``,
    ``cutoff``, ``shell``, ``symbol``, ``shell_frequencies`` (space-separated h k l of the
    shell in canonical order, from its package index) and ``tables``, a tuple of four strings:
    the shell row of each term, its phase in 48ths, the function offsets, and the part letter
    of each function (see ``_slot_entries``).

    No trainable parameters. Persistent int64 buffers ``frequencies`` shape=(n_frequencies, 3)
    (the frequencies the terms use, canonical order), ``term_frequency`` (row of
    ``frequencies``), ``term_phase_48`` and ``term_function`` shape=(n_terms,).
    """

    dim: int
    group: int
    hall_number: int
    cutoff: int
    shell: str
    symbol: str
    shell_frequencies: str
    tables: tuple[str, str, str, str]

    @classmethod
    def _tables(cls):
        """The class's exact tables parsed: (shell hkl, shell row, phase_48, offsets, parts) of its terms."""
        rows_text, phase_text, offsets_text, parts = cls.tables
        shell = _parse_integers(cls.shell_frequencies).reshape(-1, 3)
        return shell, _parse_integers(rows_text), _parse_integers(phase_text), _parse_integers(offsets_text), parts

    def __init__(self, dtype: torch.dtype = torch.float64) -> None:
        shell, rows, phase, offsets, parts = self._tables()
        super().__init__(shell[rows], phase, offsets, dtype)
        if self.dim != type(self).dim or len(parts) != self.dim:
            raise CrystalFourierError(f"{type(self).__name__}: tables hold {self.dim} functions, class says "
                                      f"{type(self).dim}; regenerate with `crystal-fourier generate`")
        used = np.unique(rows)
        self.parts = parts
        self.register_buffer("frequencies", torch.from_numpy(shell[used]))
        self.register_buffer("term_frequency", torch.from_numpy(np.searchsorted(used, rows)))
        self.register_buffer("term_phase_48", torch.from_numpy(phase % 48))
        self.register_buffer("term_function", torch.from_numpy(np.repeat(np.arange(self.dim), np.diff(offsets))))

    def forward_reference(self, positions: torch.Tensor) -> torch.Tensor:
        """The same values by the direct formula, one cosine per term and ``index_add_`` (reference path).

        Parameters
        ----------
        positions : torch.Tensor
            shape=(..., 3), fractional coordinates.

        Returns
        -------
        torch.Tensor
            shape=(..., dim), in :attr:`dtype`.
        """
        x = positions.to(self.dtype).reshape(-1, 3)
        m = self.frequencies[self.term_frequency].to(x.dtype)
        terms = torch.cos(2 * math.pi * (x @ m.T + self.term_phase_48.to(x.dtype) / 48))
        out = terms.new_zeros(x.shape[0], self.dim).index_add_(1, self.term_function, terms)
        return out.reshape(positions.shape[:-1] + (self.dim,))

    @classmethod
    def slot_entries(cls) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """This group's routing table in real form, from its own exact tables: ``_slot_entries``.

        A class method: the routing needs the tables, not an instance with float buffers.
        """
        shell, rows, phase, offsets, parts = cls._tables()
        return _slot_entries(shell[rows], phase, offsets, parts)
