"""Baselines in the same harness as the CFT: a non-invariant encoding, and augmentation.

* ``sinusoidal``: the same transformer (:class:`~crystal_fourier.runtime.network._model.CrystalTransformer`)
  whose positional features are the separable harmonics sin/cos(2 pi m x_i),
  m = 1..M, of the three fractional coordinates (the P1 features of a box,
  without the cross terms). They are periodic under integer lattice
  translations but not invariant under the operations of the group.
* ``augmented``: the same model, trained on crystals to which a random operation
  of their own group is applied each time they are drawn
  (:class:`SymmetryAugmentation`); invariance is then learned, not built in.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from crystal_fourier.runtime.network._batching import Sample

__all__ = ["SinusoidalFeatures", "SymmetryAugmentation"]


class SinusoidalFeatures(nn.Module):
    """Linear map of sin/cos(2 pi m x_i), i = 1..3, m = 1..n_frequencies; not group-invariant.

    Same call signature as ``RoutingEncoder`` (the Hall numbers are ignored), so
    the two are interchangeable inside :class:`~crystal_fourier.runtime.network._model.PositionalEncoding`.

    Parameters
    ----------
    out_features : int
    n_frequencies : int
        Highest harmonic M per axis; 6 matches the ball radius R = 6.

    Examples
    --------
    >>> f = SinusoidalFeatures(8, 6)
    >>> tuple(f(torch.rand(5, 3), torch.ones(5, dtype=torch.long)).shape)
    (5, 8)
    """

    def __init__(self, out_features: int, n_frequencies: int = 6) -> None:
        super().__init__()
        self.register_buffer("harmonics", 2 * math.pi * torch.arange(1, n_frequencies + 1, dtype=torch.float32),
                             persistent=False)
        self.linear = nn.Linear(6 * n_frequencies, out_features)

    def raw_features(self, positions: torch.Tensor) -> torch.Tensor:
        """shape=(M, 3) -> (M, 6 * n_frequencies)."""
        # Reduce mod 1 first so that integer translations change nothing, up to rounding.
        positions = positions - torch.floor(positions)
        angles = (positions[..., None] * self.harmonics.to(positions.dtype)).flatten(-2)
        return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)

    def forward(self, positions: torch.Tensor, hall_numbers: torch.Tensor) -> torch.Tensor:
        return self.linear(self.raw_features(positions).to(self.linear.weight.dtype))


@lru_cache(maxsize=None)
def _operations(hall_number: int) -> tuple[np.ndarray, np.ndarray]:
    from crystal_fourier.derive import space_group

    rotations, translations_24 = space_group(hall_number=hall_number).arrays
    return rotations.astype(np.float64), translations_24.astype(np.float64) / 24.0


class SymmetryAugmentation:
    """Random-symmetry-operation augmentation: each atom gets its own random operation of the group.

    One operation applied to *every* atom only re-describes the same periodic
    crystal (the wrapped positions are the same set), so it would teach a
    periodic model nothing. The invariance the CFT has by construction is
    per atom: its encoding of x equals that of g x for every g in G. Drawing
    an independent g_i for each atom i exposes the baseline to exactly that
    invariance. Atoms are also permuted at random, with their cached
    neighbourhoods (``Sample.neighbours``, which describe the unmoved crystal and are
    the same for every atom of an orbit). Deterministic for a given
    ``numpy.random.Generator``.

    Examples
    --------
    >>> from crystal_fourier.runtime.network._batching import sample_from_arrays
    >>> s = sample_from_arrays(np.eye(3) * 4, [[0.1, 0.2, 0.3]], [6], 2, 2)   # P-1
    >>> out = SymmetryAugmentation()([s] * 8, np.random.default_rng(0))
    >>> sorted({round(float(o.positions[0, 0]), 6) for o in out})
    [0.1, 0.9]
    """

    def __call__(self, samples, rng: np.random.Generator) -> list[Sample]:
        out = []
        for sample in samples:
            rotations, translations = _operations(sample.hall_number)
            chosen = rng.integers(len(rotations), size=len(sample))
            moved = np.einsum("nij,nj->ni", rotations[chosen], sample.positions) + translations[chosen]
            order = rng.permutation(len(sample))
            moved_sample = sample.with_positions(moved)
            # Each atom keeps its cached neighbourhood: g_i maps the crystal onto itself, so the atom at
            # g_i x_i has the same neighbours as the one at x_i (the features of the real crystal).
            neighbours = None if sample.neighbours is None else sample.neighbours.permuted(order)
            out.append(Sample(numbers=moved_sample.numbers[order], positions=moved_sample.positions[order],
                              hall_number=sample.hall_number, number=sample.number, lattice=sample.lattice,
                              log_volume_per_atom=sample.log_volume_per_atom, target=sample.target, id=sample.id,
                              neighbours=neighbours))
        return out
