"""The elastic-tensor comparison in one harness: the CFT's symmetric head against its baselines.

Every model is trained and scored on the same split (:func:`~crystal_fourier.runtime.learning._splits.training_split`
of one :class:`~crystal_fourier.runtime.learning._training.TrainConfig`, hold-out included):

* ``cft-symmetric``: the CFT with the symmetric tensor head (:mod:`crystal_fourier.runtime.network._tensor_head`);
* ``cft-free``: the same transformer with the unconstrained 21-component head;
* ``cft-free+projection``: the ``cft-free`` model's predictions projected onto each crystal's allowed tensors
  after training (post-hoc symmetrization; no retraining);
* ``ridge+distance`` and ``gbm+distance``: the classical regressors of
  :mod:`crystal_fourier.runtime.learning._classical`, one per component (21 fits; invariant features,
  so they predict in the standardized frame like the transformers).

Every transformer is trained by the one :func:`~crystal_fourier.runtime.learning._training.fit` with an
:class:`~crystal_fourier.runtime.learning._elastic_target.ElasticTarget`.
Metrics (:func:`~crystal_fourier.runtime.learning._elastic_target.tensor_metrics`, GPa): component MAE,
Voigt-Reuss-Hill bulk and shear MAE, symmetry violation |C - P C|, on the test set, and with a hold-out
also on the test crystals of the held-out groups (zero-shot).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from crystal_fourier.runtime.network._batching import Sample
    from crystal_fourier.runtime.network._config import TrainConfig

__all__ = ["TENSOR_MODELS", "compare_tensor_models"]

TENSOR_MODELS = ("cft-symmetric", "cft-free", "cft-free+projection", "ridge+distance", "gbm+distance")
"""The rows of the comparison, in order."""


def _parts(split: dict, samples, holdout) -> dict[str, np.ndarray]:
    parts = {"test": split["test"]}
    if holdout:
        parts["heldout"] = np.array([i for i in split["test"] if samples[i].number in set(holdout)], dtype=np.int64)
    return parts


def _scores(predictions: np.ndarray, tensors: np.ndarray, samples, parts: dict) -> dict:
    from crystal_fourier.runtime.learning._elastic_target import tensor_metrics

    return {name: tensor_metrics(predictions[index], tensors[index], [samples[i] for i in index])
            for name, index in parts.items()}


def compare_tensor_models(samples: Sequence[Sample], config: TrainConfig,
                          models: Sequence[str] = TENSOR_MODELS, *, loss: str = "mse",
                          auxiliary: bool = False) -> dict:
    """Train and score the ``models`` of :data:`TENSOR_MODELS` on one split; returns their metrics.

    Parameters
    ----------
    samples : sequence of Sample
        Standardized crystals labelled with their elastic tensors (GPa, standardized frames):
        ``prepare_samples(records, "elastic_tensor")``.
    config : TrainConfig
        Split, seed, hold-out, optimiser and the transformer's sizes (its ``tensor_head`` is set per model).
    models : sequence of str
        Which rows to run.
    loss : str
        The transformers' training loss (:data:`~crystal_fourier.runtime.learning._elastic_target.TENSOR_LOSSES`).
    auxiliary : bool
        The symmetric head's auxiliary loss on its unprojected outputs (:class:`ElasticTarget`).

    Returns
    -------
    dict
        ``{model: {"test": metrics, "heldout": metrics (with a hold-out), "seconds": float}}``.
    """
    from crystal_fourier.errors import CrystalFourierError
    from crystal_fourier.runtime.learning._elastic_target import ElasticTarget, project_predictions
    from crystal_fourier.runtime.learning._evaluation import predict_samples
    from crystal_fourier.runtime.learning._splits import training_split
    from crystal_fourier.runtime.learning._training import fit

    unknown = sorted(set(models) - set(TENSOR_MODELS))
    if unknown:
        raise CrystalFourierError(f"unknown tensor models {unknown}; choose from {', '.join(TENSOR_MODELS)}")
    samples = list(samples)
    target = ElasticTarget(loss, auxiliary)
    tensors = np.array([s.target for s in samples], dtype=np.float64).reshape(-1, 6, 6)
    split = training_split(samples, config)
    parts = _parts(split, samples, config.holdout_groups)
    results: dict[str, dict] = {}
    free = None
    for head in ("symmetric", "free"):
        wanted = [m for m in models if m == f"cft-{head}" or (head == "free" and m == "cft-free+projection")]
        if not wanted:
            continue
        start = time.perf_counter()
        run = fit(samples, dataclasses.replace(config, model=dataclasses.replace(config.model, tensor_head=head)),
                  target=target)
        seconds = time.perf_counter() - start
        predictions = run.normalizer.denormalize(predict_samples(run.model, samples, device=config.device))
        if f"cft-{head}" in models:
            results[f"cft-{head}"] = {**_scores(predictions, tensors, samples, parts), "seconds": seconds}
        if head == "free":
            free = (predictions, seconds)
    if "cft-free+projection" in models and free is not None:
        projected = project_predictions(free[0], samples)
        results["cft-free+projection"] = {**_scores(projected, tensors, samples, parts), "seconds": free[1]}
    classical = [m for m in models if m in ("ridge+distance", "gbm+distance")]
    if classical:
        results.update(_classical(samples, tensors, config, classical, parts))
    return {model: results[model] for model in models if model in results}


def _classical(samples, tensors, config, kinds, parts) -> dict:
    from crystal_fourier.runtime.learning._classical import feature_matrix, fit_classical

    features = feature_matrix(samples, distance=True)
    upper = np.triu_indices(6)
    out = {}
    for kind in kinds:
        start = time.perf_counter()
        predicted_upper = np.zeros((len(samples), 21))
        for component, (i, j) in enumerate(zip(*upper, strict=True)):
            labelled = [s.with_target(t) for s, t in zip(samples, tensors[:, i, j], strict=True)]
            predicted_upper[:, component] = fit_classical(labelled, config, kind, features=features).predictions
        predictions = np.zeros((len(samples), 6, 6))
        predictions[:, upper[0], upper[1]] = predicted_upper
        predictions[:, upper[1], upper[0]] = predicted_upper
        out[kind] = {**_scores(predictions, tensors, samples, parts), "seconds": time.perf_counter() - start}
    return out
