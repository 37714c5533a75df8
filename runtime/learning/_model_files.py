"""The files of a saved model: safe loading, validation before anything is built, whole-directory writes.

A model directory holds :data:`MODEL_FILES`. It is written as a whole
(:func:`crystal_fourier._atomic.atomic_write_directory`), by one process at a time
(:func:`crystal_fourier._atomic.exclusive_lock` on the directory), and read back
with ``torch.load(weights_only=True)`` only: a file is data, never code. The JSON
files are checked for types, finite values, ranges and a known version before a
model is built from them (:func:`check_saved_config`, :func:`check_normalization`),
so a hostile or damaged file gives one :class:`CrystalFourierError`, not a
5 GB allocation or a NaN prediction. :func:`load_trained` reads a directory this
way into a :class:`TrainedModel` (torch is imported only when a model is loaded).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crystal_fourier._version import __version__
from crystal_fourier._checks import check_float, check_int  # re-exported: the saved-config checks use them
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._config import TrainConfig
from crystal_fourier.runtime.learning._tensor_files import (  # re-exported: the loaders below and training use them
    CHECKPOINT_SIZE_FACTOR,
    CHECKPOINT_SIZE_SLACK,
    WEIGHTS_SIZE_FACTOR,
    WEIGHTS_SIZE_SLACK,
    check_file_size,
    check_archive_records,
    check_archive_size,
    expected_tensor_bytes,
    load_torch_file,
)

if TYPE_CHECKING:  # annotations only: this module loads without torch (training imports it)
    from collections.abc import Iterable

    import numpy as np
    import torch

    from crystal_fourier.runtime.network._batching import Sample
    from crystal_fourier.runtime.learning._evaluation import Normalizer
    from crystal_fourier.runtime.learning._target import Target
    from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["CONFIG_FILE", "WEIGHTS_FILE", "NORMALIZATION_FILE", "METRICS_FILE", "CHECKPOINT_FILE", "MODEL_FILES",
           "KEPT_ENTRIES", "CHECKPOINT_SIZE_FACTOR", "CHECKPOINT_SIZE_SLACK",
           "WEIGHTS_SIZE_FACTOR", "WEIGHTS_SIZE_SLACK",
           "check_int", "check_float", "check_version", "check_saved_config", "check_normalization",
           "check_output_directory", "expected_tensor_bytes", "check_archive_size", "check_archive_records",
           "load_torch_file", "check_device",
           "read_json", "read_model_files", "TrainedModel", "load_trained"]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.pt"
NORMALIZATION_FILE = "normalization.json"
METRICS_FILE = "metrics.json"
CHECKPOINT_FILE = "checkpoint.pt"
MODEL_FILES = (CONFIG_FILE, WEIGHTS_FILE, NORMALIZATION_FILE, METRICS_FILE, CHECKPOINT_FILE)
KEPT_ENTRIES = ("pretrained",)
"""Entries of a model directory that are not the model's own (the zero-shot study's encoder) and survive a rewrite."""

MAX_JSON_BYTES = 1 << 20
"""config.json and normalization.json are a few hundred bytes; anything over 1 MiB is refused unread."""




def _version_tuple(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,4})\.(\d{1,4})(\.\d{1,4})?([.+-][0-9A-Za-z.+-]{0,40})?", text)
    if match is None:
        raise ValueError(text)
    return int(match.group(1)), int(match.group(2))


def check_version(version, source) -> None:
    """Refuse a file written by an unknown or newer crystal-fourier than this one."""
    if not isinstance(version, str):
        raise CrystalFourierError(f"{source}: version must be a string such as {__version__!r}, got {version!r}")
    try:
        written = _version_tuple(version)
    except ValueError:
        raise CrystalFourierError(f"{source}: unknown version {version[:40]!r}") from None
    if written > _version_tuple(__version__):
        raise CrystalFourierError(f"{source}: written by crystal-fourier {version}, newer than this "
                                  f"{__version__}; upgrade crystal-fourier to load it")


def read_model_files(directory, names, max_bytes: "dict[str, int] | None" = None) -> dict:
    """{name: bytes} of files of ``directory``, read through one handle of it.

    A directory replaced as a whole while we read (:func:`~crystal_fourier._atomic.atomic_write_directory`)
    gives all files of the old one or, read again, of the new one: never a mixture. A file named in
    ``max_bytes`` that is larger than its bound is refused before it is read.
    """
    directory = Path(directory)
    max_bytes = max_bytes or {}
    for attempt in range(3):
        try:
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as error:
            raise CrystalFourierError(f"{directory}: cannot open the model directory ({error.strerror})") from None
        try:
            contents = {}
            for name in names:
                with open(os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd), "rb") as handle:
                    check_file_size(directory / name, os.fstat(handle.fileno()).st_size, max_bytes.get(name))
                    contents[name] = handle.read()
            return contents
        except FileNotFoundError:
            if attempt == 2:
                raise CrystalFourierError(f"{directory}: files vanished while reading (being rewritten?)") from None
        except OSError as error:
            raise CrystalFourierError(f"{directory}: cannot read {name} ({error.strerror})") from None
        finally:
            os.close(fd)


def read_json(path, data: "bytes | None" = None):
    """A small JSON file (at most :data:`MAX_JSON_BYTES`; no NaN or Infinity), or one CrystalFourierError.

    ``data`` is its content when already read; ``path`` then only names it in messages.
    """
    path = Path(path)
    import json

    try:
        if data is None:
            size = path.stat().st_size
            if size > MAX_JSON_BYTES:
                raise CrystalFourierError(f"{path}: {size} bytes, more than a model file's {MAX_JSON_BYTES}")
            data = path.read_bytes()
        if len(data) > MAX_JSON_BYTES:
            raise CrystalFourierError(f"{path}: {len(data)} bytes, more than a model file's {MAX_JSON_BYTES}")
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except OSError as error:
        raise CrystalFourierError(f"{path}: cannot read ({error.strerror or error})") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise CrystalFourierError(f"{path}: not valid JSON ({str(error).splitlines()[0][:120]})") from None
    except RecursionError:
        raise CrystalFourierError(f"{path}: not a model file: its JSON is nested deeper than Python's recursion "
                                  "limit (a model file is a few levels deep)") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def check_saved_config(path, data: "bytes | None" = None) -> dict:
    """The ``train`` part of ``config.json`` after checking its version and shape (sizes are checked by TrainConfig)."""
    path = Path(path)
    data = read_json(path, data)
    if not isinstance(data, dict) or not isinstance(data.get("train"), dict) \
            or not isinstance(data["train"].get("model"), dict):
        raise CrystalFourierError(f"{path}: expected an object with 'version' and 'train' (with 'model')")
    check_version(data.get("version"), path)
    return data["train"]


def check_normalization(path, data: "bytes | None" = None) -> dict:
    """``normalization.json`` checked: finite ``mean``, finite ``std`` > 0, boolean ``log_target``, nothing else."""
    path = Path(path)
    data = read_json(path, data)
    if not isinstance(data, dict) or set(data) != {"mean", "std", "log_target"}:
        raise CrystalFourierError(f"{path}: expected exactly the keys mean, std and log_target")
    try:
        check_float("mean", data["mean"], -1e300, 1e300)
        check_float("std", data["std"], 0.0, 1e300, open_low=True)
        if not isinstance(data["log_target"], bool):
            raise CrystalFourierError(f"log_target must be true or false, got {data['log_target']!r}")
    except CrystalFourierError as error:
        raise CrystalFourierError(f"{path}: {error}") from None
    return data


def check_output_directory(out: str | os.PathLike[str], *, resume: bool = False, overwrite: bool = False) -> None:
    """Refuse to train into a directory that is not a model's, or holds a model, unless resuming or overwriting.

    Parameters
    ----------
    out : str or os.PathLike
        The model directory to train into.
    resume : bool, default False
        Continue the model (or checkpoint) that ``out`` holds.
    overwrite : bool, default False
        Replace the model that ``out`` holds.

    Returns
    -------
    None

    Raises
    ------
    CrystalFourierError
        ``out`` is a file; holds entries that are not a model's; holds a model
        (or a checkpoint) and neither ``resume`` nor ``overwrite`` is given.
    """
    out = Path(out)
    if resume and overwrite:
        raise CrystalFourierError("--resume continues a model and --overwrite replaces it: give one of them")
    if out.name in ("", ".", ".."):
        raise CrystalFourierError(f"--out {str(out)!r}: name the model directory (e.g. {str(out / 'model')!r}); "
                                  "it is replaced as a whole")
    if os.path.lexists(out) and (out.is_symlink() or not out.is_dir()):
        raise CrystalFourierError(f"{out}: exists and is not a directory; give a new or model directory as --out")
    if not out.is_dir():
        return
    try:
        entries = sorted(os.listdir(out))
    except OSError as error:
        raise CrystalFourierError(f"{out}: cannot list ({error.strerror or error})") from None
    foreign = [name for name in entries if name not in MODEL_FILES + KEPT_ENTRIES]
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise CrystalFourierError(f"{out}: holds files that are not a model's ({shown}); a model directory is "
                                  "replaced as a whole, so give a new or empty directory as --out")
    present = [name for name in entries if name in MODEL_FILES]
    if present and not (resume or overwrite):
        raise CrystalFourierError(f"{out}: already holds a model ({', '.join(present)}); pass --resume to continue "
                                  "its checkpoint or --overwrite to replace it")


def check_device(text: str) -> str:
    """``text`` if it names a usable torch device (cpu, cuda, cuda:N, mps); else one CrystalFourierError.

    Parameters
    ----------
    text : str
        A torch device name such as ``'cpu'``, ``'cuda'``, ``'cuda:1'`` or ``'mps'``.

    Returns
    -------
    str
        ``text`` unchanged.

    Raises
    ------
    CrystalFourierError
        For an unknown device, or one this machine does not have.
    """
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, TypeError):
        raise CrystalFourierError(f"unknown device {text!r}: expected cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda", "mps"):
        raise CrystalFourierError(f"device {text!r} is not supported: expected cpu, cuda or cuda:N")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise CrystalFourierError(f"device {text!r} requested but CUDA is not available; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise CrystalFourierError(f"device {text!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    if device.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise CrystalFourierError(f"device {text!r} requested but MPS is not available; use --device cpu")
    return text


# --------------------------------------------------------------------------- loading a saved model


@dataclass
class TrainedModel:
    """A model loaded from a saved directory, ready to predict in the target's units."""

    model: "torch.nn.Module"
    normalizer: "Normalizer"
    config: "TrainConfig"
    directory: Path

    @property
    def target(self) -> "Target":
        """What the model predicts (:func:`~crystal_fourier.runtime.learning._targets.target_for` of its config)."""
        from crystal_fourier.runtime.learning._targets import target_for

        return target_for(self.config.target, self.config.log_target)

    def predict_samples(self, samples: Iterable[Sample], batch_size: int = 256) -> "np.ndarray":
        """Predictions in the target's original units (10**log10 undone), shape=(n, *target.label_shape), in the
        standardized frame of each sample.

        Parameters
        ----------
        samples : iterable of Sample
            Standardized crystals.
        batch_size : int, default 256
            Most crystals per forward pass.

        Returns
        -------
        numpy.ndarray
            float64.

        Raises
        ------
        CrystalFourierError
            If the model gives non-finite predictions.
        """
        import numpy as np

        from crystal_fourier.runtime.learning._evaluation import predict_samples

        target = self.target
        raw = predict_samples(self.model, list(samples), batch_size, self.config.device)
        outputs = target.to_units(target.denormalize(raw, self.normalizer), self.normalizer)
        if not np.isfinite(outputs).all():
            raise CrystalFourierError(f"{self.directory}: the model gave non-finite predictions (damaged weights or "
                                      "normalization?)")
        return outputs

    def predict_crystals(self, crystals: Iterable[Crystal], batch_size: int = 256,
                         names: Iterable[str] | None = None) -> "np.ndarray":
        """Standardize ``crystals`` (runtime Crystal objects) with the training symprec and handedness, then predict:
        shape=(n, *target.label_shape), each prediction in its crystal's own frame (an elastic tensor is rotated
        back from the standardized frame).

        ``names`` (one per crystal; default: their positions "0", "1", ...) label the crystals in
        error messages, e.g. a file name for a crystal that lacks its declared symmetry. The
        crystals go through :func:`~crystal_fourier.runtime.learning._prediction.stream_predictions`
        (the path of ``crystal-fourier predict``), chunk by chunk.

        Parameters
        ----------
        crystals : iterable of Crystal
            The crystals, in any setting (lattice in Angstrom).
        batch_size : int, default 256
            Most crystals per forward pass.
        names : iterable of str, optional
            One label per crystal for error messages.

        Returns
        -------
        numpy.ndarray
            float64.

        Raises
        ------
        CrystalFourierError
            A crystal that cannot be standardized or predicted (named), or as many names as crystals not given.
        """
        import numpy as np

        from crystal_fourier.runtime.learning._prediction import stream_predictions

        crystals = list(crystals)
        labels = [str(i) for i in range(len(crystals))] if names is None else [str(n) for n in names]
        if len(labels) != len(crystals):
            raise CrystalFourierError(f"{len(labels)} names for {len(crystals)} crystals")
        values = []
        for prediction in stream_predictions(self, zip(labels, crystals, strict=True), batch_size=batch_size):
            if prediction.error is not None:
                raise CrystalFourierError(f"structure {prediction.name!r}: {prediction.error}") from None
            values.append(prediction.value)
        return np.array(values, dtype=np.float64).reshape(-1, *self.target.label_shape)

    def evaluate(self, samples: Iterable[Sample]) -> dict:
        """:func:`~crystal_fourier.runtime.learning._evaluation.evaluate_samples` on labelled samples.

        Parameters
        ----------
        samples : iterable of Sample
            Standardized crystals with finite targets.

        Returns
        -------
        dict
            The metrics of :func:`~crystal_fourier.runtime.learning._evaluation.evaluate_samples`.

        Raises
        ------
        CrystalFourierError
            No samples, or a target that is not finite (inf, or NaN that was not skipped): a
            metric over them would be meaningless (``mae: null``), so it is refused.
        """
        import numpy as np

        from crystal_fourier.runtime.learning._evaluation import evaluate_samples

        samples = list(samples)
        if not samples:
            raise CrystalFourierError(f"no labelled structures to evaluate {self.config.target!r} on "
                                      "(every value missing?)")
        bad = [sample for sample in samples if not np.isfinite(np.asarray(sample.target, dtype=np.float64)).all()]
        if bad:
            raise CrystalFourierError(
                f"{len(bad)} of {len(samples)} targets of {self.config.target!r} are not finite (first: "
                f"{bad[0].id!r} = {bad[0].target}); evaluation needs finite values: fix or drop those rows")
        from crystal_fourier.runtime.learning._scalar_target import MAX_ABS_TARGET

        huge = [sample for sample in samples  # the metrics would overflow or be meaningless (mae 3.3e298)
                if not (abs(np.asarray(sample.target, dtype=float)) <= MAX_ABS_TARGET).all()]
        if huge:
            raise CrystalFourierError(
                f"{len(huge)} of {len(samples)} targets of {self.config.target!r} are beyond {MAX_ABS_TARGET:.0e} "
                f"(first: {huge[0].id!r} = {float(abs(np.asarray(huge[0].target, dtype=float)).max()):.6g}); "
                "fix the units or drop those rows")
        return evaluate_samples(self.model, self.normalizer, samples, self.config.device, self.target)


