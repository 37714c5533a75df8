"""Actionable verdicts: the declared dtype sets the tolerance, report.md shows error / tolerance and the
failing case, the exit line names the worst kind; sampling per kind; reproducers with their own tolerance."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from crystal_fourier.audit import Claim, as_model, audit, markdown_table
from crystal_fourier.audit._adapters import torch_dtype
from crystal_fourier.cli import main
from crystal_fourier.runtime import Crystal

CU = Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], ["Cu"] * 4)

BROKEN = textwrap.dedent('''
    import numpy as np

    def signed_volume(crystal):
        """-1 eV per atom plus 1e-3 x the signed cell volume: flips with a left-handed basis."""
        return {"energy": 1e-3 * float(np.linalg.det(crystal.lattice)) - 1.0 * crystal.n_atoms}

    def wobbly(crystal):
        """Energy off by 1e-6 eV per atom in a permuted order: float32 noise, a float64 failure."""
        return {"energy": -1.0 * crystal.n_atoms + 1e-6 * float(crystal.positions[0, 0])}
''')


@pytest.fixture
def broken(tmp_path, monkeypatch):
    (tmp_path / "verdict_models.py").write_text(BROKEN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    import importlib

    sys.modules.pop("verdict_models", None)
    return importlib.import_module("verdict_models")


def test_the_declared_dtype_sets_the_tolerance(broken):
    strict = audit(broken.wobbly, [CU], kinds="permutation,translation", per_kind=2)
    loose = audit(broken.wobbly, [CU], kinds="permutation,translation", per_kind=2, dtype="float32")
    assert strict.dtype == "float64"
    assert loose.dtype == "float32"
    assert {c.tolerance for c in strict.checks} == {1e-9 * 4.0}   # scale max(1, |E|) = 4 eV
    assert {c.tolerance for c in loose.checks} == {1e-4 * 4.0}
    assert not strict.ok
    assert loose.ok


def test_auto_reads_the_dtype_of_torch_parameters():
    torch = pytest.importorskip("torch")

    class Scale(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.tensor(-1.0))

        def forward(self, crystal):
            return self.weight * crystal.n_atoms

    assert torch_dtype(Scale()) == np.float32
    assert as_model(Scale()).dtype == np.float32
    assert as_model(Scale().double()).dtype == np.float64
    report = audit(Scale(), [CU], kinds="supercell", per_kind=1)
    assert report.dtype == "float32"
    assert report.ok


def test_report_md_has_the_ratio_and_the_failing_case_and_the_exit_line_the_worst_kind(tmp_path, broken, capsys):
    out = tmp_path / "report"
    status = main(["audit", "--model", "verdict_models:signed_volume", "--structures", _cif(tmp_path),
                   "--kinds", "rotation,unimodular", "--out", str(out)])
    assert status == 1
    err = capsys.readouterr().err
    data = json.loads((out / "report.json").read_text())
    worst = data["failures"][0]
    assert worst["kind"] == "unimodular"
    assert worst["label"].startswith("det -1")
    assert worst["ratio"] == pytest.approx(worst["error"] / worst["tolerance"])
    assert f"worst unimodular energy at {worst['ratio']:.3g}x the tolerance" in err
    markdown = (out / "report.md").read_text()
    assert "| error / tol. |" in markdown
    assert "Tolerance: 1e-09 x max(1, max |reference output|) (float64)" in markdown
    [row] = [line for line in markdown.splitlines() if line.startswith("| unimodular | energy |")]
    assert f"| {worst['ratio']:.3g} |" in row
    assert "det -1 [[" in row


def test_each_kind_draws_the_same_cases_whichever_other_kinds_run():
    def recording(seen):
        def model(crystal):
            seen.append(np.round(crystal.positions, 9).tobytes())
            return -float(crystal.n_atoms)
        return model

    alone, together = [], []
    audit(recording(alone), [CU, CU], kinds="translation", per_kind=2, seed=5)
    audit(recording(together), [CU, CU], kinds="permutation,translation,rotation", per_kind=2, seed=5)
    drawn = [x for x in alone if x != np.round(CU.positions, 9).tobytes()]
    assert len(set(drawn)) == 4   # two random translations per crystal, each crystal its own stream
    assert set(drawn) <= set(together)


def test_random_spreads_over_the_groups_with_the_seed():
    from crystal_fourier.audit._kinds import random_groups

    ten = random_groups(range(1, 231), 10, 0)
    assert len(set(ten)) == 10
    assert max(ten) > 20
    assert ten == random_groups(range(1, 231), 10, 0)
    assert ten != random_groups(range(1, 231), 10, 1)
    assert sorted(random_groups([2, 225], 5, 3)[:2]) == [2, 225]   # every group once before a repeat
    assert sorted(random_groups(range(1, 231), 230, 7)) == list(range(1, 231))


def test_each_reproducer_embeds_its_own_tolerance_and_exits_1(tmp_path, broken):
    big = Crystal(CU.lattice * 2, CU.positions, CU.numbers)   # 8x the volume: another energy scale
    report = audit("verdict_models:signed_volume", [CU, big], names=["small", "big"], kinds="unimodular", per_kind=2)
    written = report.write(tmp_path / "out", picture=False)
    scripts = sorted(p for role, p in written.items() if role.startswith("reproducer"))
    assert len(scripts) == 2
    failures = {(c.crystal, c.label): c for c in report.failures}
    assert {c.crystal for c in failures.values()} == {"small", "big"}
    assert len({c.tolerance for c in failures.values()}) == 2
    for script in scripts:
        text = script.read_text()
        tolerance = float(re.search(r"^TOLERANCE = (.+)$", text, re.MULTILINE).group(1))
        label = re.search(r"label='([^']+)'", text).group(1)
        [check] = [c for (name, lab), c in failures.items() if lab == label and
                   abs(float(np.linalg.det(_lattice(text))) - float(np.linalg.det(
                       (report.cases[(name, c.kind, lab)][0].original.lattice)))) < 1e-9]
        assert tolerance == check.tolerance
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 1, run.stderr
        assert f"(tolerance {tolerance:.3g})" in run.stdout
    blank = tmp_path / "blank.py"   # a model without a spec: the script says so and exits 2, not 1
    blank.write_text(scripts[0].read_text().replace("MODEL = model_from_spec('verdict_models:signed_volume')",
                                                    "MODEL = None"))
    assert subprocess.run([sys.executable, str(blank)], capture_output=True, timeout=120, check=False).returncode == 2


def test_se3_skips_improper_group_operations_and_says_so():
    report = audit(lambda c: -float(c.n_atoms), [CU], kinds="group", per_kind=None, claim=Claim(symmetry="SE3"))
    assert report.skipped_improper == 96
    assert len({c.label for c in report.checks}) == 96
    assert "Claim SE3: 96 improper group operations (det Q = -1) skipped." in markdown_table(report)
    full = audit(lambda c: -float(c.n_atoms), [CU], kinds="group", per_kind=None)
    assert full.skipped_improper == 0
    assert len({c.label for c in full.checks}) == 192


def _lattice(script: str) -> np.ndarray:
    return np.array(eval(re.search(r"ORIGINAL = Crystal\(\n    (.+),\n", script).group(1)))   # noqa: S307 - own file


def _cif(tmp_path) -> str:
    from tests.audit.test_robust_calls import _cif as write

    return write(tmp_path)


def test_the_command_states_the_declared_dtype_and_its_tolerance(tmp_path, broken, capsys):
    status = main(["audit", "--model", "verdict_models:wobbly", "--structures", _cif(tmp_path), "--kinds",
                   "permutation", "--dtype", "float32", "--out", str(tmp_path / "r")])
    assert status == 0
    data = json.loads((tmp_path / "r" / "report.json").read_text())
    assert data["dtype"] == "float32"
    assert data["tolerances"] == "0.0001 x max(1, max |reference output|) (float32)"
    assert main(["audit", "--model", "verdict_models:wobbly", "--structures", _cif(tmp_path), "--kinds",
                 "permutation", "--out", str(tmp_path / "s")]) == 1   # the same model judged as float64
    assert "worst permutation energy at" in capsys.readouterr().err
