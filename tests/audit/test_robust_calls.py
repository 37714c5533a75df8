"""Model calls that raise, hang, need grad or are ASE classes: captured, named, and the report still written."""

from __future__ import annotations

import json
import textwrap
import time

import numpy as np
import pytest

from crystal_fourier.audit import as_model, audit, model_from_spec
from crystal_fourier.audit._adapters import ASEModel
from crystal_fourier.audit._calls import ModelError
from crystal_fourier.cli import main
from crystal_fourier.runtime import Crystal

CU = Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], ["Cu"] * 4)

MODELS = textwrap.dedent('''
    import time

    import numpy as np
    from ase.calculators.emt import EMT

    CREATED = []

    def small_only(crystal):
        """Raises on more than 4 atoms (every supercell of CU)."""
        if crystal.n_atoms > 4:
            raise RuntimeError(f"neighbour list overflow at {crystal.n_atoms} atoms")
        return -0.1 * crystal.n_atoms

    def slow_supercells(crystal):
        if crystal.n_atoms > 4:
            time.sleep(5)
        return -0.1 * crystal.n_atoms

    class CountedEMT(EMT):
        def __init__(self):
            CREATED.append(1)
            super().__init__()
''')


@pytest.fixture
def models(tmp_path, monkeypatch):
    (tmp_path / "audit_models.py").write_text(MODELS)
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    import sys

    sys.modules.pop("audit_models", None)
    return importlib.import_module("audit_models")


def test_a_raising_call_is_named_and_the_other_checks_kept(models):
    report = audit(models.small_only, [CU], kinds="rotation,supercell", per_kind=2)
    assert [c.kind for c in report.checks] == ["rotation", "rotation"]
    assert len(report.errors) == 2
    assert all(e.kind == "supercell" and e.label.startswith("supercell ") for e in report.errors)
    for error in report.errors:   # the label's repeats give the atom count the model saw
        repeats = [int(x) for x in error.label.removeprefix("supercell ").split("x")]
        assert error.message == f"RuntimeError: neighbour list overflow at {4 * int(np.prod(repeats))} atoms"


def test_a_raising_crystal_as_given_skips_its_redescriptions(models):
    big = CU.supercell((2, 1, 1)) if hasattr(CU, "supercell") else Crystal(
        np.diag([7.2, 3.6, 3.6]), np.vstack([CU.positions * [.5, 1, 1], CU.positions * [.5, 1, 1] + [.5, 0, 0]]),
        np.concatenate([CU.numbers, CU.numbers]))
    report = audit(models.small_only, [CU, big], names=["cu", "big"], kinds="rotation", per_kind=1)
    assert [c.crystal for c in report.checks] == ["cu"]
    assert report.errors == (ModelError("big", "original", "as given",
                                        "RuntimeError: neighbour list overflow at 8 atoms"),)


def test_the_command_exits_3_names_the_call_and_writes_the_report(tmp_path, models, capsys):
    out = tmp_path / "report"
    status = main(["audit", "--model", "audit_models:small_only", "--structures", _cif(tmp_path),
                   "--kinds", "rotation,supercell", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 3
    assert "Traceback" not in captured.err
    [line] = [x for x in captured.err.splitlines() if "raised or timed out" in x]
    assert "on 2 calls; first: " in line
    assert "supercell 'supercell " in line
    assert "overflow at " in line
    data = json.loads((out / "report.json").read_text())
    assert data["checks"] == 2
    assert len(data["model_errors"]) == 2
    assert "RuntimeError: neighbour list overflow" in (out / "report.md").read_text()


def test_a_call_past_the_timeout_is_a_model_error(models):
    start = time.perf_counter()
    report = audit(models.slow_supercells, [CU], kinds="rotation,supercell", per_kind=1, timeout=0.2)
    assert time.perf_counter() - start < 3.0
    assert [(e.kind, e.message) for e in report.errors] == [("supercell", "timed out after 0.2 s")]
    assert [c.kind for c in report.checks] == ["rotation"]


def test_an_ase_calculator_class_spec_is_instantiated_once(models):
    adapter = model_from_spec("audit_models:CountedEMT")
    assert isinstance(adapter, ASEModel)
    report = audit(adapter, [CU], kinds="rotation,supercell", per_kind=2)
    assert report.ok
    assert len(report.checks) == 12
    assert len(models.CREATED) == 1
    assert model_from_spec("ase.calculators.emt:EMT").name == "EMT"


def test_an_ase_instance_is_reused_not_copied(models):
    calculator = models.CountedEMT()
    calls = []
    original = calculator.calculate
    calculator.calculate = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    adapter = as_model(calculator)
    assert adapter.calculator is calculator
    report = audit(adapter, [CU], kinds="rotation,supercell", per_kind=2)
    assert report.ok
    assert len(models.CREATED) == 1
    assert len(calls) == 5


def test_outputs_that_require_grad_are_detached():
    torch = pytest.importorskip("torch")
    weight = torch.tensor(-0.1, dtype=torch.float64, requires_grad=True)

    def model(crystal):
        positions = torch.tensor(crystal.cartesian_positions if hasattr(crystal, "cartesian_positions")
                                 else crystal.positions @ crystal.lattice, requires_grad=True)
        energy = weight * crystal.n_atoms + 0.0 * positions.sum()
        return {"energy": energy, "forces": torch.zeros_like(positions) * weight}

    report = audit(model, [CU], kinds="permutation,supercell", per_kind=1)
    assert report.ok
    assert not report.errors
    assert len(report.checks) == 4


def _cif(tmp_path) -> str:
    path = tmp_path / "cu.cif"
    path.write_text(textwrap.dedent("""
        data_cu
        _cell_length_a 3.6
        _cell_length_b 3.6
        _cell_length_c 3.6
        _cell_angle_alpha 90
        _cell_angle_beta 90
        _cell_angle_gamma 90
        _symmetry_space_group_name_H-M 'P 1'
        loop_
        _atom_site_label
        _atom_site_type_symbol
        _atom_site_fract_x
        _atom_site_fract_y
        _atom_site_fract_z
        Cu1 Cu 0 0 0
        Cu2 Cu 0 0.5 0.5
        Cu3 Cu 0.5 0 0.5
        Cu4 Cu 0.5 0.5 0
    """))
    return str(path)


def test_the_command_takes_an_ase_class_spec_and_a_class_that_cannot_start_is_bad_input(tmp_path, models, capsys):
    ok = main(["audit", "--model", "ase.calculators.emt:EMT", "--structures", _cif(tmp_path),
               "--kinds", "rotation,derivatives", "--per-kind", "1", "--out", str(tmp_path / "ok")])
    assert ok == 0
    (tmp_path / "failing_start.py").write_text(
        "from ase.calculators.emt import EMT\n\nclass Broken(EMT):\n    def __init__(self):\n"
        "        raise OSError('no weights file')\n")
    bad = main(["audit", "--model", "failing_start:Broken", "--structures", _cif(tmp_path), "--out",
                str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert bad == 2
    assert "cannot create the ASE calculator Broken: OSError: no weights file" in err
    assert not (tmp_path / "bad").exists()
