"""What a model predicts, declared once: the :class:`Target` interface that training, evaluation and prediction read.

A target (ASE's ``Calculator.implemented_properties`` is the pattern: one interface, declared outputs)
says which columns of a data set hold its label, the label's shape, how labels are normalised, which
head the model needs, the training loss, the metrics (and which one picks the best epoch), how a
prediction made in the standardized frame goes back to the input's frame, and the columns of a
prediction in CSV. :func:`~crystal_fourier.runtime.learning._training.fit`,
:func:`~crystal_fourier.runtime.learning._prediction.stream_predictions` and
:meth:`~crystal_fourier.runtime.learning._model_files.TrainedModel.evaluate` take any target; a new
target is a new subclass registered in :mod:`crystal_fourier.runtime.learning._targets` (docs/guide/targets.md),
whose methods document what they do and take their Parameters and Returns from :class:`Target`'s.

This module and the targets' modules import neither torch nor numpy at load time: their methods do,
when they are called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crystal_fourier._docstrings import complete_docstrings

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    import torch

    from crystal_fourier.runtime.learning._evaluation import Normalizer
    from crystal_fourier.runtime.network._batching import Batch, Sample
    from crystal_fourier.runtime.network._config import ModelConfig
    from crystal_fourier.runtime.structure_io._structures import Crystal
    from crystal_fourier.runtime.symmetry._standardized_crystal import StandardizedCrystal

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

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        complete_docstrings(cls, Target)  # an implementation's methods say what they do; Target their parameters

    # ---------------------------------------------------------------- model and labels
    def check_model(self, model: ModelConfig) -> None:
        """Raise CrystalFourierError when ``model``'s head cannot predict this target.

        Parameters
        ----------
        model : ModelConfig
            The model's configuration (its ``tensor_head``).

        Returns
        -------
        None
        """
        raise NotImplementedError

    def raw_label(self, targets: Mapping[str, float], ident: str) -> Any:
        """The label's values read from a record's ``targets`` (None: missing, the record is skipped).

        Raises CrystalFourierError naming ``ident`` when a column is absent.

        Parameters
        ----------
        targets : mapping of str to float
            A record's target columns.
        ident : str
            The record's id, for the message.

        Returns
        -------
        object or None
        """
        raise NotImplementedError

    def standardized_label(self, raw: Any, crystal: Crystal, standardized: StandardizedCrystal) -> Any:
        """The label in the standardized crystal's frame, where the model predicts (a scalar: as it is).

        Parameters
        ----------
        raw : object
            The label of :meth:`raw_label`.
        crystal : Crystal
            The crystal as read.
        standardized : StandardizedCrystal
            Its standardization.

        Returns
        -------
        object
        """
        return raw

    def check_labels(self, labels: np.ndarray) -> None:
        """Raise CrystalFourierError when training labels (shape=(n, *label_shape)) cannot be learnt.

        Parameters
        ----------
        labels : numpy.ndarray
            shape=(n, *label_shape): the training labels.

        Returns
        -------
        None
        """
        raise NotImplementedError

    def fit_normalizer(self, labels: np.ndarray) -> Normalizer:
        """The normalisation of the training labels (saved as ``normalization.json``).

        Parameters
        ----------
        labels : numpy.ndarray
            shape=(n, *label_shape): the training labels.

        Returns
        -------
        Normalizer
        """
        raise NotImplementedError

    # ---------------------------------------------------------------- training
    def loss(self, model: torch.nn.Module, batch: Batch, shard: Sequence[Sample], normalizer: Normalizer,
             share: float, count: int) -> tuple[torch.Tensor, float]:
        """(the loss to back-propagate, the sum of the shard's per-crystal losses for the log).

        ``share / count`` is the weight of one crystal of the global batch of ``count`` crystals on
        this rank (``share`` is the rank's weight times the world size), so that DDP's average over
        ranks equals the single-process loss of the global batch.

        Parameters
        ----------
        model : torch.nn.Module
            The network (or its DDP wrapper).
        batch : Batch
            The collated shard.
        shard : sequence of Sample
            The shard's crystals, with their labels.
        normalizer : Normalizer
            The training labels' normalization.
        share : float
            This rank's weight times the world size.
        count : int
            Crystals in the global batch.

        Returns
        -------
        tuple of (torch.Tensor, float)
        """
        raise NotImplementedError

    # ---------------------------------------------------------------- evaluation and output
    def metrics(self, predictions: np.ndarray, samples: Sequence[Sample], normalizer: Normalizer) -> dict:
        """Metrics of ``predictions`` (:meth:`denormalize`'d, shape=(n, *label_shape)) against the samples'
        labels; must hold ``n`` and :attr:`score`, and accept n = 0.

        Parameters
        ----------
        predictions : numpy.ndarray
            shape=(n, *label_shape), denormalized.
        samples : sequence of Sample
            The labelled crystals, in the same order.
        normalizer : Normalizer
            The training labels' normalization.

        Returns
        -------
        dict
        """
        raise NotImplementedError

    def denormalize(self, outputs: np.ndarray, normalizer: Normalizer) -> np.ndarray:
        """Model outputs (shape=(n, *label_shape)) -> the space the metrics are in (standardized frame).

        Parameters
        ----------
        outputs : numpy.ndarray
            shape=(n, *label_shape): model outputs.
        normalizer : Normalizer
            The training labels' normalization.

        Returns
        -------
        numpy.ndarray
        """
        return normalizer.denormalize(outputs)

    def to_units(self, values: np.ndarray, normalizer: Normalizer) -> np.ndarray:
        """:meth:`denormalize`'d values -> the target's own units (e.g. 10**x of a log10 target).

        Parameters
        ----------
        values : numpy.ndarray
            Denormalized values.
        normalizer : Normalizer
            The training labels' normalization.

        Returns
        -------
        numpy.ndarray
        """
        return values

    def frame(self, crystal: Crystal, standardized: StandardizedCrystal) -> Any:
        """What :meth:`to_input_frame` needs of a crystal's standardization (None for a frame-free value).

        Parameters
        ----------
        crystal : Crystal
            The crystal as read.
        standardized : StandardizedCrystal
            Its standardization.

        Returns
        -------
        object or None
        """
        return None

    def to_input_frame(self, value: Any, frame: Any) -> Any:
        """One prediction, in units, from the standardized frame back to the input's (a scalar: as it is).

        Parameters
        ----------
        value : object
            One prediction in units, in the standardized frame.
        frame : object
            What :meth:`frame` returned for the crystal.

        Returns
        -------
        object
        """
        return value

    def csv_values(self, value: Any) -> list[str]:
        """One prediction as the strings of :attr:`output_columns`.

        Parameters
        ----------
        value : object
            One prediction in units.

        Returns
        -------
        list of str
        """
        raise NotImplementedError

    def summary(self, test: dict) -> str:
        """One line on the test metrics, for ``train``'s output.

        Parameters
        ----------
        test : dict
            The test metrics of :meth:`metrics`.

        Returns
        -------
        str
        """
        raise NotImplementedError

    def recorded(self, normalizer: Normalizer) -> dict:
        """Entries this target adds to ``metrics.json`` (its options).

        Parameters
        ----------
        normalizer : Normalizer
            The training labels' normalization.

        Returns
        -------
        dict
        """
        return {}
