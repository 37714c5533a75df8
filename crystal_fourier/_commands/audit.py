"""check any crystal model's invariance claims (energy, forces, stress) on exact re-descriptions

Re-describes each crystal exactly (atom permutations, lattice translations, origin shifts,
rotations, reflections, supercells, Niggli and unimodular bases of both handedness, primitive <->
conventional cells, the crystal's own space-group operations, normalizer cosets, near-degenerate
bases), calls the model on every description, and compares its outputs after the exact atom map and
frame change; the derivatives kind checks forces and stress against central differences of the
model's energy (in the cell and its left-handed twin), continuity that outputs change smoothly along
small random displacements and strains, batch that a batch gives what single calls give. Writes
report.json, report.md, report.html, summary.png and a reproducer script per failure into --out;
the last line names the worst kind with its error / tolerance. Exit status: 0 every check within
tolerance; 1 the model fails its claim; 2 bad input (one line, nothing written; an unreadable
structure in --structures is bad input, named with its frame and the count of the others); 3 the
model raised or timed out on at least one call (each call named in report.md, every other check
reported; takes precedence over 1); 4 a worker process died (the crystals finished before are kept
in OUT/checks.jsonl: rerun with --resume); 130 interrupted. --workers N and --scheduler ADDRESS
(Dask) give the same report.json.

Notes
-----
Writes OUT/report.json, OUT/report.md, OUT/report.html, OUT/summary.png and OUT/reproducers/*.py
(one per failure, each exiting 1 exactly when its check failed), prints the Markdown table.
OUT/checks.jsonl holds every check of every finished crystal (one JSON line per crystal, appended as
crystals finish); ``--resume`` keeps the crystals it holds. The statuses are
EXIT_FAILS_CLAIM and EXIT_MODEL_ERROR below; 2 and 130 come from crystal_fourier.cli.main.
"""

from __future__ import annotations

import sys

from crystal_fourier._commands._options import (
    add_command,
    add_engine_options,
    add_groups_option,
    nonnegative_int,
    positive_float,
    positive_int,
    seed_int,
)
from crystal_fourier.errors import CrystalFourierError

__all__ = ["add_parser", "run", "EXIT_FAILS_CLAIM", "EXIT_MODEL_ERROR"]

EXIT_FAILS_CLAIM = 1
"""Exit status: at least one check above its tolerance."""
EXIT_MODEL_ERROR = 3
"""Exit status: at least one model call raised or ran past --timeout (takes precedence over 1)."""

JOURNAL = "checks.jsonl"
"""In --out: every check of every finished crystal, one JSON line per crystal, appended as crystals finish
(report.json summarises it); --resume reads it back."""

RANDOM_MAX_ATOMS = 30
"""Atoms per random crystal at most (or --max-atoms when smaller)."""


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "audit", __doc__)
    parser.add_argument("--model", required=True, metavar="SPEC",
                        help="a saved model DIR, ase:NAME (e.g. ase:EMT), chgnet, sevennet[:NAME], or module:callable "
                             "(a callable Crystal -> float | dict with energy, forces, stress)")
    parser.add_argument("--structures", nargs="+", default=[], metavar="SOURCE",
                        help="structure files (CIF, POSCAR, extxyz, JSON), directories, extxyz trajectories (every "
                             "frame), ASE databases (.db, .json), CSV files with a cif column, or @LIST (one source "
                             "per line); a structure is named 'file', or 'file, frame N' ('id N', 'material_id X', "
                             "'row N') in the report")
    parser.add_argument("--random", type=nonnegative_int, default=0, metavar="N",
                        help="also audit N random crystals of the package (random_crystal), their groups drawn "
                             "with --seed from --groups (default all 230; without repetition while N allows)")
    add_groups_option(parser)
    parser.add_argument("--kinds", default="all", metavar="LIST",
                        help="comma-separated kinds of re-description, or 'all' (default)")
    parser.add_argument("--claim", choices=("E3", "SE3"), default=None,
                        help="E3: invariant under rotations and reflections; SE3: rotations only (default: what "
                             "the model declares, e.g. SE3 for a SevenNet checkpoint built without parity, else E3)")
    parser.add_argument("--energy", choices=("extensive", "intensive"), default="extensive",
                        help="the energy is a total that scales with supercells (default), or a per-atom or "
                             "material property (e.g. a saved model's target)")
    parser.add_argument("--per-kind", type=positive_int, default=2, metavar="N",
                        help="random re-descriptions per kind and crystal (default 2)")
    parser.add_argument("--max-atoms", type=positive_int, default=240, metavar="N",
                        help="largest crystal the model is called on (inputs above it are refused, "
                             "supercells above it skipped; default 240)")
    parser.add_argument("--symprec", type=positive_float, default=None, metavar="A",
                        help="spglib tolerance in Angstrom for the symmetry kinds (default the standardization's)")
    parser.add_argument("--dtype", choices=("auto", "float32", "float64"), default="auto",
                        help="precision the model computes in, which sets the tolerance (1e-4 float32, 1e-9 "
                             "float64, relative to max(1, |output|)); auto: read from the model's torch "
                             "parameters where it has some, else the adapter's (default auto); float64 runs "
                             "a float32 model's float64 twin where it has one (chgnet, saved models)")
    parser.add_argument("--timeout", type=positive_float, default=None, metavar="SECONDS",
                        help="time limit of one model call; a call past it is a model error (exit 3)")
    parser.add_argument("--seed", type=seed_int, default=0, help="seed of the random crystals and draws")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for the report files")
    add_engine_options(parser, resume="keep the crystals OUT/checks.jsonl already holds (a run with the same "
                                      "inputs and options that stopped) and audit only the rest")
    parser.set_defaults(func=run)


