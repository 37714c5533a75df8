"""bench/bench_encoding.py runs at any --atoms (its warm-up once assumed 2,300 atoms and crashed below)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_encoding   # noqa: E402

from crystal_fourier.derive import standard_hall_number  # noqa: E402
from crystal_fourier.runtime import RoutingEncoder  # noqa: E402


def test_warm_up_prepares_every_group_with_one_atom_each():
    encoder = RoutingEncoder(4, cutoff=5, shell="ball", include_constant=True)
    halls = torch.tensor([standard_hall_number(n) for n in range(1, 231)])
    with torch.no_grad():
        out = bench_encoding.warm_up(encoder, halls)
    assert out.shape == (230, 4)
    assert {key[0] for key in encoder._prepared} >= set(halls.tolist())


def test_run_with_fewer_atoms_than_the_old_warm_up(capsys):
    bench_encoding.run("ball", 5, atoms=50, out_features=4, repeats=1)   # crashed: x[:2300] had 50 rows
    printed = capsys.readouterr().out
    assert "50 atoms over all 230 groups" in printed
    differences = [float(v) for v in re.findall(r"max \|\(a\) - \([bc]\)\| = ([0-9.e+-]+)", printed)]
    assert len(differences) == 2
    assert max(differences) < 1e-4   # the three forms agree (float32)
