"""Per-atom neighbourhoods from exact periodic distances: neighbour lists, radial bases, features.

The neighbourhood of atom i is the multiset of pairs (Z_j, d_ij^n) over every atom j and
lattice translation n (j = i included, n = 0 excluded when j = i) with Cartesian distance

    d_ij^n = |(x_j + n - x_i) L| < cutoff,

L having the cell vectors as rows. It is a property of the periodic crystal, not of its
description: it is unchanged, exactly up to rounding, by a permutation of the atoms, a
lattice translation of any atom, an origin shift, a rotation or reflection of the Cartesian
frame, a change of cell basis, and a supercell (whose copies of atom i have the same
neighbourhood). Every feature here is a function of it, and so shares that invariance:

* :func:`~crystal_fourier.runtime.network._neighbour_list.neighbour_list` (its own module): every pair
  within the cutoff, found exactly in any cell;
* :func:`radial_basis`: Gaussians on a grid of distances times a smooth cosine cutoff, so that
  a neighbour crossing the cutoff changes the features continuously;
* :func:`neighbourhood_features`: for each atom, the radial basis summed over its neighbours
  of each species (per-neighbour-species one-hot channels), shape (n, n_species, n_rbf);
* :class:`NeighbourhoodEmbedding` (torch): the same sums with a learned element embedding in
  place of the one-hot channels, for padded batches (:func:`batch_neighbours`).

Tokens of the CFT are orbit features of single atoms; atoms of one element on one orbit get
identical tokens. These features differ between atoms whose environments differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._cell_features import MAX_ATOMIC_NUMBER, lattice_from_features
from crystal_fourier.runtime.network._neighbour_list import DEFAULT_CUTOFF, neighbour_list

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import ArrayLike

    from crystal_fourier.runtime.network._batching import Sample

__all__ = [
    "DEFAULT_CUTOFF",
    "DEFAULT_N_RBF",
    "INVARIANCE_TOLERANCE",
    "cosine_cutoff",
    "radial_basis",
    "neighbourhood_features",
    "SampleNeighbours",
    "sample_neighbours",
    "with_neighbours",
    "BatchNeighbours",
    "batch_neighbours",
    "NeighbourhoodEmbedding",
]

DEFAULT_N_RBF = 16
"""Gaussians on [0, cutoff]; spacing 0.4 Angstrom at the default cutoff."""
INVARIANCE_TOLERANCE = {np.float64: 1e-9, np.float32: 1e-4}
"""Absolute tolerance of the invariance of the features (values O(1)-O(10)) under re-descriptions:
float64 rounding of positions and distances (~1e-15 relative) is amplified by sums over ~100
neighbours and by exp(); float32 positions (a collated Batch) carry ~1e-7 relative error."""


def cosine_cutoff(distances, cutoff: float = DEFAULT_CUTOFF):
    """f(d) = (1 + cos(pi d / cutoff)) / 2 for d < cutoff, else 0: smooth, f(0) = 1, f(cutoff) = 0.

    Works on numpy arrays and torch tensors alike.

    >>> cosine_cutoff(np.array([0.0, 3.0, 6.0, 7.0]), 6.0).round(12).tolist()
    [1.0, 0.5, 0.0, 0.0]
    """
    if isinstance(distances, np.ndarray):   # in place in one array: the operations of the torch branch, in order
        value = np.pi * distances
        value /= cutoff
        np.cos(value, out=value)
        value += 1.0
        value *= 0.5
        value[~(distances < cutoff)] = 0.0   # NaN too, as np.where(d < cutoff, ..., 0) gives
        return value
    return torch.where(distances < cutoff, 0.5 * (1.0 + torch.cos(math.pi * distances / cutoff)),
                       torch.zeros_like(distances))


def radial_basis(distances, cutoff: float = DEFAULT_CUTOFF, n_rbf: int = DEFAULT_N_RBF):
    """Gaussians exp(-(d - mu_k)^2 / (2 s^2)) times :func:`cosine_cutoff`, mu_k = k s, s = cutoff / (n_rbf - 1).

    Parameters
    ----------
    distances : np.ndarray or torch.Tensor, shape=(P,)
    cutoff : float
    n_rbf : int
        At least 2.

    Returns
    -------
    np.ndarray or torch.Tensor, shape=(P, n_rbf), same type and dtype as ``distances``.

    Examples
    --------
    >>> # mu = 0, 3, 6; f(3) = 1/2, exp(-1/2) / 2 = 0.303
    >>> radial_basis(np.array([3.0]), cutoff=6.0, n_rbf=3).round(6).tolist()
    [[0.303265, 0.5, 0.303265]]
    """
    if n_rbf < 2:
        raise CrystalFourierError(f"n_rbf must be at least 2, got {n_rbf}")
    spacing = cutoff / (n_rbf - 1)
    if isinstance(distances, np.ndarray):
        # exp(-0.5 ((d - mu) / s)^2) f(d), each step in place in one (P, n_rbf) array: the same operations
        # in the same order as the expression written out, without its temporaries
        gauss = distances[:, None] - _centres(float(cutoff), int(n_rbf))
        gauss /= spacing
        np.square(gauss, out=gauss)
        gauss *= -0.5
        np.exp(gauss, out=gauss)
        gauss *= cosine_cutoff(distances, cutoff)[:, None]
        return gauss
    mu = torch.linspace(0.0, cutoff, n_rbf, dtype=distances.dtype, device=distances.device)
    gauss = torch.exp(-0.5 * ((distances[:, None] - mu) / spacing) ** 2)
    return gauss * cosine_cutoff(distances, cutoff)[:, None]


@lru_cache(maxsize=16)
def _centres(cutoff: float, n_rbf: int) -> np.ndarray:
    """np.linspace(0, cutoff, n_rbf), read-only: the Gaussians' centres mu_k of :func:`radial_basis`, built once."""
    mu = np.linspace(0.0, cutoff, n_rbf)
    mu.setflags(write=False)
    return mu


