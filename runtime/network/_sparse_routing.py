"""The routing form's two sparse products, with their transposes built by counting, never by sorting.

Per training step the routing form (:mod:`crystal_fourier.runtime.network._routing`) computes

    routed = T W'          T: (sum of n_functions, 2 n_slots), the batch's settings' routing entries
    y      = B routed + b  B: (n_atoms, sum of n_functions), each atom's basis values f_i(x) in its
                              setting's rows (given by the caller, e.g. cached per crystal)

with W' the folded slot weights. Both matrices are exact constants of the batch (no gradient), so
the backward needs only their transposes: grad W' = T^T B^T grad y. A CSR product is fast (tens of
microseconds at the hosts' batch), but autograd's backward of ``torch.mm(csr, dense)`` transposes the
CSR matrix with a sort on every step (measured: about 1 ms for the 50,000 basis values of 32 crystals,
more than the products themselves). Here each transpose is laid out directly from what is known of
the rows: T^T by counting the entries of every slot per setting (precomputed once per setting), B^T
by the atoms of each setting in batch order; :class:`SparseProduct` then uses it in the backward.
The entries of every row of a transpose are in the order a stable sort would give, so the sums are
the same as autograd's.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["SettingEntries", "setting_entries", "SparseProduct", "fold_matrices", "routing_matrices",
           "basis_matrices"]


@dataclass(frozen=True, slots=True, eq=False)
class SettingEntries:
    """One setting's kept routing entries as the pieces of T (rows: its functions) and of T^T (rows: slots)."""

    row_counts: torch.Tensor      # (n_functions,) int64: nonzeros of each row of T (two per entry: Re, Im)
    columns: torch.Tensor         # (2 n_entries,) int64: slot n (Re T) and n_slots + n (Im T) of each entry
    values: torch.Tensor          # (2 n_entries,) float: Re T, Im T interleaved
    slot_counts: torch.Tensor     # (n_slots,) int64: entries of each slot
    by_slot: torch.Tensor         # (n_entries,) int64: the entries' slots, ascending (stable over functions)
    rank: torch.Tensor            # (n_entries,) int64: place of each entry among those of its slot
    function: torch.Tensor        # (n_entries,) int64: function i of each entry, in ``by_slot`` order
    coefficients: torch.Tensor    # (n_entries, 2) float: Re T, Im T in ``by_slot`` order


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
        row_counts=2 * torch.bincount(function, minlength=n_functions),
        columns=torch.stack([slot, slot + n_slots], dim=1).reshape(-1),
        values=coefficient.reshape(-1),
        slot_counts=slot_counts,
        by_slot=by_slot,
        rank=torch.arange(len(slot), device=slot.device) - first[by_slot],
        function=function[order],
        coefficients=coefficient[order].contiguous(),
    )


