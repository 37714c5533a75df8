"""Existing graph networks as hosts of :class:`~crystal_fourier.runtime.SpaceGroupEncoding` (issue 25).

A crystal becomes a PyTorch Geometric graph of its standardized conventional cell
(:func:`~crystal_fourier.runtime.standardize`: ITA standard setting, canonical frame): nodes are
atoms (``z`` atomic numbers, ``frac`` fractional positions in the standard setting), ``group`` the
space-group number, and edges every periodic neighbour within ``cutoff`` Angstrom, all lattice
images included (:func:`~crystal_fourier.runtime.neighbour_list`), with their exact distances.
Two hosts read such graphs, each with or without the layer's invariant features concatenated to
its node embedding and mixed back to the host's width by one linear map (or, as the control of the
group averaging, the same layer evaluated as P1: ``build_host(..., as_p1=True)``):

* ``schnet``: PyTorch Geometric's own ``torch_geometric.nn.models.SchNet``, unmodified: the
  periodic edges reach it through its ``interaction_graph`` argument and the layer through its
  ``embedding`` attribute, so its forward runs as shipped;
* ``cgcnn``: the crystal graph convolutional network of Xie and Grossman (2018), built from PyG's
  ``CGConv`` (gated edge convolutions on Gaussian-expanded distances, batch norm, softplus, mean
  pooling, an MLP head).

Every input the hosts see (distances, atomic numbers, the standardized positions and group) is the
same for every description of the crystal, so a host predicts the same value for all of them
(``crystal-fourier audit``, claim E3, intensive). The P1 control keeps the standardized positions
and the parameters but reads every crystal as P1 (Hall number 1): its features are plain plane waves of
the standard-setting coordinates, not averaged over the group, so they are not invariant under the
group's operations (only the canonical standardization makes the prediction invariant, as for the
transformer's ``cft-p1`` arm of the sparse-data protocol). Needs the ``hosts`` extra
(``pip install crystal-fourier[hosts]``: torch_geometric).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from torch_geometric.data import Batch, Data

    from crystal_fourier.runtime import Crystal, SpaceGroupEncoding

__all__ = ["crystal_graph", "collate_graphs", "build_host", "host_predictor"]

HOST_KINDS = ("schnet", "cgcnn")
"""The host networks :func:`build_host` makes."""

_MAX_Z = 100   # SchNet's embedding table has 100 rows (atomic numbers 0-99)
P1_HALL_NUMBER = 1
"""spglib Hall number of P1 (group 1): a layer evaluated as P1 reads every crystal as this."""


def _require_torch_geometric():
    try:
        import torch_geometric
    except ImportError:
        raise CrystalFourierError("the host models need torch_geometric: pip install 'crystal-fourier[hosts]'") \
            from None
    return torch_geometric


def crystal_graph(crystal: Crystal, *, cutoff: float = 5.0, symprec: float | None = None,
                  basis_of: SpaceGroupEncoding | None = None, basis_as_p1: bool = False) -> Data:
    """The PyG graph of the standardized cell of ``crystal`` (module docstring).

    Parameters
    ----------
    crystal : Crystal
    cutoff : float
        Angstrom; every pair of atoms closer than this (any lattice images) is an edge, both ways.
    symprec : float, optional
        Tolerance of the standardization (default its own).
    basis_of : SpaceGroupEncoding, optional
        Also store ``basis``: the layer's basis values of the atoms (:meth:`SpaceGroupEncoding.basis`), which
        depend on the positions only; a host given such graphs skips their evaluation on every step. Any
        layer with the same cutoff and shell as the host's gives the same values.
    basis_as_p1 : bool
        With ``basis_of``: store ``basis_p1`` instead, the basis values of the atoms evaluated as P1 (Hall number
        1 for every atom), which a host built with ``as_p1=True`` reads (it never reads ``basis``, nor the group
        host ``basis_p1``: the two are different functions of the same positions).

    Returns
    -------
    torch_geometric.data.Data
        ``z`` shape=(n,) int64; ``frac`` shape=(n, 3) float64 (standard setting); ``group`` shape=(1,)
        int64; ``edge_index`` shape=(2, E) int64 (source neighbour, target centre);
        ``edge_weight`` shape=(E,) float64 distances in Angstrom; ``basis`` (with ``basis_of``) or ``basis_p1``
        (with ``basis_as_p1`` too) float64, flat.

    Examples
    --------
    >>> import numpy as np, pytest
    >>> _ = pytest.importorskip("torch_geometric")   # the extra `hosts`
    >>> from crystal_fourier.runtime import Crystal
    >>> graph = crystal_graph(Crystal.from_arrays(2.82 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]),
    ...                                           [[0, 0, 0], [.5, .5, .5]], ["Na", "Cl"]), cutoff=3.0)
    >>> graph.num_nodes, int(graph.group), graph.edge_index.shape[1]   # 8 atoms of Fm-3m, 6 neighbours each
    (8, 225, 48)
    """
    _require_torch_geometric()
    from torch_geometric.data import Data

    from crystal_fourier.runtime import DEFAULT_SYMPREC, neighbour_list, standardize

    standard = standardize(crystal, symprec=DEFAULT_SYMPREC if symprec is None else symprec)
    if int(np.max(standard.numbers)) >= _MAX_Z:
        raise CrystalFourierError(f"the host models embed atomic numbers below {_MAX_Z}, got "
                                  f"{int(np.max(standard.numbers))}")
    pairs = neighbour_list(standard.lattice, standard.positions, cutoff)
    extra = {}
    if basis_of is not None:
        frac = torch.tensor(np.array(standard.positions), dtype=torch.float64)
        with torch.no_grad():
            if basis_as_p1:
                extra["basis_p1"] = basis_of.basis(frac, hall_numbers=torch.tensor([P1_HALL_NUMBER]))
            else:
                extra["basis"] = basis_of.basis(frac, torch.tensor([standard.number]))
    return Data(**extra, z=torch.tensor(np.array(standard.numbers), dtype=torch.int64),
                frac=torch.tensor(np.array(standard.positions), dtype=torch.float64),
                group=torch.tensor([standard.number], dtype=torch.int64),
                edge_index=torch.tensor(np.stack([pairs.neighbours, pairs.centres]), dtype=torch.int64),
                edge_weight=torch.tensor(np.array(pairs.distances), dtype=torch.float64), num_nodes=standard.n_atoms)


def collate_graphs(graphs: Sequence[Data]) -> Batch:
    """One PyG ``Batch`` of ``graphs`` (edges offset, ``batch`` vector, ``group`` one per crystal).

    Parameters
    ----------
    graphs : sequence of torch_geometric.data.Data
        Graphs of :func:`crystal_graph`.

    Returns
    -------
    torch_geometric.data.Batch
    """
    _require_torch_geometric()
    from torch_geometric.data import Batch

    return Batch.from_data_list(list(graphs))


class _Inputs:
    """The batch of the current forward call, read by the two hooks below (not a module, holds no weights)."""

    graph = None


class _NodeEmbedding(nn.Module):
    """The host's own embedding of ``z``, with the layer's features concatenated and mixed back when given.

    ``as_p1``: the layer reads every crystal as P1 (the control of the group averaging; same parameters)."""

    def __init__(self, embedding: nn.Module, width: int, encoding: "nn.Module | None", inputs: _Inputs,
                 as_p1: bool = False) -> None:
        super().__init__()
        self.embedding = embedding
        self.encoding = encoding
        self.as_p1 = as_p1
        self.mix = None if encoding is None else nn.Linear(width + encoding.dim, width)
        self._inputs = inputs

    def reset_parameters(self) -> None:
        """Fresh weights for the embedding, the mix and the layer (SchNet.reset_parameters calls this)."""
        self.embedding.reset_parameters()
        if self.encoding is not None:
            self.mix.reset_parameters()
            self.encoding.routing.reset_parameters()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.embedding(z)
        if self.encoding is None:
            return h
        return self.mix(torch.cat([h, self.features(self._inputs.graph, h.dtype)], dim=-1))

    def features(self, graph, dtype: torch.dtype) -> torch.Tensor:
        """The layer's features of the atoms of ``graph`` (a Batch), shape=(n, dim), in ``dtype``."""
        frac = graph.frac.to(dtype)
        if self.as_p1:
            # the cached values must be the P1 ones (another attribute name: a group host's basis never fits here)
            basis = getattr(graph, "basis_p1", None)
            halls = torch.full_like(graph.z, P1_HALL_NUMBER)
            return self.encoding(frac, batch=graph.batch, hall_numbers=halls,
                                 basis=None if basis is None else basis.to(dtype))
        basis = getattr(graph, "basis", None)
        return self.encoding(frac, graph.group, graph.batch, basis=None if basis is None else basis.to(dtype))