def neighbourhood_features(lattice: ArrayLike, positions: ArrayLike, numbers: ArrayLike, *,
                           species: ArrayLike | None = None, cutoff: float = DEFAULT_CUTOFF,
                           n_rbf: int = DEFAULT_N_RBF) -> np.ndarray:
    """For each atom i and species s: sum over neighbours j of species s of :func:`radial_basis` (d_ij).

    F[i, s, k] = sum over (j, n) with Z_j = species[s] and d_ij^n < cutoff of f(d) exp(-(d - mu_k)^2 / 2 s^2).
    Invariant under every re-description of the crystal (module docstring), to
    :data:`INVARIANCE_TOLERANCE`; atoms are permuted with their rows.

    Parameters
    ----------
    lattice : array_like, shape=(3, 3), dtype=float64
    positions : array_like, shape=(n, 3), dtype=float64, fractional
    numbers : array_like, shape=(n,), dtype=int64, atomic numbers
    species : sequence of int, optional
        Atomic numbers of the channels, in order; default 1-118 (channel Z - 1).
    cutoff, n_rbf : see :func:`radial_basis`

    Returns
    -------
    np.ndarray, shape=(n, len(species), n_rbf), dtype=float64

    Raises
    ------
    CrystalFourierError
        An atom's element is not among ``species``.

    Examples
    --------
    >>> nacl = [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0], [.5, .5, .5], [.5, 0, 0], [0, .5, 0], [0, 0, .5]]
    >>> f = neighbourhood_features(5.64 * np.eye(3), nacl, [11] * 4 + [17] * 4, species=[11, 17], cutoff=3.0, n_rbf=2)
    >>> f[0].round(6).tolist()   # each Na: 6 Cl at 2.82 A, no Na within 3 A
    [[0.0, 0.0], [0.034161, 0.053043]]
    """
    numbers = np.asarray(numbers, dtype=np.int64).reshape(-1)
    species = np.arange(1, 119) if species is None else np.asarray(species, dtype=np.int64).reshape(-1)
    channel = np.full(int(max(numbers.max(), species.max())) + 1, -1, dtype=np.int64)
    channel[species] = np.arange(len(species))
    if np.any(channel[numbers] < 0):
        missing = sorted(set(numbers.tolist()) - set(species.tolist()))
        raise CrystalFourierError(f"elements {missing} are not among the species channels {species.tolist()}")
    nl = neighbour_list(lattice, positions, cutoff)
    if len(numbers) != nl.n_atoms:
        raise CrystalFourierError(f"{nl.n_atoms} positions but {len(numbers)} atomic numbers")
    out = np.zeros((nl.n_atoms, len(species), n_rbf))
    np.add.at(out, (nl.centres, channel[numbers[nl.neighbours]]), radial_basis(nl.distances, cutoff, n_rbf))
    return out


