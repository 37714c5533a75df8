"""predict a property for CIF/POSCAR files with a saved model (CSV on stdout)

Prints `file,prediction,error,symprec` for each structure file, in input order and in the target's
units (an elastic-tensor model: `file,elastic_c11,...,elastic_c66,error,symprec`, GPa, Voigt, in the
Cartesian frame of each file). A file that cannot be read or standardized gets an empty prediction
and the reason in the error column; the others are still predicted, and the exit status is then 1.
symprec is the tolerance (A) at which the symmetry was found: the model's (or --symprec), or the
first of 0.01, 0.001, 0.0001, 1e-05 below it when spglib finds none there.

Notes
-----
One row per input file, in input order: ``file,<the target's columns>,error,symprec`` (the columns:
``prediction``, or ``elastic_c11 .. elastic_c66``), written chunk by chunk as the
files are read and predicted (:func:`crystal_fourier.runtime.stream_predictions`:
peak memory does not grow with the number of files). A file that cannot be
read or standardized gets an empty prediction and the reason in ``error`` (the message names
the file); the others are still predicted, and the command exits 1 at the end, saying how
many failed. ``symprec`` is the tolerance (Angstrom) at which the file's symmetry was found: the
model's (or ``--symprec``), or a smaller one of ``SYMPREC_RETRY_SEQUENCE`` when spglib found
none there.
"""

from __future__ import annotations

import csv
import sys

from crystal_fourier._commands._options import add_command, add_species_option, add_symprec_option

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "predict", __doc__)
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory from `crystal-fourier train`")
    parser.add_argument("files", nargs="+", metavar="FILE", help="structure files (CIF, POSCAR, extxyz, JSON)")
    parser.add_argument("--device", default=None, help="torch device (default: the trained one)")
    add_symprec_option(parser, from_model=True)
    add_species_option(parser)
    parser.add_argument("--allow-large", action="store_true",
                        help="predict structures estimated to need more than 1 GiB (about 4,400 atoms at 8 heads); "
                             "by default such a structure gets an error row")
    parser.set_defaults(func=run)


def _located(path: str, error: Exception) -> str:
    """The error's message, naming the file once (readers already name it)."""
    message = " ".join(str(error).split()) or type(error).__name__
    return message if str(path) in message else f"{path}: {message}"


def run(args) -> int:
    from crystal_fourier._commands._options import parse_species
    from crystal_fourier.runtime import load_trained, read_structure, stream_predictions
    from crystal_fourier.runtime.learning._model_files import check_device
    from crystal_fourier.runtime.learning._prediction import prediction_atom_limit

    species = parse_species(args.species)
    if args.device is not None:
        check_device(args.device)
    trained = load_trained(args.model, device=args.device)
    symprec = args.symprec if args.symprec is not None else trained.config.symprec
    target = trained.target
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["file", *target.output_columns, "error", "symprec"])
    failed = 0
    stream = stream_predictions(trained, ((str(path), path) for path in args.files), symprec=symprec,
                                load=lambda path: read_structure(path, species=species),
                                max_atoms=None if args.allow_large else prediction_atom_limit(trained))
    for prediction in stream:  # rows are written chunk by chunk, in input order
        tolerance = "" if prediction.symprec is None else f"{prediction.symprec:g}"
        if prediction.error is not None:
            failed += 1
            writer.writerow([prediction.name, *[""] * len(target.output_columns),
                             _located(prediction.name, prediction.error), tolerance])
        else:
            writer.writerow([prediction.name, *target.csv_values(prediction.value), "", tolerance])
    sys.stdout.flush()
    if failed:
        print(f"crystal-fourier predict: {failed} of {len(args.files)} file(s) failed (empty prediction, "
              "reason in the error column)", file=sys.stderr)
        return 1
    return 0

