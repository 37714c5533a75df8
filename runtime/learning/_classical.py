"""Classical baselines in the CFT's harness: ridge and gradient-boosted trees on crystal descriptors.

Four models, trained and scored on exactly the train/val/test split of
:func:`crystal_fourier.runtime.learning._splits.training_split` (same seed, fractions and
held-out groups as a transformer run with the same :class:`TrainConfig`):

* ``ridge``: ridge regression on all quadratic monomials of the *base* descriptors;
* ``gbm``: scikit-learn's ``HistGradientBoostingRegressor`` on the base descriptors;
* ``ridge+distance`` and ``gbm+distance``: the same on base + distance descriptors.

Base descriptors (:func:`base_features`, of a :class:`~crystal_fourier.runtime.network._batching.Sample`):
the composition as element fractions (118), the density log(V / n / 15 A^3), and the six
cell parameters of the standardized conventional cell (``lattice_features``: log lengths,
cosines of the angles).

Distance descriptors (:func:`distance_features`): the per-atom pair-distance histogram
(Gaussian bins times a cosine cutoff, :func:`~crystal_fourier.runtime.network._neighbourhood.radial_basis`,
summed over every neighbour within the cutoff and divided by the number of atoms), the same
over unlike-species pairs only, and the min, mean, max and standard deviation over atoms of
the nearest-neighbour distance. They are computed from the exact periodic neighbour list
(:func:`~crystal_fourier.runtime.network._neighbour_list.neighbour_list`) and are invariant under
permutation, lattice translation, origin shift, rotation, change of basis and supercell, to
:data:`~crystal_fourier.runtime.network._neighbourhood.INVARIANCE_TOLERANCE`.

Hyper-parameters are chosen on the validation set, as the transformers' best epoch is: the
ridge penalty from a fixed grid, the number of boosting iterations by staged prediction. Both
fits are deterministic given the training set; the seed acts through the split.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._cell_features import lattice_from_features
from crystal_fourier.runtime.network._neighbour_list import neighbour_list
from crystal_fourier.runtime.network._neighbourhood import radial_basis

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from crystal_fourier.runtime.network._batching import Sample
    from crystal_fourier.runtime.network._config import TrainConfig

__all__ = [
    "CLASSICAL_KINDS",
    "CLASSICAL_LABELS",
    "DISTANCE_CUTOFF",
    "N_DISTANCE_BINS",
    "N_BASE_FEATURES",
    "RIDGE_ALPHAS",
    "composition_features",
    "base_features",
    "distance_features",
    "feature_matrix",
    "ClassicalResult",
    "fit_classical",
    "classical_zero_shot",
]

CLASSICAL_KINDS = ("ridge", "gbm", "ridge+distance", "gbm+distance")
CLASSICAL_LABELS = {"ridge": "ridge (composition + density + cell)", "gbm": "GBM (composition + density + cell)",
                    "ridge+distance": "ridge + distance features", "gbm+distance": "GBM + distance features"}
DISTANCE_CUTOFF = 6.0
"""Angstrom, as :data:`~crystal_fourier.runtime.network._neighbourhood.DEFAULT_CUTOFF`."""
N_DISTANCE_BINS = 24
"""Gaussian bins on [0, cutoff] (spacing 0.26 Angstrom at 6 Angstrom)."""
N_ELEMENTS = 118
N_BASE_FEATURES = N_ELEMENTS + 7
"""Element fractions, log volume per atom, six lattice features."""
N_DISTANCE_FEATURES = 2 * N_DISTANCE_BINS + 4
FEATURE_DECIMALS = 9
"""Feature rows are rounded to this many decimals. Equivalent descriptions of one crystal give
features equal up to float rounding (~1e-15); a tree's split threshold can fall inside that
noise (e.g. between cos 90 deg = 6e-17 and -1e-17 of two cells of one shape), so without the
rounding a gradient-boosted model could change its prediction under a rotated frame."""
CONSTANT_TOLERANCE = 1e-6
"""A feature whose training-set standard deviation is below this is dropped: rounding noise on a
constant (a right angle's cosine) would otherwise be scaled up to O(1) and blow up the quadratic
terms on crystals where it is not constant."""
RIDGE_ALPHAS = tuple(10.0 ** k for k in range(-5, 5))
"""Ridge penalties tried (on standardized quadratic features); the best on validation MAE is kept."""
GBM_SETTINGS = {"max_iter": 1500, "learning_rate": 0.05, "max_leaf_nodes": 31, "min_samples_leaf": 10,
                "l2_regularization": 1e-3}
"""Gradient boosting: up to 1500 trees, the number kept chosen on validation MAE."""


def composition_features(numbers) -> np.ndarray:
    """Element fractions: shape=(118,), entry Z - 1 is the fraction of atoms with atomic number Z.

    >>> composition_features([11, 17, 17, 17])[[10, 16]].tolist()
    [0.25, 0.75]
    """
    numbers = np.asarray(numbers, dtype=np.int64).reshape(-1)
    if len(numbers) == 0 or numbers.min() < 1 or numbers.max() > N_ELEMENTS:
        raise CrystalFourierError(f"atomic numbers must lie in 1-{N_ELEMENTS}, got {sorted(set(numbers.tolist()))}")
    return np.bincount(numbers - 1, minlength=N_ELEMENTS).astype(np.float64) / len(numbers)


def base_features(sample) -> np.ndarray:
    """Composition (118), log volume per atom (1), lattice features of the standardized cell (6): shape=(125,)."""
    return np.concatenate([composition_features(sample.numbers), [sample.log_volume_per_atom], sample.lattice])


def distance_features(lattice, positions, numbers, *, cutoff: float = DISTANCE_CUTOFF,
                      n_bins: int = N_DISTANCE_BINS) -> np.ndarray:
    """Per-atom pair-distance histograms and nearest-neighbour statistics, shape=(2 n_bins + 4,).

    [0:n_bins]: (1/n) sum over atoms i and neighbours (j, image) within ``cutoff`` of the
    radial basis of d_ij; [n_bins:2 n_bins]: the same over pairs with Z_i != Z_j; then the
    min, mean, max and std over atoms of the nearest-neighbour distance (Angstrom; lattice
    images of the atom itself included, searched beyond ``cutoff`` when needed). Invariant
    under every re-description of the crystal, supercells included (per-atom normalisation).

    Parameters
    ----------
    lattice : array_like, shape=(3, 3), dtype=float64, rows in Angstrom
    positions : array_like, shape=(n, 3), dtype=float64, fractional
    numbers : array_like, shape=(n,), dtype=int64

    Examples
    --------
    >>> f = distance_features(2.0 * np.eye(3), [[0, 0, 0]], [29], cutoff=2.5, n_bins=2)   # 6 neighbours at 2 A
    >>> f.round(6).tolist()
    [0.416046, 0.561604, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]
    """
    numbers = np.asarray(numbers, dtype=np.int64).reshape(-1)
    nl = neighbour_list(lattice, positions, cutoff)
    n = nl.n_atoms
    rbf = radial_basis(nl.distances, cutoff, n_bins)
    unlike = numbers[nl.centres] != numbers[nl.neighbours]
    nearest = nl.nearest()
    reach = cutoff
    while not np.all(np.isfinite(nearest)):   # an atom alone within the cutoff: look further
        reach *= 2.0
        nearest = neighbour_list(lattice, positions, reach).nearest()
    stats = [nearest.min(), nearest.mean(), nearest.max(), nearest.std()]
    return np.concatenate([rbf.sum(axis=0) / n, rbf[unlike].sum(axis=0) / n, stats])


def _sample_distance_features(sample) -> np.ndarray:
    return distance_features(lattice_from_features(sample.lattice), sample.positions, sample.numbers)


def feature_matrix(samples: Iterable[Sample], *, distance: bool = True, workers: int = 1) -> np.ndarray:
    """Rows [base_features | distance_features] for ``samples``: shape=(S, 125 [+ 52]), float64.

    The distance part is computed from each sample's fractional positions and the lattice
    with its lattice features' metric (:func:`lattice_from_features`); ``workers`` > 1 uses
    that many processes for it. Every value is rounded to :data:`FEATURE_DECIMALS` decimals.

    Parameters
    ----------
    samples : iterable of Sample
        The crystals (at least one).
    distance : bool, default True
        Append the 52 distance features.
    workers : int, default 1
        Processes for the distance features.

    Returns
    -------
    numpy.ndarray
        shape=(S, 125) or (S, 177), float64.

    Raises
    ------
    CrystalFourierError
        If ``samples`` is empty.
    """
    samples = list(samples)
    if not samples:
        raise CrystalFourierError("no crystals to featurize")
    base = np.round(np.stack([base_features(s) for s in samples]), FEATURE_DECIMALS)
    if not distance:
        return base
    if workers > 1 and len(samples) > 8 * workers:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(_sample_distance_features, samples, chunksize=max(1, len(samples) // (8 * workers))))
    else:
        rows = [_sample_distance_features(s) for s in samples]
    return np.concatenate([base, np.round(np.stack(rows), FEATURE_DECIMALS)], axis=1)


@dataclass(frozen=True, eq=False)
class ClassicalResult:
    """A fitted classical baseline and its metrics.

    Attributes
    ----------
    kind : str
        One of :data:`CLASSICAL_KINDS`.
    metrics : dict
        ``train``, ``val``, ``test``: :func:`~crystal_fourier.runtime.learning._evaluation.regression_metrics`
        (with ``per_group``), in the metric space of the config (log10 with ``log_target``).
    split : dict
        Index arrays ``train``, ``val``, ``test`` into the samples.
    predictions : np.ndarray
        shape=(S,): the model's prediction for every sample, in the metric space.
    chosen : dict
        The hyper-parameter picked on validation (``alpha`` or ``iterations``).
    seconds : float
        Fitting time, featurization excluded.
    model : callable, optional
        Feature rows (:func:`feature_matrix` layout) -> predictions; use :meth:`predict`.
    """

    kind: str
    metrics: dict
    split: dict
    predictions: np.ndarray
    chosen: dict = field(default_factory=dict)
    seconds: float = 0.0
    model: object = field(default=None, repr=False)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predictions (metric space) for rows of :func:`feature_matrix`, shape=(S,)."""
        return np.asarray(self.model(np.atleast_2d(np.asarray(features, dtype=np.float64))), dtype=np.float64)

    def predict_samples(self, samples, workers: int = 1) -> np.ndarray:
        """Predictions (metric space) for new samples, shape=(S,)."""
        return self.predict(feature_matrix(samples, distance=self.kind.endswith("+distance"), workers=workers))


def _ridge(x_train, y_train, x_val, y_val, x_all):
    """Ridge on standardized quadratic monomials, every penalty of RIDGE_ALPHAS from one eigendecomposition.

    The monomials are standardized on the training set, so the intercept is the training mean
    and coef(alpha) = (A^T A + alpha I)^-1 A^T (y - mean); the Gram matrix of the smaller side
    (A A^T when there are fewer crystals than monomials) is diagonalized once.
    """
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    expand = make_pipeline(StandardScaler(), PolynomialFeatures(2, include_bias=False), StandardScaler())
    a = expand.fit_transform(x_train)
    offset = float(y_train.mean())
    centred = y_train - offset
    if a.shape[0] <= a.shape[1]:
        w, q = np.linalg.eigh(a @ a.T)
        projected = q.T @ centred

        def coefficients(alpha):
            return a.T @ (q @ (projected / (np.maximum(w, 0.0) + alpha)))
    else:
        w, q = np.linalg.eigh(a.T @ a)
        projected = q.T @ (a.T @ centred)

        def coefficients(alpha):
            return q @ (projected / (np.maximum(w, 0.0) + alpha))
    val = expand.transform(x_val) if len(y_val) else None
    best = None
    for alpha in RIDGE_ALPHAS:
        coef = coefficients(alpha)
        score = np.abs(val @ coef + offset - y_val).mean() if val is not None else -alpha   # no val: largest penalty
        if best is None or score < best[0]:
            best = (score, alpha, coef)

    def model(x):
        return expand.transform(x) @ best[2] + offset

    return model(x_all), {"alpha": best[1]}, model


def _gbm(x_train, y_train, x_val, y_val, x_all, seed: int):
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(early_stopping=False, random_state=seed, **GBM_SETTINGS)
    model.fit(x_train, y_train)
    if len(y_val):
        errors = [np.abs(p - y_val).mean() for p in model.staged_predict(x_val)]
        iterations = int(np.argmin(errors)) + 1
    else:
        iterations = model.n_iter_

    def predict(x):
        for k, prediction in enumerate(model.staged_predict(x), start=1):
            if k == iterations:
                return prediction
        raise AssertionError("unreachable: staged_predict yields n_iter_ predictions")

    return predict(x_all), {"iterations": iterations}, predict


def fit_classical(samples: Iterable[Sample], config: TrainConfig, kind: str, *,
                  features: np.ndarray | None = None) -> ClassicalResult:
    """Fit baseline ``kind`` on the training split of ``config`` and score it like ``training.fit``.

    Parameters
    ----------
    samples : sequence of Sample
    config : TrainConfig
        Its ``seed``, ``split``, ``holdout_groups`` and ``log_target`` are used (the split of
        :func:`~crystal_fourier.runtime.learning._splits.training_split`, identical to a transformer
        run's); the model and optimiser settings are ignored.
    kind : str
        One of :data:`CLASSICAL_KINDS`.
    features : np.ndarray, optional
        :func:`feature_matrix` of ``samples`` (with the distance part for ``*+distance``),
        to share one featurization between several fits.

    Raises
    ------
    CrystalFourierError
        Unknown kind, or a feature matrix of the wrong shape.
    """
    from crystal_fourier.runtime.learning._evaluation import Normalizer, regression_metrics
    from crystal_fourier.runtime.learning._splits import training_split

    if kind not in CLASSICAL_KINDS:
        raise CrystalFourierError(f"unknown classical baseline {kind!r}; choose from {', '.join(CLASSICAL_KINDS)}")
    samples = list(samples)
    with_distance = kind.endswith("+distance")
    if features is None:
        features = feature_matrix(samples, distance=with_distance)
    width = N_BASE_FEATURES + (N_DISTANCE_FEATURES if with_distance else 0)
    if features.shape[0] != len(samples) or features.shape[1] < width:
        raise CrystalFourierError(f"features must have shape ({len(samples)}, >= {width}), got {features.shape}")
    x = features[:, :width]
    y = Normalizer.to_metric_space(np.array([s.target for s in samples], dtype=np.float64), config.log_target)
    if not np.all(np.isfinite(y)):
        raise CrystalFourierError("every sample needs a finite target to fit a classical baseline")
    split = training_split(samples, config)
    train, val = split["train"], split["val"]
    keep = x[train].std(axis=0) > CONSTANT_TOLERANCE   # constant on the training set: nothing to learn from
    x = x[:, keep]
    start = time.perf_counter()
    if kind.startswith("ridge"):
        predictions, chosen, fitted = _ridge(x[train], y[train], x[val], y[val], x)
    else:
        predictions, chosen, fitted = _gbm(x[train], y[train], x[val], y[val], x, config.seed)
    seconds = time.perf_counter() - start

    def model(rows):
        if rows.shape[1] < width:
            raise CrystalFourierError(f"{kind} needs feature rows of width >= {width}, got {rows.shape[1]}")
        return fitted(rows[:, :width][:, keep])

    groups = np.array([s.number for s in samples])
    metrics = {}
    for part, index in split.items():
        if len(index):
            metrics[part] = regression_metrics(predictions[index], y[index], groups[index])
        else:
            metrics[part] = {"n": 0, "mae": math.nan, "rmse": math.nan, "per_group": {}}
    return ClassicalResult(kind=kind, metrics=metrics, split=split, predictions=np.asarray(predictions, np.float64),
                           chosen=chosen, seconds=seconds, model=model)


def classical_zero_shot(samples: Sequence[Sample], config: TrainConfig, holdout: Iterable[int],
                        kinds: Iterable[str] = CLASSICAL_KINDS, *, features: np.ndarray | None = None,
                        workers: int = 1) -> dict:
    """Each baseline fitted twice on ``config``'s split, as
    :func:`~crystal_fourier.runtime.learning._zero_shot.run_zero_shot`.

    Once without the ``holdout`` groups (zero-shot) and once on all data; returns kind ->
    the report of :func:`~crystal_fourier.runtime.learning._zero_shot.zero_shot_report` with
    ``test_mae_zero_shot``, ``test_mae_all_data`` and ``seconds`` added, the same keys
    as a transformer's zero-shot report.

    Parameters
    ----------
    samples : sequence of Sample
        The crystals with their targets.
    config : TrainConfig
        The split (seed, fractions) and target; its ``holdout_groups`` is replaced by ``holdout`` or ().
    holdout : iterable of int
        The space-group numbers held out of training and validation in the zero-shot fit.
    kinds : iterable of str, default CLASSICAL_KINDS
        The baselines to fit.
    features : numpy.ndarray, optional
        The rows of :func:`feature_matrix` for ``samples``, when already computed; else computed here
        (with the distance features when some kind ends in ``'+distance'``).
    workers : int, default 1
        Processes for the distance features.

    Returns
    -------
    dict
        Baseline kind -> its zero-shot report.
    """
    import dataclasses

    from crystal_fourier.runtime.learning._zero_shot import holdout_groups, zero_shot_report

    samples = list(samples)
    groups = holdout_groups(holdout)
    if features is None:
        features = feature_matrix(samples, distance=any(k.endswith("+distance") for k in kinds), workers=workers)
    reports = {}
    for kind in kinds:
        zero_shot = fit_classical(samples, dataclasses.replace(config, holdout_groups=tuple(groups)), kind,
                                  features=features)
        all_data = fit_classical(samples, dataclasses.replace(config, holdout_groups=()), kind, features=features)
        report = zero_shot_report(zero_shot.metrics["test"], all_data.metrics["test"], groups)
        report.update(model=kind, target=config.target, test_mae_zero_shot=zero_shot.metrics["test"]["mae"],
                      test_mae_all_data=all_data.metrics["test"]["mae"], seconds=zero_shot.seconds + all_data.seconds)
        reports[kind] = report
    return reports