# --------------------------------------------------------------------------- torch: padded batches


@dataclass(frozen=True, eq=False)
class BatchNeighbours:
    """Radial-basis sums per (atom, neighbour species) of a padded batch of B crystals, N atoms at most.

    Row q holds, for one atom and one species of its neighbours, the sum over those neighbours
    of :func:`radial_basis` (d): the non-zero rows of :func:`neighbourhood_features`.

    Attributes
    ----------
    index : torch.Tensor, shape=(Q,), dtype=int64
        Flat index b * N + i of the atom i of crystal b (the order of ``collate``).
    species : torch.Tensor, shape=(Q,), dtype=int64
        Atomic number of the neighbours summed in the row.
    sums : torch.Tensor, shape=(Q, n_rbf), dtype=float64
    shape : tuple[int, int]
        (B, N).
    cutoff : float
    """

    index: torch.Tensor
    species: torch.Tensor
    sums: torch.Tensor
    shape: tuple
    cutoff: float = DEFAULT_CUTOFF

    def to(self, device) -> "BatchNeighbours":
        return BatchNeighbours(self.index.to(device), self.species.to(device), self.sums.to(device), self.shape,
                               self.cutoff)


@dataclass(frozen=True, eq=False)
class SampleNeighbours:
    """Radial-basis sums per (atom, neighbour species) of one crystal: its cache on a :class:`Sample`.

    Attributes (Q rows)
    -------------------
    atoms : np.ndarray, shape=(Q,), dtype=int64
        The atom (row of the sample) whose neighbours are summed.
    species : np.ndarray, shape=(Q,), dtype=int64
        Atomic number of the neighbours summed in the row.
    sums : np.ndarray, shape=(Q, n_rbf), dtype=float64
    cutoff : float
    n_rbf : int
    """

    atoms: np.ndarray
    species: np.ndarray
    sums: np.ndarray
    cutoff: float
    n_rbf: int

    def matches(self, cutoff: float, n_rbf: int) -> bool:
        return self.cutoff == float(cutoff) and self.n_rbf == int(n_rbf)

    def permuted(self, order) -> "SampleNeighbours":
        """The rows of the same atoms after the sample's atoms are reordered as ``atoms[order]``.

        >>> nb = SampleNeighbours(np.array([0, 1]), np.array([6, 8]), np.zeros((2, 2)), 6.0, 2)
        >>> nb.permuted([1, 0]).atoms.tolist()
        [1, 0]
        """
        order = np.asarray(order, dtype=np.int64)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        return SampleNeighbours(inverse[self.atoms], self.species, self.sums, self.cutoff, self.n_rbf)


