"""The invariant encoding as a layer any model can use: ``SpaceGroupEncoding``.

A thin public face over what the transformer already uses, in the PyTorch Geometric convention
(flat atoms, a ``batch`` vector): fractional positions and space-group numbers (or Hall numbers)
in, exactly invariant per-atom features out. The features are those of
:class:`~crystal_fourier.runtime.network._routing.RoutingEncoder` (the generated per-group modules
routed through weights indexed by frequency slot and shared by every group, so an unseen group
needs no new parameters), and the optional orbit-pair bias is
:class:`~crystal_fourier.runtime.network._pair_bias.OrbitPairBias` on the same evaluation. This
module adds only the checks of the inputs, the group-number -> standard-setting map, the dtype
and device that follow the positions, and the flat <-> per-crystal layout.
"""

from __future__ import annotations

import torch
from torch import nn

from crystal_fourier._checks import check_int
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._config import ENCODING_CUTOFF
from crystal_fourier.runtime.network._pair_bias import OrbitPairBias
from crystal_fourier.runtime.network._routing import RoutingEncoder

__all__ = ["SpaceGroupEncoding"]

_FLOATS = (torch.float32, torch.float64)
_N_HALL_NUMBERS = 530


class SpaceGroupEncoding(nn.Module):
    """Exactly space-group-invariant features of atoms: ``enc(positions, groups, batch) -> (n, enc.dim)``.

    For every atom i of a crystal of group G and every operation (R, t) of G (CONVENTIONS.md: the
    conventional cell's operations, centrings included), feature_i(R x_i + t) = feature_i(x_i) to
    round-off (measured: below 1e-12 in float64 over all 230 groups). The features are
    ``W_re Re z(x) + W_im Im z(x) + b``, with z_n(x) = (1/|G|) sum_g e(n . g x) the symmetrised plane
    wave of each frequency slot n of the shell and W indexed by slot, shared by every group
    (:class:`~crystal_fourier.runtime.RoutingEncoder`). Each atom's feature depends only on its own
    position and group, so it is the same wherever the crystal sits in a batch.

    Parameters
    ----------
    cutoff : int
        Shell size: any cutoff whose modules are shipped in ``crystal_fourier.generated`` (ball 5,
        ball 6) or generated on demand into the cache (slow the first time). Default 6: ball R = 6 is
        faithful for every group (R = 5 is not for 203, 209, 219, 226, 228).
    dim : int
        Width of the output (64).
    shell : {'ball', 'box'}
    include_constant : bool
        Keep the k = 0 slot (False: the bias carries the constant).
    pair_radius : int or None
        Build the orbit-pair bias over the slots 0 < |n| <= pair_radius (:meth:`pair_bias`); None: no
        pair bias (the default).
    pair_heads : int
        Number of pair kernels (one per attention head of the host).

    Attributes
    ----------
    dim : int
    routing : RoutingEncoder
        The learned, group-shared weights.
    pair : OrbitPairBias or None
        The pair kernels w_h(n) (zero at initialisation, as in the transformer).

    Inputs of ``forward`` and :meth:`pair_bias`
    -------------------------------------------
    positions : torch.Tensor, shape=(n, 3), float32 or float64
        Fractional coordinates in the ITA standard setting of the group (CONVENTIONS.md), e.g.
        ``standardize(crystal).positions``; any integer offsets. The output has this dtype and device
        (the weights are cast when they differ, so one float32 layer also serves float64 inputs).
    groups : torch.Tensor, shape=(n,) or (n_crystals,), integer
        Space-group numbers 1-230, per atom (equal within a crystal) or per crystal (one crystal when
        ``batch`` is None).
    batch : torch.Tensor, shape=(n,), integer, or None
        Crystal of each atom, sorted (PyTorch Geometric's ``batch``); None: one crystal.
    hall_numbers : torch.Tensor, optional, keyword only
        Instead of ``groups``: spglib Hall numbers 1-530 (any setting), per atom or per crystal.

    Raises
    ------
    CrystalFourierError (a ValueError)
        One message naming the argument: positions of the wrong shape or dtype, NaN or infinite;
        groups outside 1-230 or Hall numbers outside 1-530, not integers, of the wrong length, or
        different within one crystal; a batch that is not sorted, negative, or of the wrong length.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from crystal_fourier.runtime import Crystal, SpaceGroupEncoding, standardize
    >>> fcc = 2.82 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]])   # rock salt, primitive cell
    >>> rock_salt = Crystal.from_arrays(fcc, [[0, 0, 0], [0.5, 0.5, 0.5]], ["Na", "Cl"])
    >>> rutile = Crystal.from_arrays(np.diag([4.59, 4.59, 2.96]),
    ...     [[0, 0, 0], [.5, .5, .5], [.305, .305, 0], [.695, .695, 0], [.805, .195, .5], [.195, .805, .5]],
    ...     ["Ti", "Ti", "O", "O", "O", "O"])
    >>> crystals = [standardize(c) for c in (rock_salt, rutile)]   # ITA standard setting
    >>> [s.number for s in crystals]
    [225, 136]
    >>> positions = torch.tensor(np.concatenate([s.positions for s in crystals]))   # float64
    >>> groups = torch.tensor([s.number for s in crystals])                          # one per crystal
    >>> batch = torch.repeat_interleave(torch.arange(2), torch.tensor([s.n_atoms for s in crystals]))
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> enc = SpaceGroupEncoding(cutoff=6)
    >>> features = enc(positions, groups, batch)
    >>> features.shape, features.dtype, enc.dim
    (torch.Size([14, 64]), torch.float64, 64)
    >>> moved = positions.clone()   # the inversion -x, -y, -z of Fm-3m, on the rock salt's atoms
    >>> moved[:8] = -positions[:8]
    >>> bool((enc(moved, groups, batch) - features).abs().max() < 1e-12)
    True
    """

    def __init__(self, cutoff: int = ENCODING_CUTOFF, dim: int = 64, *, shell: str = "ball",
                 include_constant: bool = False, pair_radius: "int | None" = None, pair_heads: int = 1) -> None:
        super().__init__()
        self.routing = RoutingEncoder(dim, cutoff=cutoff, shell=shell, include_constant=include_constant)
        self.dim = int(dim)
        from crystal_fourier.derive import standard_hall_number

        standard = torch.tensor([0] + [standard_hall_number(n) for n in range(1, 231)], dtype=torch.int64)
        self.register_buffer("standard_hall", standard, persistent=False)
        self.pair_radius = None if pair_radius is None else check_int("pair_radius", pair_radius, 1, 64)
        self.pair = None
        if self.pair_radius is not None:
            pair_hkl = self.routing.slot_hkl[self.routing.pair_slots(self.pair_radius)]
            self.pair = OrbitPairBias(pair_hkl, check_int("pair_heads", pair_heads, 1, 256))

    def extra_repr(self) -> str:
        """The width and the pair radius shown by ``repr`` (the routing shows its shell)."""
        return f"dim={self.dim}, pair_radius={self.pair_radius}"

    # ------------------------------------------------------------------ inputs

    @torch.compiler.disable   # eager checks that read values (a graph break under torch.compile, by design)
    def settings(self, positions: torch.Tensor, groups: "torch.Tensor | None" = None,
                 batch: "torch.Tensor | None" = None, *, hall_numbers: "torch.Tensor | None" = None) -> torch.Tensor:
        """The checked Hall number of every atom, shape=(n,), int64 (see the class docstring for the inputs).

        Parameters
        ----------
        positions : torch.Tensor
            shape=(n, 3), floating: fractional coordinates of the atoms, in the setting that ``groups`` (the
            standard one) or ``hall_numbers`` names.
        groups : torch.Tensor, optional
            Integer space-group numbers 1-230, one per atom or one per crystal; give this or ``hall_numbers``.
        batch : torch.Tensor, optional
            shape=(n,), int: the crystal of each atom (PyTorch Geometric's ``batch``); one crystal when None.
        hall_numbers : torch.Tensor, optional
            Integer Hall numbers 1-530 instead of ``groups`` (settings other than the standard one).

        Returns
        -------
        torch.Tensor

        Raises
        ------
        CrystalFourierError
            Any of the bad inputs listed in the class docstring.
        """
        _check_positions(positions)
        n = positions.shape[0]
        if batch is None:
            n_crystals = 1 if n else 0
        else:
            n_crystals = _check_batch(batch, n)
        if (groups is None) == (hall_numbers is None):
            raise CrystalFourierError("give exactly one of groups (space-group numbers 1-230) and hall_numbers")
        name, values, high = ("groups", groups, 230) if hall_numbers is None else ("hall_numbers", hall_numbers,
                                                                                    _N_HALL_NUMBERS)
        _check_integer_vector(name, values)
        values = values.to(positions.device)
        if values.shape[0] != n:
            if values.shape[0] != n_crystals:
                raise CrystalFourierError(f"{name} must have one entry per atom ({n}) or one per crystal "
                                          f"({n_crystals}), got {values.shape[0]}")
            values = values.expand(n) if batch is None else values[batch.to(positions.device)]
        if values.numel() and (int(values.min()) < 1 or int(values.max()) > high):
            bad = values[(values < 1) | (values > high)][0]
            raise CrystalFourierError(f"{name} must lie in 1-{high}, got {int(bad)}")
        same_crystal = True if batch is None else batch[1:].to(positions.device) == batch[:-1].to(positions.device)
        if n > 1 and bool((same_crystal & (values[1:] != values[:-1])).any()):
            hint = " (batch is None: one crystal; give batch for several)" if batch is None else ""
            raise CrystalFourierError(f"{name} must be equal for all atoms of one crystal{hint}")
        values = values.to(torch.int64)
        return self.standard_hall.to(values.device)[values] if hall_numbers is None else values

    def _moved(self, module: nn.Module, positions: torch.Tensor) -> "dict[str, torch.Tensor] | None":
        """``module``'s floating parameters and buffers in the positions' dtype and all on their device (for
        ``torch.func.functional_call``), or None when they are there already."""
        weight = next(module.parameters())
        if weight.dtype == positions.dtype and weight.device == positions.device:
            return None
        moved = {}
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            dtype = positions.dtype if tensor.is_floating_point() else tensor.dtype
            moved[name] = tensor.to(positions.device, dtype)
        return moved

    # ------------------------------------------------------------------ outputs

    def forward(self, positions: torch.Tensor, groups: "torch.Tensor | None" = None,
                batch: "torch.Tensor | None" = None, *, hall_numbers: "torch.Tensor | None" = None,
                basis: "torch.Tensor | None" = None) -> torch.Tensor:
        """Per-atom invariant features, shape=(n, dim), the dtype and device of ``positions``.

        ``basis``: :meth:`basis` of these atoms, computed earlier (e.g. once per crystal of a training set,
        then concatenated by PyTorch Geometric like any node attribute); the generated modules are then not
        evaluated again. The result is the same to round-off.

        Parameters
        ----------
        positions : torch.Tensor
            shape=(n, 3), floating: fractional coordinates of the atoms, in the setting that ``groups`` (the
            standard one) or ``hall_numbers`` names.
        groups : torch.Tensor, optional
            Integer space-group numbers 1-230, one per atom or one per crystal; give this or ``hall_numbers``.
        batch : torch.Tensor, optional
            shape=(n,), int: the crystal of each atom (PyTorch Geometric's ``batch``); one crystal when None.
        hall_numbers : torch.Tensor, optional
            Integer Hall numbers 1-530 instead of ``groups`` (settings other than the standard one).
        basis : torch.Tensor, optional
            The flat values of :meth:`basis` for these atoms.

        Returns
        -------
        torch.Tensor
        """
        halls = self.settings(positions, groups, batch, hall_numbers=hall_numbers)
        return self._encode(positions, halls, None, basis)[0]

    def basis(self, positions: torch.Tensor, groups: "torch.Tensor | None" = None,
              batch: "torch.Tensor | None" = None, *, hall_numbers: "torch.Tensor | None" = None) -> torch.Tensor:
        """The values f_i(x) of each atom's invariant basis functions, flattened in atom order, shape=(sum n_i,).

        Atom j contributes the n_j functions of its group's generated module (n_j = the group's number of
        invariant functions in the shell); the values depend on the positions only, never on the weights,
        so for fixed crystals they can be computed once and passed to ``forward(..., basis=...)`` on every
        training step. Flat, so that crystals concatenate (PyG ``Batch``) whatever their groups.

        Parameters
        ----------
        positions : torch.Tensor
            shape=(n, 3), floating: fractional coordinates of the atoms, in the setting that ``groups`` (the
            standard one) or ``hall_numbers`` names.
        groups : torch.Tensor, optional
            Integer space-group numbers 1-230, one per atom or one per crystal; give this or ``hall_numbers``.
        batch : torch.Tensor, optional
            shape=(n,), int: the crystal of each atom (PyTorch Geometric's ``batch``); one crystal when None.
        hall_numbers : torch.Tensor, optional
            Integer Hall numbers 1-530 instead of ``groups`` (settings other than the standard one).

        Returns
        -------
        torch.Tensor
        """
        halls = self.settings(positions, groups, batch, hall_numbers=hall_numbers)
        if positions.shape[0] == 0:
            return positions.new_zeros(0)
        planned = _Planned(self.routing)
        moved = self._moved(self.routing, positions)
        arguments = (positions, halls, None, None, True)
        plan, blocks = planned(*arguments) if moved is None else torch.func.functional_call(
            planned, {f"routing.{k}": v for k, v in moved.items()}, arguments)
        indices, total = _basis_layout(self.routing, plan, halls)
        flat = positions.new_zeros(total)
        for index, block in zip(indices, blocks, strict=True):
            flat[index] = block.to(positions.dtype)
        return flat

    def _encode(self, positions: torch.Tensor, halls: torch.Tensor, radius: "int | None",
                basis: "torch.Tensor | None" = None):
        """(features (n, dim), pair features (n, 2 S) or None) from one evaluation of the generated modules."""
        if positions.shape[0] == 0:
            return positions.new_zeros(0, self.dim), positions.new_zeros(0, 0)
        arguments = (positions, halls, radius, basis)
        moved = self._moved(self.routing, positions)
        if moved is None:   # the layer is in the positions' dtype and on their device: no cast
            return _evaluate(self.routing, *arguments)
        # A float32 layer on float64 positions (or on another device): the same routing with its weights cast
        # (the cast is differentiable, so the layer's own parameters still train).
        return torch.func.functional_call(_Planned(self.routing), {f"routing.{k}": v for k, v in moved.items()},
                                          arguments)

    def pair_bias(self, positions: torch.Tensor, groups: "torch.Tensor | None" = None,
                  batch: "torch.Tensor | None" = None, *, hall_numbers: "torch.Tensor | None" = None,
                  edge_index: "torch.Tensor | None" = None) -> torch.Tensor:
        """The orbit-pair bias b_h(i, j) = sum_n w_h(n) Re(z_n(x_i) conj z_n(x_j)) between atoms of one crystal.

        Exactly invariant under any operation of the group applied to any atom (even atom by atom),
        symmetric in i and j, and zero at initialisation (``self.pair.weight``); see
        :mod:`crystal_fourier.runtime.network._pair_bias`. Needs ``pair_radius``.

        Parameters
        ----------
        edge_index : torch.Tensor, optional
            shape=(2, E) integer: pairs (source, target) of atoms of the same crystal.

        Returns
        -------
        torch.Tensor
            Without ``edge_index``: shape=(n_crystals, pair_heads, m, m), m the most atoms of a crystal,
            atoms in batch order, zero on padding. With it: shape=(E, pair_heads), the bias of each pair.
        """
        if self.pair is None:
            raise CrystalFourierError("this SpaceGroupEncoding has no pair bias: build it with pair_radius=3 (say)")
        halls = self.settings(positions, groups, batch, hall_numbers=hall_numbers)
        n = positions.shape[0]
        crystal = torch.zeros(n, dtype=torch.int64, device=positions.device) if batch is None else \
            batch.to(positions.device, torch.int64)
        n_crystals = int(crystal.max()) + 1 if n else 0
        counts = torch.bincount(crystal, minlength=n_crystals)
        starts = torch.cumsum(counts, 0) - counts
        local = torch.arange(n, device=positions.device) - starts[crystal]
        width = int(counts.max()) if n else 0
        if edge_index is not None:
            _check_edges(edge_index, n, crystal)
        features = self._encode(positions, halls, self.pair_radius)[1]
        grid = features.new_zeros(n_crystals, width, features.shape[1] if n else 0)
        mask = torch.zeros(n_crystals, width, dtype=torch.bool, device=positions.device)
        grid[crystal, local] = features
        mask[crystal, local] = True
        moved = self._moved(self.pair, positions)
        dense = self.pair(grid, mask) if moved is None else torch.func.functional_call(self.pair, moved, (grid, mask))
        dense = dense.reshape(n_crystals, self.pair.n_heads, width, width)
        if edge_index is None:
            return dense
        source, target = edge_index.to(positions.device, torch.int64)
        return dense[crystal[source], :, local[source], local[target]]


