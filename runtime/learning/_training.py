"""The training loop of the CFT and its transformer baselines, one harness for all.

* Seeded random split 80/10/10 with held-out groups removed from the training and
  validation sets and checked never to reach them
  (:func:`~crystal_fourier.runtime.learning._splits.training_split`); metrics and the target
  normalization are those of :mod:`crystal_fourier.runtime.learning._evaluation`, samples come
  from :func:`~crystal_fourier.runtime.learning._samples.prepare_samples`.
* MSE on standardized targets (optionally log10 first, for moduli); AdamW with
  linear warm-up then cosine decay, stepped per batch (:func:`warmup_cosine`).
* The atoms' neighbourhoods (when the model embeds them) are computed once per
  sample before the first epoch (:func:`~crystal_fourier.runtime.network._neighbourhood.with_neighbours`),
  never per epoch.
* The best epoch on the validation MAE is kept, and with ``patience`` training stops
  once that many epochs have passed without a better one; a checkpoint after every epoch
  (model, optimizer, scheduler, epoch, best state, RNG states) lets an
  interrupted run resume and finish exactly as an uninterrupted one would.
* Data-parallel over processes with torch.distributed (``torchrun``; NCCL on
  CUDA, gloo on CPU, :func:`distributed_backend`): each global batch is split across
  ranks and the loss is scaled so the averaged gradient equals the single-process one.
* The samples are a list, or a memory-mapped
  :class:`~crystal_fourier.runtime.learning._sample_store.SampleStore` (``dataset prepare``):
  then each rank reads only the crystals of its shard of each batch, and the
  neighbourhoods come from the store.

A saved model directory holds ``config.json``, ``weights.pt``,
``normalization.json``, ``metrics.json`` and ``checkpoint.pt`` (for resuming),
written as a whole by one process at a time and read back as data only
(:mod:`crystal_fourier.runtime.learning._model_files`).
"""

from __future__ import annotations

import copy
import math
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from crystal_fourier._progress import progress_bar
from crystal_fourier._version import __version__
from crystal_fourier._atomic import (
    atomic_write, atomic_write_directory, exclusive_lock, json_safe, json_text, torch_bytes)
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.learning._evaluation import Normalizer, evaluate_samples
from crystal_fourier.runtime.learning._scalar_target import MAX_ABS_TARGET
from crystal_fourier.runtime.learning._targets import target_for
from crystal_fourier.runtime.learning._splits import check_holdout, training_split
from crystal_fourier.runtime.learning._sample_store import SampleStore
from crystal_fourier.runtime.network._batching import Sample, collate
from crystal_fourier.runtime.network._config import ModelConfig, TrainConfig
from crystal_fourier.runtime.network._model import build_model, check_cutoff_faithful
from crystal_fourier.runtime.learning._model_files import (  # TrainedModel, load_trained: re-exported, they live there
    CHECKPOINT_FILE, CHECKPOINT_SIZE_FACTOR, CHECKPOINT_SIZE_SLACK, CONFIG_FILE, KEPT_ENTRIES, METRICS_FILE,
    MODEL_FILES, NORMALIZATION_FILE, WEIGHTS_FILE, TrainedModel, check_int, check_output_directory,
    expected_tensor_bytes, load_trained, load_torch_file)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crystal_fourier.runtime.learning._target import Target

__all__ = [
    "TrainResult",
    "TrainedModel",
    "distributed_rank",
    "distributed_backend",
    "warmup_cosine",
    "fit",
    "load_trained",
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "NORMALIZATION_FILE",
    "METRICS_FILE",
    "CHECKPOINT_FILE",
    "MAX_ABS_TARGET",
]


# --------------------------------------------------------------------------- utilities


