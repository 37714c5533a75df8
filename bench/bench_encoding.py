"""Benchmark: invariant encoding of one mixed batch over all 230 groups, three ways (prints numbers).

(a) the routing form, ``RoutingEncoder`` (the generated per-group modules, W_G = W S_G per group);
(b) naive group averaging: z_n = mean over operations of e(n . (R x + t)), then the same linear map;
(c) the dense routing matrix: z = M_G v(x) with M_G the |U| x |U| complex matrix of each group.

All three compute y = W_re Re z + W_im Im z + b with the same weights, in float32 on the CPU,
in this process, one after the other; the outputs are checked to agree. Also prints the memory
of the routing tables of all 230 groups for (a) and (c). Run from the repository root:

    .venv/bin/python bench/bench_encoding.py [--atoms 100000] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from crystal_fourier.derive import basis, standard_hall_number
from crystal_fourier.runtime import RoutingEncoder


def _groups(encoder: RoutingEncoder, shell: str, cutoff: int):
    """Per group: shell slots, operations and the dense routing matrix (as float tensors)."""
    slot_of = {tuple(row): i for i, row in enumerate(encoder.slot_hkl.tolist())}
    data = {}
    for number in range(1, 231):
        derived = basis(number, cutoff, shell)
        hall = derived.group.hall_number
        shell_slots = torch.tensor([slot_of[tuple(row)] for row in derived.frequencies.hkl.tolist()])
        rotations, translations = derived.group.arrays
        # M_G[n, m] = e((phase_n - phase_m) / 24) / |O| for n, m in one present orbit: column m is
        # the symmetrised plane wave of e_m, written in the shell's own modes (derive's complex table).
        # Present frequencies grouped by orbit, phase_n = -phi_n mod 24 (derive's orbit decomposition).
        d = derived.decomposition
        present = np.flatnonzero(~d.absent[d.orbit_of])
        present = present[np.lexsort((present, d.orbit_of[present]))]
        rows = torch.tensor(present)
        phase = torch.exp(2j * math.pi * torch.tensor((-d.phase_24[present]) % 24, dtype=torch.float64) / 24)
        _, orbit_index, sizes = np.unique(d.orbit_of[present], return_inverse=True, return_counts=True)
        orbit = torch.from_numpy(orbit_index)
        same = orbit[:, None] == orbit[None, :]
        block = phase[:, None] * phase.conj()[None, :] / torch.tensor(sizes, dtype=torch.float64)[orbit][:, None]
        dense = torch.zeros(len(shell_slots), len(shell_slots), dtype=torch.complex64)
        dense[rows[:, None], rows[None, :]] = torch.where(same, block, 0).to(torch.complex64)
        data[hall] = {
            "slots": shell_slots,
            "hkl": (2 * math.pi * derived.frequencies.hkl.T).astype(np.float32),
            "rotations": torch.tensor(rotations, dtype=torch.float32),
            "translations": torch.tensor(translations, dtype=torch.float32) / 24,
            "dense": dense,
        }
    return data


def _by_group(x, halls):
    order = torch.argsort(halls, stable=True)
    unique, counts = torch.unique_consecutive(halls[order], return_counts=True)
    return order, unique.tolist(), counts.tolist()


def naive(encoder, data, x, halls):
    order, unique, counts = _by_group(x, halls)
    xs, pieces, start = x[order], [], 0
    for hall, count in zip(unique, counts, strict=True):
        group = data[hall]
        xg = xs[start:start + count]
        start += count
        hkl = torch.from_numpy(group["hkl"])
        z_re = torch.zeros(count, hkl.shape[1])
        z_im = torch.zeros(count, hkl.shape[1])
        for chunk in range(0, len(group["rotations"]), 24):
            rotations = group["rotations"][chunk:chunk + 24]
            images = torch.einsum("gij,nj->gni", rotations, xg) + group["translations"][chunk:chunk + 24, None, :]
            angle = images @ hkl
            z_re += torch.cos(angle).sum(0)
            z_im += torch.sin(angle).sum(0)
        n_ops = len(group["rotations"])
        slots = group["slots"]
        pieces.append(torch.addmm(encoder.bias, z_re / n_ops, encoder.weight_re[:, slots].T)
                      + (z_im / n_ops) @ encoder.weight_im[:, slots].T)
    out = torch.cat(pieces)
    return out[torch.argsort(order)]


def dense(encoder, data, x, halls):
    order, unique, counts = _by_group(x, halls)
    xs, pieces, start = x[order], [], 0
    for hall, count in zip(unique, counts, strict=True):
        group = data[hall]
        xg = xs[start:start + count]
        start += count
        angle = xg @ torch.from_numpy(group["hkl"])
        modes = torch.complex(torch.cos(angle), torch.sin(angle))
        z = modes @ group["dense"].T
        slots = group["slots"]
        pieces.append(torch.addmm(encoder.bias, z.real, encoder.weight_re[:, slots].T)
                      + z.imag @ encoder.weight_im[:, slots].T)
    out = torch.cat(pieces)
    return out[torch.argsort(order)]


def warm_up(encoder: RoutingEncoder, halls: torch.Tensor) -> torch.Tensor:
    """One call with one random atom per Hall number in ``halls``, whatever the benchmark's ``--atoms``.

    Parameters
    ----------
    encoder : RoutingEncoder
        The encoder whose per-group tables the call prepares.
    halls : torch.Tensor
        shape=(n,), Hall numbers.

    Returns
    -------
    torch.Tensor
        The encoder's output, shape=(n, out_features).
    """
    return encoder(torch.rand(len(halls), 3), halls)


def _time(functions, repeats):
    """Best wall and CPU (process) seconds of each function, repeats interleaved: (a) (b) (c) (a) ...

    Interleaving and the CPU time keep the comparison fair on a shared machine, where the wall
    time of one call also counts other processes.
    """
    wall = [math.inf] * len(functions)
    cpu = [math.inf] * len(functions)
    results = [None] * len(functions)
    with torch.no_grad():
        for _ in range(repeats):
            for i, function in enumerate(functions):
                start, start_cpu = time.perf_counter(), time.process_time()
                results[i] = function()
                wall[i] = min(wall[i], time.perf_counter() - start)
                cpu[i] = min(cpu[i], time.process_time() - start_cpu)
    return wall, cpu, results


def run(shell: str, cutoff: int, atoms: int, out_features: int, repeats: int) -> None:
    torch.manual_seed(0)
    encoder = RoutingEncoder(out_features, cutoff=cutoff, shell=shell, include_constant=True)
    halls_all = torch.tensor([standard_hall_number(n) for n in range(1, 231)])
    halls = halls_all[torch.randperm(atoms) % 230]
    x = torch.rand(atoms, 3)
    start = time.perf_counter()
    data = _groups(encoder, shell, cutoff)
    setup = time.perf_counter() - start
    with torch.no_grad():  # first use builds each group's tables (all 230, for the table sizes below)
        warm_up(encoder, halls_all)
    wall, cpu, (y_a, y_b, y_c) = _time(
        [lambda: encoder(x, halls), lambda: naive(encoder, data, x, halls), lambda: dense(encoder, data, x, halls)],
        repeats)

    tables = [encoder.table(hall) for hall in halls_all.tolist()]
    # Each setting's prepared tables (made by the warm-up; read by setting, not by the cache's keys, which
    # also hold the fold and pair-slot entries).
    prepared = [encoder._prepare(hall, x.device, torch.float32) for hall in halls_all.tolist()]
    modules = [p.module for p in prepared]
    # (a) exact tables: the generated modules' integer buffers plus the routing entries (slot, function: int64).
    sparse_bytes = sum(sum(b.numel() * b.element_size() for b in m.state_dict().values()) for m in modules)
    sparse_bytes += sum(t.entry_slot.nbytes + t.entry_function.nbytes for t in tables)
    compact_bytes = sum(m.n_terms * 3 + m.dim * 2 for m in modules)  # int16 row + int8 phase per term, int16 offsets
    prepared_bytes = sum(
        sum(v.numel() * v.element_size() for v in (p.module._angle_table, p.module._function_order, p.slot,
                                                     p.function, p.coefficient))
        for p in prepared)
    dense_bytes = sum(group["dense"].numel() * group["dense"].element_size() for group in data.values())
    n_cubic = len(basis(1, cutoff, shell).frequencies)
    n_hexagonal = len(basis(191, cutoff, shell).frequencies)
    print(f"\n{shell} cutoff {cutoff}: |U| = {n_cubic} (cubic axes) / {n_hexagonal} (hexagonal axes), "
          f"{encoder.n_slots} slots, out_features = {out_features}, k = 0 included")
    print(f"  {atoms} atoms over all 230 groups, float32, CPU, {torch.get_num_threads()} thread(s), "
          f"best of {repeats}; setup of (b)/(c) tables {setup:.1f} s")
    labels = ["(a) routing form (RoutingEncoder)", "(b) naive group averaging", "(c) dense |U|x|U| routing matrices"]
    print(f"  {'':38s} {'wall s':>8s} {'atoms/s':>12s} {'CPU s':>8s}  ratio to (a): wall, CPU")
    for label, seconds, seconds_cpu in zip(labels, wall, cpu, strict=True):
        print(f"  {label:38s} {seconds:8.3f} {atoms / seconds:12,.0f} {seconds_cpu:8.3f}  "
              f"{seconds / wall[0]:5.1f}x, {seconds_cpu / cpu[0]:5.1f}x")
    difference_b, difference_c = float((y_a - y_b).abs().max()), float((y_a - y_c).abs().max())
    print(f"  max |(a) - (b)| = {difference_b:.1e}, max |(a) - (c)| = {difference_c:.1e} "
          f"(|y| up to {float(y_a.abs().max()):.1f})")
    print("  routing tables of the 230 groups:")
    print(f"    (a) {sparse_bytes / 1e6:.2f} MB: int64 term tables of the generated modules and routing entries; "
          f"{compact_bytes / 1e6:.2f} MB packed as int16/int8")
    print(f"        {prepared_bytes / 1e6:.2f} MB: the encoder's prepared working tensors "
          "(float32 angles and coefficients, int32 indices)")
    print(f"    (c) {dense_bytes / 1e6:.1f} MB complex64 ({2 * dense_bytes / 1e6:.1f} MB complex128): "
          f"{dense_bytes / sparse_bytes:.0f}x the tables of (a), "
          f"{dense_bytes / prepared_bytes:.0f}x its working tensors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=100_000)
    parser.add_argument("--out-features", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configs", default="ball:5,box:4", help="shell:cutoff, comma-separated")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for item in args.configs.split(","):
        shell, cutoff = item.split(":")
        run(shell, int(cutoff), args.atoms, args.out_features, args.repeats)


if __name__ == "__main__":
    main()
