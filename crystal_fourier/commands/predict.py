"""``crystal-fourier predict``: predictions of a saved model for structure files, as CSV."""

from __future__ import annotations

import csv
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict a property for CIF/POSCAR files with a saved model (CSV on stdout)",
        description="Prints `file,prediction` for each structure file, in the target's units.")
    parser.add_argument("--model", required=True, metavar="DIR", help="model directory from `crystal-fourier train`")
    parser.add_argument("files", nargs="+", metavar="FILE", help="structure files (CIF, POSCAR, extxyz, JSON)")
    parser.add_argument("--device", default=None, help="torch device (default: the trained one)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.commands.train import check_device
    from crystal_fourier.runtime.structures import read_structure
    from crystal_fourier.runtime.training import load_trained

    if args.device is not None:
        check_device(args.device)
    trained = load_trained(args.model, device=args.device)
    crystals = [read_structure(path) for path in args.files]
    predictions = trained.predict_crystals(crystals)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["file", "prediction"])
    for path, value in zip(args.files, predictions, strict=False):
        writer.writerow([path, f"{value:.8g}"])
    return 0
