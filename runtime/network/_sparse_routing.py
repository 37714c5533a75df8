"""The routing form's sparse products, with their transposes laid out by counting, never by sorting.

Per training step the routing form (:mod:`crystal_fourier.runtime.network._routing`) computes

    routed = T F W         W = [W_re; W_im]^T, F the fold of slot -n into n (z_{-n} = conj z_n),
                           T: (sum of n_functions, 2 n_slots), the routing entries of the batch's settings
    y      = B routed + b  B: (n_atoms, sum of n_functions), each atom's basis values f_i(x) in the rows of
                           its setting (given flat by the caller, e.g. cached per crystal)

F, T and B are exact constants of the batch (no gradient), so the backward needs only their transposes:
grad W = F^T T^T B^T grad y. A CSR product is fast (tens of microseconds at the hosts' batch), but
autograd's backward of ``torch.mm(csr, dense)`` transposes the CSR matrix with a sort on every step
(measured: about 1 ms for the 50,000 basis values of 32 crystals, more than the products). Here F^T is
made once; T^T is laid out by counting the entries of every slot per setting (precomputed once per
setting) and B^T from the atoms of each setting in batch order; :class:`SparseProduct` uses them in the
backward, and neither is made when no gradient is needed. The entries of each row of a transpose are in
the order a stable sort would give. Under ``torch.compile`` (no sparse tensors in a full graph) T F W is
:func:`gathered_product` instead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

_INDEX = torch.int32
"""Index dtype of the CSR matrices: the products read int32 indices without a copy (int64 ones are converted on
every call), and every size here is far below 2^31."""

__all__ = ["SettingEntries", "setting_entries", "SparseProduct", "fold_matrices", "routing_matrices",
           "basis_matrices", "gathered_product"]


@dataclass(frozen=True, slots=True, eq=False)
class SettingEntries:
    """One setting's kept routing entries as the pieces of T (rows: its functions) and of T^T (rows: slots)."""

    row_counts: torch.Tensor      # (n_functions,) int64: nonzeros of each row of T (two per entry: Re, Im)
    columns: torch.Tensor         # (2 n_entries,) int64: slot n (Re T) and n_slots + n (Im T) of each entry
    values: torch.Tensor          # (2 n_entries,) float: Re T, Im T interleaved
    slot_counts: torch.Tensor     # (n_slots,) int64: entries of each slot (int64: T^T's places index with it)
    by_slot: torch.Tensor         # (n_entries,) int64: the entries' slots, ascending (stable over functions)
    rank: torch.Tensor            # (n_entries,) int64: place of each entry among those of its slot
    function: torch.Tensor        # (n_entries,) int32: function i of each entry, in ``by_slot`` order
    re: torch.Tensor              # (n_entries,) float: Re T in ``by_slot`` order
    im: torch.Tensor              # (n_entries,) float: Im T in ``by_slot`` order
    n_entries: int


def setting_entries(slot: torch.Tensor, function: torch.Tensor, coefficient: torch.Tensor, n_functions: int,
                    n_slots: int) -> SettingEntries:
    """The sparse pieces of one setting, from its kept entries in function order (``_Prepared``).

    Parameters
    ----------
    slot, function : torch.Tensor
        shape=(n_entries,), integer: slot n and function i of each entry, ascending in i.
    coefficient : torch.Tensor
        shape=(n_entries, 2), float: Re T[n, i], Im T[n, i].
    n_functions : int
        The setting's number of basis functions.
    n_slots : int
        The encoder's number of slots.

    Returns
    -------
    SettingEntries
    """
    slot, function = slot.to(torch.int64), function.to(torch.int64)
    order = torch.from_numpy(np.argsort(slot.cpu().numpy(), kind="stable")).to(slot.device)
    by_slot = slot[order]
    slot_counts = torch.bincount(slot, minlength=n_slots)
    first = torch.cumsum(slot_counts, 0) - slot_counts
    return SettingEntries(
        row_counts=(2 * torch.bincount(function, minlength=n_functions)).to(_INDEX),
        columns=torch.stack([slot, slot + n_slots], dim=1).reshape(-1).to(_INDEX),
        values=coefficient.reshape(-1),
        slot_counts=slot_counts,
        by_slot=by_slot,
        rank=torch.arange(len(slot), device=slot.device) - first[by_slot],
        function=function[order].to(_INDEX),
        re=coefficient[order, 0].contiguous(),
        im=coefficient[order, 1].contiguous(),
        n_entries=len(slot),
    )


