"""``crystal_fourier.invariant_basis``: shipped modules, and on-demand generation into the cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import crystal_fourier
from crystal_fourier.derive import basis
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import invariant_basis as loader
from crystal_fourier.runtime.invariant_basis import cache_directory, invariant_basis
from crystal_fourier.testing import assert_generated_matches_symbolic, assert_invariant


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CRYSTAL_FOURIER_CACHE", str(tmp_path))
    loader._cached_class.cache_clear()
    yield tmp_path / f"generated-{crystal_fourier.__version__}"
    loader._cached_class.cache_clear()


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
    assert_generated_matches_symbolic(module, basis(166, 3, "box"), _x(), tolerance=1e-12)
    assert_invariant(module, 166, _x(), tolerance=1e-12)
    mtime = path.stat().st_mtime_ns
    loader._cached_class.cache_clear()
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
    assert cache_directory() == tmp_path / "crystal-fourier" / f"generated-{crystal_fourier.__version__}"


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
