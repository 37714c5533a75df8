"""The derived-basis cache is bounded by memory, and the work estimate refuses runaway cutoffs before they start."""

from __future__ import annotations

import sys

import pytest

from crystal_fourier.derive._bases import (
    WORK_LIMIT_BYTES, WORK_LIMIT_SECONDS, _BoundedCache, basis, check_work, work_estimate)
from crystal_fourier.errors import CrystalFourierError

basis_module = sys.modules["crystal_fourier.derive._bases"]  # the package re-exports the function under this name


def test_the_cache_keeps_at_most_its_capacity_least_recent_first():
    cache = _BoundedCache(100)
    for key in range(5):
        cache.put(key, f"value {key}", 30)
    assert cache.total_bytes == 90
    assert len(cache) == 3
    assert cache.get(0) is None
    assert cache.get(1) is None
    assert cache.get(2) == "value 2"          # now the most recent
    cache.put(5, "value 5", 30)
    assert cache.get(3) is None
    assert cache.get(2) == "value 2"
    cache.put("huge", "never kept", 101)
    assert cache.get("huge") is None
    assert cache.total_bytes <= 100


def test_bases_are_cached_within_the_memory_bound(monkeypatch):
    small = _BoundedCache(work_estimate(225, 4).kept_bytes * 2)
    monkeypatch.setattr(basis_module, "_CACHE", small)
    first = basis(225, 4)
    assert basis(225, 4) is first                      # reused
    basis(227, 4)
    basis(229, 4)
    assert small.total_bytes <= small.capacity
    assert basis(225, 4) is not first                  # dropped for the later ones, derived again


@pytest.mark.parametrize(("number", "cutoff", "shell"), [(1, 10, "ball"), (225, 12, "ball"), (191, 12, "ball"),
                                                   (1, 6, "box"), (191, 6, "box")])
def test_the_frequency_estimate_is_close(number, cutoff, shell):
    estimate = work_estimate(number, cutoff, shell)
    exact = len(basis(number, cutoff, shell).frequencies)
    assert abs(estimate.n_frequencies - exact) <= 0.1 * exact
    assert estimate.n_operations == len(basis(number, cutoff, shell).group.operations)


def test_runaway_cutoffs_are_refused_naming_the_estimate_and_the_flag():
    with pytest.raises(CrystalFourierError, match=r"192 operations: .* GiB of memory.*--allow-large"):
        check_work(work_estimate(225, 1000), "the basis of 225")
    check_work(work_estimate(225, 1000), "the basis of 225", allow_large=True)   # the user's call
    small = work_estimate(225, 5, render=True)
    assert small.seconds < WORK_LIMIT_SECONDS
    assert small.peak_bytes < WORK_LIMIT_BYTES
    check_work(small, "the basis of 225")
