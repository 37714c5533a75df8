"""Every input or environment error the user can fix is one line and exit status 2; --traceback shows it in full."""

from __future__ import annotations

import pytest

from crystal_fourier.cli import main


def _one_line_error(capsys, argv, status=2):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse errors exit through SystemExit(2)
        code = exit_.code
    err = capsys.readouterr().err
    assert code == status, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(("argv", "message"), [
    (["summary", "--groups", "1-2-3"], "group range '1-2-3' must be LOW-HIGH"),
    (["dataset", "make", "--seed", "-5", "--size", "1", "--out", "x.csv"], "a seed must be an integer in 0"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--lr", "-1"], "--lr: expected a number > 0"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--lr", "nan"], "--lr: expected a finite number"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--layers", "0"], "expected a positive integer"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--dropout", "1"], "expected a number in [0, 1)"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--layers", "100000"],
     "n_layers must be an integer in 1-64"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--model", "sinusoidal", "--pair-bias-radius", "2"],
     "--pair-bias-radius needs the CFT's invariant encoding; --model is sinusoidal"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--pair-bias-radius", "0"],
     "expected a positive integer"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--pair-bias-radius", "17"],
     "pair_bias_radius must be null or an integer in 1-16"),
    # --epochs and --batch-size: one range check, TrainConfig's (the same line as from the Python API)
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--epochs", "0"],
     "epochs must be an integer in 1-1000000, got 0"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--batch-size", "-3"],
     "batch size must be an integer in 1-1000000, got -3"),
    (["train", "--data", "d.csv", "--target", "y", "--out", "m", "--epochs", "x"], "expected an integer, got 'x'"),
    (["predict", "--model", "m", "--device", "xpu", "x.cif"], "device 'xpu' is not supported"),
    (["graph", "225", "--format", "svg", "--out", "g.png"], "does not match --format svg"),
    (["plot", "225", "--function", "0", "--out", "p.png", "--resolution", "0"], "expected a positive integer, got 0"),
    (["plot", "225", "--function", "-1", "--out", "p.png"], "expected an index >= 0"),
])
def test_bad_arguments(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("material_id,cif,y\n")
    assert message in _one_line_error(capsys, argv)


def test_output_paths_that_are_directories_or_below_files(capsys, tmp_path):
    (tmp_path / "afile").write_text("x")
    err = _one_line_error(capsys, ["dataset", "make", "--size", "1", "--species", "Cu", "--out", str(tmp_path)])
    assert "is a directory" in err
    err = _one_line_error(capsys, ["dataset", "make", "--size", "1", "--species", "Cu",
                                   "--out", str(tmp_path / "afile" / "x.csv")])
    assert str(tmp_path / "afile") in err
    err = _one_line_error(capsys, ["report", "225", "--cutoff", "1", "--out", str(tmp_path / "afile" / "r.html")])
    assert str(tmp_path / "afile") in err
    assert "not a directory" in err or "file exists" in err
    err = _one_line_error(capsys, ["evaluate", "--model", str(tmp_path / "afile"), "--data", "x.csv"])
    assert "not a saved model" in err


def test_an_operating_system_error_names_the_path(capsys, monkeypatch):
    from crystal_fourier._commands import summary

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/read-only/out.csv")

    monkeypatch.setattr(summary, "rows", refuse)
    err = _one_line_error(capsys, ["summary", "--groups", "1"])
    assert err.strip() == "crystal-fourier summary: error: /read-only/out.csv: permission denied"
    with pytest.raises(PermissionError):
        main(["--traceback", "summary", "--groups", "1"])


def test_traceback_shows_the_error_in_full():
    from crystal_fourier.errors import CrystalFourierError

    with pytest.raises(CrystalFourierError, match="LOW-HIGH"):
        main(["--traceback", "summary", "--groups", "1-2-3"])


@pytest.mark.parametrize(("argv", "message"), [
    (["summary", "--cutoff", "40"], "a summary of 230 group(s) at ball cutoff 40 needs about"),
    (["basis", "225", "--cutoff", "1000"], "192 operations"),
    (["basis", "P1", "--cutoff", "60"], "x 1 operations"),
    (["graph", "225", "--cutoff", "100"], "--allow-large"),
    (["dataset", "make", "--size", "1000000000", "--out", "x.csv"], "GiB of memory"),
    (["dataset", "make", "--size", "1", "--out", "x.csv", "--workers", "100000"], "worker processes"),
])
def test_runaway_work_is_refused_before_it_starts(capsys, tmp_path, monkeypatch, argv, message):
    import time

    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    assert message in _one_line_error(capsys, argv)
    assert time.perf_counter() - start < 10
    assert not (tmp_path / "x.csv.partial").exists()


@pytest.mark.parametrize("argv", [
    ["verify", "--groups", "1", "--cutoff", "1", "--out", "{ro}/certificates"],
    ["dataset", "make", "--size", "1", "--species", "Cu", "--max-atoms", "4", "--no-progress", "--out", "{ro}/x.csv"],
    ["graph", "225", "--cutoff", "1", "--format", "svg", "--out", "{ro}/g.svg"],
])
def test_a_read_only_output_directory_is_one_line(tmp_path, argv):
    import os
    import shutil
    import subprocess
    import sys

    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o555)
    prefix = []
    if os.geteuid() == 0:  # root writes anywhere: drop the capability that lets it
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv")
        prefix = ["setpriv", "--bounding-set", "-dac_override", "--inh-caps", "-dac_override"]
    try:
        command = [*prefix, sys.executable, "-m", "crystal_fourier", *[a.format(ro=read_only) for a in argv]]
        process = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                 env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False)
    finally:
        read_only.chmod(0o755)
    assert process.returncode == 2, process.stderr
    assert len(process.stderr.strip().splitlines()) == 1
    assert "Traceback" not in process.stderr
    assert f"{read_only}" in process.stderr or "ro/" in process.stderr or "ro:" in process.stderr
    assert "permission denied" in process.stderr
    assert os.listdir(read_only) == []