def _csr(rows: torch.Tensor, columns: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():   # "sparse CSR support is in beta": the product used is stable
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(rows, columns, values, shape)


def _row_pointers(counts: torch.Tensor) -> torch.Tensor:
    rows = counts.new_zeros(len(counts) + 1)
    torch.cumsum(counts, 0, out=rows[1:])
    return rows


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


def routing_matrices(entries: list[SettingEntries], n_functions: list[int],
                     n_slots: int) -> tuple[torch.Tensor, torch.Tensor]:
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

    Returns
    -------
    tuple of torch.Tensor
        shape=(sum n_functions, 2 n_slots) and its transpose.
    """
    total = sum(n_functions)
    rows = _row_pointers(torch.cat([e.row_counts for e in entries]))
    matrix = _csr(rows, torch.cat([e.columns for e in entries]), torch.cat([e.values for e in entries]),
                  (total, 2 * n_slots))
    counts = torch.stack([e.slot_counts for e in entries])       # (settings, n_slots)
    per_slot = counts.sum(0)
    # first place of slot n of setting k in T^T: after every entry of lower slots, and of slot n in settings < k
    first = (torch.cumsum(counts, 0) - counts).add_(torch.cumsum(per_slot, 0) - per_slot).reshape(-1)
    device = per_slot.device
    sizes = torch.tensor([len(e.by_slot) for e in entries], device=device)
    nnz = int(sizes.sum())
    setting = torch.repeat_interleave(torch.arange(len(entries), device=device), sizes, output_size=nnz)
    place = first.index_select(0, torch.cat([e.by_slot for e in entries]).add_(setting * n_slots))
    place += torch.cat([e.rank for e in entries])
    offsets = torch.tensor(np.cumsum([0, *n_functions[:-1]]), dtype=torch.int64, device=device)
    function = torch.cat([e.function for e in entries]).add_(offsets.index_select(0, setting))
    columns = torch.empty_like(place).index_copy_(0, place, function)
    values = torch.cat([e.coefficients for e in entries])
    values = torch.empty_like(values).index_copy_(0, place, values).T.reshape(-1)   # Re rows, then Im rows
    rows_t = torch.cat([_row_pointers(per_slot), nnz + torch.cumsum(per_slot, 0)])
    transposed = _csr(rows_t, torch.cat([columns, columns]), values, (2 * n_slots, total))
    return matrix, transposed


def basis_matrices(basis: torch.Tensor, setting: torch.Tensor, n_functions: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, B^T): the atoms' basis values as a CSR matrix over the rows of :func:`routing_matrices`'s T.

    Row a of B holds atom a's values f_1..f_m (the flat ``basis``, atoms in batch order) at the
    columns offset_k + 1..m of its setting k, so B @ (T W') is every atom's W_G f + nothing else.
    B^T lists, for each row of T, the atoms of that setting in batch order.

    Parameters
    ----------
    basis : torch.Tensor
        shape=(sum over atoms of their n_functions,), float: flat values, atom by atom.
    setting : torch.Tensor
        shape=(n_atoms,), int64: index of each atom's setting in the batch's list of settings.
    n_functions : torch.Tensor
        shape=(n_settings,), int64: functions of each setting.

    Returns
    -------
    tuple of torch.Tensor
        shape=(n_atoms, sum n_functions) and its transpose, CSR, the dtype of ``basis``.
    """
    device = basis.device
    size = len(basis)
    total = int(n_functions.sum())
    offsets = torch.cumsum(n_functions, 0) - n_functions
    per_atom = n_functions.index_select(0, setting)
    rows = _row_pointers(per_atom)
    positions = torch.arange(size, device=device)
    shift = offsets.index_select(0, setting) - rows[:-1]
    columns = torch.repeat_interleave(shift, per_atom, output_size=size).add_(positions)
    matrix = _csr(rows, columns, basis, (len(setting), total))
    # B^T: row offset_k + i lists the atoms of setting k (batch order, q-th of them: sorted[first_k + q])
    # with their value f_i, at flat position rows[atom] + i.
    n_settings = len(n_functions)
    sorted_atoms = torch.argsort(setting, stable=True)
    counts = torch.bincount(setting, minlength=n_settings)
    first = torch.cumsum(counts, 0) - counts
    row_setting = torch.repeat_interleave(torch.arange(n_settings, device=device), n_functions, output_size=total)
    row_length = counts.index_select(0, row_setting)
    rows_t = _row_pointers(row_length)
    function = torch.arange(total, device=device) - offsets.index_select(0, row_setting)
    # per row: where its run of sorted atoms starts, and the function, as one shift each (two repeats)
    start = torch.repeat_interleave(first.index_select(0, row_setting) - rows_t[:-1], row_length,
                                    output_size=size).add_(positions)
    atom = sorted_atoms.index_select(0, start)
    flat = rows.index_select(0, sorted_atoms).index_select(0, start)
    flat += torch.repeat_interleave(function, row_length, output_size=size)
    return matrix, _csr(rows_t, atom, basis.index_select(0, flat), (total, len(setting)))


class SparseProduct(torch.autograd.Function):
    """``matrix @ dense`` for a constant CSR ``matrix``; the backward is ``transposed @ grad`` (given, not sorted).

    Call as ``SparseProduct.apply(matrix, transposed, dense)``; no gradient reaches the matrices.
    """

    @staticmethod
    def forward(ctx, matrix: torch.Tensor, transposed: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
        """``matrix @ dense``.

        Parameters
        ----------
        ctx : autograd context
        matrix, transposed : torch.Tensor
            A CSR matrix shape=(r, c) and its transpose, shape=(c, r).
        dense : torch.Tensor
            shape=(c, k).

        Returns
        -------
        torch.Tensor
        """
        ctx.transposed = transposed
        return torch.mm(matrix, dense.contiguous())

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: torch.Tensor):
        """``transposed @ grad`` for ``dense``; nothing for the matrices.

        Parameters
        ----------
        ctx : autograd context
        grad : torch.Tensor
            shape=(r, k).

        Returns
        -------
        tuple
        """
        return None, None, torch.mm(ctx.transposed, grad.contiguous())
