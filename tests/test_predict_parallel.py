"""``predict --workers/--scheduler/--out/--resume``: the same CSV bytes however the chunks run, and a run
that stops (a lost worker, an interruption) is finished by --resume without a row lost or repeated."""

from __future__ import annotations

from pathlib import Path

import pytest

import crystal_fourier.runtime
from crystal_fourier import _engine
from crystal_fourier.cli import main
from crystal_fourier.errors import WorkerLost
from crystal_fourier.runtime.learning import _prediction

EXIT_WORKER_LOST = 4

SIZES = ["--d-model", "16", "--heads", "2", "--layers", "1", "--d-route", "16", "--d-position", "16",
         "--no-progress", "--epochs", "1", "--batch-size", "4"]
BROKEN = "not a structure\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    from crystal_fourier.runtime import random_crystal, write_cdvae_csv, write_cif

    folder = tmp_path_factory.mktemp("parallel")
    rows = []
    for seed, number in enumerate((1, 2, 14, 62, 194, 225)):
        crystal = random_crystal(number, seed=seed, max_atoms=8).crystal
        rows.append({"material_id": f"m{seed}", "cif": write_cif(crystal), "spacegroup": number,
                     "energy": float(crystal.numbers.mean() / 40.0)})
    write_cdvae_csv(folder / "train.csv", rows)
    for index in range(11):
        crystal = random_crystal((1, 2, 14, 62, 166, 194, 225)[index % 7], seed=index, max_atoms=10).crystal
        (folder / f"c{index:02d}.cif").write_text(write_cif(crystal))
    (folder / "c05.cif").write_text(BROKEN)  # a failed row among the others: exit 1, the rest predicted
    assert main(["train", "--data", str(folder / "train.csv"), "--target", "energy", "--out", str(folder / "model"),
                 *SIZES]) == 0
    return folder


def _files(folder: Path) -> list[str]:
    return sorted(str(path) for path in folder.glob("c*.cif"))


