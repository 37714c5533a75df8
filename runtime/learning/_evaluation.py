"""From model outputs to metrics: the target normalization, batched prediction and regression metrics.

* :class:`Normalizer`: the target transform of a training run (optional log10 for moduli, then
  standardization by the training mean and standard deviation), saved as ``normalization.json``;
* :func:`predict_samples`: raw model outputs in input order, in :func:`prediction_batches` whose
  padded attention stays within :data:`PAIR_BUDGET`;
* :func:`regression_metrics` (MAE, RMSE, count, overall and per group) and
  :func:`evaluate_samples`, which reports them in the metric space (log10 units with ``log_target``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._batching import collate

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import ArrayLike

    from crystal_fourier.runtime.network._batching import Sample

__all__ = [
    "Normalizer",
    "PAIR_BUDGET",
    "prediction_batches",
    "predict_samples",
    "regression_metrics",
    "evaluate_samples",
]

_CONSTANT_STD = 1e-12
"""Standard deviation of the training targets below which they count as constant (divided by 1 instead)."""


@dataclass(frozen=True)
class Normalizer:
    """Target transform: optional log10 (moduli), then standardization by training mean and std."""

    mean: float
    std: float
    log_target: bool = False

    @classmethod
    def fit(cls, targets: ArrayLike, log_target: bool = False) -> Normalizer:
        """Mean and standard deviation of ``targets`` in the metric space (log10 first when ``log_target``).

        Parameters
        ----------
        targets : array_like
            shape=(n,), the training targets in their units (positive when log_target).
        log_target : bool, default False
            Standardize log10 of the targets.

        Returns
        -------
        Normalizer
            With std 1 in place of a standard deviation below 1e-12 (constant targets).

        Raises
        ------
        CrystalFourierError
            Targets that overflow double precision, or non-positive ones with log_target.
        """
        values = cls.to_metric_space(np.asarray(targets, dtype=np.float64), log_target)
        with np.errstate(over="ignore", invalid="ignore"):
            mean = float(values.mean()) if len(values) else 0.0
            std = float(values.std()) if len(values) > 1 else 1.0
        if not (math.isfinite(mean) and math.isfinite(std) and np.isfinite(values).all()):
            raise CrystalFourierError(
                f"the training targets overflow double precision (mean {mean}, std {std}; largest "
                f"|value| {float(np.abs(values).max()):.3g}): rescale them, or use --log-target for positive ones")
        return cls(mean, std if std > _CONSTANT_STD else 1.0, log_target)

    @staticmethod
    def to_metric_space(values: ArrayLike | torch.Tensor, log_target: bool) -> np.ndarray | torch.Tensor:
        """log10 of positive targets when ``log_target``; errors are reported in this space.

        Parameters
        ----------
        values : array_like or torch.Tensor
            Targets in their units.
        log_target : bool
            Take log10.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            values unchanged, or their log10.

        Raises
        ------
        CrystalFourierError
            Values <= 0 in a NumPy input with log_target.
        """
        if not log_target:
            return values
        if isinstance(values, torch.Tensor):
            return torch.log10(values)
        values = np.asarray(values, dtype=np.float64)
        if np.any(values <= 0):
            raise CrystalFourierError("--log-target needs positive targets (e.g. moduli in GPa); found values <= 0")
        return np.log10(values)

    def normalize(self, targets: torch.Tensor) -> torch.Tensor:
        """Targets -> the standardized values the model learns (metric space, mean 0, std 1).

        Parameters
        ----------
        targets : torch.Tensor
            Targets in their units.

        Returns
        -------
        torch.Tensor
        """
        return (self.to_metric_space(targets, self.log_target) - self.mean) / self.std

    def denormalize(self, outputs: np.ndarray) -> np.ndarray:
        """Model outputs -> metric space (log10 units when ``log_target``).

        Parameters
        ----------
        outputs : numpy.ndarray
            Standardized model outputs.

        Returns
        -------
        numpy.ndarray
            float64, in the metric space (log10 of the units when log_target; apply 10**x for the units).
        """
        return np.asarray(outputs, dtype=np.float64) * self.std + self.mean

    def to_dict(self) -> dict:
        """The JSON-ready form saved as ``normalization.json``."""
        return dataclasses.asdict(self)


PAIR_BUDGET = 1 << 22
"""Most padded atom pairs (structures x largest cell squared) in one prediction batch: attention
memory grows with it (about 40 bytes a pair at the default sizes, so ~0.2 GB). A cell larger
than the budget is a batch of its own."""


def prediction_batches(samples: Sequence[Sample], batch_size: int = 256) -> list[slice]:
    """Consecutive slices of ``samples``: at most ``batch_size`` each, and structures x (largest cell)^2
    at most :data:`PAIR_BUDGET` unless one structure alone exceeds it.

    Parameters
    ----------
    samples : sequence of Sample
        The crystals, in order (anything with ``numbers``).
    batch_size : int, default 256
        Most structures per batch.

    Returns
    -------
    list of slice
        Consecutive, covering ``samples``.

    Examples
    --------
    >>> from types import SimpleNamespace as S
    >>> prediction_batches([S(numbers=[1] * n) for n in (2, 2, 2000, 2)], batch_size=2)
    [slice(0, 2, None), slice(2, 3, None), slice(3, 4, None)]
    """
    batches, start, largest = [], 0, 0
    for index, sample in enumerate(samples):
        size = len(sample.numbers)
        grown = max(largest, size)
        count = index - start
        if count and (count >= batch_size or (count + 1) * grown * grown > PAIR_BUDGET):
            batches.append(slice(start, index))
            start, grown = index, size
        largest = grown
    if start < len(samples):
        batches.append(slice(start, len(samples)))
    return batches


@torch.no_grad()
def predict_samples(model: nn.Module, samples: Sequence[Sample], batch_size: int = 256,
                    device: str = "cpu") -> np.ndarray:
    """Raw (normalized) model outputs for ``samples``, shape=(len(samples),), float64, in input order.

    Batches are :func:`prediction_batches` (bounded count and padded attention). For predictions
    in the target's units from files or crystals use :meth:`TrainedModel.predict_crystals`.

    Parameters
    ----------
    model : torch.nn.Module
        A network from :func:`build_model` (or a trained model's ``model``).
    samples : sequence of Sample
        Standardized samples (:func:`prepare_samples`, :func:`sample_from_standardized`).
    batch_size : int
        Most samples per batch.
    device : str
        Where the network runs."""
    model.eval()
    spec = _neighbour_spec(model)
    out = []
    for part in prediction_batches(samples, batch_size):
        batch = collate(samples[part], neighbours=spec).to(device)
        out.append(model(batch).double().cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def _neighbour_spec(model: nn.Module):
    config = getattr(model, "config", None)
    return getattr(config, "neighbour_spec", None)


def regression_metrics(predictions: ArrayLike, targets: ArrayLike, groups: Iterable[int] | None = None) -> dict:
    """MAE, RMSE and count, overall and per space group (keys are group numbers as strings).

    Parameters
    ----------
    predictions : array_like
        shape=(n,), the predicted values.
    targets : array_like
        shape=(n,), the true values, in the same units.
    groups : iterable of int, optional
        The space-group number of each crystal; adds ``"per_group"``.

    Returns
    -------
    dict
        ``{"n", "mae", "rmse"}`` (NaN when n = 0), and ``"per_group"``: group -> the same.

    Examples
    --------
    >>> regression_metrics([1.0, 2.0], [1.5, 2.0], [225, 1])["per_group"]["225"]["mae"]
    0.5
    """
    predictions = np.asarray(predictions, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    errors = predictions - targets

    def summary(e):
        return {"n": int(len(e)), "mae": float(np.abs(e).mean()) if len(e) else math.nan,
                "rmse": float(np.sqrt((e ** 2).mean())) if len(e) else math.nan}

    result = summary(errors)
    if groups is not None:
        groups = np.asarray(groups)
        result["per_group"] = {str(int(g)): summary(errors[groups == g]) for g in np.unique(groups)}
    return result


def evaluate_samples(model: nn.Module, normalizer: Normalizer, samples, device: str = "cpu", target=None) -> dict:
    """``target.metrics`` of the model's predictions on labelled ``samples``
    (:class:`~crystal_fourier.runtime.learning._target.Target`; default a scalar target: :func:`regression_metrics`
    in the metric space, log10 units with ``log_target``)."""
    if target is None:
        from crystal_fourier.runtime.learning._scalar_target import ScalarTarget

        target = ScalarTarget(log_target=normalizer.log_target)
    if not isinstance(samples, Sequence):  # a sequence (a list, a sample store) is read as it is
        samples = list(samples)
    if len(samples) > 0:
        predicted = target.denormalize(predict_samples(model, samples, device=device), normalizer)
    else:
        predicted = np.zeros((0, *target.label_shape))
    return target.metrics(predicted, samples, normalizer)