class _PeriodicEdges(nn.Module):
    """SchNet's ``interaction_graph``: the precomputed periodic edges of the batch (ignores its arguments)."""

    def __init__(self, inputs: _Inputs) -> None:
        super().__init__()
        self._inputs = inputs

    def forward(self, pos: torch.Tensor, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        graph = self._inputs.graph
        return graph.edge_index, graph.edge_weight.to(pos.dtype)


class _CGCNN(nn.Module):
    """CGCNN (Xie and Grossman 2018) from PyG's CGConv: embedding, gated convolutions, mean pool, MLP head."""

    def __init__(self, embedding: nn.Module, width: int, cutoff: float, n_gaussians: int, n_convolutions: int,
                 inputs: _Inputs) -> None:
        super().__init__()
        from torch_geometric.nn import CGConv
        from torch_geometric.nn.models.schnet import GaussianSmearing

        self.embedding = embedding
        self.expansion = GaussianSmearing(0.0, cutoff, n_gaussians)
        self.convolutions = nn.ModuleList(CGConv(width, dim=n_gaussians, batch_norm=True)
                                          for _ in range(n_convolutions))
        self.head = nn.Sequential(nn.Linear(width, width), nn.Softplus(), nn.Linear(width, 1))
        self._inputs = inputs

    def forward(self, z: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        from torch_geometric.nn import global_mean_pool

        graph = self._inputs.graph
        h = self.embedding(z)
        edge_attr = self.expansion(graph.edge_weight.to(h.dtype))
        for convolution in self.convolutions:
            h = nn.functional.softplus(convolution(h, graph.edge_index, edge_attr))
        return self.head(global_mean_pool(h, batch))


class HostModel(nn.Module):
    """A host network, optionally with the invariant layer: ``model(batch) -> (n_crystals,)``.

    Built by :func:`build_host`; ``batch`` is :func:`collate_graphs` of :func:`crystal_graph`
    outputs. ``encoding`` is the :class:`~crystal_fourier.runtime.SpaceGroupEncoding` inside (None for
    the host alone); ``network`` the host itself (SchNet as shipped, or the CGCNN).
    """

    def __init__(self, kind: str, network: nn.Module, inputs: _Inputs) -> None:
        super().__init__()
        self.kind = kind
        self.network = network
        self._inputs = inputs

    @property
    def encoding(self) -> "nn.Module | None":
        """The SpaceGroupEncoding inside the host's node embedding, or None."""
        return self.network.embedding.encoding

    @property
    def as_p1(self) -> bool:
        """Whether the layer is evaluated as P1 (the control of the group averaging)."""
        return self.network.embedding.as_p1

    def layer_features(self, batch) -> torch.Tensor:
        """The layer's features of the atoms of ``batch`` as this host computes them, shape=(n, dim), model dtype.

        Parameters
        ----------
        batch : torch_geometric.data.Batch
            Graphs of :func:`crystal_graph` joined by :func:`collate_graphs`.

        Returns
        -------
        torch.Tensor

        Raises
        ------
        CrystalFourierError
            The host has no layer.
        """
        if self.encoding is None:
            raise CrystalFourierError("this host has no layer (build_host(..., encoding=SpaceGroupEncoding(...)))")
        return self.network.embedding.features(batch, next(self.parameters()).dtype)

    def forward(self, batch) -> torch.Tensor:
        """One prediction per crystal of ``batch``, shape=(n_crystals,), the model's dtype.

        Parameters
        ----------
        batch : torch_geometric.data.Batch
            Graphs of :func:`crystal_graph` joined by :func:`collate_graphs`.

        Returns
        -------
        torch.Tensor
        """
        self._inputs.graph = batch
        try:
            if self.kind == "schnet":
                dtype = next(self.network.parameters()).dtype
                out = self.network(batch.z, batch.frac.to(dtype), batch.batch)
            else:
                out = self.network(batch.z, batch.batch)
        finally:
            self._inputs.graph = None
        return out.reshape(-1)


def build_host(kind: str, *, encoding: "nn.Module | None" = None, as_p1: bool = False, width: int = 64,
               cutoff: float = 5.0, n_interactions: int = 3, n_gaussians: int = 32) -> HostModel:
    """A host network of ``kind`` (:data:`HOST_KINDS`), with ``encoding``'s features in its node embedding.

    Parameters
    ----------
    kind : {'schnet', 'cgcnn'}
    encoding : SpaceGroupEncoding, optional
        The invariant layer (None: the host alone).
    as_p1 : bool
        Evaluate the layer as P1 (Hall number 1 for every crystal): the control of the group averaging, with the
        same parameters (module docstring). Needs ``encoding``.
    width : int
        Hidden width of the host (SchNet's hidden channels and filters; CGCNN's atom features).
    cutoff : float
        Angstrom: the distance expansion's range; build the graphs with the same cutoff.
    n_interactions : int
        SchNet interaction blocks, or CGCNN convolutions.
    n_gaussians : int
        Gaussians of the distance expansion.

    Examples
    --------
    >>> import pytest, torch
    >>> _ = pytest.importorskip("torch_geometric")   # the extra `hosts`
    >>> from crystal_fourier.runtime import SpaceGroupEncoding
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> host = build_host("schnet", encoding=SpaceGroupEncoding(cutoff=5, dim=16), width=32)
    >>> type(host.network).__module__
    'torch_geometric.nn.models.schnet'
    """
    _require_torch_geometric()
    if kind not in HOST_KINDS:
        raise CrystalFourierError(f"unknown host {kind!r}: expected one of {', '.join(HOST_KINDS)}")
    if as_p1 and encoding is None:
        raise CrystalFourierError("as_p1 evaluates the layer as P1: give encoding=SpaceGroupEncoding(...) too")
    inputs = _Inputs()
    if kind == "schnet":
        from torch_geometric.nn.models import SchNet

        network = SchNet(hidden_channels=width, num_filters=width, num_interactions=n_interactions,
                         num_gaussians=n_gaussians, cutoff=cutoff, interaction_graph=_PeriodicEdges(inputs),
                         readout="mean")
        network.embedding = _NodeEmbedding(network.embedding, width, encoding, inputs, as_p1)
    else:
        embedding = _NodeEmbedding(nn.Embedding(_MAX_Z, width), width, encoding, inputs, as_p1)
        network = _CGCNN(embedding, width, cutoff, n_gaussians, n_interactions, inputs)
    return HostModel(kind, network, inputs)


def host_predictor(model: HostModel, *, cutoff: float = 5.0) -> Callable[[Crystal], float]:
    """``crystal -> float``: the model's prediction for one crystal (eval mode, no gradients), for the audit.

    ``crystal_fourier.audit.audit(host_predictor(model), crystals, claim=Claim(energy="intensive", forces=False,
    stress=False))`` checks the host on every re-description; build the model in float64 (``.double()``) to hold
    it to the float64 tolerance. ``cutoff`` must be the one the model was built with.

    Parameters
    ----------
    model : HostModel
        A host model of :func:`build_host`.
    cutoff : float, default 5.0
        Neighbour cutoff in Angstrom, the model's.

    Returns
    -------
    callable
        ``Crystal -> float``.
    """
    def predict(crystal) -> float:
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                return float(model(collate_graphs([crystal_graph(crystal, cutoff=cutoff)]))[0])
        finally:
            model.train(was_training)

    return predict
