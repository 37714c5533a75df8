"""Orbit-pair attention bias: the exact invariant encoding used pairwise.

The CFT's tokens carry each atom's own invariant features z_n(x) = (1/|G|) sum_g e(n . g x)
(:class:`~crystal_fourier.runtime.network._routing.RoutingEncoder`); relative geometry between
two atoms reaches attention only through their tokens. This module adds to the attention
logits of head h, between atoms i and j, the bilinear form

    b_h(i, j) = sum_n w_h(n) Re(z_n(x_i) conj(z_n(x_j)))
              = (1/|G|^2) sum_{g, g'} K_h(g x_i - g' x_j),   K_h(d) = sum_n w_h(n) cos(2 pi n . d),

over the low-frequency slots 0 < |n| <= radius (one of each pair {n, -n}). It is a learned,
lattice-periodic kernel K_h averaged over every pair of points of the two atoms' orbits: a
smooth orbit-to-orbit relation, computed from the standard Fourier modes the encoder already
evaluates (no neighbour search). Each term is a product of two exactly invariant numbers, so
the bias is exactly invariant under every operation of the group applied to any atom (even
atom by atom) and equivariant under permutations; the weights w_h(n) are indexed by slot and
shared by every group, like the encoder's, so an unseen group gets a bias with no new
parameters. The weights start at zero (the model starts as the plain CFT) and carry the
encoder's Gaussian frequency prior when ``frequency_damping`` is set.
"""

from __future__ import annotations

import torch
from torch import nn

from crystal_fourier.errors import CrystalFourierError

__all__ = ["OrbitPairBias"]


class OrbitPairBias(nn.Module):
    """Per-head attention bias from the pair features of :meth:`RoutingEncoder.forward_with_pair_features`.

    Parameters
    ----------
    pair_hkl : torch.Tensor
        shape=(S, 3) integer Miller indices of the pair slots (``encoder.slot_hkl[encoder.pair_slots(r)]``).
    n_heads : int
        Attention heads; one kernel K_h per head, shared by every block.
    frequency_damping : float or None
        sigma of the Gaussian prior exp(-|n|^2 / (2 sigma^2)) on the weights (None: none).

    Attributes
    ----------
    weight : nn.Parameter
        shape=(n_heads, S): w_h(n) before the prior, zero at initialisation.
    """

    def __init__(self, pair_hkl: torch.Tensor, n_heads: int, frequency_damping: "float | None" = None) -> None:
        super().__init__()
        if pair_hkl.dim() != 2 or pair_hkl.shape[1] != 3 or pair_hkl.shape[0] == 0:
            raise CrystalFourierError(f"pair_hkl must have shape (S, 3) with S >= 1, got {tuple(pair_hkl.shape)}")
        self.n_heads = int(n_heads)
        squared = (pair_hkl.to(torch.float64) ** 2).sum(dim=1)
        scale = torch.ones_like(squared) if frequency_damping is None else torch.exp(
            -squared / (2.0 * float(frequency_damping) ** 2))
        self.register_buffer("scale", scale.to(torch.float32), persistent=False)
        self.weight = nn.Parameter(torch.zeros(self.n_heads, pair_hkl.shape[0]))

    def extra_repr(self) -> str:
        """Heads and slots, shown by ``repr``."""
        return f"n_heads={self.n_heads}, n_slots={self.weight.shape[1]}"

    def forward(self, features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attention bias from padded pair ``features`` shape=(B, N, 2S) and the atom ``mask`` (B, N).

        Returns
        -------
        torch.Tensor
            shape=(B * n_heads, N, N), the float ``mask`` argument of ``nn.TransformerEncoder``
            (batch-major, heads inner, as ``nn.MultiheadAttention`` expects); entries of padded
            atoms are 0 (the key padding mask removes them).
        """
        batch, n_atoms, width = features.shape
        if width != 2 * self.weight.shape[1] or tuple(mask.shape) != (batch, n_atoms):
            raise CrystalFourierError(f"pair features of shape {tuple(features.shape)} and mask "
                                      f"{tuple(mask.shape)} do not match {self.weight.shape[1]} pair slots")
        weight = (self.weight * self.scale.to(self.weight.dtype)).to(features.dtype)
        weight = torch.cat([weight, weight], dim=1)   # Re z_i Re z_j + Im z_i Im z_j share w_h(n)
        features = features * mask[..., None].to(features.dtype)
        bias = torch.einsum("bik,hk,bjk->bhij", features, weight, features)
        return bias.reshape(batch * self.n_heads, n_atoms, n_atoms)
