"""Streaming prediction: bounded chunks, bounded batches, one path for files and crystals."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.learning import _evaluation, _prediction
from crystal_fourier.runtime.learning._prediction import stream_predictions
from crystal_fourier.runtime import fit, load_trained
from crystal_fourier.runtime.learning._evaluation import prediction_batches

from .test_training import tiny_config, tiny_samples


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("prediction") / "model"
    fit(tiny_samples(), tiny_config(epochs=1), out)
    return load_trained(out)


def _crystals(count: int):
    from crystal_fourier.runtime import random_crystal

    groups = (1, 2, 14, 62, 194, 225)
    for index in range(count):
        yield random_crystal(groups[index % 6], seed=index % 6, max_atoms=8).crystal


def _counted(trained, monkeypatch) -> list[int]:
    """Record the number of samples of each predict_samples call of ``trained``."""
    sizes = []
    real = type(trained).predict_samples

    def counting(self, samples, batch_size=256):
        samples = list(samples)
        sizes.append(len(samples))
        return real(self, samples, batch_size)

    monkeypatch.setattr(type(trained), "predict_samples", counting)
    return sizes


def test_crystals_are_predicted_in_bounded_chunks(trained, monkeypatch):
    crystals = list(_crystals(10))
    alone = [float(trained.predict_crystals([crystal])[0]) for crystal in crystals]
    monkeypatch.setattr(_prediction, "CHUNK_STRUCTURES", 4)
    sizes = _counted(trained, monkeypatch)
    values = trained.predict_crystals(crystals)
    assert sizes == [4, 4, 2]
    np.testing.assert_allclose(values, alone, rtol=1e-6, atol=1e-9)


def test_the_stream_reads_no_further_than_one_chunk_ahead(trained, monkeypatch):
    monkeypatch.setattr(_prediction, "CHUNK_STRUCTURES", 3)
    pulled = []

    def items():
        for index, crystal in enumerate(_crystals(9)):
            pulled.append(index)
            yield str(index), crystal

    stream = stream_predictions(trained, items())
    first = next(stream)
    assert (first.name, first.error, len(pulled)) == ("0", None, 3)
    assert [p.name for p in stream] == [str(i) for i in range(1, 9)]


def test_a_failing_structure_is_reported_and_the_others_predicted(trained):
    from crystal_fourier.runtime import Crystal

    crystals = list(_crystals(3))
    overlapping = Crystal.from_arrays(np.eye(3) * 4, [[0, 0, 0], [0, 0, 0]], [13, 13])
    results = list(stream_predictions(trained, zip("abcd", [crystals[0], overlapping, *crystals[1:]],
                                                  strict=True)))
    assert [(r.name, r.value is None) for r in results] == [("a", False), ("b", True), ("c", False), ("d", False)]
    assert isinstance(results[1].error, CrystalFourierError)
    with pytest.raises(CrystalFourierError, match="structure 'b'"):
        trained.predict_crystals([crystals[0], overlapping], names=["a", "b"])


def test_batches_bound_the_padded_attention(monkeypatch):
    monkeypatch.setattr(_evaluation, "PAIR_BUDGET", 1000)
    samples = [SimpleNamespace(numbers=[1] * n) for n in (5, 5, 5, 20, 20, 40, 3)]
    batches = prediction_batches(samples, batch_size=256)
    assert batches == [slice(0, 3), slice(3, 5), slice(5, 6), slice(6, 7)]
    for part in batches:
        chunk = samples[part]
        assert len(chunk) == 1 or len(chunk) * max(len(s.numbers) for s in chunk) ** 2 <= 1000
    assert prediction_batches(samples[:3], batch_size=2) == [slice(0, 2), slice(2, 3)]


@pytest.mark.parametrize("heads", [1, 2, 8, 256])
def test_the_atom_limit_is_the_largest_cell_within_the_memory_limit(heads):
    trained = SimpleNamespace(config=SimpleNamespace(model=SimpleNamespace(n_heads=heads)))
    limit = _prediction.prediction_atom_limit(trained)
    assert _prediction.prediction_memory(trained, limit) <= _prediction.PREDICT_MEMORY_LIMIT
    assert _prediction.prediction_memory(trained, limit + 1) > _prediction.PREDICT_MEMORY_LIMIT
    if heads == 8:
        assert limit == 4378  # the default model: the number predict's --allow-large help quotes (about 4,400)


def test_a_worker_refuses_other_files_at_the_model_path_and_keeps_the_model(trained):
    directory = str(trained.directory)
    with pytest.raises(CrystalFourierError, match="not the one the run started with"):
        _prediction._loaded(_prediction._ModelFiles(directory, "cpu", "0" * 64))
    files = _prediction._model_files(trained)
    assert files.sha256 == _prediction._files_sha256(directory)
    assert _prediction._loaded(files) is _prediction._loaded(files)   # loaded once per process, kept
