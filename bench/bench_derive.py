"""Benchmark: exact derivation of all 230 groups (orbits, absences, real basis; no SymPy).

Prints wall times for ball R = 5, R = 8 and box K = 8, the time of the SymPy closed
forms separately, and a baseline in the same process: a straightforward
pure-Python derivation (breadth-first search over the dual graph with dict
lookups, the way a graph-library implementation works), on the same inputs.

Run: .venv/bin/python bench/bench_derive.py [--sympy-cutoff 5]
"""

from __future__ import annotations

import argparse
import time
from collections import deque

from crystal_fourier.derive import basis, closed_forms, space_group
from crystal_fourier.derive._bases import clear_caches
from crystal_fourier.derive._frequency_sets import shell_frequencies


def derive_all(shell: str, cutoff: int) -> tuple[float, int]:
    clear_caches()
    start = time.perf_counter()
    total_dim = sum(basis(number, cutoff, shell).dim for number in range(1, 231))
    return time.perf_counter() - start, total_dim


def naive_dim(number: int, shell: str, cutoff: int) -> int:
    """Baseline: BFS over the dual graph, one frequency and one operation at a time."""
    group = space_group(number)
    frequencies = [tuple(int(v) for v in k) for k in shell_frequencies(shell, cutoff, group.hexagonal_axes)]
    seen = set()
    dim = 0
    for start in frequencies:
        if start in seen:
            continue
        phase = {start: 0}
        queue = deque([start])
        absent = False
        while queue:
            k = queue.popleft()
            for op in group.operations:
                image = tuple(sum(op.rotation[i][j] * k[i] for i in range(3)) for j in range(3))
                edge = (phase[k] + sum(a * b for a, b in zip(k, op.translation_24, strict=True))) % 24
                if image not in phase:
                    phase[image] = edge
                    queue.append(image)
                elif phase[image] != edge:
                    absent = True
        seen.update(phase)
        dim += not absent
    return dim


def naive_all(shell: str, cutoff: int) -> tuple[float, int]:
    start = time.perf_counter()
    total = sum(naive_dim(number, shell, cutoff) for number in range(1, 231))
    return time.perf_counter() - start, total


def sympy_all(shell: str, cutoff: int) -> tuple[float, int]:
    start = time.perf_counter()
    count = sum(len(closed_forms(basis(number, cutoff, shell))) for number in range(1, 231))
    return time.perf_counter() - start, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sympy-cutoff", type=int, default=5)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    space_group(1)  # load spglib's database once, outside the timings
    for number in range(1, 231):
        space_group(number)
    print(f"{'case':<12} {'crystal-fourier (s)':>20} {'baseline BFS (s)':>18} {'ratio':>7} {'sum of dim':>11}")
    for shell, cutoff in (("ball", 5), ("ball", 8), ("box", 8)):
        seconds, total = derive_all(shell, cutoff)
        if args.skip_baseline:
            print(f"{shell} {cutoff:<7} {seconds:>20.2f} {'-':>18} {'-':>7} {total:>11}")
            continue
        naive_seconds, naive_total = naive_all(shell, cutoff)
        if naive_total != total:
            raise SystemExit(f"baseline disagrees: {naive_total} != {total}")
        print(f"{shell} {cutoff:<7} {seconds:>20.2f} {naive_seconds:>18.2f} {naive_seconds / seconds:>6.1f}x "
              f"{total:>11}")
    seconds, count = sympy_all("ball", args.sympy_cutoff)
    print(f"SymPy closed forms, all 230 groups, ball R = {args.sympy_cutoff}: {seconds:.2f} s for {count} functions")


if __name__ == "__main__":
    main()
