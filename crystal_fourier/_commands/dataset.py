"""make labelled data sets of random symmetric crystals, or prepare a data file for training

Data sets the package makes itself: random crystals of chosen space groups, labelled with ASE's EMT
potential (energy per atom at equilibrium, bulk modulus); and sample stores: a data file read and
standardized once, for `train --data STORE` on many processes.

Notes
-----
``dataset make`` (:func:`run_make`, whose docstring is its help) writes a CDVAE CSV; ``dataset prepare``
(:func:`run_prepare`) writes a sample store (docs/guide/training-at-scale.md).
"""

from __future__ import annotations

import os

from crystal_fourier._commands._options import (
    ConfigDefault,
    add_allow_large_option,
    add_command,
    add_groups_option,
    add_symprec_option,
    parse_groups,
    positive_float,
    positive_int,
    seed_int,
    worker_count,
)
from crystal_fourier.errors import CrystalFourierError

__all__ = ["add_parser", "run_make", "run_prepare", "DATASET_MEMORY_LIMIT"]

DATASET_MEMORY_LIMIT = 2 * 2**30
"""Estimated memory (2 GiB) beyond which `dataset make` refuses to start without --allow-large."""


def add_parser(subparsers) -> None:
    """Register ``dataset`` and its subcommand ``make``."""
    parser = add_command(subparsers, "dataset", __doc__)
    actions = parser.add_subparsers(dest="dataset_command", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    make = add_command(actions, "make", run_make.__doc__)
    add_groups_option(make)
    make.add_argument("--size", type=positive_int, required=True, metavar="N", help="number of crystals")
    make.add_argument("--out", required=True, metavar="FILE.csv", help="the CSV to write")
    make.add_argument("--seed", type=seed_int, default=0, metavar="S", help="random seed (default 0)")
    make.add_argument("--workers", type=worker_count, default=1, metavar="W",
                      help="parallel processes (default 1)")
    make.add_argument("--max-atoms", type=positive_int, default=32, metavar="M",
                      help="most atoms in a conventional cell (default 32: the smallest orbit of Fd-3c has 32)")
    make.add_argument("--species", default="Al,Cu,Ag,Au,Ni,Pd,Pt", metavar="LIST",
                      help="comma-separated EMT elements to draw from (default Al,Cu,Ag,Au,Ni,Pd,Pt)")
    make.add_argument("--target", choices=("eos", "elastic_tensor"), default="eos",
                      help="eos (default): energy per atom and equation-of-state bulk modulus; elastic_tensor: "
                           "also the 21 components elastic_c11..elastic_c66 of the EMT elastic tensor (GPa, Voigt "
                           "order xx,yy,zz,yz,xz,xy, engineering shear, clamped ions, in the frame of the CIF, "
                           "which holds the standardized cell) and its Hill moduli bulk_modulus_vrh, "
                           "shear_modulus_vrh; every tensor is checked against the crystal's symmetry")
    make.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_allow_large_option(make)
    make.set_defaults(func=run_make)
    _add_prepare_parser(actions)


def _add_prepare_parser(actions) -> None:
    prepare = add_command(actions, "prepare", run_prepare.__doc__)
    prepare.add_argument("--data", required=True, metavar="FILE", help="data file (CDVAE CSV, .extxyz, matbench .json)")
    prepare.add_argument("--target", required=True, metavar="NAME",
                         help="property column whose labels to store, or elastic_tensor (as train's --target)")
    prepare.add_argument("--out", required=True, metavar="STORE", help="the store directory to write")
    prepare.add_argument("--workers", type=worker_count, default=1, metavar="N",
                         help="processes for standardizing the structures (default 1)")
    add_symprec_option(prepare, from_model=False)
    prepare.add_argument("--handedness", choices=("canonical", "keep"), default="canonical",
                         help="canonical (default) or keep, as train's --handedness (recorded in the store)")
    prepare.add_argument("--no-neighbourhood", dest="neighbourhood", action="store_false",
                         help="store no neighbourhoods (a model that embeds them then computes them batch by batch, "
                              "every epoch)")
    prepare.add_argument("--neighbour-cutoff", type=positive_float, default=ConfigDefault("ModelConfig",
                         "neighbour_cutoff"), metavar="A",
                         help="radius of the stored neighbourhoods in Angstrom, as train's (default %(default)s)")
    prepare.add_argument("--radial-functions", dest="n_rbf", type=positive_int,
                         default=ConfigDefault("ModelConfig", "n_rbf"), metavar="N",
                         help="radial functions of the stored neighbourhoods, as train's (default %(default)s)")
    prepare.add_argument("--limit", type=positive_int, default=None, metavar="N",
                         help="use only the first N structures")
    prepare.add_argument("--overwrite", action="store_true", help="replace the store already at STORE")
    prepare.add_argument("--no-progress", action="store_true", help="no progress bars")
    prepare.set_defaults(func=run_prepare)


def run_make(args) -> int:
    """write random crystals with EMT labels as a CDVAE CSV

    Random crystals of the given groups (in turn), atoms at general and special positions, each
    scaled to its EMT equilibrium volume. Writes a CDVAE CSV with the columns material_id, cif (P1),
    spacegroup (detected by spglib), energy_per_atom (eV/atom) and bulk_modulus (GPa). Finished rows
    go to OUT.partial, so an interrupted run resumes; OUT is written atomically at the end.

    Notes
    -----
    Runs ``dataset make``; returns the exit status.
    """
    from crystal_fourier.runtime import make_dataset
    from crystal_fourier.runtime.data._random_datasets import dataset_estimate

    seconds, memory = dataset_estimate(args.size, args.max_atoms, args.workers)
    if memory > DATASET_MEMORY_LIMIT and not args.allow_large:
        raise CrystalFourierError(
            f"--size {args.size} needs ~{memory / 2**30:.1f} GiB of memory and ~{seconds / 3600:.1f} h with "
            f"{args.workers} worker(s), beyond the limit of {DATASET_MEMORY_LIMIT / 2**30:.0f} GiB; make it in parts "
            "(--seed) or pass --allow-large to go ahead")
    groups = parse_groups(args.groups)
    species = [s.strip() for s in args.species.split(",") if s.strip()]
    if not species:
        raise CrystalFourierError("--species must name at least one element")
    out = make_dataset(args.out, groups=groups, size=args.size, seed=args.seed, workers=args.workers,
                       max_atoms=args.max_atoms, species=species, progress=not args.no_progress,
                       target=args.target)
    print(f"wrote {args.size} crystals of {len(groups)} group(s) to {out}")
    return 0


def run_prepare(args) -> int:
    """read and standardize a data file once, into a sample store for train --data STORE

    Reads the data file, standardizes every structure (--workers processes) and labels it with
    --target, exactly as `train` does, computes the atoms' neighbourhoods at --neighbour-cutoff and
    --radial-functions (unless --no-neighbourhood), and writes STORE: a directory of numpy arrays and a
    manifest (sizes, symprec, handedness, target, package version, sha256 of every array), as a whole.
    `train --data STORE` then memory-maps it on every rank instead of reading the file again. An
    existing STORE is replaced only with --overwrite; any other existing path is refused.

    Notes
    -----
    Runs ``dataset prepare``; returns the exit status.
    """
    import json
    from pathlib import Path

    from crystal_fourier._commands.train import iter_file_samples
    from crystal_fourier.runtime import target_for
    from crystal_fourier.runtime.learning._sample_store import STORE_MANIFEST, is_sample_store, write_sample_store

    out = Path(args.out)
    if os.path.lexists(out) and not (args.overwrite and is_sample_store(out)):
        raise CrystalFourierError(f"{out} exists; pass --overwrite to replace a store" if is_sample_store(out)
                                  else f"{out} exists and is not a sample store; choose a new --out")
    target = target_for(args.target)   # an unknown name is refused before the data is read
    spec = (float(args.neighbour_cutoff), int(args.n_rbf)) if args.neighbourhood else None
    # a stream: each sample is appended to the store's files as it is standardized (memory of a few chunks)
    samples = iter_file_samples(args.data, args.target, args.symprec, args.limit, not args.no_progress,
                                args.workers, handedness=args.handedness, neighbours=spec)
    write_sample_store(out, samples, symprec=args.symprec, handedness=args.handedness, target=args.target,
                       label_shape=target.label_shape, neighbours=spec)
    count = json.loads((out / STORE_MANIFEST).read_bytes())["count"]
    print(f"wrote {count} samples of {args.target} to {out}")
    return 0
