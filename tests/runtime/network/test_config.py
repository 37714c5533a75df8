"""The configuration module's CutoffSpec: the one check of (shell, cutoff), made once per encoder, one default."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

from crystal_fourier.derive import DEFAULT_CUTOFF
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import RoutingEncoder, SpaceGroupEncoding, invariant_basis
from crystal_fourier.runtime.network._routing_tables import slot_frequencies
from crystal_fourier.runtime.network import _config
from crystal_fourier.runtime.network._config import ENCODING_CUTOFF, MAX_CUTOFF, CutoffSpec, ModelConfig

NETWORK = Path(__file__).resolve().parents[3] / "runtime" / "network"


def test_a_spec_normalises_numpy_integers_so_equal_sets_are_equal():
    spec = CutoffSpec("box", np.int64(3))
    assert (spec.cutoff, type(spec.cutoff)) == (3, int)
    assert spec == CutoffSpec("box", 3)
    assert hash(spec) == hash(CutoffSpec("box", 3))
    assert spec != CutoffSpec("ball", 3)


@pytest.mark.parametrize(("shell", "cutoff", "message"), [
    ("sphere", 2, "unknown shell 'sphere': expected one of ball, box"),
    ("ball", -1, "cutoff must be an integer >= 0, got -1"),
    ("ball", 2.0, "cutoff must be an integer >= 0, got 2.0"),
])
def test_the_spec_and_a_model_config_say_what_the_one_check_says(shell, cutoff, message):
    with pytest.raises(CrystalFourierError, match=f"^{message}$"):
        CutoffSpec(shell, cutoff)
    with pytest.raises(CrystalFourierError, match=f"^{message}$"):
        ModelConfig(shell=shell, cutoff=cutoff)


def test_a_model_keeps_its_own_bound_and_a_json_integer():
    with pytest.raises(CrystalFourierError, match=f"model cutoff must be an integer in 0-{MAX_CUTOFF}, got 17"):
        ModelConfig(cutoff=17)
    with pytest.raises(CrystalFourierError, match="model cutoff must be an integer"):
        ModelConfig(cutoff=np.int64(5))       # config.json holds plain integers
    assert ModelConfig(cutoff=5, shell="box").cutoff_spec == CutoffSpec("box", 5)


def test_one_default_per_role():
    # The encoder's default, written once (ENCODING_CUTOFF), and the derivation's (derive.DEFAULT_CUTOFF).
    assert ENCODING_CUTOFF == 6
    assert DEFAULT_CUTOFF == 5
    assert CutoffSpec() == CutoffSpec("ball", ENCODING_CUTOFF) == ModelConfig().cutoff_spec
    assert inspect.signature(RoutingEncoder).parameters["cutoff"].default == ENCODING_CUTOFF
    assert inspect.signature(SpaceGroupEncoding).parameters["cutoff"].default == ENCODING_CUTOFF
    assert inspect.signature(slot_frequencies).parameters["spec"].default == CutoffSpec()
    assert inspect.signature(invariant_basis).parameters["cutoff"].default == DEFAULT_CUTOFF


def test_building_an_encoder_checks_shell_and_cutoff_once(monkeypatch):
    calls = []
    check = _config.check_shell_cutoff

    def counting(shell, cutoff):
        calls.append((shell, cutoff))
        return check(shell, cutoff)

    monkeypatch.setattr(_config, "check_shell_cutoff", counting)
    encoder = RoutingEncoder(4, cutoff=2, shell="box")
    encoder.table(523)
    encoder.table(488)
    assert calls == [("box", 2)]
    assert encoder.spec == CutoffSpec("box", 2)
    assert (encoder.shell, encoder.cutoff) == ("box", 2)


def test_no_network_module_but_the_config_checks_shell_and_cutoff():
    callers = []
    for path in sorted(NETWORK.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name) and node.id == "check_shell_cutoff":
                callers.append(path.name)
    assert set(callers) == {"_config.py"}


def test_the_table_functions_take_a_spec_and_refuse_anything_else():
    assert len(slot_frequencies(CutoffSpec("box", 2))) == 124
    with pytest.raises(CrystalFourierError, match=r"expected a CutoffSpec\(shell, cutoff\), got 'ball'"):
        slot_frequencies("ball")