class _Planned(nn.Module):
    """:func:`_evaluate` as a forward, so that ``torch.func.functional_call`` can cast the routing's weights."""

    def __init__(self, routing: RoutingEncoder) -> None:
        super().__init__()
        self.routing = routing

    def forward(self, positions: torch.Tensor, hall_numbers: torch.Tensor, radius: "int | None",
                basis: "torch.Tensor | None", blocks_only: bool = False):
        return _evaluate(self.routing, positions, hall_numbers, radius, basis, blocks_only)


def _evaluate(routing: RoutingEncoder, positions: torch.Tensor, hall_numbers: torch.Tensor, radius: "int | None",
              basis: "torch.Tensor | None", blocks_only: bool = False):
    """(features, pair features or None) of the atoms, or (plan, basis blocks) with ``blocks_only``."""
    if basis is not None and radius is None and not blocks_only and not torch.compiler.is_compiling():
        _check_basis(basis, None)
        if not basis.requires_grad:   # cached values (the hosts' step): no split by setting, two sparse products
            return routing.forward_flat(hall_numbers, basis), None
    plan = _plan(routing, hall_numbers)
    if blocks_only:   # SpaceGroupEncoding.basis
        return plan, routing.function_blocks(positions, plan)
    functions = None
    if basis is not None:
        indices, total = _basis_layout(routing, plan, hall_numbers)
        _check_basis(basis, total)
        functions = [basis[index] for index in indices]
    if radius is None:
        return routing.forward_planned(positions, plan, functions), None
    return routing.forward_with_pair_features(positions, plan, radius, functions)


