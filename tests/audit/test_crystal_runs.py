"""``audit --workers/--scheduler/--resume``: the same report.json however the crystals run, and a stopped audit
finished by --resume with the report (and reproducers) of a whole run."""

from __future__ import annotations

import json
import textwrap

import pytest

from crystal_fourier import _engine
from crystal_fourier.audit import _crystal_runs
from crystal_fourier.cli import main
from crystal_fourier.errors import WorkerLost

EXIT_WORKER_LOST = 4
EMT = ["--model", "ase:EMT", "--random", "4", "--groups", "221,225,229,194", "--kinds", "translation,rotation,group",
       "--per-kind", "1"]
BROKEN = textwrap.dedent('''
    import numpy as np

    def signed_volume(crystal):
        """Energy with a term in the signed cell volume: flips with a left-handed basis."""
        return {"energy": 1e-3 * float(np.linalg.det(crystal.lattice)) - 0.1 * crystal.n_atoms}
''')


def _report(out) -> dict:
    """report.json without its two timings (wall and model seconds differ from run to run)."""
    data = json.loads((out / "report.json").read_text())
    assert data.pop("seconds") >= 0
    assert data.pop("model_seconds") >= 0
    return data


@pytest.fixture
def broken(tmp_path, monkeypatch):
    (tmp_path / "broken_runs.py").write_text(BROKEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    return ["--model", "broken_runs:signed_volume", "--random", "3", "--groups", "2,14,225", "--kinds",
            "rotation,unimodular", "--per-kind", "2"]


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "one"
    assert main(["audit", *EMT, "--out", str(out)]) == 0
    return out


@pytest.mark.sweep  # two worker processes, each importing the package and ASE: 10-20 s on the shared machine
def test_two_workers_write_the_same_report(one_worker, tmp_path):
    out = tmp_path / "two"
    assert main(["audit", *EMT, "--workers", "2", "--out", str(out)]) == 0
    assert _report(out) == _report(one_worker)


def test_a_dask_local_cluster_writes_the_same_report(one_worker, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        assert main(["audit", *EMT, "--scheduler", cluster.scheduler_address, "--out", str(out)]) == 0
    assert _report(out) == _report(one_worker)
    assert _report(out)["checks"] == 36  # 4 crystals x 3 kinds x 3 quantities


def test_resume_after_a_lost_worker_gives_the_report_and_reproducers_of_a_whole_run(tmp_path, broken, monkeypatch,
                                                                                  capsys):
    whole = tmp_path / "whole"
    assert main(["audit", *broken, "--out", str(whole)]) == 1
    real = _crystal_runs.audit_crystal

    def dying(models, settings, item):
        if item[0] == 2:
            raise WorkerLost("a worker process died (killed) during chunk 3; run again with --resume to finish")
        return real(models, settings, item)

    monkeypatch.setattr(_crystal_runs, "audit_crystal", dying)
    out = tmp_path / "stopped"
    assert main(["audit", *broken, "--out", str(out)]) == EXIT_WORKER_LOST
    assert "--resume" in capsys.readouterr().err
    assert len((out / "checks.jsonl").read_text().splitlines()) == 3  # the header and crystals 0 and 1
    assert not (out / "report.json").exists()
    monkeypatch.setattr(_crystal_runs, "audit_crystal", real)
    with (out / "checks.jsonl").open("a") as stream:
        stream.write('{"index": 2, "crys')  # and a torn line, as a kill in the middle of a write leaves
    assert main(["audit", *broken, "--out", str(out), "--resume"]) == 1
    assert _report(out) == _report(whole)
    assert _report(out)["failing_kinds"] == ["unimodular"]
    scripts = sorted(path.name for path in (whole / "reproducers").iterdir())
    assert scripts
    assert sorted(path.name for path in (out / "reproducers").iterdir()) == scripts
    for name in scripts:
        assert (out / "reproducers" / name).read_text() == (whole / "reproducers" / name).read_text()


def test_resume_refuses_a_journal_of_other_options(tmp_path, broken, capsys):
    out = tmp_path / "report"
    assert main(["audit", *broken, "--out", str(out)]) == 1
    journal = (out / "checks.jsonl").read_bytes()
    capsys.readouterr()
    assert main(["audit", *broken, "--seed", "1", "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err
    assert '"seed": 1' in err
    assert len(err.strip().splitlines()) == 1
    assert (out / "checks.jsonl").read_bytes() == journal


@pytest.mark.parametrize(("options", "message"), [
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "not both"),
    (["--scheduler", "tcp://127.0.0.1:9"], "cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 0.5 s"),
    (["--scheduler", "tcp://127.0.0.1:9", "--timeout", "5"], "--timeout needs the main thread")])
def test_bad_engine_options_are_one_line_exit_2_and_write_nothing(tmp_path, monkeypatch, capsys, options, message):
    monkeypatch.setattr(_engine, "CONNECT_SECONDS", 0.5)
    out = tmp_path / "report"
    assert main(["audit", *EMT, *options, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
