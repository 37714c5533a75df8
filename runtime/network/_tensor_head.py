"""The transformer's elastic-tensor head: it can only return tensors the crystal's symmetry allows.

The pooled representation of a crystal goes through the MLP head to 21 numbers v (the upper
triangle of a symmetric Voigt matrix, order xx, yy, zz, yz, xz, xy, in the standardized cell's
canonical Cartesian frame: a along x, b in the xy plane; :mod:`crystal_fourier.runtime.data._elastic`
states the conventions). Head ``"symmetric"``:

    c_G = U_G^T vec(V(v)),       C = U_G c_G,

where U_G (81 x dimension, orthonormal) spans the allowed stiffnesses of the crystal's setting in
that frame (:func:`crystal_fourier.runtime.data._elastic.symmetry_projector`, from the exact tables
of :func:`crystal_fourier.runtime.cartesian_tensor_basis`) and vec(V(v)) is the full rank-4 tensor of
the Voigt matrix. The coefficients c_G of the group's basis are thus a per-group linear routing of 21
outputs shared by every group (as the encoder's W_G = W S_G): an unseen group only changes U_G, so
zero-shot works with the same weights, and the number of coefficients (3 for cubic, 21 for triclinic)
follows the group. C lies in the allowed subspace exactly, up to float round-off (U_G is computed in
float64 and applied in the model's dtype). Head ``"free"`` returns V(v) as it is: the unconstrained
21-component baseline (projected after the fact, it is the post-hoc-symmetrized baseline).

The output is a function of the standardized crystal only, so it is the same for every description
of the crystal; :func:`crystal_fourier.runtime.learning._tensor_training.predict_elastic` rotates it
back into each input's Cartesian frame (Q^T C Q with Q of
:func:`~crystal_fourier.runtime.data._elastic.frame_rotation`), which makes the prediction equivariant.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._config import TENSOR_HEADS  # re-exported: the heads' names live in the config

__all__ = ["N_VOIGT_COMPONENTS", "voigt_from_upper", "upper_from_voigt", "voigt_to_full",
           "full_to_voigt", "batch_projectors", "tensor_output"]


N_VOIGT_COMPONENTS = 21
"""Independent components of a symmetric 6x6 Voigt matrix, the head's output width."""

_UPPER = np.triu_indices(6)
_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
_VOIGT_INDEX = np.empty((3, 3), dtype=np.int64)
for _n, (_i, _j) in enumerate(_PAIRS):
    _VOIGT_INDEX[_i, _j] = _VOIGT_INDEX[_j, _i] = _n


def voigt_from_upper(upper: torch.Tensor) -> torch.Tensor:
    """Symmetric Voigt matrices from their upper triangles (row by row), shape=(..., 21) -> (..., 6, 6)."""
    out = upper.new_zeros(*upper.shape[:-1], 6, 6)
    out[..., _UPPER[0], _UPPER[1]] = upper
    out[..., _UPPER[1], _UPPER[0]] = upper
    return out


def upper_from_voigt(voigt: torch.Tensor) -> torch.Tensor:
    """The upper triangles (row by row) of Voigt matrices, shape=(..., 6, 6) -> (..., 21)."""
    return voigt[..., _UPPER[0], _UPPER[1]]


def voigt_to_full(voigt: torch.Tensor) -> torch.Tensor:
    """Rank-4 tensors C_ijkl of Voigt matrices, shape=(B, 6, 6) -> (B, 3, 3, 3, 3)."""
    index = torch.from_numpy(_VOIGT_INDEX)
    return voigt[:, index[:, :, None, None], index[None, None, :, :]]


def full_to_voigt(full: torch.Tensor) -> torch.Tensor:
    """Voigt matrices of rank-4 tensors with the elastic index symmetries, shape=(B, 3, 3, 3, 3) -> (B, 6, 6)."""
    first = torch.tensor([p[0] for p in _PAIRS])
    second = torch.tensor([p[1] for p in _PAIRS])
    return full[:, first[:, None], second[:, None], first[None, :], second[None, :]]


@lru_cache(maxsize=4096)
def _projector(hall_number: int, features: bytes) -> np.ndarray:
    """U of a setting in the canonical frame of the cell whose float64 lattice features are ``features``,
    padded with zero columns to (81, 21)."""
    from crystal_fourier.runtime.data._elastic import symmetry_projector
    from crystal_fourier.runtime.network._cell_features import lattice_from_features

    lattice = lattice_from_features(np.frombuffer(features, dtype=np.float64))
    basis = symmetry_projector(hall_number, lattice)
    padded = np.zeros((81, N_VOIGT_COMPONENTS))
    padded[:, :basis.shape[1]] = basis
    padded.setflags(write=False)
    return padded


def batch_projectors(hall_numbers: torch.Tensor, lattice_features: torch.Tensor) -> torch.Tensor:
    """U_G of every crystal of a batch, shape=(B, 81, 21), float64, zero columns beyond the dimension.

    Parameters
    ----------
    hall_numbers : torch.Tensor
        shape=(B,), int64: the standardized settings.
    lattice_features : torch.Tensor
        shape=(B, 6): :func:`~crystal_fourier.runtime.network._batching.lattice_features` of the standardized
        cells, from which their canonical lattices are rebuilt.

    Examples
    --------
    >>> from crystal_fourier.runtime.network._cell_features import lattice_features
    >>> u = batch_projectors(torch.tensor([523]), torch.tensor(lattice_features(4.0 * np.eye(3)))[None])
    >>> tuple(u.shape), int((u.abs().sum(dim=1) > 0).sum())   # Fm-3m: 3 allowed tensors
    ((1, 81, 21), 3)
    """
    features = lattice_features.detach().to("cpu", torch.float64).numpy()
    halls = hall_numbers.detach().cpu().tolist()
    return torch.from_numpy(np.stack([_projector(int(h), np.ascontiguousarray(f).tobytes())
                                      for h, f in zip(halls, features, strict=True)]))


def tensor_output(upper: torch.Tensor, head: str, hall_numbers: torch.Tensor,
                  lattice_features: torch.Tensor) -> torch.Tensor:
    """The head's Voigt matrices from its 21 outputs per crystal, shape=(B, 21) -> (B, 6, 6).

    ``head`` "symmetric" projects onto the allowed tensors of each crystal (module docstring); "free"
    returns the symmetric Voigt matrix of the outputs.

    Raises
    ------
    CrystalFourierError
        For an unknown head.
    """
    if head not in TENSOR_HEADS:
        raise CrystalFourierError(f"unknown tensor head {head!r}: expected one of {', '.join(TENSOR_HEADS)}")
    voigt = voigt_from_upper(upper)
    if head == "free":
        return voigt
    projectors = batch_projectors(hall_numbers, lattice_features).to(upper.device, upper.dtype)
    full = voigt_to_full(voigt).reshape(len(voigt), 81)
    coefficients = torch.einsum("bf,bfd->bd", full, projectors)
    allowed = torch.einsum("bd,bfd->bf", coefficients, projectors)
    return full_to_voigt(allowed.reshape(len(voigt), 3, 3, 3, 3))
