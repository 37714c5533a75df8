"""predict a property for CIF/POSCAR files with a saved model (CSV on stdout)

Prints `file,prediction,error,symprec` for each structure file, in input order and in the target's
units (an elastic-tensor model: `file,elastic_c11,...,elastic_c66,error,symprec`, GPa, Voigt, in the
Cartesian frame of each file). A file that cannot be read or standardized gets an empty prediction
and the reason in the error column; the others are still predicted, and the exit status is then 1.
symprec is the tolerance (A) at which the symmetry was found: the model's (or --symprec), or the
first of 0.01, 0.001, 0.0001, 1e-05 below it when spglib finds none there. --workers N (local
processes) and --scheduler ADDRESS (Dask) give the same bytes; --out FILE --resume finishes a run that
stopped. Exit status: 0 all predicted; 1 some files failed; 2 bad input; 4 a worker died (the rows
before it are in --out FILE: rerun with --resume).

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

from crystal_fourier._commands._options import (
    add_command,
    add_engine_options,
    add_species_option,
    add_symprec_option,
)
from crystal_fourier.errors import CrystalFourierError

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
    add_engine_options(parser, resume="keep the rows already in --out FILE (same inputs, same order) and predict "
                                      "only the rest")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="write the CSV to FILE, chunk by chunk (default: stdout); needed by --resume")
    parser.set_defaults(func=run)


def _located(path: str, error: Exception) -> str:
    """The error's message, naming the file once (readers already name it)."""
    message = " ".join(str(error).split()) or type(error).__name__
    return message if str(path) in message else f"{path}: {message}"


def run(args) -> int:
    import functools

    from crystal_fourier._commands._options import parse_species
    from crystal_fourier._engine import check_engine_options
    from crystal_fourier.runtime import (check_device, load_trained, prediction_atom_limit, read_structure,
                                         stream_predictions)

    check_engine_options(args.workers, args.scheduler)
    if args.resume and args.out is None:
        raise CrystalFourierError("--resume needs --out FILE (the CSV of the run to finish)")
    species = parse_species(args.species)
    if args.device is not None:
        check_device(args.device)
    trained = load_trained(args.model, device=args.device)
    symprec = args.symprec if args.symprec is not None else trained.config.symprec
    target = trained.target
    header = ["file", *target.output_columns, "error", "symprec"]
    out = _Rows(args.out, header, resume=args.resume)
    items = [(str(path), path) for path in args.files]
    done = out.check_done([name for name, _ in items])
    failed = sum(1 for row in out.kept if row[-2])
    stream = stream_predictions(trained, items, skip=done, symprec=symprec,
                                load=functools.partial(read_structure, species=species),
                                max_atoms=None if args.allow_large else prediction_atom_limit(trained),
                                workers=args.workers, scheduler=args.scheduler)
    try:
        for prediction in stream:  # rows are written chunk by chunk, in input order
            tolerance = "" if prediction.symprec is None else f"{prediction.symprec:g}"
            if prediction.error is not None:
                failed += 1
                out.add([prediction.name, *[""] * len(target.output_columns),
                         _located(prediction.name, prediction.error), tolerance])
            else:
                out.add([prediction.name, *target.csv_values(prediction.value), "", tolerance])
    except BaseException:
        if out.pending:  # the rows computed before an interruption or a lost worker are kept for --resume
            out.flush()
        raise
    out.flush()
    if failed:
        print(f"crystal-fourier predict: {failed} of {len(args.files)} file(s) failed (empty prediction, "
              "reason in the error column)", file=sys.stderr)
        return 1
    return 0


class _Rows:
    """The CSV rows: to stdout, or appended chunk by chunk to a resumable file
    (:class:`~crystal_fourier._journal.Journal`)."""

    def __init__(self, path: "str | None", header: list[str], *, resume: bool) -> None:
        from crystal_fourier._engine import CHUNK_FLUSH_ROWS
        from crystal_fourier._journal import Journal

        self.pending: list[list[str]] = []
        self.limit = CHUNK_FLUSH_ROWS
        self.kept: list[list[str]] = []
        self.journal = None
        if path is None:
            csv.writer(sys.stdout, lineterminator="\n").writerow(header)
            return
        self.journal = Journal(path, _line(header), resume=resume)
        self.kept = [next(csv.reader([record])) for record in self.journal.records]

    def check_done(self, names: list[str]) -> int:
        """How many inputs the kept rows already answer; they must be the first ones, in order."""
        for index, row in enumerate(self.kept):
            if index >= len(names) or row[0] != names[index]:
                raise CrystalFourierError(
                    f"{self.journal.path}: cannot resume: row {index + 2} is for {row[0]!r}, but input {index + 1} "
                    f"is {names[index] if index < len(names) else 'missing'!r}; give the same files in the same order")
        return len(self.kept)

    def add(self, row: list[str]) -> None:
        self.pending.append(row)
        if len(self.pending) >= self.limit:
            self.flush()

    def flush(self) -> None:
        if self.journal is None:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerows(self.pending)
            sys.stdout.flush()
        else:
            self.journal.append([_line(row) for row in self.pending])
        self.pending = []


def _line(row: list[str]) -> str:
    """One CSV row as one line (a newline inside a file name or message would split a record: it becomes a space)."""
    import io

    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow([" ".join(str(value).splitlines()) for value in row])
    return text.getvalue()[:-1]
