"""The routing form: invariant Fourier features of mixed batches, weights shared by all groups.

The paper's routing matrix, computed sparsely (docs/design.md, "The routing identity"). Every frequency slot n of the
shell carries, for the group G of an atom, the symmetrised plane wave

    z_n(x) = (1/|G|) sum_{(R,t)} e(n . (R x + t)) = e(phase_n / 24) psi_O(n)(x),

zero when n is systematically absent (or outside the group's shell). A linear layer with
weights W_re, W_im (out_features x n_slots, indexed by slot, shared by every group) reads

    y = W_re Re z + W_im Im z + b = W_G f(x) + b,   W_G = W_re Re T_G + W_im Im T_G,

where z = T_G f writes the slot features through the group's real basis functions f_i, the
very functions of the generated per-group module (``crystal_fourier.generated``, evaluated by the
one kernel of :mod:`crystal_fourier.kernel`), with one or two exact entries e(q/48) a/b per slot
(:func:`~crystal_fourier.runtime.network._routing_tables.setting_routing`). Per step W_G of every
setting in the batch is one sparse product (:mod:`._sparse_routing`); per atom the cost is the
module's cosines (or its cached values: :meth:`RoutingEncoder.forward_flat`) plus n_functions x
out_features. No dense |U| x |U| matrix is ever formed.

The slot set (the union of the cubic and hexagonal shells, so that slot n always means the
same (h, k, l)) and the tables are described in :mod:`crystal_fourier.runtime.network._routing_tables`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import torch
from torch import nn

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._config import ENCODING_CUTOFF, CutoffSpec
from crystal_fourier.runtime.network._routing_tables import SettingRouting, setting_routing, slot_frequencies
from crystal_fourier.runtime.network._sparse_routing import (SettingEntries, SparseProduct, basis_matrices,
                                                             fold_matrices, gathered_product, routing_matrices,
                                                             setting_entries)

__all__ = ["RoutingEncoder", "RoutingPlan"]

_INDEX = torch.int32  # index dtype of the prepared tables (index_select / index_add_ accept it): half of int64


@dataclass(frozen=True, slots=True, eq=False)
class RoutingPlan:
    """How a batch is split by setting: static Python ints plus two index tensors.

    Built eagerly by :meth:`RoutingEncoder.plan`; :meth:`RoutingEncoder.forward_planned` only
    reads it, so that method compiles with ``torch.compile(fullgraph=True)``.
    """

    hall_numbers: tuple[int, ...]  # settings present, ascending
    counts: tuple[int, ...]  # atoms of each
    order: torch.Tensor  # (N,): atoms sorted by setting
    inverse: torch.Tensor  # (N,): back to input order


@dataclass(frozen=True, slots=True, eq=False)
class _Prepared:
    """One setting on one device and dtype: its generated module and routing entries as tensors."""

    module: nn.Module  # the generated per-group module (f_i of the setting)
    slot: torch.Tensor  # (n_entries,): slot n of each nonzero T[n, i]
    function: torch.Tensor  # (n_entries,): function i
    coefficient: torch.Tensor  # (n_entries, 2): Re T[n, i], Im T[n, i]
    n_functions: int
    entries: SettingEntries  # the same entries as pieces of the CSR matrices T and T^T (_sparse_routing)


class RoutingEncoder(nn.Module):
    """Invariant Fourier encoding of mixed batches through sparse routing tables.

    ``forward(x, hall)`` equals ``W_re @ Re z(x) + W_im @ Im z(x) + bias`` with z the slot
    features of each atom's group (module docstring), computed sparsely. Invariant: for
    every operation (R, t) of the group of atom i, y_i(R x + t) = y_i(x).

    Parameters
    ----------
    out_features : int
    cutoff : int
        Ball radius R or box size K (default ``ENCODING_CUTOFF`` = 6; at R = 5 a few cubic groups are not
        faithful, see derive/_faithful.py).
    shell : {'ball', 'box'}
        Validated with ``cutoff`` once, into :attr:`spec` (a ``CutoffSpec``), which the routing tables take.
    include_constant : bool
        Keep the k = 0 slot (z_0 = 1 for every group).

    Attributes
    ----------
    spec : CutoffSpec
        The frequency set (also as ``shell`` and ``cutoff``).
    n_slots : int
    weight_re, weight_im : nn.Parameter
        shape=(out_features, n_slots): W_re, W_im, shared by all groups.
    bias : nn.Parameter
        shape=(out_features,).
    slot_hkl : torch.Tensor
        shape=(n_slots, 3), int64 buffer: Miller indices of the slots.

    Examples
    --------
    >>> import torch
    >>> encoder = RoutingEncoder(8, cutoff=2, shell="box")
    >>> encoder(torch.rand(5, 3), torch.tensor([1, 2, 523, 523, 488])).shape
    torch.Size([5, 8])
    """

    def __init__(self, out_features: int, cutoff: int = ENCODING_CUTOFF, shell: str = "ball",
                 include_constant: bool = False):
        super().__init__()
        self.spec = CutoffSpec(shell, cutoff)   # the one check of shell and cutoff; the tables take the spec
        if isinstance(out_features, bool) or not isinstance(out_features, int) or out_features < 1:
            raise CrystalFourierError(f"out_features must be a positive integer, got {out_features!r}")
        self.out_features = out_features
        self.cutoff = self.spec.cutoff
        self.shell = self.spec.shell
        self.include_constant = bool(include_constant)
        hkl = slot_frequencies(self.spec, self.include_constant)
        self.n_slots = len(hkl)
        self.register_buffer("slot_hkl", torch.from_numpy(hkl))
        # Slot of -n for every slot n (both shells are closed under k -> -k), and 0 where -n = n (k = 0).
        position = {tuple(row): i for i, row in enumerate(hkl.tolist())}
        negative = torch.tensor([position[tuple(-v for v in row)] for row in hkl.tolist()], dtype=torch.int64)
        self.register_buffer("_negative_slot", negative, persistent=False)
        self.register_buffer("_paired", (negative != torch.arange(len(hkl))).to(torch.get_default_dtype()),
                             persistent=False)
        self.weight_re = nn.Parameter(torch.empty(out_features, self.n_slots))
        self.weight_im = nn.Parameter(torch.empty(out_features, self.n_slots))
        self.bias = nn.Parameter(torch.empty(out_features))
        self._prepared: dict = {}
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform in +-1/sqrt(2 n_slots), like ``nn.Linear`` on the 2 n_slots real features."""
        bound = 1.0 / math.sqrt(max(2 * self.n_slots, 1))
        for parameter in (self.weight_re, self.weight_im, self.bias):
            nn.init.uniform_(parameter, -bound, bound)

    def extra_repr(self) -> str:
        """The sizes and shell shown by ``repr`` of the module."""
        return (f"out_features={self.out_features}, n_slots={self.n_slots}, shell={self.shell!r}, "
                f"cutoff={self.cutoff}, include_constant={self.include_constant}")

    def table(self, hall_number: int) -> SettingRouting:
        """The :class:`~crystal_fourier.runtime.network._routing_tables.SettingRouting` of one setting.

        Parameters
        ----------
        hall_number : int
            spglib Hall number, 1-530.

        Returns
        -------
        SettingRouting
        """
        return setting_routing(self.spec, int(hall_number), self.include_constant)

    def _prepare(self, hall_number: int, device: torch.device, dtype: torch.dtype) -> _Prepared:
        key = (hall_number, device, dtype)
        prepared = self._prepared.get(key)
        if prepared is not None:
            return prepared
        routing = self.table(hall_number)
        # z_{-n} = conj(z_n): keep the entries of one slot of each pair {n, -n} (the one with the first
        # nonzero index positive, and k = 0); forward folds the weights of -n into n (see there).
        hkl = self.slot_hkl.cpu().numpy()[routing.entry_slot]
        first = np.take_along_axis(hkl, np.argmax(hkl != 0, axis=1)[:, None], axis=1)[:, 0]
        # Kept entries in function order (stable): the rows of the sparse routing matrix (_routed_weights).
        half = np.flatnonzero(first >= 0)
        half = half[np.argsort(routing.entry_function[half], kind="stable")]
        slot = torch.from_numpy(routing.entry_slot[half].copy()).to(device, _INDEX)
        function = torch.from_numpy(routing.entry_function[half].copy()).to(device, _INDEX)
        coefficient = torch.from_numpy(np.stack([routing.entry_re[half], routing.entry_im[half]], axis=1)).to(
            device, dtype)
        prepared = _Prepared(module=routing.basis_class(dtype=dtype).to(device), slot=slot, function=function,
                             coefficient=coefficient, n_functions=routing.n_functions,
                             entries=setting_entries(slot, function, coefficient, routing.n_functions, self.n_slots))
        self._prepared[key] = prepared
        return prepared

    def _validate(self, positions: torch.Tensor, hall_numbers: torch.Tensor) -> None:
        if positions.dim() != 2 or positions.shape[1] != 3 or not positions.is_floating_point():
            raise CrystalFourierError(
                f"positions must be a floating tensor of shape (N, 3), got {tuple(positions.shape)} {positions.dtype}")
        if hall_numbers.shape != positions.shape[:1] or hall_numbers.is_floating_point() or hall_numbers.is_complex():
            raise CrystalFourierError(
                f"hall_numbers must be an integer tensor of shape ({positions.shape[0]},), got "
                f"{tuple(hall_numbers.shape)} {hall_numbers.dtype}")
        if hall_numbers.numel() and (int(hall_numbers.min()) < 1 or int(hall_numbers.max()) > 530):
            raise CrystalFourierError(
                f"hall_numbers must lie in 1-530 (spglib Hall numbers), got {int(hall_numbers.min())}-"
                f"{int(hall_numbers.max())}; use crystal_fourier.derive.standard_hall_number(group) for a group number")

    def plan(self, hall_numbers: torch.Tensor) -> RoutingPlan:
        """Split a batch by setting (eager: reads the Hall numbers); see :meth:`forward_planned`.

        Parameters
        ----------
        hall_numbers : torch.Tensor
            shape=(N,), int: the setting of each atom.

        Returns
        -------
        RoutingPlan
            The distinct Hall numbers in ascending order, their counts, the stable sorting order of the atoms
            and its inverse.
        """
        hall_numbers = hall_numbers.to(self.weight_re.device)
        order = torch.argsort(hall_numbers, stable=True)
        halls, counts = torch.unique_consecutive(hall_numbers[order], return_counts=True)
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(len(order), device=order.device)
        for hall in halls.tolist():  # build the settings' tables here, eagerly (imports, derivation, files)
            self._prepare(hall, self.weight_re.device, self.weight_re.dtype)
        return RoutingPlan(tuple(halls.tolist()), tuple(counts.tolist()), order, inverse)

    def forward(self, positions: torch.Tensor, hall_numbers: torch.Tensor) -> torch.Tensor:
        """Encode fractional ``positions`` shape=(N, 3) of atoms in settings ``hall_numbers`` shape=(N,).

        Parameters
        ----------
        positions : torch.Tensor
            shape=(N, 3), fractional coordinates.
        hall_numbers : torch.Tensor
            shape=(N,), int: spglib Hall numbers 1-530.

        Returns
        -------
        torch.Tensor
            shape=(N, out_features), the dtype of the weights.
        """
        self._validate(positions, hall_numbers)
        if positions.shape[0] == 0:
            return self.bias.new_zeros(0, self.out_features) + self.bias
        return self.forward_planned(positions, self.plan(hall_numbers))

    def forward_planned(self, positions: torch.Tensor, plan: RoutingPlan,
                        functions: "list[torch.Tensor] | None" = None) -> torch.Tensor:
        """:meth:`forward` for a batch already split by :meth:`plan` (no data-dependent control flow).

        ``functions``: :meth:`function_blocks` of these positions and plan, computed earlier (then the
        generated modules are not evaluated again; ``positions`` only sets the dtype and device).

        Parameters
        ----------
        positions : torch.Tensor
            shape=(N, 3), fractional coordinates.
        plan : RoutingPlan
            The split of :meth:`plan` for these atoms' Hall numbers.
        functions : list of torch.Tensor, optional
            The blocks of :meth:`function_blocks`.

        Returns
        -------
        torch.Tensor
            shape=(N, out_features), the dtype of the weights.
        """
        return self._forward_planned(positions, plan, None, functions)[0]

    def pair_slots(self, radius: int) -> torch.Tensor:
        """Slots n with 0 < |n|^2 <= radius^2 (integer Miller indices), one of each pair {n, -n}.

        A radius beyond the shell keeps every slot of the shell.

        The first nonzero index of each kept slot is positive (the slot of ``-n`` is left out:
        z_{-n} = conj(z_n) carries nothing new). Returns the slot indices, ascending, int64.

        Parameters
        ----------
        radius : int
            Positive: the largest |n| kept.

        Returns
        -------
        torch.Tensor

        Raises
        ------
        CrystalFourierError
            If ``radius`` is not a positive integer.

        Examples
        --------
        >>> encoder = RoutingEncoder(4, cutoff=3)
        >>> encoder.slot_hkl[encoder.pair_slots(1)].tolist()
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
        """
        if isinstance(radius, bool) or not isinstance(radius, int) or radius < 1:
            raise CrystalFourierError(f"pair slot radius must be a positive integer, got {radius!r}")
        hkl = self.slot_hkl.cpu()
        first = torch.gather(hkl, 1, torch.argmax((hkl != 0).to(torch.int64), dim=1, keepdim=True))[:, 0]
        kept = ((hkl ** 2).sum(dim=1) <= radius ** 2) & (first > 0)
        return torch.nonzero(kept).reshape(-1)

    def _prepare_pairs(self, hall_number: int, device: torch.device, dtype: torch.dtype, radius: int):
        """(function, compact slot, coefficient) of the setting's entries on :meth:`pair_slots` (radius)."""
        key = ("pairs", hall_number, device, dtype, radius)
        prepared = self._prepared.get(key)
        if prepared is None:
            table = self._prepare(hall_number, device, dtype)
            slots = self.pair_slots(radius).to(device)
            compact = torch.full((self.n_slots,), -1, dtype=torch.int64, device=device)
            compact[slots] = torch.arange(len(slots), device=device)
            position = compact[table.slot.to(torch.int64)]
            keep = position >= 0
            prepared = (table.function[keep], position[keep].to(_INDEX), table.coefficient[keep])
            self._prepared[key] = prepared
        return prepared

    def forward_with_pair_features(self, positions: torch.Tensor, plan: RoutingPlan, radius: int,
                                   functions: "list[torch.Tensor] | None" = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(:meth:`forward_planned`, pair features) from one evaluation of the generated modules.

        The pair features of an atom are [Re z_n(x), Im z_n(x)] over the slots of
        :meth:`pair_slots` (``radius``), shape=(N, 2 len(pair_slots)): the exactly invariant slot
        features z (module docstring), restricted to low frequencies, for the orbit-pair
        attention bias (:class:`~crystal_fourier.runtime.network._pair_bias.OrbitPairBias`). ``functions``
        as in :meth:`forward_planned`.

        Parameters
        ----------
        positions : torch.Tensor
            shape=(N, 3), fractional coordinates.
        plan : RoutingPlan
            The split of :meth:`plan` for these atoms' Hall numbers.
        radius : int
            The radius of :meth:`pair_slots`.
        functions : list of torch.Tensor, optional
            The blocks of :meth:`function_blocks`.

        Returns
        -------
        tuple of torch.Tensor
            Features shape=(N, out_features) and pair features shape=(N, 2 len(pair_slots(radius))).
        """
        return self._forward_planned(positions, plan, radius, functions)

    def function_blocks(self, positions: torch.Tensor, plan: RoutingPlan) -> list[torch.Tensor]:
        """The generated modules' values f_i(x), one block shape=(count, n_functions) per setting of ``plan``.

        They depend on the positions only, never on the weights: a model that trains on fixed crystals may
        compute them once and pass them to :meth:`forward_planned` as ``functions`` on every step.

        Parameters
        ----------
        positions : torch.Tensor
            shape=(N, 3), fractional coordinates.
        plan : RoutingPlan
            The split of :meth:`plan` for these atoms' Hall numbers.

        Returns
        -------
        list of torch.Tensor
            In the order of ``plan.hall_numbers``, the atoms in ``plan.order``.
        """
        dtype, device = self.weight_re.dtype, self.weight_re.device
        x = positions.to(device, dtype).index_select(0, plan.order)
        tables = [self._prepare(hall, device, dtype) for hall in plan.hall_numbers]
        return [table.module(part) for table, part in zip(tables, torch.split(x, list(plan.counts)), strict=True)]

    def _routed_weights(self, tables: "list[_Prepared]") -> torch.Tensor:
        """W_G^T of every setting of the batch, stacked: shape=(sum of n_functions, out_features).

        W_G^T[i] = sum over the kept entries (n, i) of Re T W'_re[:, n] + Im T W'_im[:, n] (W' the folded
        weights, see :meth:`_forward_planned`). Eagerly this is one sparse (CSR) matrix product,
        [Re T, Im T] (rows: the functions of all settings; columns: 2 n_slots) times [W'_re; W'_im]^T,
        whose backward multiplies by T^T laid out without a sort (:mod:`._sparse_routing`). Under
        ``torch.compile`` (no sparse tensors in a full graph) the same sums are a gather and ``index_add_``.
        """
        if not torch.compiler.is_compiling():
            device, dtype = self.weight_re.device, self.weight_re.dtype
            if ("fold", device, dtype) not in self._prepared:   # made once per device and dtype
                self._prepared["fold", device, dtype] = fold_matrices(self._negative_slot, self._paired, dtype, device)
            folded = SparseProduct.apply(*self._prepared["fold", device, dtype],
                                         torch.cat([self.weight_re, self.weight_im], 1).T)
            matrix, transposed = routing_matrices([table.entries for table in tables],
                                                  [table.n_functions for table in tables], self.n_slots,
                                                  transpose=torch.is_grad_enabled() and folded.requires_grad)
            return SparseProduct.apply(matrix, transposed, folded)
        negative, paired = self._negative_slot, self._paired
        folded_re = (self.weight_re + self.weight_re[:, negative] * paired).T  # (n_slots, out)
        folded_im = (self.weight_im - self.weight_im[:, negative] * paired).T
        return gathered_product(tables, folded_re.contiguous(), folded_im.contiguous())

    def forward_flat(self, hall_numbers: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` from the atoms' basis values given flat (eager; no gradient reaches ``basis``).

        ``basis``: atom by atom, the values f_i(x) of its setting's functions (:meth:`SpaceGroupEncoding.basis`,
        e.g. cached per crystal). No split by setting: y = B (T W') + b, two sparse products whose transposes
        are laid out without sorting (:mod:`._sparse_routing`); :meth:`forward_planned`'s sums, to round-off.

        Parameters
        ----------
        hall_numbers : torch.Tensor
            shape=(N,), int: the setting of each atom.
        basis : torch.Tensor
            shape=(sum over atoms of their n_functions,), floating.

        Returns
        -------
        torch.Tensor
            shape=(N, out_features), the dtype of the weights.

        Raises
        ------
        CrystalFourierError
            ``basis`` does not have one value per function of every atom.
        """
        dtype, device = self.weight_re.dtype, self.weight_re.device
        halls, setting, counts = torch.unique(hall_numbers.to(device), return_inverse=True, return_counts=True)
        tables = [self._prepare(hall, device, dtype) for hall in halls.tolist()]
        n_functions = torch.tensor([table.n_functions for table in tables], dtype=torch.int64, device=device)
        expected = int((n_functions * counts).sum())
        if basis.dim() != 1 or basis.shape[0] != expected:
            raise CrystalFourierError(f"basis must be SpaceGroupEncoding.basis(...) of these atoms: a float vector "
                                      f"of length {expected}, got {tuple(basis.shape)}")
        routed = self._routed_weights(tables)
        matrices = basis_matrices(basis.detach().to(device, dtype), setting, n_functions, counts,
                                  transpose=torch.is_grad_enabled() and routed.requires_grad)
        return SparseProduct.apply(matrices[0], matrices[1], routed, matrices[2]) + self.bias

    def _forward_planned(self, positions: torch.Tensor, plan: RoutingPlan, radius: "int | None",
                         functions: "list[torch.Tensor] | None" = None) -> tuple[torch.Tensor, "torch.Tensor | None"]:
        dtype, device = self.weight_re.dtype, self.weight_re.device
        x = positions.to(device, dtype).index_select(0, plan.order)
        tables = [self._prepare(hall, device, dtype) for hall in plan.hall_numbers]
        # y = W_re Re z + W_im Im z + b. With z_{-n} = conj(z_n), the pair {n, -n} contributes
        # (W_re[:, n] + W_re[:, -n]) Re z_n + (W_im[:, n] - W_im[:, -n]) Im z_n, so the weights are
        # folded once per step and only half the entries are gathered (k = 0 is its own pair).
        # W_G^T[i] = sum over the kept entries (n, i) of Re T W'_re[:, n] + Im T W'_im[:, n], for every
        # setting of the batch at once (functions stacked): one sparse product, :meth:`_routed_weights`.
        routed = self._routed_weights(tables)
        # split (not slicing): its backward is one cat, where each slice's would zero-fill all of routed.
        blocks = torch.split(routed, [table.n_functions for table in tables])
        pieces, pair_pieces, start = [], [], 0
        n_pair = 0 if radius is None else len(self.pair_slots(radius))
        for k, (hall, table, size, block) in enumerate(zip(plan.hall_numbers, tables, plan.counts, blocks,
                                                            strict=True)):
            # (size, n_functions): the generated module, or its values computed once by the caller
            values = table.module(x[start:start + size]) if functions is None else functions[k].to(dtype)
            start += size
            pieces.append(torch.addmm(self.bias, values, block))
            if radius is not None:
                # z_n = sum over the setting's entries (n, i) of T[n, i] f_i, on the pair slots only.
                function, slot, coefficient = self._prepare_pairs(hall, device, dtype, radius)
                entries = values.index_select(1, function)
                pair = values.new_zeros(size, 2 * n_pair)
                pair.index_add_(1, slot, entries * coefficient[:, 0])
                pair.index_add_(1, slot + n_pair, entries * coefficient[:, 1])
                pair_pieces.append(pair)
        encoded = torch.cat(pieces).index_select(0, plan.inverse)
        if radius is None:
            return encoded, None
        return encoded, torch.cat(pair_pieces).index_select(0, plan.inverse)
