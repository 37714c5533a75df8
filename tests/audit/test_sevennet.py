"""SevenNet (the optional extra ``sevenn``; its wheel ships the weights): the adapter declares its parity.

Skipped where SevenNet is not installed (``pip install 'crystal-fourier[sevenn]'``).
"""

from __future__ import annotations

import pytest

from crystal_fourier.audit import Claim, audit, model_from_spec
from crystal_fourier.runtime import random_crystal

pytest.importorskip("sevenn")
pytestmark = pytest.mark.sweep   # loading SevenNet-0 takes about 9 s


@pytest.fixture(scope="module")
def sevennet():
    return model_from_spec("sevennet")


def test_sevennet_0_declares_no_parity(sevennet):
    assert sevennet.spec == "sevennet"
    assert sevennet.parity is False
    assert sevennet.symmetry == "SE3"
    assert "without parity" in sevennet.note
    assert str(sevennet.dtype) == "float32"
    out = sevennet(random_crystal(225, seed=0, max_atoms=4).crystal)
    assert sorted(out) == ["energy", "forces", "stress"]


@pytest.mark.sweep
def test_sevennet_0_passes_se3_and_fails_reflections(sevennet):
    """The issue's measurement: under E3 its mirror images get another energy (chiral P2_12_12_1)."""
    crystal = random_crystal(19, seed=19, max_atoms=8).crystal
    se3 = audit(sevennet, [crystal], kinds="rotation,reflection,permutation", per_kind=1, claim=Claim(symmetry="SE3"))
    se3.assert_ok()
    e3 = audit(sevennet, [crystal], kinds="reflection", per_kind=2, claim=Claim(symmetry="E3"))
    assert e3.failing_kinds == ("reflection",)


def test_the_command_defaults_to_the_declared_claim(tmp_path, capsys):
    from crystal_fourier.cli import main

    status = main(["audit", "--model", "sevennet", "--random", "1", "--groups", "2", "--max-atoms", "4",
                   "--kinds", "rotation", "--per-kind", "1", "--out", str(tmp_path / "out")])
    assert status == 0
    assert "claim SE3 by default" in capsys.readouterr().err
    import json

    assert json.loads((tmp_path / "out" / "report.json").read_text())["claim"].startswith("SE3")
