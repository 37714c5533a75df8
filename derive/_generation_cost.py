"""The printed estimate of ``crystal-fourier generate``: seconds and peak memory, before any work.

A model fitted to measured runs of the command (bench/bench_generate_estimate.py, which refits its
constants): from each group's operation count |G| and the shell's frequency count n (the shell's
volume, as :func:`~crystal_fourier.derive.work_estimate` counts it), edges = n |G| per group, and

    seconds = t0 + a * (sum of edges over the groups)
    peak    = m0 + k * min(sum of edges, E_cache) + c * (largest edges of one group)

t0 and m0 the process (start-up, imports), a the derivation and rendering of one edge, c the peak
of one group's derivation, and k the bases the derivation cache keeps between groups, until its
bound (``CACHE_BYTES``, reached at about E_cache edges). Unlike ``work_estimate`` (the derivation
alone, in a process already running), it counts rendering, the cache and the command's own process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crystal_fourier.derive._bases import WorkEstimate, _frequency_count
from crystal_fourier.derive._frequency_sets import check_shell_cutoff
from crystal_fourier.derive._space_groups import space_group

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["generation_estimate", "generation_features"]

# Fitted by bench/bench_generate_estimate.py --fit (ball R = 5, 8, 12, 16, 20, all 230 groups: CPU
# seconds and ru_maxrss of the child process, one thread, 2026-12-07 on the shared 2-core machine).
_FIXED_SECONDS, _SECONDS_PER_EDGE = 0.56, 3.13e-7
_FIXED_BYTES, _CACHED_BYTES_PER_EDGE, _CACHE_EDGES, _PEAK_BYTES_PER_EDGE = 42.8e6, 18.3, 50.3e6, 87.4

def generation_features(shell: str, cutoff: int, groups: Iterable[int] | None = None) -> dict:
    """The counts the estimate is linear in: edges and frequencies, summed and largest over the groups.

    Parameters
    ----------
    shell : {'ball', 'box'}
        The frequency shell.
    cutoff : int
        Ball radius or box size.
    groups : iterable of int, optional
        Space-group numbers (standard settings); default all 230.

    Returns
    -------
    dict
        ``total_edges``, ``total_frequencies``, ``max_edges``, ``max_frequencies`` (ints).

    Examples
    --------
    >>> generation_features("ball", 5, [1, 225])["max_edges"]  # 524 frequencies x 192 operations
    100608
    """
    cutoff = check_shell_cutoff(shell, cutoff)
    numbers = range(1, 231) if groups is None else groups
    total_edges = total_frequencies = max_edges = max_frequencies = 0
    for number in numbers:
        group = space_group(number)
        n = _frequency_count(cutoff, shell, group.hexagonal_axes)
        edges = n * len(group.operations)
        total_edges, total_frequencies = total_edges + edges, total_frequencies + n
        max_edges, max_frequencies = max(max_edges, edges), max(max_frequencies, n)
    return {"total_edges": total_edges, "total_frequencies": total_frequencies, "max_edges": max_edges,
            "max_frequencies": max_frequencies}


def generation_estimate(shell: str, cutoff: int, groups: Iterable[int] | None = None) -> WorkEstimate:
    """Predicted CPU seconds and peak memory of ``crystal-fourier generate`` for ``groups`` (module docstring).

    Aims at 1.5x of the measured time and peak for ball R = 5-20 (bench/bench_generate_estimate.py).

    Parameters
    ----------
    shell : {'ball', 'box'}
        The frequency shell.
    cutoff : int
        Ball radius or box size.
    groups : iterable of int, optional
        Space-group numbers (standard settings); default all 230.

    Returns
    -------
    WorkEstimate
        Largest frequency and operation counts, seconds on one core, peak bytes of the process; its
        kept bytes are the peak's (nothing outlives the command).

    Examples
    --------
    >>> estimate = generation_estimate("ball", 20)
    >>> 1 < estimate.peak_bytes / 2**30 < 2
    True
    """
    numbers = list(range(1, 231) if groups is None else groups)
    features = generation_features(shell, cutoff, numbers)
    seconds = _FIXED_SECONDS + _SECONDS_PER_EDGE * features["total_edges"]
    peak = int(_FIXED_BYTES + _CACHED_BYTES_PER_EDGE * min(features["total_edges"], _CACHE_EDGES)
               + _PEAK_BYTES_PER_EDGE * features["max_edges"])
    operations = max((len(space_group(n).operations) for n in numbers), default=0)
    return WorkEstimate(features["max_frequencies"], operations, seconds, peak, peak)
