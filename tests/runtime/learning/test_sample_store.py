"""The sample store: samples read back bit for bit, training from it equals training from the list, damage refused."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import ModelConfig, TrainConfig, fit, random_crystal
from crystal_fourier.runtime.learning._training import distributed_backend
from crystal_fourier.runtime.learning._sample_store import is_sample_store, open_sample_store, write_sample_store
from crystal_fourier.runtime.network._batching import sample_from_arrays
from crystal_fourier.runtime.network._neighbourhood import with_neighbours

SPEC = (4.0, 4)
MODEL = ModelConfig(kind="cft", d_model=16, n_heads=2, n_layers=1, d_ff=16, d_route=16, d_position=16,
                    neighbour_cutoff=SPEC[0], n_rbf=SPEC[1])
CONFIG = TrainConfig(model=MODEL, epochs=2, batch_size=4, lr=3e-3, progress=False)


def _samples(tensor: bool = False):
    from crystal_fourier.derive import space_group

    out = []
    for seed, number in enumerate((1, 2, 14, 194, 225) * 3):
        made = random_crystal(number, seed=seed, max_atoms=6)
        crystal = made.crystal
        target = float(crystal.numbers.mean() / 40.0 + np.log(crystal.volume / crystal.n_atoms))
        sample = sample_from_arrays(crystal.lattice, crystal.positions, crystal.numbers,
                                    space_group(made.number).hall_number, made.number, target=target,
                                    id=f"crystal-{seed}-é")
        if tensor:
            sample = dataclasses.replace(sample, target=np.diag([3.0, 3.0, 3.0, 1.0, 1.0, 1.0]) * (target + 2.0))
        out.append(sample)
    return with_neighbours(out, *SPEC)


@pytest.fixture(scope="module")
def samples():
    return _samples()


@pytest.fixture(scope="module")
def store_path(samples, tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "s"
    write_sample_store(path, samples, symprec=0.01, handedness="canonical", target="y", neighbours=SPEC)
    return path


def test_backend_is_nccl_on_cuda_and_gloo_on_cpu():
    assert distributed_backend("cpu") == "gloo"
    assert distributed_backend("cuda") == "nccl"
    assert distributed_backend("cuda:1") == "nccl"


@pytest.mark.parametrize("tensor", [False, True])
def test_samples_read_back_bit_for_bit(samples, tmp_path, tensor):
    written = _samples(tensor) if tensor else samples
    write_sample_store(tmp_path / "s", written, symprec=0.01, handedness="keep", target="y",
                       label_shape=(6, 6) if tensor else (), neighbours=SPEC)
    store = open_sample_store(tmp_path / "s")
    assert is_sample_store(tmp_path / "s")
    assert not is_sample_store(tmp_path)
    assert len(store) == len(written)
    assert store.manifest["handedness"] == "keep"
    assert store.neighbour_spec == SPEC
    for old, new in zip(written, store, strict=True):
        for name in ("numbers", "positions", "lattice"):
            assert getattr(new, name).dtype == getattr(old, name).dtype
            assert np.array_equal(getattr(new, name), getattr(old, name))
        assert (new.hall_number, new.number, new.id) == (old.hall_number, old.number, old.id)
        assert new.log_volume_per_atom == old.log_volume_per_atom
        assert np.array_equal(new.target, old.target)
        assert type(new.target) is type(old.target)
        for name in ("atoms", "species", "sums"):
            assert np.array_equal(getattr(new.neighbours, name), getattr(old.neighbours, name))
    assert [s.id for s in store.take([3, 0])] == [written[3].id, written[0].id]
    assert [s.id for s in store[1:3]] == [written[1].id, written[2].id]


def test_training_from_a_store_equals_training_from_the_samples(samples, store_path, tmp_path):
    listed = fit(samples, CONFIG, tmp_path / "list")
    stored = fit(open_sample_store(store_path), CONFIG, tmp_path / "store")
    assert (tmp_path / "list" / "metrics.json").read_bytes() == (tmp_path / "store" / "metrics.json").read_bytes()
    assert listed.metrics["test"]["mae"] == stored.metrics["test"]["mae"]


def test_a_store_without_neighbourhoods_trains_the_same(samples, tmp_path):
    bare = [dataclasses.replace(s, neighbours=None) for s in samples]
    write_sample_store(tmp_path / "bare", bare, symprec=0.01, handedness="canonical", target="y")
    assert open_sample_store(tmp_path / "bare").neighbour_spec is None
    fit(samples, dataclasses.replace(CONFIG, epochs=1), tmp_path / "list")
    fit(open_sample_store(tmp_path / "bare"), dataclasses.replace(CONFIG, epochs=1), tmp_path / "store")
    assert (tmp_path / "list" / "metrics.json").read_bytes() == (tmp_path / "store" / "metrics.json").read_bytes()


def _copy(store_path, tmp_path):
    import shutil

    shutil.copytree(store_path, tmp_path / "copy")
    return tmp_path / "copy"


def _edit_manifest(path, **changes):
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(changes)
    (path / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(("damage", "message"), [
    ("flip", "positions.npy: sha256 differs from the manifest's (damaged)"),
    ("truncate", "positions.npy: 1384 bytes, 1448 expected (truncated or damaged)"),
    ("version", "prepared by crystal-fourier '0.0.1' (format 1)"),
    ("count", "numbers.npy: holds int64"),
    ("missing", "the manifest lists the arrays"),
    ("manifest", "manifest.json is not JSON"),
    ("offsets", "atom_offsets: not the offsets of"),
])
def test_a_damaged_store_is_refused_with_one_message(store_path, tmp_path, damage, message):
    path = _copy(store_path, tmp_path)
    positions = path / "positions.npy"
    if damage == "flip":
        data = bytearray(positions.read_bytes())
        data[-1] ^= 1
        positions.write_bytes(bytes(data))
    elif damage == "truncate":
        positions.write_bytes(positions.read_bytes()[:-64])
    elif damage == "version":
        _edit_manifest(path, version="0.0.1")
    elif damage == "count":
        _edit_manifest(path, atoms=json.loads((path / "manifest.json").read_text())["atoms"] + 1)
    elif damage == "missing":
        manifest = json.loads((path / "manifest.json").read_text())
        del manifest["arrays"]["numbers"]
        (path / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "manifest":
        (path / "manifest.json").write_text("{")
    elif damage == "offsets":   # a consistent store (sha256 recomputed) whose offsets lie
        import hashlib
        import io

        offsets = np.load(path / "atom_offsets.npy")
        offsets[1], offsets[2] = offsets[2], offsets[1]
        buffer = io.BytesIO()
        np.save(buffer, offsets)
        (path / "atom_offsets.npy").write_bytes(buffer.getvalue())
        manifest = json.loads((path / "manifest.json").read_text())
        manifest["arrays"]["atom_offsets"]["sha256"] = hashlib.sha256(buffer.getvalue()).hexdigest()
        (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CrystalFourierError) as error:
        open_sample_store(path)
    assert str(error.value).startswith(f"sample store {path}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_each_array_file_is_the_bytes_np_save_writes_for_the_whole_array(samples, store_path):
    import io

    reference = {"positions": np.concatenate([s.positions for s in samples]),
                 "neighbour_sums": np.concatenate([s.neighbours.sums for s in samples]),
                 "id_bytes": np.frombuffer("".join(s.id for s in samples).encode("utf-8"), dtype=np.uint8),
                 "atom_offsets": np.cumsum([0] + [len(s) for s in samples]).astype(np.int64),
                 "targets": np.array([s.target for s in samples])}
    for name, array in reference.items():
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        assert (store_path / f"{name}.npy").read_bytes() == buffer.getvalue(), name


def test_samples_are_written_as_they_come_not_held(samples, tmp_path):
    """The old writer listed every sample first: all of them stayed alive until the store was written."""
    import gc
    import weakref

    alive = []

    def stream():
        for sample in samples:
            copy = dataclasses.replace(sample)
            alive.append(weakref.ref(copy))
            yield copy
            del copy
            gc.collect()
            if len(alive) >= 3:  # the writer keeps nothing of a sample once it has taken the next
                assert alive[-3]() is None
                assert list(tmp_path.glob(".s.*.tmp")), "writing starts before the last sample"

    write_sample_store(tmp_path / "s", stream(), symprec=0.01, handedness="canonical", target="y", neighbours=SPEC)
    store = open_sample_store(tmp_path / "s")
    assert [s.id for s in store] == [s.id for s in samples]
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(   # no part file left
        [f"{name}.npy" for name in store.manifest["arrays"]] + ["manifest.json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_a_failure_mid_stream_leaves_no_store_and_the_old_store_untouched(samples, store_path, tmp_path):
    import shutil

    def failing(after):
        yield from samples[:after]
        raise CrystalFourierError("structure 'x': cannot be standardized")

    with pytest.raises(CrystalFourierError, match="structure 'x'"):
        write_sample_store(tmp_path / "new", failing(5), symprec=0.01, handedness="canonical", target="y",
                           neighbours=SPEC)
    assert list(tmp_path.iterdir()) == []   # neither the store nor a temporary
    old = tmp_path / "old"
    shutil.copytree(store_path, old)
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    with pytest.raises(CrystalFourierError):
        write_sample_store(old, failing(7), symprec=0.01, handedness="canonical", target="y", neighbours=SPEC)
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]
    with pytest.raises(CrystalFourierError, match="no samples to store"):
        write_sample_store(tmp_path / "empty", iter(()), symprec=0.01, handedness="canonical", target="y")
    bare = dataclasses.replace(samples[0], neighbours=None)
    with pytest.raises(CrystalFourierError, match="every sample must hold its neighbourhoods"):
        write_sample_store(tmp_path / "bare", [samples[1], bare], symprec=0.01, handedness="canonical",
                           target="y", neighbours=SPEC)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]


def test_iter_samples_standardizes_one_record_at_a_time_with_its_neighbourhoods(monkeypatch):
    from crystal_fourier.runtime import prepare_samples, standardize
    from crystal_fourier.runtime.learning._samples import iter_samples

    crystals = [random_crystal(number, seed=0, max_atoms=6).crystal for number in (2, 14, 225)]
    records = [(crystal, {"y": float(i)}, f"c{i}") for i, crystal in enumerate(crystals)]
    listed = with_neighbours(prepare_samples(records, "y"), *SPEC)
    calls = []
    monkeypatch.setattr("crystal_fourier.runtime.symmetry._standardization.standardize",
                        lambda *args, **options: calls.append(1) or standardize(*args, **options))
    stream = iter_samples(records, "y", neighbours=SPEC)
    first = next(stream)
    assert len(calls) == 1   # the others are not standardized yet
    assert first.neighbours.matches(*SPEC)
    for old, new in zip(listed, [first, *stream], strict=True):
        assert np.array_equal(old.neighbours.sums, new.neighbours.sums)
        assert old.target == new.target
    assert len(calls) == 3
