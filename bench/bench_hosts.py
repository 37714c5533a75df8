"""Host GNNs with and without the invariant layer (issue 25): the sparse-data arms and the layer's step-time cost.

``HOST_ARMS`` maps an arm name to ``fit_predict(train, test, *, seed, steps, batch_size, target, info=None)``: train
the arm on ``train`` (a list of :class:`crystal_fourier.runtime.Record`) for exactly ``steps`` optimizer
steps, seeded, and return float64 predictions of ``target`` for ``test`` in order; ``info`` (a dict) receives the
full config and the parameter count (bench/bench_sparse.py imports it; protocol: docs/guide/sparse-data.md).
Arms: ``schnet`` (PyG's SchNet, unmodified), ``cgcnn`` (a CGCNN from PyG's CGConv), each ``+layer`` with
:class:`~crystal_fourier.runtime.SpaceGroupEncoding` features concatenated to the node embedding
(:mod:`crystal_fourier.hosts`), and each ``+layer-p1``: the same layer and parameters evaluated as P1 (the
group averaging removed; the control, as ``cft-p1`` is the transformer's).

Run as a script it measures, in one process, the training-step CPU time of each host alone and with the
layer (alternating rounds on the same batches; the goal is at most +10%), and with ``--smoke`` runs every
arm on a few EMT-labelled crystals. It prints the commit, the configuration and the parameter counts.

With ``--profile`` it also profiles the host + layer's training step and the layer's own forward + backward at
the same batches (cProfile and torch.profiler, process CPU time; profilers inflate small operations, so read
the shares, not the milliseconds).

Usage: python bench/bench_hosts.py [--crystals 64] [--batch-size 32] [--rounds 5] [--steps 5] [--threads 1]
                                   [--smoke] [--profile [KIND]] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

HOST_CONFIG = {"width": 64, "cutoff": 5.0, "n_interactions": 3, "n_gaussians": 32}
"""Both hosts: hidden width, graph and distance-expansion cutoff (Angstrom), blocks, Gaussians."""
LAYER_CONFIG = {"cutoff": 6, "dim": 16}
"""SpaceGroupEncoding of the ``+layer`` arms: ball R = 6 (faithful for every group), 16 features (32 cost
+20-40% of the small SchNet's step, measured; 16 about +12%)."""
TRAIN_CONFIG = {"lr": 2e-3, "weight_decay": 0.0, "loss": "l1", "predict_batch": 64}
"""Adam on the L1 loss of the standardized target (train mean and SD), the same for every arm."""

ARM_SUFFIXES = {"": (False, False), "+layer": (True, False), "+layer-p1": (True, True)}
"""Arm name suffix -> (with the layer, the layer evaluated as P1)."""

_GRAPHS: dict[tuple[int, bool], tuple] = {}


def commit() -> str:
    """The repository's commit (``-dirty`` when the work tree differs), or 'unknown'."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def graph_of(crystal, as_p1: bool = False):
    """:func:`crystal_fourier.hosts.crystal_graph` of ``crystal``, computed once per object in this process.

    ``as_p1``: the graph carries the P1 basis values (``basis_p1``) that the ``+layer-p1`` arms read, instead of
    the group's (``basis``)."""
    from crystal_fourier.hosts import crystal_graph

    from crystal_fourier.runtime import SpaceGroupEncoding

    cached = _GRAPHS.get((id(crystal), as_p1))
    if cached is None or cached[0] is not crystal:
        # the layer's basis values depend on the positions only: computed here, once per crystal (any layer of
        # the same cutoff gives them), so that the +layer arms do not evaluate them on every step
        basis_of = SpaceGroupEncoding(cutoff=LAYER_CONFIG["cutoff"], dim=1)
        cached = (crystal, crystal_graph(crystal, cutoff=HOST_CONFIG["cutoff"], basis_of=basis_of,
                                         basis_as_p1=as_p1))
        _GRAPHS[(id(crystal), as_p1)] = cached
    return cached[1]


def build(kind: str, layer: bool, seed: int, as_p1: bool = False):
    """The host ``kind`` with or without the layer (evaluated as P1 when ``as_p1``), weights drawn from ``seed``."""
    from crystal_fourier.hosts import build_host
    from crystal_fourier.runtime import SpaceGroupEncoding

    torch.manual_seed(seed)
    encoding = SpaceGroupEncoding(**LAYER_CONFIG) if layer else None
    return build_host(kind, encoding=encoding, as_p1=as_p1, **HOST_CONFIG)


def n_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _targets(records, target: str) -> np.ndarray:
    return np.array([float(record.targets[target]) for record in records], dtype=np.float64)


def fit_predict(arm: str, train, test, *, seed: int, steps: int, batch_size: int, target: str,
                info: dict | None = None) -> np.ndarray:
    """Train the host of ``arm`` (a key of ``HOST_ARMS``) for ``steps`` Adam steps; predict ``test``; fill ``info``
    with the config and the parameter count."""
    from crystal_fourier.hosts import collate_graphs

    kind = arm.split("+", maxsplit=1)[0]
    layer, as_p1 = ARM_SUFFIXES[arm[len(kind):]]

    values = _targets(train, target)
    known = np.flatnonzero(np.isfinite(values))
    if len(known) == 0:
        raise ValueError(f"no training record has a finite {target!r}")
    mean, scale = float(values[known].mean()), float(values[known].std()) or 1.0
    graphs = [graph_of(train[i].crystal, as_p1) for i in known]
    labels = torch.tensor((values[known] - mean) / scale, dtype=torch.float32)
    model = build(kind, layer, seed, as_p1)
    if info is not None:
        info.update({"model_config": {"host": kind, **HOST_CONFIG, "layer": dict(LAYER_CONFIG) if layer else None,
                                      "layer_as_p1": as_p1},
                     "as_p1": as_p1, "parameters": n_parameters(model),
                     "optimizer": {"name": "Adam", **TRAIN_CONFIG}})
    optimizer = torch.optim.Adam(model.parameters(), lr=TRAIN_CONFIG["lr"], weight_decay=TRAIN_CONFIG["weight_decay"])
    generator = torch.Generator().manual_seed(seed)
    order, cursor = torch.randperm(len(graphs), generator=generator), 0
    model.train()
    for _ in range(steps):
        if cursor + min(batch_size, len(graphs)) > len(graphs):   # a new epoch: reshuffle
            order, cursor = torch.randperm(len(graphs), generator=generator), 0
        chosen = order[cursor:cursor + batch_size].tolist()
        cursor += len(chosen)
        batch = collate_graphs([graphs[i] for i in chosen])
        loss = torch.nn.functional.l1_loss(model(batch), labels[chosen])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(test), TRAIN_CONFIG["predict_batch"]):
            chunk = [graph_of(record.crystal, as_p1) for record in test[start:start + TRAIN_CONFIG["predict_batch"]]]
            out.append(model(collate_graphs(chunk)).double().numpy())
    return np.concatenate(out) * scale + mean if out else np.zeros(0)