def sample_neighbours(sample, cutoff: float = DEFAULT_CUTOFF, n_rbf: int = DEFAULT_N_RBF) -> SampleNeighbours:
    """:class:`SampleNeighbours` of one :class:`~crystal_fourier.runtime.network._batching.Sample`, in float64.

    The lattice comes from the sample's lattice features (:func:`lattice_from_features`), so the
    sums match those of the original cell up to rounding. About 1-3 ms per crystal.
    """
    numbers = np.asarray(sample.numbers, dtype=np.int64)
    nl = neighbour_list(lattice_from_features(sample.lattice), sample.positions, cutoff)
    keys, row = np.unique(nl.centres * (MAX_ATOMIC_NUMBER + 1) + numbers[nl.neighbours], return_inverse=True)
    # one np.bincount over (row, basis function) adds in the pairs' order from 0, as np.add.at did (same bytes)
    basis = radial_basis(nl.distances, cutoff, n_rbf)
    flat = (row.reshape(-1, 1) * n_rbf + np.arange(n_rbf)).reshape(-1)
    summed = np.bincount(flat, weights=basis.reshape(-1), minlength=len(keys) * n_rbf).reshape(len(keys), n_rbf)
    return SampleNeighbours(atoms=(keys // (MAX_ATOMIC_NUMBER + 1)).astype(np.int64),
                            species=(keys % (MAX_ATOMIC_NUMBER + 1)).astype(np.int64),
                            sums=summed.reshape(-1, n_rbf), cutoff=float(cutoff), n_rbf=int(n_rbf))


def _cached(sample, cutoff: float, n_rbf: int) -> SampleNeighbours:
    cached = getattr(sample, "neighbours", None)
    if cached is not None and cached.matches(cutoff, n_rbf):
        return cached
    return sample_neighbours(sample, cutoff, n_rbf)


def _attach(job):
    sample, cutoff, n_rbf = job
    return sample.with_neighbours(_cached(sample, cutoff, n_rbf))


def with_neighbours(samples: Iterable[Sample], cutoff: float = DEFAULT_CUTOFF, n_rbf: int = DEFAULT_N_RBF,
                    workers: int = 1) -> list[Sample]:
    """``samples`` with their :class:`SampleNeighbours` cached (``Sample.neighbours``), in order.

    Samples that already hold the sums at this cutoff and n_rbf are returned as they are, so
    calling this again (every epoch, every seed) costs nothing; :func:`batch_neighbours`
    then only concatenates. ``workers`` > 1 spreads the neighbour lists over processes.

    Parameters
    ----------
    samples : iterable of Sample
        The crystals.
    cutoff : float, default 6.0
        Neighbour cutoff radius in Angstrom.
    n_rbf : int, default 16
        Number of radial basis functions.
    workers : int, default 1
        Processes for the neighbour lists.

    Returns
    -------
    list of Sample

    Examples
    --------
    >>> from crystal_fourier.runtime.network._batching import sample_from_arrays
    >>> s = with_neighbours([sample_from_arrays(np.eye(3) * 2.0, [[0, 0, 0]], [29], 1, 1)], cutoff=2.5, n_rbf=2)[0]
    >>> s.neighbours.species.tolist(), with_neighbours([s], cutoff=2.5, n_rbf=2)[0] is s
    ([29], True)
    """
    samples = list(samples)
    missing = [i for i, s in enumerate(samples)
               if getattr(s, "neighbours", None) is None or not s.neighbours.matches(cutoff, n_rbf)]
    jobs = [(samples[i], float(cutoff), int(n_rbf)) for i in missing]
    if workers > 1 and len(jobs) > 16 * workers:
        from crystal_fourier._processes import worker_pool

        with worker_pool(workers) as pool:
            done = pool.map(_attach, jobs, chunksize=max(1, len(jobs) // (16 * workers)))
    else:
        done = [_attach(job) for job in jobs]
    for i, sample in zip(missing, done, strict=True):
        samples[i] = sample
    return samples


def batch_neighbours(samples, cutoff: float = DEFAULT_CUTOFF, n_rbf: int = DEFAULT_N_RBF) -> BatchNeighbours:
    """:class:`BatchNeighbours` of ``samples`` (:class:`~crystal_fourier.runtime.network._batching.Sample`),
    padded like ``collate``.

    Uses each sample's cached :class:`SampleNeighbours` (:func:`with_neighbours`) when it has
    them at this cutoff and n_rbf, and computes them otherwise (:func:`sample_neighbours`,
    about 1-3 ms per crystal): cache them once when training for many epochs.

    >>> from crystal_fourier.runtime.network._batching import sample_from_arrays
    >>> s = sample_from_arrays(np.eye(3) * 2.0, [[0, 0, 0]], [29], 1, 1)
    >>> nb = batch_neighbours([s, s], cutoff=2.5, n_rbf=2)   # 6 Cu at 2 A for each atom
    >>> nb.shape, nb.index.tolist(), nb.species.tolist(), nb.sums.numpy().round(6).tolist()
    ((2, 1), [0, 1], [29, 29], [[0.416046, 0.561604], [0.416046, 0.561604]])
    """
    samples = list(samples)
    n_max = max(len(s) for s in samples)
    index, species, sums = [], [], []
    for b, sample in enumerate(samples):
        cached = _cached(sample, cutoff, n_rbf)
        index.append(b * n_max + cached.atoms)
        species.append(cached.species)
        sums.append(cached.sums)
    return BatchNeighbours(index=torch.from_numpy(np.concatenate(index).astype(np.int64)),
                           species=torch.from_numpy(np.concatenate(species).astype(np.int64)),
                           sums=torch.from_numpy(np.concatenate(sums).reshape(-1, n_rbf)),
                           shape=(len(samples), n_max), cutoff=float(cutoff))


class NeighbourhoodEmbedding(nn.Module):
    """h_i = (1 / norm) sum over neighbours j of (W rbf(d_ij)) * E[Z_j]  (elementwise product).

    ``E`` is a learned element embedding, ``W`` a learned map of the radial basis (cosine
    cutoff included): a learned version of :func:`neighbourhood_features` (which is the case
    of one-hot E and identity W, flattened). Exactly invariant to every re-description, like
    the neighbour list it sums over; padded atoms get 0. ``norm`` (default 50, roughly the
    neighbours within 6 Angstrom at 15 Angstrom^3 per atom) keeps h of order one.

    Parameters
    ----------
    out_features : int
    cutoff : float
    n_rbf : int
        Must equal those of the :class:`BatchNeighbours` passed in (checked).
    norm : float

    Examples
    --------
    >>> from crystal_fourier.runtime.network._batching import sample_from_arrays
    >>> s = sample_from_arrays(np.eye(3) * 2.0, [[0, 0, 0]], [29], 1, 1)
    >>> h = NeighbourhoodEmbedding(8, cutoff=2.5)(batch_neighbours([s], cutoff=2.5))
    >>> tuple(h.shape)
    (1, 1, 8)
    """

    def __init__(self, out_features: int, cutoff: float = DEFAULT_CUTOFF, n_rbf: int = DEFAULT_N_RBF,
                 norm: float = 50.0) -> None:
        super().__init__()
        self.cutoff, self.n_rbf, self.norm = float(cutoff), int(n_rbf), float(norm)
        self.element = nn.Embedding(MAX_ATOMIC_NUMBER + 1, out_features)
        self.radial = nn.Linear(n_rbf, out_features, bias=False)

    def forward(self, neighbours: BatchNeighbours) -> torch.Tensor:
        """-> shape=(B, N, out_features), in the dtype of the module's weights.

        sum over neighbour species s of (W sums[i, s]) * E[s], which equals the sum over pairs above.
        """
        weight = self.radial.weight
        if neighbours.sums.shape[-1] != self.n_rbf or neighbours.cutoff != self.cutoff:
            raise CrystalFourierError(
                f"neighbours have {neighbours.sums.shape[-1]} radial functions at cutoff {neighbours.cutoff}; this "
                f"module expects {self.n_rbf} at {self.cutoff} (pass the same to batch_neighbours)")
        messages = self.radial(neighbours.sums.to(device=weight.device, dtype=weight.dtype))
        messages = messages * self.element(neighbours.species.to(weight.device))
        batch, n_max = neighbours.shape
        out = torch.zeros(batch * n_max, messages.shape[-1], dtype=weight.dtype, device=weight.device)
        out.index_add_(0, neighbours.index.to(weight.device), messages)
        return (out / self.norm).view(batch, n_max, -1)