def _predict(folder: Path, *options: str) -> int:
    return main(["predict", "--model", str(folder / "model"), *_files(folder), *options])


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Chunks of 3 files, so that 11 files make 4 chunks (workers receive their chunks, not this setting)."""
    monkeypatch.setattr(_prediction, "CHUNK_STRUCTURES", 3)


@pytest.fixture
def reference(folder, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("reference") / "one.csv"
    assert _predict(folder, "--out", str(out)) == 1
    return out.read_bytes()


def test_the_file_output_is_the_stdout_output(folder, reference, capsys):
    assert _predict(folder) == 1
    assert capsys.readouterr().out.encode() == reference
    assert reference.count(b"\n") == 12
    assert b"c05.cif,," in reference


@pytest.mark.sweep  # two worker processes that each import torch: 10-15 s on the shared machine
def test_two_workers_write_the_same_bytes(folder, reference, tmp_path):
    out = tmp_path / "two.csv"
    assert _predict(folder, "--workers", "2", "--out", str(out)) == 1
    assert out.read_bytes() == reference


def test_a_dask_local_cluster_writes_the_same_bytes(folder, reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask.csv"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        assert _predict(folder, "--scheduler", cluster.scheduler_address, "--out", str(out)) == 1
    assert out.read_bytes() == reference


def test_resume_after_a_kill_mid_write_finishes_the_same_bytes(folder, reference, tmp_path):
    out = tmp_path / "resumed.csv"
    torn = reference.index(b"c04.cif") + 10  # a kill in the middle of a row
    out.write_bytes(reference[:torn])
    assert _predict(folder, "--out", str(out), "--resume") == 1  # c05 failed in the first part: still counted
    assert out.read_bytes() == reference


def test_a_lost_worker_exits_4_keeping_the_finished_rows_and_resume_finishes(folder, reference, tmp_path,
                                                                              monkeypatch, capsys):
    real = crystal_fourier.runtime.stream_predictions

    def dying(*args, **kwargs):
        for count, prediction in enumerate(real(*args, **kwargs)):
            if count == 7:
                raise WorkerLost("a worker process died (killed) during chunk 3; run again with --resume")
            yield prediction

    monkeypatch.setattr(crystal_fourier.runtime, "stream_predictions", dying)
    out = tmp_path / "lost.csv"
    assert _predict(folder, "--out", str(out)) == EXIT_WORKER_LOST
    assert "--resume" in capsys.readouterr().err
    assert out.read_bytes().splitlines() == reference.splitlines()[:8]  # the header and 7 whole rows
    monkeypatch.setattr(crystal_fourier.runtime, "stream_predictions", real)
    assert _predict(folder, "--out", str(out), "--resume") == 1
    assert out.read_bytes() == reference


@pytest.mark.parametrize(("options", "message"), [
    (["--workers", "0"], "--workers: expected a positive integer, got 0"),
    (["--resume"], "--resume needs --out FILE"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "not both"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at tcp://127.0.0.1:9")])
def test_bad_engine_options_are_one_line_exit_2_and_write_nothing(folder, tmp_path, monkeypatch, capsys, options,
                                                                   message):
    monkeypatch.setattr(_engine, "CONNECT_SECONDS", 0.5)
    monkeypatch.chdir(tmp_path)
    out = [] if "--resume" in options else ["--out", str(tmp_path / "out.csv")]
    try:
        status = _predict(folder, *out, *options)
    except SystemExit as exit:  # argparse refuses --workers 0 itself
        status = exit.code
    err = capsys.readouterr().err
    assert status == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_resume_refuses_a_file_of_other_inputs(folder, reference, tmp_path, capsys):
    out = tmp_path / "other.csv"
    out.write_bytes(reference)
    status = main(["predict", "--model", str(folder / "model"), *reversed(_files(folder)), "--out", str(out),
                   "--resume"])
    assert status == 2
    assert "give the same sources in the same order" in capsys.readouterr().err
    assert out.read_bytes() == reference


def test_resume_of_a_trajectory_matches_frames_and_finishes_the_same_bytes(folder, tmp_path, capsys):
    """Kept rows are matched by (source, frame): a trajectory resumes mid-file; a shorter one is refused."""
    ase_io = pytest.importorskip("ase.io")
    from crystal_fourier.runtime import read_structure

    frames = []
    for path in _files(folder):
        if not path.endswith("c05.cif"):
            crystal = read_structure(path)
            frames.append(_as_atoms(crystal))
    trajectory = tmp_path / "frames.extxyz"
    ase_io.write(str(trajectory), frames, format="extxyz")
    whole = tmp_path / "whole.csv"
    assert main(["predict", "--model", str(folder / "model"), str(trajectory), "--out", str(whole)]) == 0
    reference = whole.read_bytes()
    assert reference.splitlines()[4].split(b",")[:2] == [str(trajectory).encode(), b"3"]
    resumed = tmp_path / "resumed.csv"
    resumed.write_bytes(b"\n".join(reference.splitlines()[:6]) + b"\n")  # the header and frames 0-4
    assert main(["predict", "--model", str(folder / "model"), str(trajectory), "--out", str(resumed),
                 "--resume"]) == 0
    assert resumed.read_bytes() == reference
    shorter = tmp_path / "shorter.extxyz"
    ase_io.write(str(shorter), frames[:3], format="extxyz")
    capsys.readouterr()
    assert main(["predict", "--model", str(folder / "model"), str(shorter), "--out", str(resumed), "--resume"]) == 2
    assert "give the same sources in the same order" in capsys.readouterr().err
    assert resumed.read_bytes() == reference


def _as_atoms(crystal):
    from ase import Atoms

    return Atoms(numbers=crystal.numbers, cell=crystal.lattice, scaled_positions=crystal.positions, pbc=True)


def test_a_dask_worker_reloads_a_model_replaced_at_the_same_path(folder, tmp_path):
    """Workers keep their model between jobs, keyed by the files' sha256: another model at the path is reloaded."""
    import json
    import shutil

    distributed = pytest.importorskip("distributed")
    copy = tmp_path / "model"
    shutil.copytree(folder / "model", copy)
    argv = ["predict", "--model", str(copy), *_files(folder)]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        assert main([*argv, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "a.csv")]) == 1
        normalization = json.loads((copy / "normalization.json").read_text())
        normalization["mean"] = normalization["mean"] + 1.0   # another model, same path
        (copy / "normalization.json").write_text(json.dumps(normalization))
        assert main([*argv, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "b.csv")]) == 1
    assert main([*argv, "--out", str(tmp_path / "one.csv")]) == 1
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "one.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "b.csv").read_bytes()
