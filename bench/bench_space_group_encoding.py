"""SpaceGroupEncoding (issue 25): invariance error over all 230 groups, torch.compile, throughput; CPU or CUDA.

For every group 1-230 (standard setting), random fractional positions x and every operation g = (R, t) of
the group (centrings included, from ``crystal_fourier.derive``), the error max |enc(g x) - enc(x)| over
the features, in float64 and in float32 (the layer's dtype follows the positions). Then the layer
compiled with ``torch.compile`` (the default inductor backend) is compared with the eager layer on a
mixed batch, and the eager forward + backward time per step is measured on that batch.

Usage: python bench/bench_space_group_encoding.py [--device cpu|cuda] [--points 16] [--groups 1-230]
                                                  [--cutoff 6] [--dim 64] [--no-compile]
                                                  [--compile-backend inductor] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

COMPILE_TOLERANCE = 1e-5
"""Absolute: compiled and eager float32 features may differ by float32 round-off (fused kernels reorder sums)."""
DEVICE_TOLERANCE = 1e-12
"""Absolute: float64 features on CUDA and on the CPU (cos and sums in another order), values of magnitude 1."""


def commit() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def invariance_errors(enc, numbers, points: int, device: str, dtype: torch.dtype) -> dict[int, float]:
    """max over operations, points and features of |enc(g x) - enc(x)|, per group."""
    from crystal_fourier.derive import space_group
    from crystal_fourier.testing import operation_images

    out = {}
    rng = np.random.default_rng(0)
    for number in numbers:
        x = rng.uniform(-1.0, 2.0, (points, 3))
        operations = space_group(number).operations
        images = operation_images(operations, x).reshape(-1, 3)   # float64, exact to rounding
        every = torch.tensor(np.concatenate([x, images]), device=device, dtype=dtype)
        with torch.no_grad():
            features = enc(every, torch.full((len(every),), number, device=device)).double()
        reference, moved = features[:points], features[points:].reshape(len(operations), points, -1)
        out[number] = float((moved - reference).abs().max())
    return out


def mixed_batch(device: str, dtype: torch.dtype, atoms: int = 512, seed: int = 0):
    """``atoms`` random positions in 32 crystals of 32 different groups, with groups and batch."""
    generator = torch.Generator().manual_seed(seed)
    numbers = torch.randperm(230, generator=generator)[:32] + 1
    batch = torch.sort(torch.randint(0, 32, (atoms,), generator=generator)).values
    positions = torch.rand(atoms, 3, generator=generator, dtype=torch.float64)
    return positions.to(device, dtype), numbers.to(device), batch.to(device)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--points", type=int, default=16)
    parser.add_argument("--groups", default="1-230", help="a range such as 1-230 or 200-230")
    parser.add_argument("--cutoff", type=int, default=6)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--compile-backend", default="inductor",
                        help="torch.compile backend (aot_eager: seconds, for a smoke run)")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    from crystal_fourier.runtime import SpaceGroupEncoding

    low, _, high = args.groups.partition("-")
    numbers = range(int(low), int(high or low) + 1)
    torch.manual_seed(0)
    enc64 = SpaceGroupEncoding(cutoff=args.cutoff, dim=args.dim).to(args.device, torch.float64)
    enc32 = SpaceGroupEncoding(cutoff=args.cutoff, dim=args.dim).to(args.device)
    enc32.load_state_dict(enc64.state_dict())
    report = {"commit": commit(), "torch": torch.__version__, "device": args.device,
              "device_name": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
              "cutoff": args.cutoff, "dim": args.dim, "points": args.points, "groups": args.groups}
    tick = time.perf_counter()
    for name, enc, dtype in (("float64", enc64, torch.float64), ("float32", enc32, torch.float32)):
        errors = invariance_errors(enc, numbers, args.points, args.device, dtype)
        worst = max(errors, key=errors.get)
        report[f"invariance_{name}"] = {"max": errors[worst], "worst_group": worst,
                                        "median": float(np.median(list(errors.values())))}
        print(f"{name}: max |enc(g x) - enc(x)| over groups {args.groups}, every operation, {args.points} points: "
              f"{errors[worst]:.2e} (group {worst}; median over groups {report[f'invariance_{name}']['median']:.1e})")
    report["invariance_seconds"] = time.perf_counter() - tick

    if args.device != "cpu":   # the same float64 features as on the CPU
        positions, groups, batch = mixed_batch(args.device, torch.float64)
        with torch.no_grad():
            here = enc64(positions, groups, batch).cpu()
            there = enc64.cpu()(positions.cpu(), groups.cpu(), batch.cpu())
        enc64.to(args.device)
        difference = float((here - there).abs().max())
        report["cpu_difference_float64"] = difference
        print(f"float64 features on {args.device} against the CPU: max difference {difference:.2e} "
              f"({'ok' if difference <= DEVICE_TOLERANCE else 'ABOVE'} {DEVICE_TOLERANCE:g})")
    positions, groups, batch = mixed_batch(args.device, torch.float32)
    enc32(positions, groups, batch).sum().backward()   # warm-up: tables of these groups
    cuda = args.device.startswith("cuda")
    # wall time on a GPU (synchronized); process CPU time on the CPU, where shared cores make wall time noise
    clock, sync = (time.perf_counter, torch.cuda.synchronize) if cuda else (time.process_time, lambda: None)
    basis = enc32.basis(positions, groups, batch)
    for name, given in (("forward_backward_ms", None), ("forward_backward_with_basis_ms", basis)):
        sync()
        tick = clock()
        for _ in range(args.steps):
            enc32(positions, groups, batch, basis=given).sum().backward()
        sync()
        report[name] = (clock() - tick) / args.steps * 1e3
    print(f"eager forward + backward, float32, 512 atoms of 32 groups: {report['forward_backward_ms']:.1f} ms per "
          f"step; {report['forward_backward_with_basis_ms']:.1f} ms with the basis values given (enc.basis, "
          f"computed once) ({'wall' if cuda else 'CPU'} time)")
    if not args.no_compile:
        tick = time.perf_counter()
        compiled = torch.compile(enc32, backend=args.compile_backend)
        try:
            with torch.no_grad():
                error = float((compiled(positions, groups, batch) - enc32(positions, groups, batch)).abs().max())
            report["compile"] = {"ok": error <= COMPILE_TOLERANCE, "max_difference": error,
                                 "first_call_seconds": time.perf_counter() - tick}
        except Exception as failure:  # noqa: BLE001 - the report says what failed rather than stopping
            report["compile"] = {"ok": False, "error": f"{type(failure).__name__}: {failure}"[:500]}
        print(f"torch.compile ({args.compile_backend}): {report['compile']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({"commit": report["commit"], "device_name": report["device_name"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
