"""``crystal-fourier predict``: predictions of a saved model for structure files, as CSV.

One row per input file, in input order: ``file,prediction,error,symprec``. A file that cannot be
read or standardized gets an empty prediction and the reason in ``error`` (the message names
the file); the others are still predicted, and the command exits 1 at the end, saying how
many failed. ``symprec`` is the tolerance (Angstrom) at which the file's symmetry was found: the
model's (or ``--symprec``), or a smaller one of ``SYMPREC_RETRY_SEQUENCE`` when spglib found
none there.
"""

from __future__ import annotations

import csv
import sys

from crystal_fourier._commands._options import add_species_option, add_symprec_option
from crystal_fourier.errors import CrystalFourierError

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict a property for CIF/POSCAR files with a saved model (CSV on stdout)",
        description="Prints `file,prediction,error,symprec` for each structure file, in input order and in the "
                    "target's units. A file that cannot be read or standardized gets an empty prediction and the "
                    "reason in the error column; the others are still predicted, and the exit status is then 1. "
                    "symprec is the tolerance (A) at which the symmetry was found: the model's (or --symprec), or "
                    "the first of 0.01, 0.001, 0.0001, 1e-05 below it when spglib finds none there.")
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory from `crystal-fourier train`")
    parser.add_argument("files", nargs="+", metavar="FILE", help="structure files (CIF, POSCAR, extxyz, JSON)")
    parser.add_argument("--device", default=None, help="torch device (default: the trained one)")
    add_symprec_option(parser, from_model=True)
    add_species_option(parser)
    parser.set_defaults(func=run)


def _located(path: str, error: Exception) -> str:
    """The error's message, naming the file once (readers already name it)."""
    message = " ".join(str(error).split()) or type(error).__name__
    return message if str(path) in message else f"{path}: {message}"


def _sample(path: str, species, symprec: float, handedness: str = "canonical"):
    from crystal_fourier.runtime.learning._batching import sample_from_standardized
    from crystal_fourier.runtime.symmetry._standardization import standardize
    from crystal_fourier.runtime.structure_io._structures import read_structure

    crystal = read_structure(path, species=species)
    standardized = standardize(crystal, symprec=symprec, handedness=handedness)
    return sample_from_standardized(standardized, id=str(path)), standardized.symprec


def run(args) -> int:
    from crystal_fourier._commands._options import parse_species
    from crystal_fourier._commands.train import check_device
    from crystal_fourier.runtime.learning._training import load_trained

    species = parse_species(args.species)
    if args.device is not None:
        check_device(args.device)
    trained = load_trained(args.model, device=args.device)
    symprec = args.symprec if args.symprec is not None else trained.config.symprec
    samples, errors, used = {}, {}, {}
    for index, path in enumerate(args.files):
        try:
            samples[index], used[index] = _sample(path, species, symprec, trained.config.handedness)
        except (CrystalFourierError, OSError, ValueError) as error:
            errors[index] = _located(path, error)
    predictions = {}
    if samples:
        indices = list(samples)
        try:
            values = trained.predict_samples([samples[i] for i in indices])
            predictions = dict(zip(indices, values.tolist(), strict=True))
        except CrystalFourierError:  # find the file(s) the model refuses, predict the rest
            for i in indices:
                try:
                    predictions[i] = float(trained.predict_samples([samples[i]])[0])
                except CrystalFourierError as error:
                    errors[i] = _located(args.files[i], error)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["file", "prediction", "error", "symprec"])
    for index, path in enumerate(args.files):
        tolerance = f"{used[index]:g}" if index in used else ""
        if index in errors:
            writer.writerow([path, "", errors[index], tolerance])
        else:
            writer.writerow([path, f"{predictions[index]:.8g}", "", tolerance])
    sys.stdout.flush()
    if errors:
        print(f"crystal-fourier predict: {len(errors)} of {len(args.files)} file(s) failed (empty prediction, "
              "reason in the error column)", file=sys.stderr)
        return 1
    return 0
