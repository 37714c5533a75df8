"""Data-parallel training with torch.distributed: 2 CPU processes on gloo, launched by torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

DDP_TOLERANCE = 1e-4
"""Absolute, on O(1) predictions: two ranks sum the same per-crystal gradients in another
order (float32), which after a few AdamW steps moves predictions by ~1e-6."""

SCRIPT = textwrap.dedent('''
    import dataclasses
    import sys
    import numpy as np
    from crystal_fourier.derive import space_group
    from crystal_fourier.runtime.network._batching import sample_from_arrays
    from crystal_fourier.runtime.network._model import ModelConfig
    from crystal_fourier.runtime.symmetry._random_crystals import random_crystal
    from crystal_fourier.runtime.learning._training import TrainConfig, fit


    def samples(tensor=False):
        out = []
        for seed, number in enumerate((1, 2, 194, 225) * 3):
            made = random_crystal(number, seed=seed, max_atoms=6)
            crystal = made.crystal
            target = crystal.numbers.mean() / 40.0 + np.log(crystal.volume / crystal.n_atoms)
            sample = sample_from_arrays(crystal.lattice, crystal.positions, crystal.numbers,
                                        space_group(made.number).hall_number, made.number, target=float(target))
            if tensor:   # a symmetric Voigt matrix that grows with the target (labels need not be allowed tensors)
                label = np.diag([3.0, 3.0, 3.0, 1.0, 1.0, 1.0]) * (target + 2.0) + 0.1 * seed
                sample = dataclasses.replace(sample, target=label)
            out.append(sample)
        return out


    MODEL = ModelConfig(kind="cft", d_model=16, n_heads=2, n_layers=1, d_ff=16, d_route=16, d_position=16, d_head=16)
    CONFIG = TrainConfig(model=MODEL, epochs=2, batch_size=4, lr=3e-3, progress=False)
    TENSOR_CONFIG = TrainConfig(target="elastic_tensor", model=dataclasses.replace(MODEL, tensor_head="symmetric"),
                                epochs=2, batch_size=4, lr=3e-3, progress=False)

    if __name__ == "__main__":
        tensor = sys.argv[2:] == ["tensor"]
        fit(samples(tensor), TENSOR_CONFIG if tensor else CONFIG, sys.argv[1])
''')


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("ddp") / "ddp_train.py"
    path.write_text(SCRIPT)
    return path


@pytest.mark.parametrize("target", ["scalar", "tensor"])
def test_two_gloo_processes_train_like_one(script, tmp_path, target):
    tensor = target == "tensor"
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", MASTER_ADDR="127.0.0.1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(script), str(tmp_path / "ddp"), *(["tensor"] if tensor else [])]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    metrics = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    assert metrics["world_size"] == 2
    assert metrics["epochs_completed"] == 2
    assert metrics["finished"]
    assert (tmp_path / "ddp" / "weights.pt").is_file()

    # The same run in one process: the scaled loss makes the gradients equal, so the models agree.
    import importlib.util

    spec = importlib.util.spec_from_file_location("ddp_train", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from crystal_fourier.runtime import fit, load_trained

    samples = module.samples(tensor)
    single = fit(samples, module.TENSOR_CONFIG if tensor else module.CONFIG, tmp_path / "single")
    assert single.metrics["world_size"] == 1
    distributed = load_trained(tmp_path / "ddp")
    scale = distributed.normalizer.std if tensor else 1.0   # tensors in GPa: compare them scaled to O(1)
    assert distributed.predict_samples(samples).shape == ((len(samples), 6, 6) if tensor else (len(samples),))
    np.testing.assert_allclose(distributed.predict_samples(samples) / scale,
                               load_trained(tmp_path / "single").predict_samples(samples) / scale,
                               rtol=0, atol=DDP_TOLERANCE)
    losses = [row["train_loss"] for row in metrics["history"]]
    np.testing.assert_allclose(losses, [row["train_loss"] for row in single.history], rtol=1e-4, atol=0)
