"""The routing form: invariant Fourier features of mixed batches, weights shared by all groups.

DESIGN.md, "The paper's routing matrix, computed sparsely". Every frequency slot n of the
shell carries, for the group G of an atom, the symmetrised plane wave

    z_n(x) = (1/|G|) sum_{(R,t)} e(n . (R x + t)) = e(phase_n / 24) psi_O(n)(x),

zero when n is systematically absent (or outside the group's shell). A linear layer with
weights W_re, W_im (out_features x n_slots, indexed by slot, shared by every group) reads

    y = W_re Re z + W_im Im z + b = W_G f(x) + b,   W_G = W_re Re T_G + W_im Im T_G,

where z = T_G f writes the slot features through the group's n_orbits real functions f_i
(:class:`~crystal_fourier.runtime.routing_tables.RealRouting`: one or two exact entries
e(q/48) / |O| per slot, the sparse routing table S_G in real form). So per step W_G is a
gather-and-sum over the group's slots, and per atom the cost is one cosine per term (at most
one per present slot, half of them for centric orbits) and n_orbits x out_features; no dense
|U| x |U| matrix is ever formed. Atoms are sorted by setting, and each setting's block is
one small matrix product for the angles, one cosine, one sparse sum and one matrix product.

The slot set (the union of the cubic and hexagonal shells, so that slot n always means the
same (h, k, l)) and the tables are described in :mod:`crystal_fourier.runtime.routing_tables`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.routing_tables import _check, real_routing, slot_frequencies, slot_table

__all__ = ["RoutingEncoder"]

_INDEX = torch.int32  # index dtype of the prepared tables (index_select / index_add_ accept it): half of int64


@dataclass(frozen=True, slots=True, eq=False)
class _Prepared:
    """A setting's RealRouting as tensors on one device and dtype, laid out for ``forward``."""

    angle_weight: torch.Tensor  # (n_terms, 4): [2 pi m_j, -2 pi p_j / 48], times [x; 1] gives the angle
    term_function: torch.Tensor  # (n_terms,): function of each term
    source: torch.Tensor  # (2 n_entries,): rows of [W_re, W_im]^T gathered into W_G^T
    target: torch.Tensor  # (2 n_entries,): rows of W_G^T (functions) they add to
    coefficient: torch.Tensor  # (2 n_entries, 1): scale cos(2 pi q/48), scale sin(2 pi q/48)
    n_functions: int


