"""The Crystal Fourier Transformer (CFT): exactly invariant crystal property regression.

One token per atom: an element embedding plus an invariant positional encoding, plus
(``ModelConfig.neighbourhood``, on by default) an embedding of the atom's neighbourhood.
The positional encoding is the group's exactly invariant Fourier features of the
atom's fractional position (``RoutingEncoder``: weights indexed by frequency slot,
shared by every group, so an unseen group works with the same weights), mixed by
an MLP with the crystal's context. The context is frame-independent:

* the lattice enters only through the six cell parameters of the standardized
  conventional cell (:func:`crystal_fourier.runtime.network._batching.lattice_features`);
* the group enters only through its routing and :func:`group_descriptor_table`, which
  are defined for every setting of every group (never a learned per-group
  embedding, which an unseen group would lack).

The neighbourhood embedding (:class:`~crystal_fourier.runtime.network._neighbourhood.NeighbourhoodEmbedding`,
then an MLP) sums learned element embeddings of every neighbour within ``neighbour_cutoff``
Angstrom, weighted by a learned map of radial basis functions of the exact periodic
distance: the interatomic geometry that orbit features of single atoms do not carry
(atoms of one element on one orbit otherwise get identical tokens). It is a function of
the periodic crystal only, so exactly invariant under every re-description; the same
embedding is given to the sinusoidal and augmented baselines, so the comparison stays fair.

A pre-LN transformer encoder runs over the atoms with a padding mask, followed
by masked mean pooling and an MLP head. Invariances (each tested in
``tests/runtime/network/test_model.py``): any operation of the crystal's group applied to
its atoms (with the neighbourhood off; with it on, one operation applied to all atoms), permutations
of atoms, integer lattice translations, and (through standardization) rotations of the frame,
primitive cells and other settings.

Defaults (:class:`ModelConfig`) follow the paper's smaller configuration:
d_model 128, 8 heads, 3 blocks, feed-forward 256, routing width 64, positional
MLP width 128, ball cutoff R = 6 (faithful for every group; R = 5 is not for groups 203, 209, 219,
226, 228, see ``crystal-fourier faithful``).
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._batching import Batch
from crystal_fourier.runtime.network._cell_features import N_LATTICE_FEATURES
from crystal_fourier.runtime.network._config import ModelConfig

__all__ = [
    "N_GROUP_DESCRIPTORS",
    "group_descriptor_table",
    "PositionalEncoding",
    "CrystalTransformer",
    "build_model",
    "check_cutoff_faithful",
]

_CRYSTAL_SYSTEMS = ("triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal", "cubic")
_CENTRINGS = ("P", "A", "B", "C", "I", "F", "R")
N_GROUP_DESCRIPTORS = len(_CRYSTAL_SYSTEMS) + len(_CENTRINGS) + 6
"""Length of a row of :func:`group_descriptor_table`."""



# --------------------------------------------------------------------------- group descriptors


@lru_cache(maxsize=1)
def group_descriptor_table() -> np.ndarray:
    """Frame-independent descriptors of every setting of every space group, one row per Hall number 0-530.

    Entries: crystal-system one-hot (7), centring one-hot (P, A, B, C, I, F, R),
    log|P| / log 48, log|G/Z^3| / log 192, centrosymmetric (contains -1),
    Sohncke (only proper rotations), dimension of the continuous origin freedom
    / 3 (polar directions: vectors fixed by every rotation), hexagonal axes.
    These are the only ways the group enters the model besides the routing, so
    a group never seen in training still gets meaningful inputs.

    Returns
    -------
    np.ndarray
        shape=(531, N_GROUP_DESCRIPTORS), float64, read-only; row 0 is zeros.

    Examples
    --------
    >>> d = group_descriptor_table()[526]   # Fd-3m, origin choice 2
    >>> int(d[:7].argmax()), int(d[7:14].argmax()), float(d[16])  # cubic, F, centrosymmetric
    (6, 5, 1.0)
    """
    from crystal_fourier.derive import space_group

    table = np.zeros((531, N_GROUP_DESCRIPTORS), dtype=np.float64)
    for hall in range(1, 531):
        group = space_group(hall_number=hall)
        row = table[hall]
        row[_CRYSTAL_SYSTEMS.index(group.crystal_system)] = 1.0
        row[7 + _CENTRINGS.index(group.centring)] = 1.0
        row[14] = math.log(group.point_group_order) / math.log(48)
        row[15] = math.log(len(group.operations)) / math.log(192)
        row[16] = float(group.centrosymmetric)
        row[17] = float(group.sohncke)
        row[18] = group.origin_freedom / 3.0
        row[19] = float(group.hexagonal_axes)
    table.setflags(write=False)
    return table


# --------------------------------------------------------------------------- faithfulness


def check_cutoff_faithful(cutoff: int, shell: str = "ball", groups=None) -> list[int]:
    """Warn (``warnings.warn``) when ``cutoff`` is not faithful for some of ``groups``; return those.

    A cutoff is faithful for a group when its invariant functions are invariant
    under no strictly larger group (:func:`crystal_fourier.derive._faithful.is_faithful`);
    otherwise positions that the crystal distinguishes get equal encodings. The
    exact check costs about 0.1 s per group, so the default cutoff (ball R = 6,
    faithful for all 230 groups: a sweep test proves it) is not re-checked,
    and otherwise only ``groups`` (default: all 230) are.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     check_cutoff_faithful(5, "ball", groups=[225, 226])
    [226]
    >>> "not faithful for groups [226]" in str(caught[0].message)
    True
    """
    if (cutoff, shell) == (ModelConfig.cutoff, ModelConfig.shell):
        return []
    from crystal_fourier.derive._faithful import is_faithful

    numbers = range(1, 231) if groups is None else sorted({int(n) for n in groups})
    bad = [n for n in numbers if not is_faithful(n, cutoff, shell)]
    if bad:
        warnings.warn(
            f"{shell} cutoff {cutoff} is not faithful for groups {bad}: their invariant features cannot tell apart "
            f"positions that the crystal distinguishes; use the default {ModelConfig.shell} cutoff "
            f"{ModelConfig.cutoff} (see `crystal-fourier faithful`)", stacklevel=2)
    return bad


# --------------------------------------------------------------------------- modules


class PositionalEncoding(nn.Module):
    """Per-atom positional encoding: ``features(x, hall)`` + context, through an MLP.

    ``features`` is a module mapping fractional positions (M, 3) and Hall numbers
    (M,) to (M, d_route): the invariant :class:`RoutingEncoder` for the CFT,
    the sinusoidal features for the baseline. The context (cell parameters and
    group descriptors) enters additively before the MLP, so the encoding is as
    invariant as ``features`` is.

    Parameters
    ----------
    features : nn.Module
    d_route : int
        Width of ``features``' output.
    d_position : int
        Width of the MLP's hidden layer.
    d_out : int
        Output width (the model's d_model).
    """

    def __init__(self, features: nn.Module, d_route: int, d_position: int, d_out: int) -> None:
        super().__init__()
        self.features = features
        self.context = nn.Linear(N_LATTICE_FEATURES + N_GROUP_DESCRIPTORS, d_route)
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(d_route, d_position), nn.SiLU(),
                                 nn.Linear(d_position, d_out))

    def forward(self, positions: torch.Tensor, hall_numbers: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """positions shape=(M, 3) fractional, hall_numbers (M,) long, context (M, n_context) -> (M, d_out)."""
        return self.mlp(self.features(positions, hall_numbers) + self.context(context))

    def forward_with_pair_features(self, positions: torch.Tensor, hall_numbers: torch.Tensor, context: torch.Tensor,
                                   radius: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(:meth:`forward`, the routing encoder's pair features (M, 2 S) on the slots 0 < |n| <= radius),
        from one evaluation of the generated modules (CFT only)."""
        plan = self.features.plan(hall_numbers)
        features, pair = self.features.forward_with_pair_features(positions, plan, radius)
        return self.mlp(features + self.context(context)), pair


class CrystalTransformer(nn.Module):
    """Element embedding + positional encoding (+ neighbourhood), pre-LN transformer, masked mean pool, MLP head.

    The forward pass takes a padded batch (``Batch``, made by :func:`collate`)
    (with ``neighbours`` when ``config.neighbourhood``: ``collate(samples,
    neighbours=config.neighbour_spec)``) and returns one prediction per crystal,
    shape=(B,). Padding never changes a
    prediction: padded atoms are masked in attention and pooling, and the
    positional encoder runs only on real atoms.

    Parameters
    ----------
    config : ModelConfig
        The architecture (sizes, encoding kind, neighbourhood, heads).
    positional : PositionalEncoding or None
        The per-atom encoding (invariant for the CFT; see :func:`build_model`); None for ``kind="none"``.
    """

    def __init__(self, config: ModelConfig, positional: "PositionalEncoding | None") -> None:
        super().__init__()
        self.config = config
        self.positional = positional   # None for kind 'none'
        self.pair_bias = None
        if config.pair_bias_radius is not None:
            from crystal_fourier.runtime.network._pair_bias import OrbitPairBias

            encoder = positional.features
            pair_hkl = encoder.slot_hkl[encoder.pair_slots(config.pair_bias_radius)]
            self.pair_bias = OrbitPairBias(pair_hkl, config.n_heads, config.frequency_damping)
        self.element = nn.Embedding(config.max_element + 1, config.d_model, padding_idx=0)
        self.neighbourhood = None
        if config.neighbourhood:
            from crystal_fourier.runtime.network._neighbourhood import NeighbourhoodEmbedding

            self.neighbourhood = nn.Sequential(
                NeighbourhoodEmbedding(config.d_position, config.neighbour_cutoff, config.n_rbf),
                nn.LayerNorm(config.d_position),   # O(1) whatever the density (demo set: test MAE 0.075 -> 0.067)
                nn.SiLU(), nn.Linear(config.d_position, config.d_position), nn.SiLU(),
                nn.Linear(config.d_position, config.d_model))
        layer = nn.TransformerEncoderLayer(config.d_model, config.n_heads, config.d_ff, config.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.n_layers, norm=nn.LayerNorm(config.d_model),
                                             enable_nested_tensor=False)
        # The head also sees the crystal's context and density (mean pooling alone forgets the atom count).
        n_context = N_LATTICE_FEATURES + N_GROUP_DESCRIPTORS + 1
        n_out = 1 if config.tensor_head is None else 21   # 21: a symmetric Voigt matrix (_tensor_head)
        self.head = nn.Sequential(nn.Linear(config.d_model + n_context, config.d_head), nn.SiLU(),
                                  nn.Linear(config.d_head, n_out))
        self.atom_head = None
        if config.atom_readout:
            self.atom_head = nn.Sequential(nn.Linear(config.d_model, config.d_head), nn.SiLU(),
                                           nn.Linear(config.d_head, n_out))
        self.register_buffer("descriptor_table",
                             torch.tensor(np.array(group_descriptor_table()), dtype=torch.float32), persistent=False)

    def context(self, batch: Batch) -> torch.Tensor:
        """Per-crystal context (B, N_LATTICE_FEATURES + N_GROUP_DESCRIPTORS): cell parameters and group descriptors.

        Parameters
        ----------
        batch : Batch
            A collated batch of B crystals.

        Returns
        -------
        torch.Tensor
        """
        descriptors = self.descriptor_table[batch.hall_numbers].to(batch.lattice.dtype)
        return torch.cat([batch.lattice, descriptors], dim=-1)

    def embed(self, batch: Batch) -> torch.Tensor:
        """Per-crystal representation: pooled atoms, context and density, shape=(B, d_model + 27).

        Parameters
        ----------
        batch : Batch
            A collated batch of B crystals.

        Returns
        -------
        torch.Tensor
        """
        return self._encode(batch)[0]

    def _encode(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(embed(batch), final tokens (B, N, d_model))."""
        mask = batch.mask
        n_atoms = mask.shape[1]
        context = self.context(batch)
        hall = batch.hall_numbers[:, None].expand(-1, n_atoms)
        crystal = torch.arange(mask.shape[0], device=mask.device)[:, None].expand(-1, n_atoms)
        tokens = self.element(batch.numbers)
        attention_bias = None
        # The positional encoder runs on real atoms only, then is scattered back into the padded grid.
        if self.pair_bias is not None:
            encoded, pair = self.positional.forward_with_pair_features(
                batch.positions[mask], hall[mask], context[crystal[mask]], self.config.pair_bias_radius)
            grid = pair.new_zeros(*mask.shape, pair.shape[1])
            grid[mask] = pair
            # The padding mask joins the bias (-inf on padded keys; every crystal has a real atom, so no
            # row is all -inf) rather than a second, boolean mask that attention would merge with it.
            attention_bias = self.pair_bias(grid, mask).to(tokens.dtype).masked_fill(
                ~mask.repeat_interleave(self.config.n_heads, dim=0)[:, None, :], float("-inf"))
        elif self.positional is not None:
            encoded = self.positional(batch.positions[mask], hall[mask], context[crystal[mask]])
        if self.positional is not None:
            tokens = tokens + _scatter(encoded, mask, tokens)
        if self.neighbourhood is not None:
            if batch.neighbours is None:
                raise CrystalFourierError("this model embeds neighbourhoods: collate the samples with "
                                          f"neighbours={self.config.neighbour_spec}")
            if tuple(batch.neighbours.shape) != tuple(mask.shape):
                raise CrystalFourierError(f"the batch's neighbourhoods are of shape {batch.neighbours.shape}, its "
                                          f"atoms {tuple(mask.shape)}")
            # Padded atoms have no rows in the neighbour sums; the MLP's biases are masked out here.
            tokens = tokens + self.neighbourhood(batch.neighbours).to(tokens.dtype) * mask[..., None].to(tokens.dtype)
        if attention_bias is None:
            hidden = self.encoder(tokens, src_key_padding_mask=~mask)
        else:
            # The same pre-LN blocks, called through their attention and feed-forward parts: the layers'
            # inference fast path reads a float mask as a boolean one (every nonzero entry masked), so an
            # additive bias must not reach it.
            hidden = tokens
            for layer in self.encoder.layers:
                hidden = hidden + layer._sa_block(layer.norm1(hidden), attention_bias, None)
                hidden = hidden + layer._ff_block(layer.norm2(hidden))
            hidden = self.encoder.norm(hidden)
        weights = mask.to(hidden.dtype)[..., None]
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        embedded = torch.cat([pooled, context.to(pooled.dtype), batch.log_volume_per_atom.to(pooled.dtype)], dim=-1)
        return embedded, hidden

    def head_outputs(self, batch: Batch) -> torch.Tensor:
        """The head's raw outputs (pooled head plus per-atom readout), shape=(B, 1), or (B, 21) with a
        ``tensor_head`` (the upper triangle of a Voigt matrix before any projection).

        Parameters
        ----------
        batch : Batch
            A collated batch of B crystals.

        Returns
        -------
        torch.Tensor
        """
        embedded, hidden = self._encode(batch)
        out = self.head(embedded)
        if self.atom_head is not None:
            weights = batch.mask.to(hidden.dtype)[..., None]
            per_atom = self.atom_head(hidden)
            out = out + (per_atom * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        return out

    def forward(self, batch: Batch, head_outputs: bool = False) -> "torch.Tensor | tuple[torch.Tensor, torch.Tensor]":
        """One prediction per crystal of ``batch`` (normalized target units): shape=(B,), or (B, 6, 6) Voigt
        matrices in the standardized frame with a ``tensor_head``; with ``head_outputs``, the pair (prediction,
        :meth:`head_outputs`) from one pass (a loss on both goes through DDP's forward).

        Parameters
        ----------
        batch : Batch
            A collated batch of B crystals (:func:`collate`).
        head_outputs : bool, default False
            Also return the raw head outputs.

        Returns
        -------
        torch.Tensor or tuple of torch.Tensor
        """
        out = self.head_outputs(batch)
        if self.config.tensor_head is None:
            prediction = out.squeeze(-1)
        else:
            from crystal_fourier.runtime.network._tensor_head import tensor_output

            prediction = tensor_output(out, self.config.tensor_head, batch.hall_numbers, batch.lattice)
        return (prediction, out) if head_outputs else prediction


def _scatter(encoded: torch.Tensor, mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    out = like.new_zeros(like.shape)
    out[mask] = encoded.to(like.dtype)
    return out


class _FrequencyScale(nn.Module):
    """Parametrisation weight = parameter * scale (scale fixed, one factor per input column)."""

    def __init__(self, scale: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("scale", scale, persistent=False)

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        return weight * self.scale.to(weight.dtype)


def frequency_scale(features: nn.Module, sigma: float) -> torch.Tensor:
    """exp(-|n|^2 / (2 sigma^2)) per input column of ``features``' weights, shape=(1, n_columns).

    The routing encoder's columns are its frequency slots (h, k, l) (|n|^2 = h^2 + k^2 + l^2 in
    integer units, for cubic and hexagonal slots alike); the sinusoidal baseline's are
    sin and cos of the harmonics m = 1..M of each axis (|n| = m).

    >>> from crystal_fourier.runtime.network._baselines import SinusoidalFeatures
    >>> frequency_scale(SinusoidalFeatures(4, 2), 1.0).double().numpy().round(4).tolist()
    [[0.6065, 0.1353, 0.6065, 0.1353, 0.6065, 0.1353, 0.6065, 0.1353, 0.6065, 0.1353, 0.6065, 0.1353]]
    """
    if hasattr(features, "slot_hkl"):
        squared = (features.slot_hkl.to(torch.float64) ** 2).sum(dim=-1)
    else:
        harmonics = torch.arange(1, features.harmonics.shape[0] + 1, dtype=torch.float64)
        squared = harmonics.repeat(6) ** 2   # [sin | cos] x [axis 0 | 1 | 2] x harmonics, as raw_features
    return torch.exp(-squared / (2.0 * sigma ** 2)).to(torch.float32)[None, :]


def damp_frequencies(features: nn.Module, sigma: float) -> None:
    """Register the Gaussian frequency prior of ``ModelConfig.frequency_damping`` on ``features``' weights."""
    from torch.nn.utils import parametrize

    scale = frequency_scale(features, sigma)
    if hasattr(features, "slot_hkl"):
        for name in ("weight_re", "weight_im"):
            parametrize.register_parametrization(features, name, _FrequencyScale(scale))
    else:
        parametrize.register_parametrization(features.linear, "weight", _FrequencyScale(scale))


def build_model(config: ModelConfig) -> CrystalTransformer:
    """The model named by ``config.kind``: the CFT, the sinusoidal baseline (also used by 'augmented'), or the
    transformer without positional encoding ('none').

    Parameters
    ----------
    config : ModelConfig
        The model's configuration; ``config.kind`` is ``'cft'``, ``'sinusoidal'``, ``'augmented'`` or
        ``'none'``.

    Returns
    -------
    CrystalTransformer
        A new, untrained model (torch's default initialization under the current seed).

    Raises
    ------
    CrystalFourierError
        Unknown kind (from :class:`ModelConfig`).

    Examples
    --------
    >>> model = build_model(ModelConfig(kind="sinusoidal", d_model=16, n_heads=2, n_layers=1, d_ff=16,
    ...                                 d_route=16, d_position=16, d_head=16))
    >>> type(model).__name__
    'CrystalTransformer'
    """
    if config.kind == "none":
        return CrystalTransformer(config, None)
    if config.kind == "cft":
        from crystal_fourier.runtime.network._routing import RoutingEncoder

        features = RoutingEncoder(config.d_route, cutoff=config.cutoff, shell=config.shell,
                                  include_constant=config.include_constant)
    else:
        from crystal_fourier.runtime.network._baselines import SinusoidalFeatures

        features = SinusoidalFeatures(config.d_route, config.sinusoidal_frequencies)
    if config.frequency_damping is not None:
        damp_frequencies(features, config.frequency_damping)
    return CrystalTransformer(config, PositionalEncoding(features, config.d_route, config.d_position, config.d_model))
