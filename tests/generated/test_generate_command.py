"""``crystal-fourier generate``: atomic, idempotent, deterministic, with --check and hand-edit detection."""

from __future__ import annotations

import pytest

from crystal_fourier.cli import main
from crystal_fourier.derive._codegen import iter_directory

ARGS = ["generate", "--shell", "box", "--cutoff", "1", "--groups", "1,14,Fm-3m"]


@pytest.fixture
def out(tmp_path):
    assert main([*ARGS, "--out", str(tmp_path)]) == 0
    return tmp_path


def test_writes_the_requested_groups_only(out):
    files = sorted(p.name for p in (out / "box_1").iterdir())
    assert files == ["__init__.py", "sg001.py", "sg014.py", "sg225.py"]  # the index holds only the shell
    assert (out / "box_1" / "sg225.py").read_text() == dict(iter_directory("box", 1, [225]))["sg225.py"]


def test_second_run_leaves_files_untouched(out, capsys):
    path = out / "box_1" / "sg014.py"
    before = path.stat().st_mtime_ns
    capsys.readouterr()
    assert main([*ARGS, "--out", str(out)]) == 0
    assert "0 written, 4 unchanged" in capsys.readouterr().out
    assert path.stat().st_mtime_ns == before
    assert not [p for p in (out / "box_1").iterdir() if p.name.endswith(".tmp")]


def test_render_is_deterministic():
    assert dict(iter_directory("box", 1, [1, 166])) == dict(iter_directory("box", 1, [1, 166]))


def test_check_passes_when_up_to_date(out, capsys):
    assert main([*ARGS, "--out", str(out), "--check"]) == 0
    assert "4 files up to date" in capsys.readouterr().out


def test_check_fails_with_diff_on_missing_file(tmp_path, capsys):
    assert main([*ARGS, "--out", str(tmp_path), "--check"]) == 1
    captured = capsys.readouterr()
    assert "+++ " in captured.out
    assert "/dev/null" in captured.out
    assert "4 of 4 files differ" in captured.err
    assert not (tmp_path / "box_1").exists()  # --check writes nothing


def test_hand_edit_check_write_and_force(out, capsys):
    path = out / "box_1" / "sg014.py"
    original = path.read_text()
    edited = original.replace("    tables = (TERM_ROWS, TERM_PHASES_48, OFFSETS, PARTS)",
                              "    tables = (TERM_ROWS, TERM_PHASES_48, OFFSETS, PARTS.upper())")
    assert edited != original
    path.write_text(edited)
    capsys.readouterr()
    assert main([*ARGS, "--out", str(out), "--check"]) == 1
    captured = capsys.readouterr()
    assert "-    tables = (TERM_ROWS, TERM_PHASES_48, OFFSETS, PARTS.upper())" in captured.out
    assert "+    tables = (TERM_ROWS, TERM_PHASES_48, OFFSETS, PARTS)" in captured.out
    assert "Checksum mismatch!" in captured.err
    assert "--force" in captured.err
    # Writing refuses to overwrite the hand edit (exit 2) and leaves every file as it was.
    assert main([*ARGS, "--out", str(out)]) == 2
    assert "edited by hand" in capsys.readouterr().err
    assert path.read_text() == edited
    assert main([*ARGS, "--out", str(out), "--force"]) == 0
    assert path.read_text() == original


def test_stale_but_unedited_file_is_rewritten(out):
    path = out / "box_1" / "sg001.py"
    path.write_text(dict(iter_directory("box", 1, [1], version="0.0.0"))["sg001.py"])
    assert main([*ARGS, "--out", str(out)]) == 0
    assert path.read_text() == dict(iter_directory("box", 1, [1]))["sg001.py"]


@pytest.mark.parametrize("bad", [["--groups", "231"], ["--groups", "Xyz"], ["--cutoff", "-1"], ["--shell", "sphere"]])
def test_bad_input_exits_2(tmp_path, bad, capsys):
    args = ["generate", "--out", str(tmp_path), *bad]
    try:
        status = main(args)
    except SystemExit as exit_:  # argparse rejects --cutoff -1 and --shell sphere itself
        status = exit_.code
    assert status == 2
    assert "error" in capsys.readouterr().err


def test_check_reports_stray_temporaries_and_unknown_modules(tmp_path, capsys):
    args = ["generate", "--shell", "box", "--cutoff", "0", "--out", str(tmp_path)]
    assert main(args) == 0
    directory = tmp_path / "box_0"
    (directory / ".sg001.py.abcd1234.tmp").write_text("half a file")
    capsys.readouterr()
    assert main([*args, "--check"]) == 1
    assert ".sg001.py.abcd1234.tmp: not written by the generator" in capsys.readouterr().err
    (directory / ".sg001.py.abcd1234.tmp").unlink()
    (directory / "sg231.py").write_text("# left over\n")
    assert main([*args, "--check"]) == 1
    assert "sg231.py: not written by the generator" in capsys.readouterr().err
    (directory / "sg231.py").unlink()
    assert main([*args, "--check"]) == 0


def _interrupted_run(tmp_path, monkeypatch):
    """Run generate for groups 1-5 with the third group's rendering failing; returns the groups rendered."""
    from crystal_fourier import GENERATOR_VERSION
    from crystal_fourier.derive import _codegen as codegen
    from crystal_fourier.derive._codegen import render_group_module as real

    calls = []

    def failing(derived, version=GENERATOR_VERSION):
        calls.append(derived.group.number)
        if len(calls) == 3:
            raise MemoryError("simulated")
        return real(derived, version)

    monkeypatch.setattr(codegen, "render_group_module", failing)
    with pytest.raises(MemoryError):
        main(["--traceback", "generate", "--out", str(tmp_path), "--groups", "1-5", "--shell", "box", "--cutoff", "1"])
    return calls


def test_an_interrupted_generate_leaves_no_partial_directory(tmp_path, monkeypatch):
    # Rendered group by group (the third group was reached), but written as a whole: nothing is left.
    assert _interrupted_run(tmp_path, monkeypatch) == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_interrupted_generate_leaves_the_old_directory_whole(out, monkeypatch):
    before = {p.name: p.read_bytes() for p in (out / "box_1").iterdir()}
    (out / "box_1" / "sg001.py").write_text(dict(iter_directory("box", 1, [1], version="0.0.0"))["sg001.py"])
    stale = (out / "box_1" / "sg001.py").read_bytes()
    _interrupted_run(out, monkeypatch)
    after = {p.name: p.read_bytes() for p in (out / "box_1").iterdir()}
    assert after == {**before, "sg001.py": stale}
    assert sorted(p.name for p in out.iterdir()) == ["box_1"]


def test_a_large_cutoff_is_estimated_and_refused_without_allow_large(tmp_path, capsys):
    assert main(["generate", "--cutoff", "40", "--groups", "225", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "generate --shell ball --cutoff 40 needs about 268," in err
    assert "--allow-large" in err
    assert not list(tmp_path.iterdir())


def test_the_estimate_is_printed(tmp_path, capsys):
    assert main([*ARGS, "--out", str(tmp_path)]) == 0
    assert f"{tmp_path / 'box_1'}: estimated about 27 frequencies x 192 operations" in capsys.readouterr().err