def _crystals(args) -> tuple[list, list[str]]:
    from crystal_fourier.audit._kinds import random_groups
    from crystal_fourier.derive._space_groups import parse_groups
    from crystal_fourier.runtime import iter_structures, random_crystal

    crystals, names, unreadable = [], [], []
    for item in iter_structures(args.structures):
        try:
            crystal = item.load()
        except CrystalFourierError as error:
            message = " ".join(str(error).split())
            unreadable.append(message if item.name in message else f"{item.name}: {message}")
            continue
        if crystal.n_atoms > args.max_atoms:
            unreadable.append(f"{item.name}: {crystal.n_atoms} atoms is more than --max-atoms {args.max_atoms}")
            continue
        crystals.append(crystal)
        names.append(item.name)
    if unreadable:  # every structure is read before the audit starts: bad input costs no model time
        more = f" (and {len(unreadable) - 1} more unreadable structures)" if len(unreadable) > 1 else ""
        raise CrystalFourierError(unreadable[0] + more)
    for index, number in enumerate(random_groups(parse_groups(args.groups), args.random, args.seed)):
        made = random_crystal(number, seed=args.seed + index, max_atoms=min(args.max_atoms, RANDOM_MAX_ATOMS))
        crystals.append(made.crystal)
        names.append(f"random sg{number} seed {args.seed + index}")
    if not crystals:
        raise CrystalFourierError("nothing to audit: give --structures SOURCE... and/or --random N")
    return crystals, names


def run(args) -> int:
    from crystal_fourier.audit import Claim, audit, markdown_table, model_from_spec
    from crystal_fourier.audit._kinds import parse_kinds

    from pathlib import Path

    from crystal_fourier._engine import check_engine_options

    check_engine_options(args.workers, args.scheduler)
    kinds = parse_kinds(args.kinds)
    crystals, names = _crystals(args)
    model = model_from_spec(args.model)
    claim = Claim(symmetry=args.claim or model.symmetry or "E3", energy=args.energy)
    if args.claim is None and model.note:
        print(f"crystal-fourier audit: {model.note}", file=sys.stderr)
    report = audit(model, crystals, claim=claim, kinds=kinds, per_kind=args.per_kind, seed=args.seed, names=names,
                   symprec=args.symprec, max_atoms=args.max_atoms, progress=None, dtype=args.dtype,
                   timeout=args.timeout, workers=args.workers, scheduler=args.scheduler,
                   journal=Path(args.out) / JOURNAL, resume=args.resume)
    written = report.write(args.out)
    sys.stdout.write(markdown_table(report))
    sys.stdout.flush()
    status = 0
    if not report.ok:
        worst = report.failures[0]
        print(f"crystal-fourier audit: {report.model} breaks its claim ({claim.describe()}) in kinds "
              f"{', '.join(report.failing_kinds)}; worst {worst.kind} {worst.quantity} at {worst.ratio:.3g}x the "
              f"tolerance ({worst.crystal}, '{worst.label}'); {len(report.failures)} failed checks, reproducers in "
              f"{written['json'].parent / 'reproducers'}", file=sys.stderr)
        status = EXIT_FAILS_CLAIM
    if report.errors:
        first = report.errors[0]
        print(f"crystal-fourier audit: {report.model} raised or timed out on {len(report.errors)} calls; first: "
              f"{first.crystal}, {first.kind} '{first.label}': {first.message} (all in {written['markdown']})",
              file=sys.stderr)
        status = EXIT_MODEL_ERROR
    return status
