"""``crystal-fourier tensor``: the Voigt matrix a group allows; bad kind or group is one line, exit 2."""

from __future__ import annotations

import json

import pytest

from crystal_fourier.cli import main


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cubic_elastic_text(capsys):
    status, out, _ = run(capsys, "tensor", "225", "--kind", "elastic")
    assert status == 0
    assert out.splitlines()[0] == "Fm-3m (No. 225), Hall number 523 [-F 4 2 3], point group m-3m"
    assert "3 independent components: C11, C12, C44" in out


def test_hall_setting_json(capsys):
    status, out, _ = run(capsys, "tensor", "--hall", "459", "--kind", "piezoelectric", "--format", "json")
    doc = json.loads(out)
    assert status == 0
    assert (doc["sg"], doc["hall_number"], doc["dimension"]) == (166, 459, 0)


def test_latex_default_kind_is_elastic(capsys):
    status, out, _ = run(capsys, "tensor", "P6_3mc", "--format", "latex")
    assert status == 0
    assert out.startswith("% P6_3mc (No. 186), Hall number 480")
    assert "elastic: 5 independent" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["tensor", "225", "--kind", "stiffness"], "invalid choice: 'stiffness'"),
    (["tensor", "231"], "1-230"),
    (["tensor", "Xyz"], "Xyz"),
    (["tensor", "Fm-3m", "--hall", "1"], "not of 'Fm-3m'"),
    (["tensor"], "give a GROUP"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors exit; ours return the status
        status = exit_.code
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err
