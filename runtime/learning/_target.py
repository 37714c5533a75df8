"""What a model predicts, declared once: the :class:`Target` interface that training, evaluation and prediction read.

A target (ASE's ``Calculator.implemented_properties`` is the pattern: one interface, declared outputs)
says which columns of a data set hold its label, the label's shape, how labels are normalised, which
head the model needs, the training loss, the metrics (and which one picks the best epoch), how a
prediction made in the standardized frame goes back to the input's frame, and the columns of a
prediction in CSV. :func:`~crystal_fourier.runtime.learning._training.fit`,
:func:`~crystal_fourier.runtime.learning._prediction.stream_predictions` and
:meth:`~crystal_fourier.runtime.learning._model_files.TrainedModel.evaluate` take any target; a new
target is a new subclass registered in :mod:`crystal_fourier.runtime.learning._targets` (docs/guide/targets.md).

This module and the targets' modules import neither torch nor numpy at load time: their methods do,
when they are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    import torch

    from crystal_fourier.runtime.learning._evaluation import Normalizer
    from crystal_fourier.runtime.network._batching import Batch, Sample
    from crystal_fourier.runtime.network._config import ModelConfig
    from crystal_fourier.runtime.structure_io._structures import Crystal
    from crystal_fourier.runtime.symmetry._standardization import StandardizedCrystal

__all__ = ["Target"]


class Target:
    """The interface of a prediction target (subclasses are frozen dataclasses, so they pickle to workers).

    Attributes
    ----------
    name : str
        The value of ``TrainConfig.target`` (and ``train --target``) that selects this target.
    columns : tuple of str
        The data-set columns its label is read from.
    label_shape : tuple of int
        Shape of one label and of one prediction: ``()`` for a scalar, ``(6, 6)`` for a Voigt matrix.
    output_columns : tuple of str
        The columns of one prediction in ``crystal-fourier predict``'s CSV.
    score : str
        The metric (a key of :meth:`metrics`, lower is better) whose validation value picks the best
        epoch and drives ``patience``; the history records it as ``val_<score>``.
    """

    name: str
    columns: tuple[str, ...]
    label_shape: tuple[int, ...]
    output_columns: tuple[str, ...]
    score: str

    # ---------------------------------------------------------------- model and labels
    def check_model(self, model: ModelConfig) -> None:
        """Raise CrystalFourierError when ``model``'s head cannot predict this target."""
        raise NotImplementedError

    def raw_label(self, targets: Mapping[str, float], ident: str) -> Any:
        """The label's values read from a record's ``targets`` (None: missing, the record is skipped).

        Raises CrystalFourierError naming ``ident`` when a column is absent."""
        raise NotImplementedError

    def standardized_label(self, raw: Any, crystal: Crystal, standardized: StandardizedCrystal) -> Any:
        """The label in the standardized crystal's frame, where the model predicts (a scalar: as it is)."""
        return raw

    def check_labels(self, labels: np.ndarray) -> None:
        """Raise CrystalFourierError when training labels (shape=(n, *label_shape)) cannot be learnt."""
        raise NotImplementedError

    def fit_normalizer(self, labels: np.ndarray) -> Normalizer:
        """The normalisation of the training labels (saved as ``normalization.json``)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- training
    def loss(self, model: torch.nn.Module, batch: Batch, shard: Sequence[Sample], normalizer: Normalizer,
             share: float, count: int) -> tuple[torch.Tensor, float]:
        """(the loss to back-propagate, the sum of the shard's per-crystal losses for the log).

        ``share / count`` is the weight of one crystal of the global batch of ``count`` crystals on
        this rank (``share`` is the rank's weight times the world size), so that DDP's average over
        ranks equals the single-process loss of the global batch.
        """
        raise NotImplementedError

    # ---------------------------------------------------------------- evaluation and output
    def metrics(self, predictions: np.ndarray, samples: Sequence[Sample], normalizer: Normalizer) -> dict:
        """Metrics of ``predictions`` (:meth:`denormalize`'d, shape=(n, *label_shape)) against the samples'
        labels; must hold ``n`` and :attr:`score`, and accept n = 0."""
        raise NotImplementedError

    def denormalize(self, outputs: np.ndarray, normalizer: Normalizer) -> np.ndarray:
        """Model outputs (shape=(n, *label_shape)) -> the space the metrics are in (standardized frame)."""
        return normalizer.denormalize(outputs)

    def to_units(self, values: np.ndarray, normalizer: Normalizer) -> np.ndarray:
        """:meth:`denormalize`'d values -> the target's own units (e.g. 10**x of a log10 target)."""
        return values

    def frame(self, crystal: Crystal, standardized: StandardizedCrystal) -> Any:
        """What :meth:`to_input_frame` needs of a crystal's standardization (None for a frame-free value)."""
        return None

    def to_input_frame(self, value: Any, frame: Any) -> Any:
        """One prediction, in units, from the standardized frame back to the input's (a scalar: as it is)."""
        return value

    def csv_values(self, value: Any) -> list[str]:
        """One prediction as the strings of :attr:`output_columns`."""
        raise NotImplementedError

    def summary(self, test: dict) -> str:
        """One line on the test metrics, for ``train``'s output."""
        raise NotImplementedError

    def recorded(self, normalizer: Normalizer) -> dict:
        """Entries this target adds to ``metrics.json`` (its options)."""
        return {}
