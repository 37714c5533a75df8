"""generated/tensor_bases.py through ``generate --shipped``: hand edits refused, --check reports a stale file."""

from __future__ import annotations

import pytest

from crystal_fourier.cli import main
from crystal_fourier.derive._tensor_tables import TENSOR_MODULE, render_tensor_module, tensor_table_record


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    out = tmp_path_factory.mktemp("generated")
    assert main(["generate", "--shipped", "--out", str(out)]) == 0
    return out


def test_written_beside_the_sets(shipped):
    assert (shipped / TENSOR_MODULE).read_text() == render_tensor_module()


def test_hand_edit_is_refused_then_forced(shipped, capsys):
    path = shipped / TENSOR_MODULE
    original = path.read_text()
    path.write_text(original.replace('"elastic": 4', '"elastic": 5'))
    assert main(["generate", "--shipped", "--out", str(shipped)]) == 2
    assert "edited by hand" in capsys.readouterr().err
    assert main(["generate", "--shipped", "--out", str(shipped), "--check"]) == 1
    assert "Checksum mismatch" in capsys.readouterr().err
    assert main(["generate", "--shipped", "--out", str(shipped), "--force"]) == 0
    assert path.read_text() == original


def test_check_reports_a_missing_table(shipped, capsys):
    (shipped / TENSOR_MODULE).unlink()
    assert main(["generate", "--shipped", "--out", str(shipped), "--check"]) == 1
    captured = capsys.readouterr()
    assert f"{TENSOR_MODULE} differs from the generator's output" in captured.err
    assert "+BASES = {" in captured.out


def test_record_serves_every_hall_number_from_50_point_groups():
    record = tensor_table_record()
    assert len(record["point_groups"]) == 50
    assert sorted(set(record["point_group_of_hall"])) == list(range(50))
    # R-3m on hexagonal axes (458) and on rhombohedral axes (459): the same point group, other matrices
    assert record["point_group_of_hall"][458 - 1] != record["point_group_of_hall"][459 - 1]
    assert record["bases"]["elastic"][record["point_group_of_hall"][523 - 1]][:2] == [3, 1]
