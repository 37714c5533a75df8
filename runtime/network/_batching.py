"""Standardized crystals as model inputs: per-crystal samples and padded batches.

A :class:`Sample` holds one crystal in the ITA standard conventional setting of
its detected group (CONVENTIONS.md, "Coordinates at run time"), with its
frame-independent lattice features precomputed; :func:`collate` pads a list of
samples into a :class:`Batch` of tensors. Standardization is done once, when a
sample is built (:func:`sample_from_standardized`), never per step; so are the
neighbourhoods of the atoms (``Sample.neighbours``, cached by
:func:`crystal_fourier.runtime.network._neighbourhood.with_neighbours`), which ``collate``
only concatenates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._cell_features import MAX_ATOMIC_NUMBER, VOLUME_SCALE, lattice_features
from crystal_fourier.runtime.network._neighbourhood import batch_neighbours

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike

    from crystal_fourier.runtime.symmetry._standardized_crystal import StandardizedCrystal

__all__ = [
    "Sample",
    "Batch",
    "sample_from_arrays",
    "sample_from_standardized",
    "collate",
]

@dataclass(frozen=True, eq=False)
class Sample:
    """One standardized crystal, ready to collate.

    Attributes
    ----------
    numbers : np.ndarray
        shape=(n,), dtype=int64, atomic numbers 1-118.
    positions : np.ndarray
        shape=(n, 3), dtype=float64, fractional coordinates of the standardized
        conventional cell, reduced into [0, 1).
    hall_number : int
        Hall number of the ITA standard setting of the detected group.
    number : int
        Space-group number 1-230.
    lattice : np.ndarray
        shape=(6,), :func:`lattice_features` of the standardized cell.
    log_volume_per_atom : float
        log(V / n / VOLUME_SCALE) of the standardized cell.
    target : float or np.ndarray
        The label (NaN when unknown): a float, or an array of the target's label shape (the elastic
        tensor's (6, 6) Voigt matrix in the standardized frame; :mod:`crystal_fourier.runtime.learning._target`).
    id : str
        Identifier from the data file.
    neighbours : SampleNeighbours or None
        Cached radial-basis sums over each atom's neighbours
        (:class:`crystal_fourier.runtime.network._neighbourhood.SampleNeighbours`), or None when not
        computed yet. Dropped by :meth:`with_positions` (other positions, other neighbours).
    """

    numbers: np.ndarray
    positions: np.ndarray
    hall_number: int
    number: int
    lattice: np.ndarray
    log_volume_per_atom: float
    target: "float | np.ndarray" = math.nan
    id: str = ""
    neighbours: object = None

    def __len__(self) -> int:
        return len(self.numbers)

    def with_positions(self, positions: np.ndarray) -> "Sample":
        """The same sample with other positions (reduced into [0, 1)); cached neighbourhoods are dropped."""
        return replace(self, positions=np.mod(np.asarray(positions, dtype=np.float64), 1.0), neighbours=None)

    def with_neighbours(self, neighbours) -> "Sample":
        """The same sample with its neighbourhoods cached (a ``SampleNeighbours`` of these positions)."""
        return replace(self, neighbours=neighbours)

    def with_target(self, target: float) -> "Sample":
        return replace(self, target=float(target))


def sample_from_arrays(lattice: ArrayLike, positions: ArrayLike, numbers: ArrayLike, hall_number: int, number: int,
                       target: float = math.nan, id: str = "") -> Sample:
    """A :class:`Sample` from the arrays of a crystal already in its standard setting.

    Parameters
    ----------
    lattice : array_like
        shape=(3, 3), rows = cell vectors in Angstrom.
    positions : array_like
        shape=(n, 3), fractional coordinates (wrapped into [0, 1)).
    numbers : array_like
        shape=(n,), atomic numbers.
    hall_number : int
        spglib Hall number of the setting.
    number : int
        ITA space-group number, 1-230.
    target : float, default nan
        The label; NaN for none.
    id : str, default ""
        The crystal's name.

    Returns
    -------
    Sample

    Raises
    ------
    CrystalFourierError
        No atoms, positions and numbers of different lengths, or an atomic number outside the
        supported range.
    """
    lattice = np.asarray(lattice, dtype=np.float64)
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    numbers = np.asarray(numbers, dtype=np.int64).reshape(-1)
    if len(numbers) == 0 or len(numbers) != len(positions):
        raise CrystalFourierError(
            f"a crystal needs at least one atom and one atomic number per position; got {len(positions)} positions "
            f"and {len(numbers)} numbers")
    if numbers.min() < 1 or numbers.max() > MAX_ATOMIC_NUMBER:
        raise CrystalFourierError(
            f"atomic numbers must lie in 1-{MAX_ATOMIC_NUMBER}, got {sorted(set(numbers.tolist()))}")
    features = lattice_features(lattice)
    volume = abs(float(np.linalg.det(lattice)))
    return Sample(numbers=numbers, positions=np.mod(positions, 1.0), hall_number=int(hall_number), number=int(number),
                  lattice=features, log_volume_per_atom=math.log(volume / len(numbers) / VOLUME_SCALE),
                  target=float(target), id=str(id))


def sample_from_standardized(standardized: StandardizedCrystal, target: float = math.nan, id: str = "") -> Sample:
    """A :class:`Sample` from a ``StandardizedCrystal`` of :mod:`crystal_fourier.runtime.symmetry._standardization`.

    Uses its standardized conventional ``lattice`` (rows, Angstrom), ``positions``
    (fractional), ``numbers``, ``hall_number`` (ITA standard setting) and ``number``.

    Parameters
    ----------
    standardized : StandardizedCrystal
        The crystal in its standard setting.
    target : float, default nan
        The label; NaN for none.
    id : str, default ""
        The crystal's name.

    Returns
    -------
    Sample
    """
    return sample_from_arrays(standardized.lattice, standardized.positions, standardized.numbers,
                              standardized.hall_number, standardized.number, target=target, id=id)


@dataclass(frozen=True, eq=False)
class Batch:
    """Padded tensors of B crystals with at most N atoms.

    Attributes
    ----------
    numbers : torch.Tensor
        shape=(B, N), dtype=int64; 0 on padding.
    positions : torch.Tensor
        shape=(B, N, 3), fractional, float; 0 on padding.
    mask : torch.Tensor
        shape=(B, N), dtype=bool; True on real atoms.
    hall_numbers : torch.Tensor
        shape=(B,), dtype=int64.
    group_numbers : torch.Tensor
        shape=(B,), dtype=int64.
    lattice : torch.Tensor
        shape=(B, 6), :func:`lattice_features`.
    log_volume_per_atom : torch.Tensor
        shape=(B, 1).
    targets : torch.Tensor
        shape=(B, *label shape), NaN where unknown.
    neighbours : BatchNeighbours or None
        The atoms' neighbourhoods (:class:`crystal_fourier.runtime.network._neighbourhood.BatchNeighbours`)
        when ``collate`` was asked for them, else None.
    """

    numbers: torch.Tensor
    positions: torch.Tensor
    mask: torch.Tensor
    hall_numbers: torch.Tensor
    group_numbers: torch.Tensor
    lattice: torch.Tensor
    log_volume_per_atom: torch.Tensor
    targets: torch.Tensor
    neighbours: object = None

    def __len__(self) -> int:
        return self.numbers.shape[0]

    def to(self, device) -> "Batch":
        return Batch(**{name: None if getattr(self, name) is None else getattr(self, name).to(device)
                        for name in self.__dataclass_fields__})


def collate(samples: Sequence[Sample], dtype: torch.dtype = torch.float32,
            neighbours: tuple[float, int] | None = None) -> Batch:
    """Pad ``samples`` (a sequence of :class:`Sample`) into one :class:`Batch`.

    ``neighbours`` = (cutoff, n_rbf) adds the atoms' neighbourhoods
    (:func:`crystal_fourier.runtime.network._neighbourhood.batch_neighbours`): taken from each sample's
    cache when it has them at that cutoff and n_rbf, computed (in float64) otherwise.

    Parameters
    ----------
    samples : sequence of Sample
        One or more crystals.
    dtype : torch.dtype, default torch.float32
        Floating type of the positions and the other real tensors.
    neighbours : tuple of (float, int), optional
        (cutoff in Angstrom, n_rbf) of the neighbourhoods to add; none by default.

    Returns
    -------
    Batch
        Tensors padded to the largest crystal, with ``mask`` True on real atoms.

    Raises
    ------
    CrystalFourierError
        If ``samples`` is empty.

    Examples
    --------
    >>> s = sample_from_arrays(np.eye(3) * 4, [[0, 0, 0], [0.5, 0.5, 0.5]], [11, 17], 1, 1)
    >>> b = collate([s, sample_from_arrays(np.eye(3) * 3, [[0.1, 0.2, 0.3]], [6], 1, 1)])
    >>> tuple(b.numbers.shape), b.mask.sum(dim=1).tolist()
    ((2, 2), [2, 1])
    """
    samples = list(samples)
    if not samples:
        raise CrystalFourierError("cannot collate an empty list of crystals")
    n_max = max(len(s) for s in samples)
    size = len(samples)
    numbers = np.zeros((size, n_max), dtype=np.int64)
    positions = np.zeros((size, n_max, 3), dtype=np.float64)
    mask = np.zeros((size, n_max), dtype=bool)
    for i, s in enumerate(samples):
        n = len(s)
        numbers[i, :n] = s.numbers
        positions[i, :n] = s.positions
        mask[i, :n] = True
    return Batch(
        numbers=torch.from_numpy(numbers),
        positions=torch.from_numpy(positions).to(dtype),
        mask=torch.from_numpy(mask),
        hall_numbers=torch.tensor([s.hall_number for s in samples], dtype=torch.int64),
        group_numbers=torch.tensor([s.number for s in samples], dtype=torch.int64),
        lattice=torch.from_numpy(np.stack([s.lattice for s in samples])).to(dtype),
        log_volume_per_atom=torch.tensor([[s.log_volume_per_atom] for s in samples], dtype=dtype),
        targets=torch.from_numpy(np.array([s.target for s in samples], dtype=np.float64)).to(dtype),
        neighbours=None if neighbours is None else batch_neighbours(samples, *neighbours),
    )
