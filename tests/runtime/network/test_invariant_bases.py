"""``crystal_fourier.invariant_basis``: shipped modules, and on-demand generation into the cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import crystal_fourier
from crystal_fourier import GENERATOR_VERSION
from crystal_fourier.derive import basis
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network import _invariant_bases as loader
from crystal_fourier.runtime.network._invariant_bases import cache_directory, invariant_basis
from crystal_fourier.testing import assert_generated_matches_symbolic, assert_invariant


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CRYSTAL_FOURIER_CACHE", str(tmp_path))
    loader.basis_class.cache_clear()
    loader.shell_index.cache_clear()
    yield tmp_path / f"generated-{GENERATOR_VERSION}"
    loader.basis_class.cache_clear()
    loader.shell_index.cache_clear()


def _x(count=16, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).uniform(-1, 2, (count, 3)))


def test_shipped_module_is_used_without_the_cache(cache):
    module = invariant_basis(225)
    assert type(module).__module__ == "crystal_fourier.generated.ball_5.sg225"
    assert (module.dim, module.group, module.cutoff, module.shell) == (10, 225, 5, "ball")
    assert type(invariant_basis("Fm-3m")) is type(module)
    assert type(crystal_fourier.invariant_basis(225, cutoff=6)).__module__ == "crystal_fourier.generated.ball_6.sg225"
    assert not cache.exists()


def test_dtype():
    module = invariant_basis(14, cutoff=2, shell="box", dtype=torch.float32)
    assert module(_x()).dtype == torch.float32


def test_unshipped_cutoff_is_generated_into_the_cache(cache):
    module = invariant_basis(166, cutoff=3, shell="box")
    path = cache / "box_3" / "sg166.py"
    assert path.exists()
    assert type(module).__name__ == "InvariantBasis166"
    assert type(module).__module__ == "crystal_fourier.generated.box_3.sg166"  # its real package name
    assert_generated_matches_symbolic(module, basis(166, 3, "box"), _x(), tolerance=1e-12)
    assert_invariant(module, 166, _x(), tolerance=1e-12)
    mtime = path.stat().st_mtime_ns
    loader.basis_class.cache_clear()
    again = invariant_basis(166, cutoff=3, shell="box")
    assert path.stat().st_mtime_ns == mtime  # unchanged bytes are not rewritten
    torch.testing.assert_close(again(_x()), module(_x()), rtol=0, atol=0)


def test_other_setting_is_generated(cache):
    module = invariant_basis(227, cutoff=2, shell="box", hall_number=525)  # Fd-3m, origin choice 1
    assert (module.group, module.hall_number) == (227, 525)
    assert (cache / "box_2" / "sg227_hall525.py").exists()
    derived = basis(None, 2, "box", hall_number=525)
    assert_generated_matches_symbolic(module, derived, _x(), tolerance=1e-12)
    assert_invariant(module, derived.group, _x(), tolerance=1e-12)


def test_cache_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("CRYSTAL_FOURIER_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_directory() == tmp_path / "crystal-fourier" / f"generated-{GENERATOR_VERSION}"


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    ((231,), {}, "1-230"),
    (("Xyz",), {}, "unknown space-group symbol"),
    ((1,), {"cutoff": -1}, "cutoff"),
    ((1,), {"shell": "sphere"}, "unknown shell"),
    ((1,), {"dtype": torch.int64}, "floating torch dtype"),
    ((225,), {"hall_number": 1}, "not of 225"),
])
def test_bad_input(args, kwargs, match):
    with pytest.raises(CrystalFourierError, match=match):
        invariant_basis(*args, **kwargs)


def test_cached_module_pickles_and_loads_in_a_fresh_process(cache):
    import pickle
    import subprocess
    import sys

    module = invariant_basis(227, cutoff=3, shell="box", hall_number=525)
    payload = pickle.dumps(module)
    assert type(pickle.loads(payload)) is type(module)
    code = ("import pickle, sys, torch; m = pickle.loads(sys.stdin.buffer.read()); "
            "print(type(m).__module__, m.dim, float(m(torch.zeros(1, 3)).sum()))")
    result = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True, check=True,
                            env={**__import__("os").environ, "CRYSTAL_FOURIER_CACHE": str(cache.parent)})
    name, dim, total = result.stdout.decode().split()
    assert (name, int(dim)) == ("crystal_fourier.generated.box_3.sg227_hall525", module.dim)
    assert float(total) == pytest.approx(float(module(torch.zeros(1, 3)).sum()), abs=1e-12)