class RoutingEncoder(nn.Module):
    """Invariant Fourier encoding of mixed batches through sparse routing tables.

    ``forward(x, hall)`` equals ``W_re @ Re z(x) + W_im @ Im z(x) + bias`` with z the slot
    features of each atom's group (module docstring), computed sparsely. Invariant: for
    every operation (R, t) of the group of atom i, y_i(R x + t) = y_i(x).

    Parameters
    ----------
    out_features : int
    cutoff : int
        Ball radius R or box size K (default 6; at R = 5 a few cubic groups are not faithful,
        see derive/faithful.py).
    shell : {'ball', 'box'}
    include_constant : bool
        Keep the k = 0 slot (z_0 = 1 for every group).

    Attributes
    ----------
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

    def __init__(self, out_features: int, cutoff: int = 6, shell: str = "ball", include_constant: bool = False):
        super().__init__()
        _check(shell, cutoff)
        if isinstance(out_features, bool) or not isinstance(out_features, int) or out_features < 1:
            raise CrystalFourierError(f"out_features must be a positive integer, got {out_features!r}")
        self.out_features = out_features
        self.cutoff = int(cutoff)
        self.shell = shell
        self.include_constant = bool(include_constant)
        hkl = slot_frequencies(shell, self.cutoff, self.include_constant)
        self.n_slots = len(hkl)
        self.register_buffer("slot_hkl", torch.from_numpy(hkl))
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
        return (f"out_features={self.out_features}, n_slots={self.n_slots}, shell={self.shell!r}, "
                f"cutoff={self.cutoff}, include_constant={self.include_constant}")

    def table(self, hall_number: int):
        """The :class:`~crystal_fourier.runtime.routing_tables.SlotTable` of one setting (built on first use)."""
        return slot_table(self.shell, self.cutoff, int(hall_number), self.include_constant)

    def _prepare(self, hall_number: int, device: torch.device, dtype: torch.dtype) -> _Prepared:
        key = (hall_number, device, dtype)
        prepared = self._prepared.get(key)
        if prepared is not None:
            return prepared
        form = real_routing(self.shell, self.cutoff, int(hall_number), self.include_constant)
        hkl = self.slot_hkl.cpu()[torch.tensor(form.term_slot)].to(torch.float64)
        shift = (-2 * math.pi / 48) * torch.tensor(form.term_phase_48, dtype=torch.float64)
        entry_slot = torch.tensor(form.entry_slot)
        entry_function = torch.tensor(form.entry_function)
        angle = (2 * math.pi / 48) * torch.tensor(form.entry_phase_48, dtype=torch.float64)
        scale = torch.tensor(form.entry_scale)
        # W_G^T[i] = sum over entries (n, i) of scale (cos W_re[:, n] + sin W_im[:, n]); in
        # [W_re, W_im]^T, W_re[:, n] is row n and W_im[:, n] row n_slots + n.
        prepared = _Prepared(
            angle_weight=torch.cat([2 * math.pi * hkl, shift[:, None]], dim=1).to(device, dtype),
            term_function=torch.tensor(form.term_function).to(device, _INDEX),
            source=torch.cat([entry_slot, entry_slot + self.n_slots]).to(device, _INDEX),
            target=torch.cat([entry_function, entry_function]).to(device, _INDEX),
            coefficient=torch.cat([scale * torch.cos(angle), scale * torch.sin(angle)])[:, None].to(device, dtype),
            n_functions=form.n_functions,
        )
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

    def forward(self, positions: torch.Tensor, hall_numbers: torch.Tensor) -> torch.Tensor:
        """Encode fractional ``positions`` shape=(N, 3) of atoms in settings ``hall_numbers`` shape=(N,).

        Returns
        -------
        torch.Tensor
            shape=(N, out_features), the dtype of the weights.
        """
        self._validate(positions, hall_numbers)
        dtype, device = self.weight_re.dtype, self.weight_re.device
        count = positions.shape[0]
        if count == 0:
            return self.bias.new_zeros(0, self.out_features) + self.bias
        x = positions.to(device, dtype)
        x = x - torch.floor(x)
        hall_numbers = hall_numbers.to(device)
        order = torch.argsort(hall_numbers, stable=True)
        halls, counts = torch.unique_consecutive(hall_numbers[order], return_counts=True)
        # (4, N): coordinates of the atoms sorted by setting, and a row of ones for the phase shift.
        columns = torch.cat([x.index_select(0, order).T, x.new_ones(1, count)]).contiguous()
        weights = torch.cat([self.weight_re, self.weight_im], dim=1).T.contiguous()  # (2 n_slots, out)
        pieces, start = [], 0
        for hall, size in zip(halls.tolist(), counts.tolist(), strict=True):
            table = self._prepare(hall, device, dtype)
            angle = torch.mm(table.angle_weight, columns[:, start:start + size])  # (n_terms, size)
            start += size
            functions = angle.new_zeros(table.n_functions, size).index_add_(0, table.term_function, torch.cos(angle))
            routed = weights.new_zeros(table.n_functions, self.out_features).index_add_(
                0, table.target, weights.index_select(0, table.source) * table.coefficient)  # W_G^T
            pieces.append(torch.addmm(self.bias, functions.T, routed))
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(count, device=device)
        return torch.cat(pieces).index_select(0, inverse)

    def slot_features(self, positions: torch.Tensor, hall_numbers: torch.Tensor) -> torch.Tensor:
        """Dense reference path: [Re z, Im z] for every slot, shape=(N, 2 n_slots).

        Computes every mode e(n . x) of the slot set, psi_O = (1/|O|) sum e(-phase_m/24) e(m.x)
        and z_n = e(phase_n/24) psi_O(n) slot by slot; zero where n is absent for the atom's
        group. ``forward`` equals ``slot_features @ [W_re, W_im]^T + bias``.
        """
        self._validate(positions, hall_numbers)
        dtype, device = self.weight_re.dtype, self.weight_re.device
        x = positions.to(device, dtype)
        turns = 2 * math.pi * (x @ self.slot_hkl.to(dtype).T)
        mode_re, mode_im = torch.cos(turns), torch.sin(turns)
        z_re = torch.zeros_like(mode_re)
        z_im = torch.zeros_like(mode_im)
        hall_numbers = hall_numbers.to(device)
        for hall in torch.unique(hall_numbers).tolist():
            table = self.table(hall)
            rows = torch.nonzero(hall_numbers == hall).reshape(-1)
            slot = torch.tensor(table.slot).to(device)
            orbit = torch.tensor(table.orbit).to(device)
            angle = (2 * math.pi / 24) * torch.tensor(table.phase_24).to(device, dtype)
            cos, sin = torch.cos(angle), torch.sin(angle)
            v_re, v_im = mode_re[rows][:, slot], mode_im[rows][:, slot]
            size = torch.tensor(table.size).to(device, dtype)
            psi_re = torch.zeros(len(rows), table.n_orbits, dtype=dtype, device=device).index_add_(
                1, orbit, cos * v_re + sin * v_im) / size
            psi_im = torch.zeros(len(rows), table.n_orbits, dtype=dtype, device=device).index_add_(
                1, orbit, cos * v_im - sin * v_re) / size
            z_re[rows[:, None], slot] = cos * psi_re[:, orbit] - sin * psi_im[:, orbit]
            z_im[rows[:, None], slot] = sin * psi_re[:, orbit] + cos * psi_im[:, orbit]
        return torch.cat([z_re, z_im], dim=1)
