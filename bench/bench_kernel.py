"""Speed of the generated per-group modules against the cost of their own cosines (issue: one kernel).

For each group and ball radius: the module's ``forward`` (the kernel of crystal_fourier.kernel),
its ``forward_reference`` (one cosine per term, then ``index_add_``) and the **cosine floor**,
one ``torch.cos`` over an (N x n_terms) tensor, all in the same process, best of ``--repeat``.
The floor allocates its output, as ``forward`` does: whether the allocator reuses memory or
faults in fresh pages depends on the block's size (glibc maps blocks over its threshold, at most
32 MB, afresh) and on the process's history, so a small block such as Fd-3m's at R = 5 (22 MB)
may cost the cosines alone in one run and twice that in another (its ratio moved between 1.2x and
2.6x with no change of code); compare rounds of one run, and the CPU-time ratio.
Default: 100,000 random points, one thread, float32 and float64. Ratios of wall time and of CPU
(process) time, each the best of the rounds.

    python bench/bench_kernel.py [--points 100000] [--threads 1] [--device cpu]
                                 [--baseline-kernel OLD_KERNEL.py] [--all-groups R]

``--baseline-kernel`` (e.g. ``git show REV:crystal_fourier/kernel.py > /tmp/old.py``) also times that
file's no-grad evaluation on the same modules and points, interleaved: a before/after in one process.
``--all-groups R`` times every one of the 230 modules at ball radius R instead of the fixed cases and prints
the spread of forward / floor (CPU time): median, largest, how many exceed 2x, the five largest.
"""

from __future__ import annotations

import argparse
import importlib.util
import time

import torch

from crystal_fourier.runtime import invariant_basis

CASES = ((1, 5), (62, 5), (194, 5), (227, 5), (1, 6), (62, 6), (194, 6), (227, 6))


def best_of(functions, repeat: int, device: str) -> tuple[list[float], list[float]]:
    """Best wall and best CPU (process) seconds of each function, rounds interleaved (f, g, h, f, g,
    h, ...) so that a shared machine's drifting load affects all alike; the CPU time does not count
    the time other processes hold the core (on the CPU device, one thread)."""
    best = [float("inf")] * len(functions)
    best_cpu = [float("inf")] * len(functions)
    for _ in range(repeat):
        for i, fn in enumerate(functions):
            if device == "cuda":
                torch.cuda.synchronize()
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            if device == "cuda":
                torch.cuda.synchronize()
            best[i] = min(best[i], time.perf_counter() - start)
            best_cpu[i] = min(best_cpu[i], time.process_time() - start_cpu)
    return best, best_cpu


def _baseline(path):
    """The ``CosineSums`` class of another kernel.py (its ``_evaluate_no_grad`` is applied to today's modules)."""
    spec = importlib.util.spec_from_file_location("baseline_kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CosineSums


def sweep(args) -> None:
    """``--all-groups R``: forward / floor (CPU time, best of the rounds) of all 230 modules at ball radius R, per
    dtype: the median, the largest, how many exceed 2x, and the five largest (beside the baseline's, if given)."""
    baseline = _baseline(args.baseline_kernel) if args.baseline_kernel else None
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for dtype_name in args.dtypes.split(","):
            dtype = getattr(torch, dtype_name)
            x = torch.rand(args.points, 3, generator=generator, dtype=torch.float64).to(args.device, dtype)
            ratios, old = {}, {}
            for number in range(1, 231):
                module = invariant_basis(number, args.all_groups, dtype=dtype).to(args.device)
                angles = torch.rand(args.points, module.n_terms, generator=generator, dtype=dtype).to(args.device)
                functions = [lambda module=module, x=x: module(x), lambda angles=angles: torch.cos(angles)]
                if baseline:
                    functions.append(lambda module=module, x=x: baseline._evaluate_no_grad(module, x - torch.round(x)))
                _, cpu = best_of(functions, args.repeat, args.device)
                ratios[module.symbol] = cpu[0] / cpu[1]
                if baseline:
                    old[module.symbol] = cpu[2] / cpu[1]
                del angles
            for label, found in (("this kernel", ratios), ("baseline", old)):
                if not found:
                    continue
                values = sorted(found.values())
                worst = sorted(found, key=found.get)[-5:][::-1]
                print(f"R = {args.all_groups}, {dtype_name}, {label}: forward / floor (CPU) median "
                      f"{values[len(values) // 2]:.2f}x, max {values[-1]:.2f}x, {sum(v > 2 for v in values)} of 230 "
                      f"over 2x; largest: " + ", ".join(f"{name} {found[name]:.2f}x" for name in worst), flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--baseline-kernel", default=None, help="another kernel.py to time beside this one")
    parser.add_argument("--all-groups", type=int, default=None, metavar="R",
                        help="every one of the 230 groups at ball radius R instead of the fixed cases: the spread")
    args = parser.parse_args(argv)
    if args.all_groups is not None:
        return sweep(args)
    baseline = _baseline(args.baseline_kernel) if args.baseline_kernel else None
    torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(0)
    extra = " baseline / floor | same, CPU time |" if baseline else ""
    print("| group, ball R | dtype | terms | forward | reference | cosine floor | forward / floor | same, CPU time |"
          + extra)
    print("|---|---|---|---|---|---|---|---|" + ("---|---|" if baseline else ""))
    with torch.no_grad():
        for dtype_name in args.dtypes.split(","):
            dtype = getattr(torch, dtype_name)
            x = torch.rand(args.points, 3, generator=generator, dtype=torch.float64).to(args.device, dtype)
            for number, radius in CASES:
                module = invariant_basis(number, radius, dtype=dtype).to(args.device)
                angles = torch.rand(args.points, module.n_terms, generator=generator, dtype=dtype).to(args.device)
                functions = [lambda module=module, x=x: module(x),
                             lambda module=module, x=x: module.forward_reference(x),
                             lambda angles=angles: torch.cos(angles)]
                if baseline:  # the old no-grad path on the same module (forward reduces x the same way first)
                    functions.append(lambda module=module, x=x: baseline._evaluate_no_grad(module, x - torch.round(x)))
                wall, cpu = best_of(functions, args.repeat, args.device)
                (forward, reference, floor), (forward_cpu, _, floor_cpu) = wall[:3], cpu[:3]
                del angles
                extra = f" {wall[3] / floor:.2f}x | {cpu[3] / floor_cpu:.2f}x |" if baseline else ""
                print(f"| {module.symbol}, {radius} | {dtype_name} | {module.n_terms} | {forward:.3f} s | "
                      f"{reference:.3f} s | {floor:.3f} s | {forward / floor:.2f}x | {forward_cpu / floor_cpu:.2f}x |"
                      + extra, flush=True)


if __name__ == "__main__":
    main()
