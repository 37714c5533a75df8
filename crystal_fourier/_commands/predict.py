"""predict a property for structure files, directories, trajectories, databases and CSV files (CSV on stdout)

Prints `file,frame,prediction,error,symprec` for each structure, in input order and in the target's
units (an elastic-tensor model: `file,frame,elastic_c11,...,elastic_c66,error,symprec`, GPa, Voigt, in
the Cartesian frame of each structure). A SOURCE is a structure file (CIF, POSCAR, JSON; frame empty), a
directory (its structure files, sorted by name, not recursive), an extxyz trajectory (every frame;
frame = its index from 0), an ASE database .db or .json (every row; frame = its id), a CSV with a cif
column (the CDVAE format; frame = material_id, else the row index from 0) or @LIST, a file naming one
source per line. A structure that cannot be read or standardized, and a source that cannot be read at
all, gets an empty prediction and the reason in the error column; the others are still predicted, and
the exit status is then 1. symprec is the tolerance (A) at which the symmetry was found: the model's
(or --symprec), or the first of 0.01, 0.001, 0.0001, 1e-05 below it when spglib finds none there.

Notes
-----
One row per structure, in input order: ``file,frame,<the target's columns>,error,symprec`` (the
columns: ``prediction``, or ``elastic_c11 .. elastic_c66``), written chunk by chunk as the structures
are read and predicted (:func:`crystal_fourier.runtime.iter_structures` reads the sources one
structure at a time, :func:`crystal_fourier.runtime.stream_predictions` predicts them in chunks: peak
memory grows neither with the number of structures nor with the length of a trajectory). ``file`` is
the source as given (a directory's files and a list file's lines as paths), ``frame`` is empty for a
one-structure file. A structure that cannot be read or standardized gets an empty prediction and the
reason in ``error`` (the message names the file and frame); the others are still predicted, and the
command exits 1 at the end, saying how many failed. ``symprec`` is the tolerance (Angstrom) at which
the structure's symmetry was found: the model's (or ``--symprec``), or a smaller one of
``SYMPREC_RETRY_SEQUENCE`` when spglib found none there.
"""

from __future__ import annotations

import csv
import sys

from crystal_fourier._commands._options import add_command, add_species_option, add_symprec_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "predict", __doc__)
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory from `crystal-fourier train`")
    parser.add_argument("files", nargs="+", metavar="SOURCE",
                        help="structure files (CIF, POSCAR, extxyz, JSON), directories, extxyz trajectories, ASE "
                             "databases (.db, .json), CSV files with a cif column, or @LIST (one source per line)")
    parser.add_argument("--device", default=None, help="torch device (default: the trained one)")
    add_symprec_option(parser, from_model=True)
    add_species_option(parser)
    parser.add_argument("--allow-large", action="store_true",
                        help="predict structures estimated to need more than 1 GiB (about 4,400 atoms at 8 heads); "
                             "by default such a structure gets an error row")
    parser.set_defaults(func=run)


def _located(name: str, error: Exception) -> str:
    """The error's message, naming the structure once (readers already name it)."""
    message = " ".join(str(error).split()) or type(error).__name__
    return message if name in message else f"{name}: {message}"


def run(args) -> int:
    from collections import deque

    from crystal_fourier._commands._options import parse_species
    from crystal_fourier.runtime import (check_device, iter_structures, load_trained, prediction_atom_limit,
                                         stream_predictions)

    species = parse_species(args.species)
    if args.device is not None:
        check_device(args.device)
    trained = load_trained(args.model, device=args.device)
    symprec = args.symprec if args.symprec is not None else trained.config.symprec
    target = trained.target
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["file", "frame", *target.output_columns, "error", "symprec"])
    failed = total = 0
    pending = deque()  # (source, frame, name) of the items read, not yet written: one Prediction per item, in order

    def items():
        for item in iter_structures(args.files, species=species):
            pending.append((item.source, "" if item.frame is None else item.frame, item.name))
            yield item.name, item

    stream = stream_predictions(trained, items(), symprec=symprec, load=_load,
                                max_atoms=None if args.allow_large else prediction_atom_limit(trained))
    for prediction in stream:  # rows are written chunk by chunk, in input order
        source, frame, name = pending.popleft()
        total += 1
        tolerance = "" if prediction.symprec is None else f"{prediction.symprec:g}"
        if prediction.error is not None:
            failed += 1
            writer.writerow([source, frame, *[""] * len(target.output_columns),
                             _located(name, prediction.error), tolerance])
        else:
            writer.writerow([source, frame, *target.csv_values(prediction.value), "", tolerance])
    sys.stdout.flush()
    if failed:
        print(f"crystal-fourier predict: {failed} of {total} structure(s) failed (empty prediction, "
              "reason in the error column)", file=sys.stderr)
        return 1
    return 0


def _load(item):
    return item.load()
