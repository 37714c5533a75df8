"""``crystal-fourier audit``: report files, exit 1 naming the failing kinds, exit 2 on bad input."""

from __future__ import annotations

import json
import textwrap

import pytest

from crystal_fourier.cli import main

BROKEN = textwrap.dedent('''
    import numpy as np

    def signed_volume(crystal):
        """Energy with a term in the signed cell volume: flips with a left-handed basis."""
        return {"energy": 1e-3 * float(np.linalg.det(crystal.lattice)) - 0.1 * crystal.n_atoms}

    def per_atom(crystal):
        return -0.1
''')


@pytest.fixture
def broken_module(tmp_path, monkeypatch):
    (tmp_path / "broken_models.py").write_text(BROKEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "broken_models"


def test_a_broken_callable_exits_1_naming_the_kind(tmp_path, broken_module, capsys):
    out = tmp_path / "report"
    status = main(["audit", "--model", f"{broken_module}:signed_volume", "--random", "2", "--groups", "2,225",
                   "--kinds", "rotation,unimodular", "--out", str(out)])
    assert status == 1
    captured = capsys.readouterr()
    assert "breaks its claim" in captured.err
    assert "kinds unimodular;" in captured.err
    assert "| unimodular | energy |" in captured.out
    data = json.loads((out / "report.json").read_text())
    assert data["failing_kinds"] == ["unimodular"]
    assert list((out / "reproducers").glob("*_unimodular_energy.py"))


def test_emt_passes_and_structures_are_read(tmp_path, capsys):
    pytest.importorskip("ase")
    cif = tmp_path / "nacl.cif"
    cif.write_text(textwrap.dedent("""
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
        Au1 Au 0.5 0.5 0
        """))
    status = main(["audit", "--model", "ase:EMT", "--structures", str(cif), "--kinds", "group,supercell,reflection",
                   "--out", str(tmp_path / "out")])
    assert status == 0
    assert "all within tolerance" in capsys.readouterr().out


@pytest.mark.parametrize(("arguments", "message"), [
    (["--model", "ase:NoSuchCalculator", "--random", "1"], "no ASE calculator"),
    (["--model", "no_such_module:f", "--random", "1"], "cannot import"),
    (["--model", "ase:EMT", "--random", "1", "--kinds", "shear"], "unknown kind"),
    (["--model", "ase:EMT"], "nothing to audit"),
    (["--model", "ase:EMT", "--random", "1", "--groups", "231"], "231"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, arguments, message):
    status = main(["audit", *arguments, "--out", str(tmp_path / "out")])
    assert status == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_max_atoms_refuses_large_inputs(tmp_path, capsys):
    from crystal_fourier.runtime import random_crystal, write_cif

    path = tmp_path / "big.cif"
    path.write_text(write_cif(random_crystal(225, seed=1).crystal))
    status = main(["audit", "--model", "ase:EMT", "--structures", str(path), "--max-atoms", "8",
                   "--out", str(tmp_path / "out")])
    assert status == 2
    assert "more than --max-atoms 8" in capsys.readouterr().err


def test_a_saved_model_directory_is_audited(tmp_path, capsys):
    """A model saved by `train` (2 epochs on the tiny set): its target is intensive, and it claims E3
    (mirror images standardize to one description; see test_audit.CFT_CLAIM)."""
    from crystal_fourier.runtime import fit

    from ..runtime.learning.test_training import tiny_config, tiny_samples

    model = tmp_path / "model"
    fit(tiny_samples(), tiny_config(epochs=2), model)
    status = main(["audit", "--model", str(model), "--random", "2", "--groups", "14,166", "--energy", "intensive",
                   "--claim", "E3", "--kinds", "permutation,rotation,reflection,supercell,unimodular,group",
                   "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "Audit of **saved model model** (float32)" in out
    assert "| supercell | energy | 4 |" in out   # 2 crystals x 2 draws


def test_a_saved_model_reruns_in_float64(tmp_path):
    """The float64 twin of a saved model gives the float32 predictions to float32 round-off."""
    import numpy as np

    from crystal_fourier.audit import SavedModel
    from crystal_fourier.runtime import random_crystal, fit

    from ..runtime.learning.test_training import tiny_config, tiny_samples

    model = tmp_path / "model"
    fit(tiny_samples(), tiny_config(epochs=1), model)
    adapter = SavedModel(model)
    twin = adapter.in_float64()
    crystals = [random_crystal(n, seed=n, max_atoms=8).crystal for n in (2, 166)]
    single = np.array([o["energy"] for o in adapter.evaluate_many(crystals)])
    double = np.array([o["energy"] for o in twin.evaluate_many(crystals)])
    assert (adapter.dtype, twin.dtype) == (np.float32, np.float64)
    np.testing.assert_allclose(double, single, rtol=1e-4, atol=1e-5)
    assert not np.array_equal(double, single)   # really another precision


def test_structures_of_a_trajectory_are_named_by_frame_and_a_corrupt_frame_is_bad_input(tmp_path, capsys):
    """Issue 26/29: --structures reads every frame; an unreadable frame is bad input (exit 2, one line, nothing
    written) that names the frame and counts the others."""
    import json

    ase_io = pytest.importorskip("ase.io")
    from ase.build import bulk

    path = tmp_path / "t.extxyz"
    ase_io.write(path, [bulk("Cu", "fcc", a=3.6), bulk("Au", "fcc", a=4.08)], format="extxyz")
    status = main(["audit", "--model", "ase:EMT", "--structures", str(path), "--kinds", "permutation",
                   "--out", str(tmp_path / "out")])
    assert status == 0
    assert json.loads((tmp_path / "out" / "report.json").read_text())["crystals"] == 2
    assert f"{path}, frame " in (tmp_path / "out" / "report.md").read_text()   # the worst case, named by frame
    lines = path.read_text().splitlines()
    broken = tmp_path / "broken.extxyz"
    broken.write_text("\n".join([lines[0], lines[1], "Cu 0 zero 0", *lines[3:]]) + "\n")
    capsys.readouterr()
    status = main(["audit", "--model", "ase:EMT", "--structures", str(broken), str(tmp_path / "none.cif"),
                   "--kinds", "permutation", "--out", str(tmp_path / "out2")])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"{broken}, frame 0 (line 1): atom line 1: position is not numeric" in err[0]
    assert err[0].endswith("(and 1 more unreadable structures)")
    assert not (tmp_path / "out2").exists()
