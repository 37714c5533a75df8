"""Zero-shot generalisation to space groups never seen in training (or pretraining).

The study trains two models on the same seeded split: one without the held-out
groups (zero-shot) and one on all data. Both are scored on the same test
crystals of each held-out group; per group dMAE = MAE(zero-shot) - MAE(all data),
and the group-balanced gap is

    GB-Gap = mean over held-out groups with test crystals of |dMAE|.

The named hold-out ``centrosymmetric`` is the set of groups containing the
inversion -1 (the paper's study): computed from the operations, not listed.
"""

from __future__ import annotations

import dataclasses
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._atomic import atomic_write_json
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from crystal_fourier.runtime.network._batching import Sample
    from crystal_fourier.runtime.learning._pretraining import PretrainConfig
    from crystal_fourier.runtime.network._config import TrainConfig

__all__ = ["NAMED_HOLDOUTS", "centrosymmetric_groups", "holdout_groups", "gb_gap", "zero_shot_report", "run_zero_shot"]

NAMED_HOLDOUTS = ("centrosymmetric",)


@lru_cache(maxsize=1)
def centrosymmetric_groups() -> tuple[int, ...]:
    """Numbers of the groups whose point group contains the inversion (x -> -x + t).

    >>> groups = centrosymmetric_groups()
    >>> len(groups), groups[:3], 225 in groups, 216 in groups
    (92, (2, 10, 11), True, False)
    """
    from crystal_fourier.derive import space_group

    return tuple(n for n in range(1, 231) if space_group(n).centrosymmetric)


def holdout_groups(spec: str | Iterable[int] | None) -> tuple[int, ...]:
    """Parse a hold-out: None/'' (none), 'centrosymmetric', or a list such as '2,14,225' or '195-230'.

    Parameters
    ----------
    spec : str, iterable of int or None
        The hold-out: a name (``'centrosymmetric'``), numbers, ranges and symbols as for
        :func:`~crystal_fourier.derive.parse_groups`, or the numbers themselves.

    Returns
    -------
    tuple of int
        The held-out space-group numbers, sorted; empty for none.

    Raises
    ------
    CrystalFourierError
        Unknown names or groups outside 1-230.

    Examples
    --------
    >>> holdout_groups("225,Fd-3m"), holdout_groups(None)
    ((225, 227), ())
    """
    if spec is None:
        return ()
    if isinstance(spec, str):
        text = spec.strip()
        if not text or text.lower() == "none":
            return ()
        if text.lower() in NAMED_HOLDOUTS:
            return centrosymmetric_groups()
        from crystal_fourier.derive._space_groups import parse_groups

        if text == "all":
            raise CrystalFourierError("holding out all 230 groups leaves nothing to train on")
        return tuple(parse_groups(text))
    numbers = sorted({int(n) for n in spec})
    if any(not 1 <= n <= 230 for n in numbers):
        raise CrystalFourierError(f"held-out groups must lie in 1-230, got {numbers}")
    return tuple(numbers)


def gb_gap(zero_shot: dict, all_data: dict) -> float:
    """Mean over the groups in both dicts of |MAE_zero-shot - MAE_all-data|.

    ``zero_shot`` and ``all_data`` map group -> MAE; NaN when no group is shared.

    >>> gb_gap({2: 0.3, 14: 0.5}, {2: 0.1, 14: 0.6})
    0.15
    """
    shared = sorted(set(zero_shot) & set(all_data))
    if not shared:
        return math.nan
    return float(round(np.mean([abs(zero_shot[g] - all_data[g]) for g in shared]), 12))


