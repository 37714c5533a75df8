"""Damaged tensor files are refused, naming the file; declared sizes are bounded before anything is unpacked.

Issue 31: one flipped bit per tensor record of weights.pt silently changed the prediction in 49 of
54 files, and checkpoint.pt / encoder.pt zip bombs were unpacked before refusal. Every record of a
torch archive carries a CRC-32, which the loader now verifies.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile

import pytest
import torch

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import build_model, fit, load_trained
from crystal_fourier.runtime.learning._pretraining import load_pretrained
from crystal_fourier.runtime.learning._tensor_files import expected_tensor_bytes, load_torch_file

from .test_training import tiny_config, tiny_samples


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One tiny trained model (1 epoch), with its checkpoint."""
    out = tmp_path_factory.mktemp("saved") / "model"
    fit(tiny_samples(), tiny_config(epochs=1), out)
    return out


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A pretrained-encoder directory as ``crystal-fourier pretrain`` writes it (untrained weights)."""
    from crystal_fourier import __version__

    config = tiny_config().model
    out = tmp_path_factory.mktemp("pretrained") / "encoder"
    out.mkdir()
    torch.save(build_model(config).positional.state_dict(), out / "encoder.pt")
    (out / "pretrain.json").write_text(json.dumps({"version": __version__, "groups_used": [1, 2],
                                                   "config": {"model": config.to_dict()}}))
    return out


def tensor_records(path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return [info.filename for info in archive.infolist() if "/data/" in info.filename and info.file_size > 0]


def flip_one_bit(path, record: str) -> None:
    """Flip one bit in the middle of the data of ``record`` (its local header is left intact)."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        info = archive.getinfo(record)
    offset = info.header_offset
    name_length = int.from_bytes(raw[offset + 26:offset + 28], "little")
    extra_length = int.from_bytes(raw[offset + 28:offset + 30], "little")
    raw[offset + 30 + name_length + extra_length + info.compress_size // 2] ^= 0x10
    path.write_bytes(bytes(raw))


def test_every_tensor_record_of_weights_is_checked(saved, tmp_path):
    records = tensor_records(saved / "weights.pt")
    assert len(records) > 5
    for record in records:
        model = shutil.copytree(saved, tmp_path / record.replace("/", "_"))
        flip_one_bit(model / "weights.pt", record)
        with pytest.raises(CrystalFourierError, match=r"weights\.pt: damaged: record .* fails its CRC-32 check"):
            load_trained(model)


def test_every_tensor_record_of_the_checkpoint_is_checked(saved, tmp_path):
    records = tensor_records(saved / "checkpoint.pt")
    assert len(records) > 5
    for record in records:
        path = tmp_path / "checkpoint.pt"
        shutil.copy(saved / "checkpoint.pt", path)
        flip_one_bit(path, record)
        with pytest.raises(CrystalFourierError, match=r"checkpoint\.pt: damaged: record .* fails its CRC-32 check"):
            load_torch_file(path)


def test_a_damaged_checkpoint_stops_resume_with_one_line(saved, tmp_path):
    model = shutil.copytree(saved, tmp_path / "model")
    flip_one_bit(model / "checkpoint.pt", tensor_records(model / "checkpoint.pt")[0])
    with pytest.raises(CrystalFourierError, match=r"checkpoint\.pt: damaged") as caught:
        fit(tiny_samples(), tiny_config(epochs=2), model, resume=True)
    assert "\n" not in str(caught.value)


def test_every_tensor_record_of_the_encoder_is_checked(pretrained, tmp_path):
    records = tensor_records(pretrained / "encoder.pt")
    assert records
    for record in records:
        encoder = shutil.copytree(pretrained, tmp_path / record.replace("/", "_"))
        flip_one_bit(encoder / "encoder.pt", record)
        with pytest.raises(CrystalFourierError, match=r"encoder\.pt: damaged: record .* fails its CRC-32 check"):
            load_pretrained(encoder)


def test_undamaged_files_still_load(saved, pretrained):
    assert load_trained(saved).model is not None
    state, _ = load_pretrained(pretrained)
    assert set(state) == set(build_model(tiny_config().model).positional.state_dict())


def _add_bomb(path) -> None:
    huge = 64 << 20  # deflates to ~64 kB; the tiny model's tensors are far smaller
    prefix = zipfile.ZipFile(path).namelist()[0].split("/")[0]
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(f"{prefix}/data/bomb", "w", force_zip64=True) as entry:
            for _ in range(huge >> 20):
                entry.write(bytes(1 << 20))
    assert path.stat().st_size < 1 << 20


def test_a_checkpoint_zip_bomb_is_refused_before_it_is_unpacked(saved, tmp_path, monkeypatch):
    model = shutil.copytree(saved, tmp_path / "model")
    _add_bomb(model / "checkpoint.pt")
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load reached the zip bomb"))
    with pytest.raises(CrystalFourierError, match=r"checkpoint\.pt: the archive declares .* bytes unpacked"):
        fit(tiny_samples(), tiny_config(epochs=2), model, resume=True)


def test_an_encoder_zip_bomb_is_refused_before_it_is_unpacked(pretrained, tmp_path, monkeypatch):
    encoder = shutil.copytree(pretrained, tmp_path / "encoder")
    _add_bomb(encoder / "encoder.pt")
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("torch.load reached the zip bomb"))
    with pytest.raises(CrystalFourierError, match=r"encoder\.pt: the archive declares .* bytes unpacked"):
        load_pretrained(encoder)


def test_an_oversized_weights_file_is_refused_unread(saved, tmp_path, monkeypatch):
    model = shutil.copytree(saved, tmp_path / "model")
    trained = load_trained(saved)
    with (model / "weights.pt").open("ab") as handle:  # garbage past the archive's end: too big to be this model's
        handle.truncate(4 * expected_tensor_bytes(trained.model) + (2 << 20))
    with pytest.raises(CrystalFourierError, match=r"weights\.pt: .* bytes, more than the .* this model's"):
        load_trained(model)
