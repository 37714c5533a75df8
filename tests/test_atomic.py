"""Atomic writes of files and whole directories: killed writers, concurrent writers, stale temporaries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from crystal_fourier import _atomic as atomic
from crystal_fourier._atomic import atomic_write, atomic_write_directory, exclusive_lock, remove_stale_temporaries
from crystal_fourier.errors import CrystalFourierError

KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from crystal_fourier import _atomic as atomic

    target, when = sys.argv[1], sys.argv[2]
    real = atomic._exchange

    def exchange(first, second):
        if when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        done = real(first, second)
        os.kill(os.getpid(), signal.SIGKILL)

    atomic._exchange = exchange
    atomic.atomic_write_directory(target, {"a.txt": "new", "b.txt": "new", "c.txt": "new"})
""")


def _contents(directory):
    """The files of ``directory`` read through one open handle of it, as a reader of a model does."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        contents = {}
        for name in sorted(os.listdir(fd)):
            with open(os.open(name, os.O_RDONLY, dir_fd=fd)) as handle:
                contents[name] = handle.read()
        return contents
    finally:
        os.close(fd)


@pytest.mark.parametrize(("when", "expected"), [("before", "old"), ("after", "new")])
def test_a_writer_killed_at_the_rename_leaves_one_whole_directory(tmp_path, when, expected):
    target = tmp_path / "model"
    atomic_write_directory(target, {"a.txt": "old", "b.txt": "old"})
    run = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target), when], capture_output=True, timeout=60,
                         check=False)
    assert run.returncode == -signal.SIGKILL
    names = ["a.txt", "b.txt"] + (["c.txt"] if expected == "new" else [])
    assert _contents(target) == {name: expected for name in names}
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "model")
    assert len(leftovers) == 1
    assert leftovers[0].startswith(".model.")
    assert leftovers[0].endswith(".tmp")
    # the next writer removes what the killed one left (no lock held, old enough)
    os.utime(tmp_path / leftovers[0], (time.time() - 60, time.time() - 60))
    atomic_write_directory(target, {"a.txt": "third"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert _contents(target) == {"a.txt": "third"}


CONCURRENT_WRITER = textwrap.dedent("""
    import sys
    from crystal_fourier._atomic import atomic_write_directory

    target, label = sys.argv[1], sys.argv[2]
    for i in range(40):
        value = f"{label}{i}"
        atomic_write_directory(target, {name: value for name in ("config.json", "weights.pt", "normalization.json")})
""")


def test_concurrent_directory_writers_never_mix_files(tmp_path):
    target = tmp_path / "model"
    atomic_write_directory(target, {name: "start" for name in ("config.json", "weights.pt", "normalization.json")})
    writers = [subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(target), label]) for label in "AB"]
    seen = set()
    while any(w.poll() is None for w in writers):
        try:
            values = set(_contents(target).values())
        except FileNotFoundError:  # the directory we opened was swapped out and removed: never a mixture
            continue
        assert len(values) <= 1, values  # empty: an old directory being removed
        seen |= values
    assert [w.returncode for w in writers] == [0, 0]
    final = _contents(target)
    assert len(set(final.values())) == 1
    assert set(final.values()) <= {"A39", "B39"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert len(seen) > 1


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    with exclusive_lock(tmp_path / "out.csv"):
        with pytest.raises(CrystalFourierError, match="another process is writing"):
            with exclusive_lock(tmp_path / "out.csv"):
                pass
    with exclusive_lock(tmp_path / "out.csv"):  # released again
        pass


def test_stale_temporary_files_are_removed_but_live_ones_are_kept(tmp_path):
    target = tmp_path / "data.csv"
    stale = tmp_path / ".data.csv.abc123.tmp"
    stale.write_text("half a file")
    live = tmp_path / ".data.csv.def456.tmp"
    live.write_text("being written")
    old = time.time() - 60
    for path in (stale, live):
        os.utime(path, (old, old))
    import fcntl

    with open(live) as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        assert remove_stale_temporaries(target) == [stale]
    assert live.exists()
    assert not stale.exists()
    atomic_write(target, "x\n")  # the lock is released now: the next write removes that one too
    assert target.read_text() == "x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_json_is_strict():
    with pytest.raises(CrystalFourierError, match="non-finite"):
        atomic.json_text({"mae": float("inf")})
    assert atomic.json_text(atomic.json_safe({"mae": float("nan")})) == '{\n  "mae": null\n}\n'


def test_without_an_atomic_exchange_the_directory_is_still_replaced_whole(tmp_path, monkeypatch):
    target = tmp_path / "model"
    atomic_write_directory(target, {"a.txt": "old", "b.txt": "old", "pretrained": "kept"})
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)  # e.g. not Linux
    atomic_write_directory(target, {"a.txt": "new"}, keep=("pretrained",))
    assert _contents(target) == {"a.txt": "new", "pretrained": "kept"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_second_trainer_of_the_same_directory_is_refused(tmp_path):
    # fit takes this lock on its model directory: while another process holds it, training is refused.
    from crystal_fourier.runtime import TrainConfig, fit

    out = tmp_path / "model"
    out.mkdir()
    with exclusive_lock(out, "training into"):
        with pytest.raises(CrystalFourierError, match="another process is training into"):
            fit([], TrainConfig(progress=False), out)


class _FullDisk:
    """A file object whose writes fail as on a full disk (the OSError names no file, as write(2)'s does)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()

    def write(self, data):
        import errno

        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self):
        pass


def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    import errno

    real = os.fdopen
    monkeypatch.setattr(atomic.os, "fdopen", lambda fd, mode: _FullDisk(real(fd, mode)))
    target = tmp_path / "out.csv"
    with pytest.raises(OSError, match="No space left on device") as caught:
        atomic_write(target, "x")
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(target)
    assert os.listdir(tmp_path) == []  # the temporary is gone, nothing half-written


def test_a_full_disk_names_the_file_of_a_directory_being_written(tmp_path, monkeypatch):
    import errno
    import pathlib

    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pathlib.Path, "write_bytes", full)
    target = tmp_path / "model"
    with pytest.raises(OSError, match="No space left on device") as caught:
        atomic_write_directory(target, {"weights.pt": b"x"})
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == str(target / "weights.pt")
    assert os.listdir(tmp_path) == []