def warmup_cosine(optimizer, total_steps: int, warmup_fraction: float = 0.05):
    """LambdaLR: linear warm-up over ``warmup_fraction`` of the steps, then cosine decay to 0."""
    warmup = max(1, int(round(warmup_fraction * total_steps)))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total_steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def distributed_backend(device: str) -> str:
    """The torch.distributed backend for ``device``: ``"nccl"`` on CUDA, ``"gloo"`` otherwise (CPU).

    Parameters
    ----------
    device : str
        A torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``).

    >>> distributed_backend("cuda"), distributed_backend("cpu")
    ('nccl', 'gloo')
    """
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def distributed_rank(device: str = "cpu") -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) alone; under torchrun with WORLD_SIZE > 1, the
    process group is initialized first, with :func:`distributed_backend` of ``device`` (NCCL on CUDA, each
    rank on the GPU of its LOCAL_RANK; gloo on CPU). :func:`fit` trains data-parallel across it; a caller
    prints and shows progress on rank 0 only.

    Parameters
    ----------
    device : str, default "cpu"
        The torch device the ranks train on; it picks the backend of the first call (later calls find
        the group initialized).
    """
    import torch.distributed as dist

    if not dist.is_available():
        return 0, 1
    if not dist.is_initialized() and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        backend = distributed_backend(device)
        if backend == "nccl":  # "cuda" then means this rank's own GPU
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend)
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _rng_state() -> dict:
    """The global RNG states as tensors and plain lists, which ``torch.load(weights_only=True)`` reads back."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    return {"torch": torch.get_rng_state(),
            "numpy": {"kind": str(kind), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
                      "position": int(position), "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
            "python": {"version": int(version), "internal": torch.tensor(internal, dtype=torch.int64),
                       "gauss": None if gauss is None else float(gauss)}}


def _set_rng_state(state: dict) -> None:
    numpy_state, python_state = state["numpy"], state["python"]
    torch.set_rng_state(state["torch"])
    np.random.set_state((numpy_state["kind"], numpy_state["keys"].numpy().astype(np.uint32),
                         numpy_state["position"], numpy_state["has_gauss"], numpy_state["cached_gaussian"]))
    random.setstate((python_state["version"], tuple(int(v) for v in python_state["internal"].tolist()),
                     python_state["gauss"]))