def _csr(rows: torch.Tensor, columns: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():   # "sparse CSR support is in beta": the product used is stable
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(rows, columns, values, shape)


def _row_pointers(counts: torch.Tensor) -> torch.Tensor:
    rows = counts.new_zeros(len(counts) + 1)
    torch.cumsum(counts, 0, dtype=counts.dtype, out=rows[1:])
    return rows


def _exclusive_sum(counts: torch.Tensor) -> torch.Tensor:
    return torch.cumsum(counts, 0, dtype=counts.dtype) - counts


def fold_matrices(negative: torch.Tensor, paired: torch.Tensor, dtype: torch.dtype,
                  device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(F, F^T): the fold of the slot weights, [W'_re; W'_im]^T = F [W_re; W_im]^T, as CSR matrices.

    Row n of F adds slot -n to slot n in the Re half and subtracts it in the Im half (z_{-n} = conj z_n;
    ``RoutingEncoder._forward_planned``); k = 0, its own negative, is kept as it is. Made once per device
    and dtype, so the fold costs one small product per step and its backward no scatter.

    Parameters
    ----------
    negative : torch.Tensor
        shape=(n_slots,), int64: the slot of -n.
    paired : torch.Tensor
        shape=(n_slots,): 1 where -n differs from n, else 0.
    dtype : torch.dtype
    device : torch.device

    Returns
    -------
    tuple of torch.Tensor
        shape=(2 n_slots, 2 n_slots) twice.
    """
    n_slots = len(negative)
    slots = torch.arange(n_slots)
    negative, pair = negative.cpu(), paired.cpu() != 0
    rows = torch.cat([slots, slots[pair], n_slots + slots, n_slots + slots[pair]])
    columns = torch.cat([slots, negative[pair], n_slots + slots, n_slots + negative[pair]])
    values = torch.cat([torch.ones(n_slots), torch.ones(int(pair.sum())), torch.ones(n_slots),
                        -torch.ones(int(pair.sum()))]).to(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fold = torch.sparse_coo_tensor(torch.stack([rows, columns]), values, (2 * n_slots, 2 * n_slots)).coalesce()
        return fold.to_sparse_csr().to(device), fold.t().coalesce().to_sparse_csr().to(device)


def routing_matrices(entries: list[SettingEntries], n_functions: list[int], n_slots: int,
                     transpose: bool = True) -> tuple[torch.Tensor, "torch.Tensor | None"]:
    """(T, T^T) of the settings ``entries`` (in batch order), as CSR matrices.

    T has the settings' functions stacked as rows (setting k's function i is row offset_k + i) and
    2 n_slots columns (Re T at n, Im T at n_slots + n); T^T is its transpose, laid out by counting:
    the entries of slot n of setting k start after those of slot n in settings before k.

    Parameters
    ----------
    entries : list of SettingEntries
        One per setting of the batch.
    n_functions : list of int
        Their numbers of functions.
    n_slots : int
    transpose : bool
        Also lay out T^T (needed for a backward only); None in its place otherwise.

    Returns
    -------
    tuple of torch.Tensor
        shape=(sum n_functions, 2 n_slots) and its transpose.
    """
    total = sum(n_functions)
    rows = _row_pointers(torch.cat([e.row_counts for e in entries]))
    matrix = _csr(rows, torch.cat([e.columns for e in entries]), torch.cat([e.values for e in entries]),
                  (total, 2 * n_slots))
    if not transpose:
        return matrix, None
    # Place of the first entry of slot n of setting k in T^T: after every entry of the lower slots and those of
    # slot n in settings before k, i.e. the exclusive running sum of the counts laid out slot-major (n, k).
    counts = torch.stack([e.slot_counts for e in entries], dim=1).reshape(-1)   # (n_slots * settings,)
    first = torch.cumsum(counts, 0).sub_(counts)
    device = counts.device
    nnz = sum(e.n_entries for e in entries)
    setting = torch.repeat_interleave(torch.tensor([e.n_entries for e in entries], device=device), output_size=nnz)
    place = first.index_select(0, torch.cat([e.by_slot for e in entries]).mul_(len(entries)).add_(setting))
    place += torch.cat([e.rank for e in entries])
    offsets = torch.tensor(np.cumsum([0, *n_functions[:-1]]), dtype=_INDEX, device=device)
    function = torch.cat([e.function for e in entries]).add_(offsets.index_select(0, setting))
    columns = torch.empty_like(function).index_copy_(0, place, function)
    values = torch.empty(2, nnz, dtype=entries[0].re.dtype, device=device)   # Re rows, then Im rows
    values[0].index_copy_(0, place, torch.cat([e.re for e in entries]))
    values[1].index_copy_(0, place, torch.cat([e.im for e in entries]))
    starts = first[::len(entries)].to(_INDEX)   # each slot's first place (setting 0)
    rows_t = torch.cat([starts, starts + nnz, starts.new_full((1,), 2 * nnz)])
    transposed = _csr(rows_t, torch.cat([columns, columns]), values.reshape(-1), (2 * n_slots, total))
    return matrix, transposed


def basis_matrices(basis: torch.Tensor, setting: torch.Tensor, n_functions: torch.Tensor, counts: torch.Tensor,
                   transpose: bool = True) -> tuple[torch.Tensor, "torch.Tensor | None", "torch.Tensor | None"]:
    """(B, B^T, order): the atoms' basis values as a CSR matrix over the rows of :func:`routing_matrices`'s T.

    Row a of B holds atom a's values f_1..f_m (the flat ``basis``, atoms in batch order) at the
    columns offset_k + 1..m of its setting k, so B @ (T W') is every atom's W_G f + nothing else.
    B^T is the transpose with its columns (the atoms) in ``order``, the atoms sorted by setting (stable):
    B^T @ g[order] = B.T @ g, and each row of B^T is one contiguous run of columns.

    Parameters
    ----------
    basis : torch.Tensor
        shape=(sum over atoms of their n_functions,), float: flat values, atom by atom.
    setting : torch.Tensor
        shape=(n_atoms,), int64: index of each atom's setting in the batch's list of settings.
    n_functions : torch.Tensor
        shape=(n_settings,), integer: functions of each setting.
    counts : torch.Tensor
        shape=(n_settings,), integer: atoms of each setting.
    transpose : bool
        Also lay out B^T and ``order`` (needed for a backward only); None in their place otherwise.

    Returns
    -------
    tuple of torch.Tensor
        shape=(n_atoms, sum n_functions) and its transpose (atoms in ``order``), CSR, the dtype of ``basis``;
        ``order`` shape=(n_atoms,), int64.
    """
    device = basis.device
    size, n_atoms = len(basis), len(setting)
    n_functions = n_functions.to(_INDEX)
    total = int(n_functions.sum())
    offsets = _exclusive_sum(n_functions)
    per_atom = n_functions.index_select(0, setting)
    rows = _row_pointers(per_atom)
    positions = torch.arange(size, device=device, dtype=_INDEX)
    shift = offsets.index_select(0, setting) - rows[:-1]
    columns = shift.index_select(0, torch.repeat_interleave(per_atom, output_size=size)).add_(positions)
    matrix = _csr(rows, columns, basis, (n_atoms, total))
    if not transpose:
        return matrix, None, None
    # B^T over the atoms sorted by setting (stable): row offset_k + i lists the atoms first_k, first_k + 1, ...
    # of setting k, each with its value f_i at flat position rows[atom] + i.
    order = torch.argsort(setting, stable=True)
    counts = counts.to(_INDEX)
    row_setting = torch.repeat_interleave(n_functions, output_size=total)
    row_length = counts.index_select(0, row_setting)
    rows_t = _row_pointers(row_length)
    function = torch.arange(total, device=device, dtype=_INDEX) - offsets.index_select(0, row_setting)
    entry_row = torch.repeat_interleave(row_length, output_size=size)
    place = (_exclusive_sum(counts).index_select(0, row_setting) - rows_t[:-1]).index_select(0, entry_row)
    place += positions
    flat = rows.index_select(0, order).index_select(0, place).add_(function.index_select(0, entry_row))
    return matrix, _csr(rows_t, place, basis.index_select(0, flat), (total, n_atoms)), order


def gathered_product(tables: list, folded_re: torch.Tensor, folded_im: torch.Tensor) -> torch.Tensor:
    """T [W'_re; W'_im]^T by gathers and one ``index_add_``: the routing product under ``torch.compile``.

    No sparse tensors in a full graph; the same sums as :func:`routing_matrices`'s T times the folded weights.

    Parameters
    ----------
    tables : list
        The settings' prepared tables (``slot``, ``function``, ``coefficient``, ``n_functions``), in batch order.
    folded_re, folded_im : torch.Tensor
        shape=(n_slots, out_features), contiguous: the folded weights.

    Returns
    -------
    torch.Tensor
        shape=(sum n_functions, out_features).
    """
    offsets = [0]
    for table in tables:
        offsets.append(offsets[-1] + table.n_functions)
    slot = torch.cat([table.slot for table in tables])
    # offsets has one entry more than tables (the total): each table takes its own start.
    function = torch.cat([table.function + offset for table, offset in zip(tables, offsets, strict=False)])
    coefficient = torch.cat([table.coefficient for table in tables])
    # Two gathers, no slicing of a joint one (a slice's backward zero-fills the whole gather).
    contributions = torch.addcmul(folded_re.index_select(0, slot) * coefficient[:, :1],
                                  folded_im.index_select(0, slot), coefficient[:, 1:])
    return contributions.new_zeros(offsets[-1], folded_re.shape[1]).index_add_(0, function, contributions)


class SparseProduct(torch.autograd.Function):
    """``matrix @ dense`` for a constant CSR ``matrix``; the backward is ``transposed @ grad`` (given, not sorted).

    Call as ``SparseProduct.apply(matrix, transposed, dense, order)``; ``order`` (or None) permutes the rows
    of the gradient first, for a ``transposed`` whose columns are in that order (:func:`basis_matrices`). No
    gradient reaches the matrices.
    """

    @staticmethod
    def forward(ctx, matrix: torch.Tensor, transposed: torch.Tensor, dense: torch.Tensor,
                order: "torch.Tensor | None" = None) -> torch.Tensor:
        """``matrix @ dense``.

        Parameters
        ----------
        ctx : autograd context
        matrix, transposed : torch.Tensor
            A CSR matrix shape=(r, c) and its transpose, shape=(c, r), columns in ``order``.
        dense : torch.Tensor
            shape=(c, k).
        order : torch.Tensor or None
            shape=(r,), int64: the row of the gradient that each column of ``transposed`` reads.

        Returns
        -------
        torch.Tensor
        """
        ctx.transposed, ctx.order = transposed, order
        return torch.mm(matrix, dense.contiguous())

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        """``transposed @ grad[order]`` for ``dense``; nothing for the matrices.

        Parameters
        ----------
        ctx : autograd context
        grad : torch.Tensor
            shape=(r, k).

        Returns
        -------
        tuple
        """
        grad = grad.contiguous() if ctx.order is None else grad.index_select(0, ctx.order)
        return None, None, torch.mm(ctx.transposed, grad), None