def _arm(name: str):
    def arm(train, test, *, seed: int, steps: int, batch_size: int, target: str, info: dict | None = None
            ) -> np.ndarray:
        return fit_predict(name, train, test, seed=seed, steps=steps, batch_size=batch_size, target=target, info=info)

    arm.__name__ = name
    return arm


HOST_ARMS = {f"{kind}{suffix}": _arm(f"{kind}{suffix}") for kind in ("schnet", "cgcnn") for suffix in ARM_SUFFIXES}
"""Arm name -> fit_predict (module docstring)."""


# --------------------------------------------------------------------------- the script


def make_crystals(count: int, seed: int = 0, max_atoms: int = 24):
    """Random crystals over many groups from the package's generator (as bench_training.py draws them)."""
    from crystal_fourier.runtime import random_crystal

    groups = (1, 2, 4, 5, 14, 15, 20, 38, 43, 62, 70, 76, 91, 122, 139, 141, 148, 160, 166, 176, 186, 191,
              194, 198, 205, 216, 221, 225, 227, 229)
    return [random_crystal(groups[i % len(groups)], seed=seed * 100000 + i, max_atoms=max_atoms).crystal
            for i in range(count)]


def step_times(kind: str, graphs, args) -> dict:
    """CPU seconds per training step of the host alone and with the layer, in alternating rounds.

    Process CPU time, not wall time, with one thread: on shared cores wall time mostly measures the other
    jobs (measured here: the same step took 160-290 ms of wall time from run to run)."""
    from crystal_fourier.hosts import collate_graphs

    batches = [collate_graphs(graphs[i:i + args.batch_size]) for i in range(0, len(graphs), args.batch_size)]
    labels = [torch.zeros(b.num_graphs) for b in batches]
    models = {layer: build(kind, layer, 0) for layer in (False, True)}
    optimizers = {layer: torch.optim.Adam(m.parameters(), lr=1e-3) for layer, m in models.items()}
    times = {False: [], True: []}

    def run(layer: bool, steps: int) -> float:
        model, optimizer = models[layer], optimizers[layer]
        tick = time.process_time()   # CPU time of this process: other jobs on shared cores do not count
        for step in range(steps):
            index = step % len(batches)
            loss = torch.nn.functional.l1_loss(model(batches[index]), labels[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return (time.process_time() - tick) / steps

    for layer in (False, True):
        run(layer, 2)   # warm-up: the layer's tables of every group in the batches are prepared here
    for round_ in range(args.rounds):
        for layer in ((False, True) if round_ % 2 == 0 else (True, False)):   # alternate which goes first
            times[layer].append(run(layer, args.steps))
    alone, layered = min(times[False]), min(times[True])
    return {"host": kind, "seconds_per_step": alone, "seconds_per_step_with_layer": layered,
            "ratio": layered / alone, "ratio_median": statistics.median(times[True]) / statistics.median(times[False]),
            "parameters": n_parameters(models[False]), "parameters_with_layer": n_parameters(models[True])}


def profile(kind: str, graphs, args, rows: int = 15) -> None:
    """Print where the training step of ``kind`` + layer and the layer's forward + backward spend their time."""
    import cProfile
    import pstats

    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from crystal_fourier.hosts import collate_graphs

    batches = [collate_graphs(graphs[i:i + args.batch_size]) for i in range(0, len(graphs), args.batch_size)]
    model = build(kind, True, 0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    embedding = model.network.embedding

    def step(index: int) -> None:
        loss = model(batches[index % len(batches)]).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def layer(index: int) -> None:   # the layer alone: its features of the batch and their backward
        embedding.features(batches[index % len(batches)], torch.float32).sum().backward()

    for index in range(4):
        step(index)
        layer(index)
    for name, function in (("step", step), ("layer", layer)):
        tick = time.process_time()
        for index in range(20):
            function(index)
        print(f"{kind} {name}: {(time.process_time() - tick) / 20 * 1e3:.2f} ms CPU time (mean of 20, no profiler)")
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(20):
        step(index)
    profiler.disable()
    print(f"cProfile, {kind} + layer training step (20 steps), by own time:")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(rows)
    with torch_profile(activities=[ProfilerActivity.CPU]) as traced:
        for index in range(20):
            layer(index)
    print("torch.profiler, the layer's forward + backward (20 batches), by own CPU time:")
    print(traced.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows))


def smoke(args) -> dict:
    """Every arm on a few EMT-labelled crystals (a check that the arms run, not a measurement of accuracy)."""
    from crystal_fourier.runtime import emt_labels, random_crystal
    from crystal_fourier.runtime.data._datasets import Record

    records = []
    for i, number in enumerate((2, 14, 62, 139, 166, 194, 221, 225, 227, 229, 12, 71)):
        crystal = random_crystal(number, seed=i, max_atoms=12).crystal
        records.append(Record(f"smoke-{i}", crystal, {"energy_per_atom": emt_labels(crystal).energy_per_atom}))
    train, test = records[:8], records[8:]
    truth = _targets(test, "energy_per_atom")
    out = {}
    for name, arm in HOST_ARMS.items():
        first = arm(train, test, seed=0, steps=args.smoke_steps, batch_size=4, target="energy_per_atom")
        again = arm(train, test, seed=0, steps=args.smoke_steps, batch_size=4, target="energy_per_atom")
        out[name] = {"mae": float(np.abs(first - truth).mean()), "repeatable": bool(np.array_equal(first, again))}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crystals", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="also run every arm on 12 EMT-labelled crystals")
    parser.add_argument("--smoke-steps", type=int, default=20)
    parser.add_argument("--width", type=int, default=HOST_CONFIG["width"], help="host width (SchNet's default: 128)")
    parser.add_argument("--interactions", type=int, default=HOST_CONFIG["n_interactions"],
                        help="SchNet interactions / CGCNN convolutions (SchNet's default: 6)")
    parser.add_argument("--layer-dim", type=int, default=LAYER_CONFIG["dim"])
    parser.add_argument("--layer-cutoff", type=int, default=LAYER_CONFIG["cutoff"])
    parser.add_argument("--profile", nargs="?", const="schnet", choices=("schnet", "cgcnn"),
                        help="also profile the host (default schnet) + layer's step and the layer alone")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)
    # the timed configuration (the arms keep HOST_ARMS's defaults when imported)
    HOST_CONFIG.update(width=args.width, n_interactions=args.interactions)
    LAYER_CONFIG.update(dim=args.layer_dim, cutoff=args.layer_cutoff)
    torch.set_num_threads(args.threads)
    tick = time.perf_counter()
    graphs = [graph_of(c) for c in make_crystals(args.crystals)]
    build_seconds = time.perf_counter() - tick
    report = {"commit": commit(), "torch": torch.__version__, "threads": args.threads, "host_config": HOST_CONFIG,
              "layer_config": LAYER_CONFIG, "train_config": TRAIN_CONFIG, "crystals": args.crystals,
              "atoms": int(sum(g.num_nodes for g in graphs)), "edges": int(sum(g.num_edges for g in graphs)),
              "batch_size": args.batch_size, "graph_seconds_per_crystal": build_seconds / args.crystals,
              "step_times": [step_times(kind, graphs, args) for kind in ("schnet", "cgcnn")]}
    if args.smoke:
        report["smoke"] = smoke(args)
    if args.profile:
        profile(args.profile, graphs, args)
    print(f"commit {report['commit']}, torch {report['torch']}, {args.threads} thread(s); host {HOST_CONFIG}; "
          f"layer {LAYER_CONFIG}; {args.crystals} crystals ({report['atoms']} atoms, {report['edges']} edges), "
          f"batch {args.batch_size}, best of {args.rounds} rounds of {args.steps} steps (process CPU time)")
    print(f"graph construction (standardize + periodic neighbours): {report['graph_seconds_per_crystal'] * 1e3:.1f} "
          "ms per crystal (once per crystal, not per step)")
    print("| host | parameters | + layer | step (ms) | step + layer (ms) | ratio (best) | ratio (median) |")
    print("|---|---|---|---|---|---|---|")
    for row in report["step_times"]:
        print(f"| {row['host']} | {row['parameters']:,} | {row['parameters_with_layer']:,} | "
              f"{row['seconds_per_step'] * 1e3:.1f} | {row['seconds_per_step_with_layer'] * 1e3:.1f} | "
              f"{row['ratio']:.3f} | {row['ratio_median']:.3f} |")
    for name, row in report.get("smoke", {}).items():
        print(f"smoke {name}: test MAE {row['mae']:.4f} eV/atom over 4 crystals, repeatable {row['repeatable']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