@torch.compiler.disable   # reads the Hall numbers and builds the settings' tables: eager, outside any graph
def _plan(routing: RoutingEncoder, hall_numbers: torch.Tensor):
    """``routing.plan`` on the device of its (possibly cast) weights."""
    return routing.plan(hall_numbers)


def _check_positions(positions) -> None:
    if not isinstance(positions, torch.Tensor) or positions.dim() != 2 or positions.shape[1] != 3:
        shape = tuple(positions.shape) if isinstance(positions, torch.Tensor) else type(positions).__name__
        raise CrystalFourierError(f"positions must be a tensor of shape (n, 3) (fractional coordinates), got {shape}")
    if positions.dtype not in _FLOATS:
        raise CrystalFourierError(f"positions must be float32 or float64, got {positions.dtype}")
    finite = torch.isfinite(positions).all(dim=1)
    if not bool(finite.all()):
        raise CrystalFourierError(f"positions must be finite, got NaN or infinite coordinates at atom(s) "
                                  f"{torch.nonzero(~finite).reshape(-1)[:5].tolist()}")


def _check_batch(batch, n: int) -> int:
    """The number of crystals of a checked ``batch`` vector of ``n`` atoms."""
    _check_integer_vector("batch", batch)
    if batch.shape[0] != n:
        raise CrystalFourierError(f"batch must have one entry per atom ({n}), got {batch.shape[0]}")
    if n and int(batch.min()) < 0:
        raise CrystalFourierError(f"batch must hold crystal indices >= 0, got {int(batch.min())}")
    if n > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise CrystalFourierError("batch must be sorted (the atoms of each crystal together, in crystal "
                                  "order, as PyTorch Geometric's Batch makes it)")
    return int(batch.max()) + 1 if n else 0


