"""Tensor files (weights.pt, checkpoint.pt, encoder.pt): bounded, verified, then loaded as data only.

Split from :mod:`~crystal_fourier.runtime.learning._model_files`, which reads a whole model directory.
Before ``torch.load(weights_only=True)`` sees a file: its size is checked before it is read, the
unpacked sizes its zip archive declares are checked before anything is unpacked (a zip bomb is
refused without inflating it), and the CRC-32 of every record is verified (torch's reader does not,
so a flipped bit would silently change a tensor). See docs/guide/safe-files.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from crystal_fourier.errors import CrystalFourierError

__all__ = ["WEIGHTS_SIZE_FACTOR", "WEIGHTS_SIZE_SLACK", "CHECKPOINT_SIZE_FACTOR", "CHECKPOINT_SIZE_SLACK",
           "expected_tensor_bytes", "check_file_size", "check_archive_size", "check_archive_records", "load_torch_file"]

WEIGHTS_SIZE_FACTOR = 2
WEIGHTS_SIZE_SLACK = 1 << 20
"""weights.pt may declare at most WEIGHTS_SIZE_FACTOR x the configured model's tensor bytes + WEIGHTS_SIZE_SLACK
(the pickle, names and alignment: a few kB) unpacked; the archive is checked before it is loaded."""

CHECKPOINT_SIZE_FACTOR = 8
CHECKPOINT_SIZE_SLACK = 16 << 20
"""checkpoint.pt holds the model, the best model so far and Adam's two moments (4 x the tensor bytes),
the RNG states (~10 kB) and the history (~100 bytes an epoch): it may declare at most
CHECKPOINT_SIZE_FACTOR x the configured model's tensor bytes + CHECKPOINT_SIZE_SLACK unpacked."""


def expected_tensor_bytes(module) -> int:
    """Bytes of the parameters and buffers of ``module`` (what its saved state dict holds, pickle aside)."""
    return sum(tensor.numel() * tensor.element_size() for tensor in module.state_dict().values())


def check_archive_size(path, data: bytes, max_bytes: int) -> None:
    """Refuse a torch zip archive whose entries declare more than ``max_bytes`` unpacked, before any is unpacked.

    The sizes are those of the zip's central directory (``zipfile`` ``infolist`` ``file_size``),
    which torch's reader allocates and unpacks into; a small file declaring gigabytes (a zip bomb)
    is refused here without decompressing anything. Data that is not a zip archive is left to
    :func:`load_torch_file`'s own checks.
    """
    import io
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        declared = sum(info.file_size for info in archive.infolist())
    if declared > max_bytes:
        raise CrystalFourierError(f"{path}: the archive declares {declared:,} bytes unpacked, more than the "
                                  f"{max_bytes:,} its configuration allows; refused without unpacking it")


def check_file_size(path, size: int, max_bytes: "int | None") -> None:
    if max_bytes is not None and size > max_bytes:
        raise CrystalFourierError(f"{path}: {size:,} bytes, more than the {max_bytes:,} this model's configuration "
                                  "allows; refused unread")


_RECORD_BLOCK = 1 << 20
"""Bytes of one record read at a time while its CRC-32 is checked (memory stays bounded for any record)."""


def check_archive_records(path, data: bytes) -> None:
    """Refuse a torch zip archive any of whose records fails its CRC-32 (a damaged file).

    Every record of a zip archive carries the CRC-32 of its bytes; torch's reader does not check
    them, so a flipped bit in a tensor silently changes the model. Each record is read (inflated
    in blocks of :data:`_RECORD_BLOCK` bytes) and its CRC compared, as ``zipfile.testzip`` does.
    Call :func:`check_archive_size` first: this reads what the archive declares. Data that is not
    a zip archive is left to :func:`load_torch_file`'s own checks.
    """
    import io
    import zipfile
    import zlib

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        for info in archive.infolist():
            try:
                with archive.open(info) as record:
                    while record.read(_RECORD_BLOCK):
                        pass
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as error:
                reason = "fails its CRC-32 check" if "CRC" in str(error) else f"cannot be read ({error})"
                raise CrystalFourierError(f"{path}: damaged: record {info.filename!r} {reason[:160]}; the file "
                                          "changed after it was written (copy it again or retrain); refused") from None


def load_torch_file(path, map_location="cpu", data: "bytes | None" = None, *, max_bytes: int | None = None):
    """``torch.load(path, weights_only=True)``: tensors and plain data only, never code, from an undamaged file.

    ``max_bytes`` bounds the file's size (checked before it is read) and the unpacked size the
    archive declares (:func:`check_archive_size`); every record's CRC-32 is then verified
    (:func:`check_archive_records`), all before torch reads it.

    Raises
    ------
    CrystalFourierError
        The file is missing, empty, truncated, damaged (a record fails its CRC-32), not a torch
        file, larger or declaring more than ``max_bytes`` unpacked, or holds anything but
        tensors and plain data (e.g. a pickled object with ``__reduce__``).
    """
    import torch

    import io

    path = Path(path)
    if data is None:
        try:
            with open(path, "rb") as handle:
                check_file_size(path, os.fstat(handle.fileno()).st_size, max_bytes)
                data = handle.read()
        except OSError as error:
            raise CrystalFourierError(f"{path}: cannot read ({error.strerror or error})") from None
    if max_bytes is not None:
        check_archive_size(path, data, max_bytes)
    check_archive_records(path, data)
    try:
        return torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except OSError as error:
        raise CrystalFourierError(f"{path}: cannot read ({error.strerror or error})") from None
    except Exception as error:  # noqa: BLE001 - the unpickler and zip reader raise many kinds
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
        raise CrystalFourierError(f"{path}: not a valid tensor file, refused without running it "
                                  f"({type(error).__name__}: {reason})") from None
