"""make labelled data sets of random symmetric crystals

Data sets the package makes itself: random crystals of chosen space groups, labelled with ASE's EMT
potential (energy per atom at equilibrium, bulk modulus).

Notes
-----
``dataset make`` (:func:`run_make`, whose docstring is its help) writes a CDVAE CSV.
"""

from __future__ import annotations

from crystal_fourier._commands._options import (
    add_allow_large_option,
    add_command,
    add_groups_option,
    parse_groups,
    positive_int,
    seed_int,
    worker_count,
)
from crystal_fourier.errors import CrystalFourierError

__all__ = ["add_parser", "run_make", "DATASET_MEMORY_LIMIT"]

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