@torch.compiler.disable   # integer bookkeeping of the flat basis, eager
def _basis_layout(routing: RoutingEncoder, plan, hall_numbers: torch.Tensor) -> tuple[list[torch.Tensor], int]:
    """Where each setting's block of :meth:`SpaceGroupEncoding.basis` lies in the flat array: one index matrix
    shape=(count, n_functions) per setting of ``plan`` (atoms in plan order), and the flat length."""
    device = plan.order.device
    hall_numbers = hall_numbers.to(device)
    width_of = torch.zeros(_N_HALL_NUMBERS + 1, dtype=torch.int64, device=device)
    widths = [routing.table(hall).n_functions for hall in plan.hall_numbers]
    width_of[torch.tensor(plan.hall_numbers, device=device)] = torch.tensor(widths, device=device)
    per_atom = width_of[hall_numbers]
    offsets = torch.cumsum(per_atom, 0) - per_atom
    indices, start = [], 0
    for count, width in zip(plan.counts, widths, strict=True):
        atoms = plan.order[start:start + count]
        start += count
        indices.append(offsets[atoms][:, None] + torch.arange(width, device=device))
    return indices, int(per_atom.sum())


def _check_basis(basis, total: "int | None") -> None:
    """One clear error unless ``basis`` is a flat float tensor of length ``total`` (None: any length; the flat
    routing checks it)."""
    if not isinstance(basis, torch.Tensor) or basis.dim() != 1 or not basis.is_floating_point() \
            or (total is not None and basis.shape[0] != total):
        got = f"{tuple(basis.shape)} {basis.dtype}" if isinstance(basis, torch.Tensor) else type(basis).__name__
        length = "" if total is None else f" of length {total}"
        raise CrystalFourierError(f"basis must be SpaceGroupEncoding.basis(...) of these atoms: a float vector"
                                  f"{length}, got {got}")