# --------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    """The best model (weights of the best validation epoch), its normalizer, metrics, history and split
    (``{"train", "val", "test"}``: indices into the samples)."""

    model: nn.Module
    normalizer: Normalizer
    metrics: dict
    history: list
    split: dict


def _check_pretrained(summary: dict, config: TrainConfig) -> None:
    used = set(summary.get("groups_used", []))
    leaked = sorted(used & set(config.holdout_groups))
    if leaked:
        raise CrystalFourierError(
            f"the pretrained encoder saw held-out groups {leaked}; pretrain with --exclude-groups "
            "set to the same hold-out for a zero-shot study")
    saved = ModelConfig.from_dict(summary["config"]["model"])
    for name in ("d_model", "d_route", "d_position", "cutoff", "shell", "include_constant", "sinusoidal_frequencies",
                 "frequency_damping"):
        if getattr(saved, name) != getattr(config.model, name):
            raise CrystalFourierError(
                f"pretrained encoder has {name}={getattr(saved, name)!r} but the model has "
                f"{getattr(config.model, name)!r}; use the same sizes")
    if (saved.kind == "cft") != (config.model.kind == "cft"):
        raise CrystalFourierError(f"a {saved.kind!r} encoder cannot initialise a {config.model.kind!r} model")


def fit(samples: Iterable[Sample], config: TrainConfig, out_dir: str | os.PathLike[str] | None = None, *,
        resume: bool = False, pretrained: str | os.PathLike[str] | None = None, stop_after: int | None = None,
        overwrite: bool = False, target: Target | None = None) -> TrainResult:
    """Train a model on ``samples`` (labelled :class:`Sample` objects) and save it to ``out_dir``.

    One loop for every :class:`~crystal_fourier.runtime.learning._target.Target` (a scalar column, the
    elastic tensor): the target gives the normalisation, the loss and the metrics; resume, ``patience``,
    pretraining and data parallelism work for all of them.

    Parameters
    ----------
    samples : sequence of Sample
        Labelled by :func:`~crystal_fourier.runtime.learning._samples.prepare_samples` with the same target
        (``Sample.target`` a float, or a (6, 6) array for the elastic tensor).
    config : TrainConfig
    out_dir : path, optional
        Model directory; with ``resume`` an existing ``checkpoint.pt`` there is continued.
        It is locked while training (a second writer is refused) and written as a
        whole at the end. A directory that already holds a model is refused unless
        ``resume`` or ``overwrite``.
    pretrained : path, optional
        Directory of ``crystal-fourier pretrain``; its encoder initialises the
        positional encoding. Refused if it saw a held-out group.
    stop_after : int, optional
        Stop after this many epochs in total (simulates an interruption; the
        checkpoint is written as usual).
    target : Target, optional
        What is learnt; default ``target_for(config.target, config.log_target)``
        (:func:`~crystal_fourier.runtime.learning._targets.target_for`). A target given here (e.g. an
        :class:`~crystal_fourier.runtime.learning._elastic_target.ElasticTarget` with another loss) must have
        the name ``config.target``.

    Returns
    -------
    TrainResult
    """
    if not isinstance(samples, SampleStore):  # a store stays on disk, read batch by batch
        samples = list(samples)
    target = target_for(config.target, config.log_target) if target is None else target
    if target.name != config.target:
        raise CrystalFourierError(f"the target {target.name!r} is not the configuration's {config.target!r}")
    target.check_model(config.model)
    target.check_labels(_labels(samples).reshape(-1, *target.label_shape))
    rank, world = distributed_rank(config.device)
    out = Path(out_dir) if out_dir is not None else None
    if out is None or rank != 0:
        return _fit(samples, config, target, out, (rank, world), resume, pretrained, stop_after, None)
    check_output_directory(out, resume=resume, overwrite=overwrite)
    out.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(out, "training into"):
        check_output_directory(out, resume=resume, overwrite=overwrite)  # as found once the lock is ours
        checkpoint_path = out / CHECKPOINT_FILE
        if overwrite and any(os.path.lexists(out / name) for name in MODEL_FILES):
            # The old model stays whole until the swap: the new run's checkpoint lives beside it, named
            # as a temporary of `out` (removed by the next write of `out` if this run is killed).
            checkpoint_path = out.parent / f".{out.name}.checkpoint.tmp"
        try:
            return _fit(samples, config, target, out, (rank, world), resume, pretrained, stop_after, checkpoint_path)
        finally:
            if checkpoint_path.parent != out:
                checkpoint_path.unlink(missing_ok=True)


def _resume_checkpoint(checkpoint_path: Path, config: TrainConfig, model: nn.Module, optimizer, scheduler
                       ) -> tuple[dict, bytes]:
    """Restore the model, optimizer, scheduler and RNGs from ``checkpoint_path``.

    Returns the training loop's state (epoch, best_val, best_state, history) and the file's bytes.
    """
    max_bytes = CHECKPOINT_SIZE_FACTOR * expected_tensor_bytes(model) + CHECKPOINT_SIZE_SLACK
    checkpoint = load_torch_file(checkpoint_path, map_location=config.device, max_bytes=max_bytes)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("config"), dict):
        raise CrystalFourierError(f"{checkpoint_path}: not a crystal-fourier checkpoint")
    if _resumable(checkpoint["config"]) != _resumable(config.to_dict()):
        raise CrystalFourierError(
            f"{checkpoint_path} was written with another configuration; resume with the same options "
            "or start a new --out directory")
    try:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        state = {key: checkpoint[key] for key in ("epoch", "best_val", "best_state", "history")}
        check_int("checkpoint epoch", state["epoch"], 0, config.epochs)
        _set_rng_state(checkpoint["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, IndexError) as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        raise CrystalFourierError(f"{checkpoint_path}: damaged checkpoint ({reason})") from None
    return state, checkpoint_path.read_bytes()


def _write_model_directory(out: Path, config: TrainConfig, normalizer: Normalizer, model: nn.Module, metrics: dict,
                           checkpoint_bytes: "bytes | None") -> None:
    """Write the model directory :func:`load_trained` reads: all files or none."""
    files = {CONFIG_FILE: json_text({"version": __version__, "train": config.to_dict()}),
             NORMALIZATION_FILE: json_text(normalizer.to_dict()),
             WEIGHTS_FILE: torch_bytes(model.state_dict()),
             METRICS_FILE: json_text(json_safe(metrics))}
    if checkpoint_bytes is not None:
        files[CHECKPOINT_FILE] = checkpoint_bytes
    atomic_write_directory(out, files, keep=KEPT_ENTRIES)


# One training loop (steps, validation, checkpoint of each epoch) read top to bottom; resume and output are helpers.
def _fit(samples, config, target, out, place, resume, pretrained, stop_after,  # noqa: PLR0912, PLR0913, PLR0915, PLR0917
         checkpoint_path) -> TrainResult:
    rank, world = place
    main = rank == 0
    spec = config.model.neighbour_spec
    if spec is not None and not isinstance(samples, SampleStore):
        # once per sample, not per epoch (a no-op for samples that already hold them); a store holds them
        # (`dataset prepare`), or, prepared at another cutoff, has them computed batch by batch
        from crystal_fourier.runtime.network._neighbourhood import with_neighbours

        samples = with_neighbours(samples, *spec)
    split = training_split(samples, config)
    train_set, val_set, test_set = (_subset(samples, split[name]) for name in ("train", "val", "test"))
    check_holdout(_subset(samples, np.concatenate([split["train"], split["val"]])), config.holdout_groups,
                  "training or validation")
    normalizer = target.fit_normalizer(_labels(train_set).reshape(-1, *target.label_shape))
    if config.model.kind == "cft" and main:
        groups = set(samples.groups().tolist()) if isinstance(samples, SampleStore) else {s.number for s in samples}
        check_cutoff_faithful(config.model.cutoff, config.model.shell, groups | set(config.holdout_groups))

    torch.manual_seed(config.seed)
    model = build_model(config.model).to(config.device)
    pretrained_summary = None
    if pretrained is not None:
        from crystal_fourier.runtime.learning._pretraining import load_pretrained

        state, pretrained_summary = load_pretrained(pretrained)
        _check_pretrained(pretrained_summary, config)
        model.positional.load_state_dict(state)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(train_set) // config.batch_size)
    scheduler = warmup_cosine(optimizer, config.epochs * steps_per_epoch, config.warmup_fraction)
    state = {"epoch": 0, "best_val": math.inf, "best_state": copy.deepcopy(model.state_dict()), "history": []}

    checkpoint_bytes = None
    if resume and checkpoint_path is not None and checkpoint_path.is_file():
        state, checkpoint_bytes = _resume_checkpoint(checkpoint_path, config, model, optimizer, scheduler)

    network = model
    if world > 1:
        network = nn.parallel.DistributedDataParallel(model)
    augmentation = None
    if config.augment:
        from crystal_fourier.runtime.network._baselines import SymmetryAugmentation

        augmentation = SymmetryAugmentation()

    last_epoch = config.epochs if stop_after is None else min(config.epochs, stop_after)
    for epoch in range(state["epoch"], last_epoch):
        if _stopped_early(state["history"], config.patience, target.score):
            break
        network.train()
        order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(config.seed * 100003 + epoch))
        augment_rng = np.random.default_rng([config.seed, epoch])
        total = torch.zeros(2, dtype=torch.float64)
        bar = progress_bar(range(steps_per_epoch), f"epoch {epoch + 1}/{config.epochs}", config.progress and main)
        for step in bar:
            indices = order[step * config.batch_size:(step + 1) * config.batch_size].tolist()
            if augmentation is not None:  # the same draws on every rank, before sharding
                chosen = augmentation([train_set[i] for i in indices], augment_rng)
            else:  # a rank reads only the crystals of its shard
                chosen = indices
            shard, weight = chosen[rank::world], 1.0
            if not shard:  # fewer crystals than ranks in the last batch: take part with zero weight
                shard, weight = chosen[:1], 0.0
            if augmentation is None:
                shard = [train_set[i] for i in shard]
            batch = collate(shard, neighbours=spec).to(config.device)
            # Scaled so that DDP's average over ranks equals the mean over the global batch.
            loss, logged = target.loss(network, batch, shard, normalizer, weight * world, len(chosen))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            total += torch.tensor([logged * weight, len(shard) * weight], dtype=torch.float64)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{logged / len(shard):.4f}")
        if world > 1:
            import torch.distributed as dist

            reduced = total.to(config.device)  # NCCL reduces device tensors only
            dist.all_reduce(reduced)
            total = reduced.cpu()
        train_loss = float(total[0] / max(total[1], 1.0))
        val = evaluate_samples(model, normalizer, val_set, config.device, target) if val_set else None
        score = val[target.score] if val else train_loss
        improved = score < state["best_val"]
        if improved:
            state["best_val"] = score
            state["best_state"] = copy.deepcopy(model.state_dict())
        state["history"].append({"epoch": epoch + 1, "train_loss": train_loss,
                                 f"val_{target.score}": score if val else None, "lr": scheduler.get_last_lr()[0]})
        state["epoch"] = epoch + 1
        if main and config.progress:
            print(f"epoch {epoch + 1}/{config.epochs}: train loss {train_loss:.4g}"
                  + (f", val {target.score.replace('_', ' ').replace('mae', 'MAE')} {score:.4g}" if val else "")
                  + (" *" if improved else ""), file=sys.stderr)
        if main and checkpoint_path is not None:
            checkpoint_bytes = torch_bytes({"config": config.to_dict(), "model": model.state_dict(),
                                            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                                            "rng": _rng_state(), **state})
            atomic_write(checkpoint_path, checkpoint_bytes)

    model.load_state_dict(state["best_state"])
    model.eval()
    stopped_early = _stopped_early(state["history"], config.patience, target.score)
    finished = state["epoch"] >= config.epochs or stopped_early
    metrics = {
        "version": __version__, "target": config.target, "model": config.model.kind,
        "epochs_completed": state["epoch"], "finished": finished, "stopped_early": stopped_early,
        "best_val": state["best_val"],
        "world_size": world,
        "train": evaluate_samples(model, normalizer, train_set, config.device, target),
        "val": evaluate_samples(model, normalizer, val_set, config.device, target),
        "test": evaluate_samples(model, normalizer, test_set, config.device, target),
        "holdout_groups": list(config.holdout_groups),
        "pretrained": None if pretrained is None else str(pretrained),
        "history": state["history"],
        **({"tensor_head": config.model.tensor_head} if config.model.tensor_head is not None else {}),
        **target.recorded(normalizer),
    }
    if main and out is not None:  # one directory, all files or none (atomic.atomic_write_directory)
        _write_model_directory(out, config, normalizer, model, metrics, checkpoint_bytes)
    if world > 1:
        import torch.distributed as dist

        dist.barrier()
    return TrainResult(model=model, normalizer=normalizer, metrics=metrics, history=state["history"], split=split)


def _subset(samples, indices):
    """The samples at ``indices``: a list, or for a store a store of those samples (nothing read yet)."""
    if isinstance(samples, SampleStore):
        return samples.take(indices)
    return [samples[i] for i in indices]


def _labels(samples) -> np.ndarray:
    """The samples' labels as one float64 array (a store's read from its targets array)."""
    if isinstance(samples, SampleStore):
        return samples.targets()
    return np.array([s.target for s in samples], dtype=np.float64)


def _stopped_early(history: list, patience: "int | None", score: str = "mae") -> bool:
    """True when the last ``patience`` epochs of ``history`` brought no better validation ``score`` (``val_<score>``;
    the train loss without one).

    Derived from the history alone, so a resumed run stops where the uninterrupted one would.

    >>> _stopped_early([{"val_mae": 3.0}, {"val_mae": 2.0}, {"val_mae": 2.5}, {"val_mae": 2.1}], 2)
    True
    >>> _stopped_early([{"val_mae": 3.0}, {"val_mae": 2.0}, {"val_mae": 2.5}], 2)
    False
    """
    if patience is None or not history:
        return False
    key = f"val_{score}"
    scores = [entry[key] if entry.get(key) is not None else entry["train_loss"] for entry in history]
    scores = [score if math.isfinite(score) else math.inf for score in scores]
    best = min(range(len(scores)), key=lambda i: (scores[i], i))
    return len(scores) - 1 - best >= patience


def _resumable(config: dict) -> dict:
    """The part of a config that must match to resume (the device and progress bars may change)."""
    return {key: value for key, value in config.items() if key not in ("device", "progress")}
