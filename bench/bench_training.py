"""Throughput of the CFT against the non-invariant sinusoidal baseline, in the same run (CPU).

Prints, for the default model sizes (ModelConfig) and batch 64:
* training throughput in crystals per second (forward + backward + AdamW step),
* inference time for 10,000 crystals,
* the positional encoder alone (the part that differs between the two models),
* the cost of standardization (spglib detection + ITA standard setting) per crystal.

The goal of issue 4: the invariant encoding costs at most 30% over the baseline.
The two models are timed in alternating rounds so that drifting machine load
affects both alike; the best round of each is reported (the usual convention
for micro-benchmarks: the minimum is the least disturbed measurement), with the
median beside it.

Usage: python bench/bench_training.py [--crystals 128] [--rounds 5] [--steps 6] [--inference 10000]
                                     [--threads 2] [--d-route N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np
import torch


def make_crystals(count: int, seed: int = 0):
    """Random crystals over many groups (the package's own generator), as (Crystal, group number)."""
    from crystal_fourier.runtime import random_crystal

    groups = (1, 2, 4, 5, 14, 15, 20, 38, 43, 62, 70, 76, 91, 122, 139, 141, 148, 160, 166, 176, 186, 191,
              194, 198, 205, 216, 221, 225, 227, 229)
    out = []
    for i in range(count):
        number = groups[i % len(groups)]
        made = random_crystal(number, seed=seed * 100000 + i, max_atoms=24)
        out.append(made.crystal)
    return out


def load_crystals(path, count: int):
    """The first ``count`` structures of a data file (e.g. ../shared/data/carbon_24/val.csv)."""
    from crystal_fourier.runtime import load_dataset

    return [record.crystal for record in load_dataset(path, limit=count)]


def rotated(crystal, rng):
    """The same crystal in a randomly rotated Cartesian frame (what a user's file may hold)."""
    from crystal_fourier.runtime import Crystal

    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    return Crystal(crystal.lattice @ q.T, crystal.positions, crystal.numbers)


def standardized_samples(crystals, symprec: float):
    from crystal_fourier.runtime import sample_from_standardized, standardize

    rng = np.random.default_rng(0)
    inputs = [rotated(c, rng) for c in crystals]
    start = time.perf_counter()
    standardized = [standardize(c, symprec=symprec) for c in inputs]
    elapsed = time.perf_counter() - start
    samples = [sample_from_standardized(s, target=float(rng.normal())) for s in standardized]
    return samples, elapsed / len(inputs)


def train_round(model, optimizer, batches) -> float:
    """Seconds for one optimisation step per batch (forward, backward, AdamW)."""
    model.train()
    start = time.perf_counter()
    for batch in batches:
        loss = ((model(batch) - batch.targets) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


@torch.no_grad()
def encoder_round(model, batches) -> float:
    start = time.perf_counter()
    for batch in batches:
        mask = batch.mask
        hall = batch.hall_numbers[:, None].expand_as(mask)[mask]
        crystal = torch.arange(len(batch))[:, None].expand_as(mask)[mask]
        model.positional(batch.positions[mask], hall, model.context(batch)[crystal])
    return time.perf_counter() - start


@torch.no_grad()
def inference_seconds(model, samples, total: int, batch_size: int = 256) -> float:
    from crystal_fourier.runtime import collate

    model.eval()
    batches = []
    for start in range(0, total, batch_size):
        chosen = [samples[i % len(samples)] for i in range(start, min(start + batch_size, total))]
        # collation (and the cached neighbourhoods) is included in neither model's time
        batches.append(collate(chosen, neighbours=model.config.neighbour_spec))
    begin = time.perf_counter()
    for batch in batches:
        model(batch)
    return time.perf_counter() - begin


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crystals", type=int, default=128, help="distinct crystals (default 128)")
    parser.add_argument("--data", default=None, metavar="PATH",
                        help="take the crystals from this data file (e.g. ../shared/data/carbon_24/val.csv) "
                             "instead of random crystals of 30 groups spread evenly (the worst case for the routing, "
                             "which builds one weight map per group present in a batch)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds (default 5)")
    parser.add_argument("--steps", type=int, default=6, help="batches of 64 per training round (default 6)")
    parser.add_argument("--inference", type=int, default=10000, help="crystals to infer (default 10000)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2: the project's machines)")
    parser.add_argument("--d-route", type=int, default=None, help="routing width (default: ModelConfig's)")
    parser.add_argument("--json", default=None, help="also write the numbers here")
    args = parser.parse_args(argv)

    from crystal_fourier.runtime import collate, ModelConfig, build_model

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    crystals = make_crystals(args.crystals) if args.data is None else load_crystals(args.data, args.crystals)
    source = "random crystals of 30 groups" if args.data is None else args.data
    print(f"read {len(crystals)} crystals ({source}) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    samples, standardize_seconds = standardized_samples(crystals, symprec=0.01)
    from crystal_fourier.runtime.network._neighbourhood import with_neighbours

    samples = with_neighbours(samples, *ModelConfig().neighbour_spec)   # once, as training does
    n_atoms = np.array([len(s) for s in samples])

    rng = np.random.default_rng(1)
    batches = [collate([samples[i] for i in rng.choice(len(samples), 64)], neighbours=ModelConfig().neighbour_spec)
               for _ in range(args.steps)]
    models, optimizers = {}, {}
    for kind in ("cft", "sinusoidal"):
        torch.manual_seed(0)
        config = ModelConfig(kind=kind) if args.d_route is None else ModelConfig(kind=kind, d_route=args.d_route)
        models[kind] = build_model(config)
        optimizers[kind] = torch.optim.AdamW(models[kind].parameters(), lr=1e-4)
        # Warm-up over every batch: allocations, and the routing tables of every group (built on first use).
        train_round(models[kind], optimizers[kind], batches)
        encoder_round(models[kind], batches)

    train_times = {kind: [] for kind in models}
    encoder_times = {kind: [] for kind in models}
    for _ in range(args.rounds):
        for kind, model in models.items():
            train_times[kind].append(train_round(model, optimizers[kind], batches))
            encoder_times[kind].append(encoder_round(model, batches))
    inference = {kind: [] for kind in models}
    for _ in range(2):  # alternating, best of two
        for kind, model in models.items():
            inference[kind].append(inference_seconds(model, samples, args.inference))
    inference = {kind: min(times) for kind, times in inference.items()}

    crystals_per_round = 64 * args.steps
    result = {
        "threads": args.threads, "crystals": len(samples), "mean_atoms": float(n_atoms.mean()),
        "batch_size": 64, "model": config.to_dict(),
        "standardize_ms_per_crystal": 1000 * standardize_seconds,
        "train_crystals_per_s": {k: crystals_per_round / min(v) for k, v in train_times.items()},
        "train_crystals_per_s_median": {k: crystals_per_round / statistics.median(v) for k, v in train_times.items()},
        "encoder_ms_per_batch": {k: 1000 * min(v) / args.steps for k, v in encoder_times.items()},
        "inference_s": {k: v for k, v in inference.items()},
        "inference_crystals": args.inference,
    }
    overhead = result["train_crystals_per_s"]["sinusoidal"] / result["train_crystals_per_s"]["cft"] - 1.0
    result["train_overhead_vs_baseline"] = overhead
    result["inference_overhead_vs_baseline"] = inference["cft"] / inference["sinusoidal"] - 1.0

    groups_per_batch = np.mean([len(torch.unique(b.group_numbers)) for b in batches])
    result["source"] = source
    result["groups_per_batch"] = float(groups_per_batch)
    print(f"{source}: {len(samples)} crystals, mean {n_atoms.mean():.1f} atoms (standardized conventional cells), "
          f"{groups_per_batch:.1f} groups per batch of 64")
    print(f"CPU threads {args.threads}; ModelConfig defaults, d_route {config.d_route}")
    print(f"{'':28}{'CFT':>12}{'sinusoidal':>12}")
    for label, key, fmt in (("train crystals/s (best)", "train_crystals_per_s", "{:12.1f}"),
                            ("train crystals/s (median)", "train_crystals_per_s_median", "{:12.1f}"),
                            ("encoder ms/batch", "encoder_ms_per_batch", "{:12.2f}"),
                            (f"inference s/{args.inference}", "inference_s", "{:12.2f}")):
        print(f"{label:28}" + "".join(fmt.format(result[key][k]) for k in ("cft", "sinusoidal")))
    print(f"training overhead of the invariant encoding: {100 * overhead:+.1f}% (goal <= +30%)")
    print(f"inference overhead: {100 * result['inference_overhead_vs_baseline']:+.1f}%")
    print(f"standardization: {result['standardize_ms_per_crystal']:.2f} ms per crystal (spglib, rotated inputs)")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