def _check_integer_vector(name: str, value) -> None:
    if not isinstance(value, torch.Tensor) or value.dim() != 1 or value.is_floating_point() or value.is_complex() \
            or value.dtype == torch.bool:
        got = f"{tuple(value.shape)} {value.dtype}" if isinstance(value, torch.Tensor) else type(value).__name__
        raise CrystalFourierError(f"{name} must be a 1-D integer tensor (torch.long), got {got}")


def _check_edges(edge_index, n: int, crystal: torch.Tensor) -> None:
    if not isinstance(edge_index, torch.Tensor) or edge_index.dim() != 2 or edge_index.shape[0] != 2 \
            or edge_index.is_floating_point() or edge_index.dtype == torch.bool:
        got = tuple(edge_index.shape) if isinstance(edge_index, torch.Tensor) else type(edge_index).__name__
        raise CrystalFourierError(f"edge_index must be an integer tensor of shape (2, E), got {got}")
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise CrystalFourierError(f"edge_index must hold atom indices in 0-{n - 1}")
    edges = edge_index.to(crystal.device, torch.int64)
    if edge_index.numel() and bool((crystal[edges[0]] != crystal[edges[1]]).any()):
        raise CrystalFourierError("edge_index must join atoms of the same crystal (the pair bias is per crystal)")