def load_trained(directory: str | os.PathLike[str], device: str | None = None) -> TrainedModel:
    """Load a model directory written by :func:`~crystal_fourier.runtime.fit`
    (``crystal-fourier train --out DIR``).

    Every file is checked before a model is built: ``config.json`` for a known
    version, types and bounded sizes, ``normalization.json`` for finite values,
    ``weights.pt`` is read as tensors only (``weights_only=True``) and must fit
    the configured model exactly.

    Parameters
    ----------
    directory : str or os.PathLike
        The model directory (``config.json``, ``normalization.json``, ``weights.pt``).
    device : str, optional
        ``"cpu"``, ``"cuda"`` ...; default: the device saved in its ``config.json``.

    Returns
    -------
    TrainedModel
        The network in evaluation mode with its configuration and normalization:
        ``predict_crystals(crystals)`` gives one prediction per crystal.

    Raises
    ------
    CrystalFourierError
        The directory lacks a file, a file is damaged or hostile, or it was written
        by a newer version.
    """
    import dataclasses

    import torch

    from crystal_fourier.runtime.network._model import build_model
    from crystal_fourier.runtime.learning._evaluation import Normalizer

    if device is not None:
        check_device(device)  # a bad option is named before the directory is read
    directory = Path(directory)
    if not directory.is_dir():
        raise CrystalFourierError(f"{directory} is not a saved model directory "
                                  "(made by `crystal-fourier train --out DIR`)")
    missing = [name for name in (CONFIG_FILE, WEIGHTS_FILE, NORMALIZATION_FILE) if not (directory / name).is_file()]
    if missing:
        raise CrystalFourierError(
            f"{directory} is not a saved model: missing {', '.join(missing)} "
            "(made by `crystal-fourier train --out DIR`)")
    names = (CONFIG_FILE, NORMALIZATION_FILE)
    files = read_model_files(directory, names, {name: MAX_JSON_BYTES for name in names})
    try:
        config = TrainConfig.from_dict(check_saved_config(directory / CONFIG_FILE, files[CONFIG_FILE]))
    except (TypeError, ValueError) as error:  # CrystalFourierError included
        message = str(error).splitlines()[0]
        raise CrystalFourierError(message if str(directory) in message else
                                  f"{directory / CONFIG_FILE}: {message}") from None
    normalizer = Normalizer(**check_normalization(directory / NORMALIZATION_FILE, files[NORMALIZATION_FILE]))
    if device is not None:
        config = dataclasses.replace(config, device=device)
    check_device(config.device)
    model = build_model(config.model)
    max_bytes = WEIGHTS_SIZE_FACTOR * expected_tensor_bytes(model) + WEIGHTS_SIZE_SLACK
    # weights.pt is bounded by the configuration, so it is read second; all three again through one
    # handle, so the weights belong to the configuration read (the directory may be replaced meanwhile)
    again = read_model_files(directory, (*names, WEIGHTS_FILE), {**{name: MAX_JSON_BYTES for name in names},
                                                                 WEIGHTS_FILE: max_bytes})
    if any(again[name] != files[name] for name in names):
        raise CrystalFourierError(f"{directory}: the model was rewritten while it was read; load it again")
    state = load_torch_file(directory / WEIGHTS_FILE, map_location=config.device, data=again[WEIGHTS_FILE],
                            max_bytes=max_bytes)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CrystalFourierError(f"{directory / WEIGHTS_FILE}: not a state dict of tensors")
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        reason = str(error).strip().splitlines()[0][:200]
        raise CrystalFourierError(f"{directory / WEIGHTS_FILE}: does not fit {CONFIG_FILE} ({reason})") from None
    model = model.to(config.device)
    model.eval()
    return TrainedModel(model=model, normalizer=normalizer, config=config, directory=directory)
