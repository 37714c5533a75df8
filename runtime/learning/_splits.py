"""Which crystals train, validate and test: a seeded random split, held-out groups kept out of training.

:func:`split_indices` splits range(n) 80/10/10 (or any fractions) with a seed;
:func:`training_split` removes the held-out groups from the training and validation sets and
checks (:func:`check_holdout`, a real check that survives ``python -O``) that none reaches them.
The transformers, the tensor models and the classical baselines all split through here, so with
one seed they share one test set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from crystal_fourier.runtime.network._config import TrainConfig
    from crystal_fourier.runtime.network._batching import Sample

__all__ = ["split_indices", "training_split", "check_holdout"]


def split_indices(n: int, seed: int,
                  fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A seeded random split of range(n) into train, validation and test index arrays.

    Parameters
    ----------
    n : int
        Number of items.
    seed : int
        Seed of the permutation (``numpy.random.default_rng``).
    fractions : sequence of float, default (0.8, 0.1, 0.1)
        Train and validation fractions (rounded); the test set takes the rest.

    Returns
    -------
    tuple of numpy.ndarray
        Train, validation and test indices, each sorted.

    Examples
    --------
    >>> [len(part) for part in split_indices(10, 0)]
    [8, 1, 1]
    """
    order = np.random.default_rng(seed).permutation(n)
    n_train = int(round(fractions[0] * n))
    n_val = int(round(fractions[1] * n))
    return np.sort(order[:n_train]), np.sort(order[n_train:n_train + n_val]), np.sort(order[n_train + n_val:])


def training_split(samples: Sequence[Sample], config: TrainConfig) -> dict[str, np.ndarray]:
    """Indices of the train, val and test sets; held-out groups removed from train and val.

    The split itself does not depend on the hold-out, so a zero-shot run and an
    all-data run with the same seed share their test set exactly.

    Parameters
    ----------
    samples : sequence of Sample
        All crystals.
    config : TrainConfig
        Its ``seed``, ``split`` fractions and ``holdout_groups`` are used.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"train"``, ``"val"``, ``"test"`` -> indices into ``samples``.

    Raises
    ------
    CrystalFourierError
        If, after the removal, no training crystal is left.
    """
    train, val, test = split_indices(len(samples), config.seed, config.split)
    holdout = set(int(g) for g in config.holdout_groups)
    if holdout:
        train = np.array([i for i in train if samples[i].number not in holdout], dtype=np.int64)
        val = np.array([i for i in val if samples[i].number not in holdout], dtype=np.int64)
    check_holdout((samples[i] for i in np.concatenate([train, val])), holdout, "training or validation")
    if len(train) == 0:
        raise CrystalFourierError(f"no training crystal left (of {len(samples)}) after the split and hold-out")
    return {"train": train, "val": val, "test": test}


def check_holdout(samples, holdout, where: str) -> None:
    """Refuse ``samples`` (with a group ``number``) of a held-out group; ``where`` names the set in the message."""
    leaked = sorted({s.number for s in samples} & set(holdout))
    if leaked:  # a real check, not an assert: it must survive python -O
        raise CrystalFourierError(f"held-out groups {leaked} reached the {where} data")
