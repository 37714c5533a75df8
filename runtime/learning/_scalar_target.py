"""One number per crystal (a formation energy, a band gap, a modulus): the default :class:`Target`.

* Label: one data-set column, NaN = missing (the record is skipped with a warning by
  :func:`~crystal_fourier.runtime.learning._samples.prepare_samples`).
* Normalisation: :class:`~crystal_fourier.runtime.learning._evaluation.Normalizer` (optional log10 for
  moduli, then the training mean and standard deviation).
* Head: one output (``ModelConfig.tensor_head`` None). Loss: squared error of the normalised value.
* Metrics: :func:`~crystal_fourier.runtime.learning._evaluation.regression_metrics` (MAE, RMSE, per group)
  in the metric space (log10 units with ``log_target``); the best epoch is the lowest validation MAE.
* CSV: one column, ``prediction``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.learning._target import Target

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    import torch

    from crystal_fourier.runtime.learning._evaluation import Normalizer
    from crystal_fourier.runtime.network._batching import Batch, Sample
    from crystal_fourier.runtime.network._config import ModelConfig

__all__ = ["ScalarTarget", "MAX_ABS_TARGET"]

MAX_ABS_TARGET = 1e30
"""Largest |target| accepted for training: targets enter the network as float32 (largest 3.4e38), and their
mean and standard deviation must stay finite."""


@dataclass(frozen=True)
class ScalarTarget(Target):
    """A scalar property in column ``name``, learnt as is or (``log_target``) as its log10.

    Examples
    --------
    >>> t = ScalarTarget("formation_energy")
    >>> t.columns, t.label_shape, t.output_columns, t.score
    (('formation_energy',), (), ('prediction',), 'mae')
    """

    name: str = "target"
    log_target: bool = False

    label_shape = ()
    output_columns = ("prediction",)
    score = "mae"

    @property
    def columns(self) -> tuple[str, ...]:
        """The one column the label is read from."""
        return (self.name,)

    def check_model(self, model: ModelConfig) -> None:
        """A scalar needs the one-output head."""
        if model.tensor_head is not None:
            raise CrystalFourierError(f"target {self.name!r} is one number per crystal; the model has a "
                                      f"{model.tensor_head!r} tensor head (set tensor_head None)")

    def raw_label(self, targets: Mapping[str, float], ident: str) -> float | None:
        """The column's value; None when it is NaN.

        Returns
        -------
        float or None
        """
        if self.name not in targets:
            raise CrystalFourierError(
                f"record {ident!r} has no target {self.name!r}; available: {', '.join(sorted(targets)) or 'none'}")
        value = float(targets[self.name])
        return None if math.isnan(value) else value

    def check_labels(self, labels: np.ndarray) -> None:
        """Every label finite and at most :data:`MAX_ABS_TARGET` in magnitude."""
        import numpy as np

        labels = np.asarray(labels, dtype=np.float64)
        if not np.isfinite(labels).all():
            raise CrystalFourierError("every training crystal needs a finite target value")
        largest = float(np.abs(labels).max()) if len(labels) else 0.0
        if largest > MAX_ABS_TARGET:
            raise CrystalFourierError(f"a target of magnitude {largest:.3g} is beyond {MAX_ABS_TARGET:.0e}, which "
                                      "training in float32 cannot represent safely; rescale the target (e.g. other "
                                      "units)")

    def fit_normalizer(self, labels: np.ndarray) -> Normalizer:
        """:meth:`Normalizer.fit` of the labels (log10 first with ``log_target``)."""
        from crystal_fourier.runtime.learning._evaluation import Normalizer

        return Normalizer.fit(labels, self.log_target)

    def loss(self, model: torch.nn.Module, batch: Batch, shard: Sequence[Sample], normalizer: Normalizer,
             share: float, count: int) -> tuple[torch.Tensor, float]:
        """Squared error of the normalised prediction, summed over the shard, times ``share / count``."""
        errors = (model(batch) - normalizer.normalize(batch.targets)) ** 2
        return errors.sum() * (share / count), float(errors.detach().sum())

    def metrics(self, predictions: np.ndarray, samples: Sequence[Sample], normalizer: Normalizer) -> dict:
        """:func:`regression_metrics` in the metric space, with ``space`` "log10" or "target"."""
        import numpy as np

        from crystal_fourier.runtime.learning._evaluation import Normalizer, regression_metrics

        if not len(samples):
            return {"n": 0, "mae": math.nan, "rmse": math.nan, "per_group": {}}
        targets = Normalizer.to_metric_space(np.array([s.target for s in samples]), normalizer.log_target)
        metrics = regression_metrics(predictions, targets, [s.number for s in samples])
        metrics["space"] = "log10" if normalizer.log_target else "target"
        return metrics

    def to_units(self, values: np.ndarray, normalizer: Normalizer) -> np.ndarray:
        """10**x of a log10 target (overflow gives inf, which the caller refuses)."""
        import numpy as np

        with np.errstate(over="ignore"):
            return 10.0 ** values if normalizer.log_target else values

    def csv_values(self, value: Any) -> list[str]:
        """The value with eight significant digits, one CSV cell."""
        return [f"{value:.8g}"]

    def summary(self, test: dict) -> str:
        """One line for the command line: the test MAE and RMSE and the number of crystals."""
        return f"test MAE {test['mae']:.4g}, RMSE {test['rmse']:.4g} on {test['n']} crystals"