def zero_shot_report(metrics_zero_shot: dict, metrics_all_data: dict, holdout: Iterable[int]) -> dict:
    """Per-group comparison of two test metrics (``regression_metrics`` with ``per_group``).

    Parameters
    ----------
    metrics_zero_shot : dict
        Test metrics of the run without the held-out groups.
    metrics_all_data : dict
        Test metrics of the run on all data.
    holdout : iterable of int
        The held-out space-group numbers.

    Returns
    -------
    dict
        ``groups``: rows {group, n, mae_zero_shot, mae_all_data, delta_mae} for
        each held-out group with test crystals; ``gb_gap``; the overall test MAE
        of the held-out crystals in each run.
    """
    zs, alld = metrics_zero_shot.get("per_group", {}), metrics_all_data.get("per_group", {})
    rows = []
    for group in sorted(int(g) for g in holdout):
        key = str(group)
        if key in zs and key in alld and zs[key]["n"]:
            rows.append({"group": group, "n": zs[key]["n"], "mae_zero_shot": zs[key]["mae"],
                         "mae_all_data": alld[key]["mae"], "delta_mae": zs[key]["mae"] - alld[key]["mae"]})
    gap = gb_gap({r["group"]: r["mae_zero_shot"] for r in rows}, {r["group"]: r["mae_all_data"] for r in rows})

    def pooled(key):
        n = sum(r["n"] for r in rows)
        return sum(r[key] * r["n"] for r in rows) / n if n else math.nan

    return {"holdout_groups": sorted(int(g) for g in holdout), "groups": rows, "gb_gap": gap,
            "heldout_mae_zero_shot": pooled("mae_zero_shot"), "heldout_mae_all_data": pooled("mae_all_data")}


def run_zero_shot(samples: Sequence[Sample], config: TrainConfig, holdout: str | Iterable[int],
                  out_dir: str | os.PathLike[str], *, pretrain_config: PretrainConfig | None = None,
                  pretrained: str | os.PathLike[str] | None = None, overwrite: bool = False) -> dict:
    """Train the zero-shot and the all-data model on the same split; write and return the report.

    Parameters
    ----------
    samples : sequence of Sample
    config : TrainConfig
        Its ``holdout_groups`` is ignored: the zero-shot run uses ``holdout``,
        the all-data run none.
    holdout : str or iterable of int
        See :func:`holdout_groups`.
    out_dir : path
        ``zero-shot/`` and ``all-data/`` model directories and ``zero_shot.json``.
    pretrain_config : PretrainConfig, optional
        Pretrain an encoder for each run first: the zero-shot encoder never sees
        the held-out groups, the all-data encoder sees every group.
    pretrained : path, optional
        Instead, one pretrained encoder for both runs (it must not have seen
        the held-out groups; :func:`~crystal_fourier.runtime.learning._training.fit` checks).
    overwrite : bool
        Replace models already in ``zero-shot/`` and ``all-data/`` (refused otherwise).
    """
    from crystal_fourier.runtime.learning._training import fit

    groups = holdout_groups(holdout)
    if not groups:
        raise CrystalFourierError("a zero-shot study needs at least one held-out group")
    out = Path(out_dir)
    results = {}
    for name, held in (("zero-shot", groups), ("all-data", ())):
        run_config = dataclasses.replace(config, holdout_groups=tuple(held))
        encoder = pretrained
        if pretrain_config is not None:
            from crystal_fourier.runtime.learning._pretraining import pretrain

            encoder_config = dataclasses.replace(pretrain_config, model=config.model,
                                                 exclude=tuple(sorted(set(pretrain_config.exclude) | set(held))))
            encoder = out / name / "pretrained"
            pretrain(encoder_config, encoder)
        results[name] = fit(samples, run_config, out / name, pretrained=encoder, overwrite=overwrite)
    report = zero_shot_report(results["zero-shot"].metrics["test"], results["all-data"].metrics["test"], groups)
    report["model"] = config.model.kind
    report["target"] = config.target
    report["test_mae_zero_shot"] = results["zero-shot"].metrics["test"]["mae"]
    report["test_mae_all_data"] = results["all-data"].metrics["test"]["mae"]
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "zero_shot.json", _nan_to_none(report))
    return report


def _nan_to_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    return value
