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
(or --symprec), or the first of 0.01, 0.001, 0.0001, 1e-05 below it when spglib finds none there. --workers N (local
processes) and --scheduler ADDRESS (Dask) give the same bytes; --out FILE --resume finishes a run that
stopped. Exit status: 0 all predicted; 1 some structures failed; 2 bad input; 4 a worker died (the rows
before it are in --out FILE: rerun with --resume).

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
    parser.add_argument("files", nargs="+", metavar="SOURCE",
                        help="structure files (CIF, POSCAR, extxyz, JSON), directories, extxyz trajectories, ASE "
                             "databases (.db, .json), CSV files with a cif column, or @LIST (one source per line)")
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


def _located(name: str, error: Exception) -> str:
    """The error's message, naming the structure once (readers already name it)."""
    message = " ".join(str(error).split()) or type(error).__name__
    return message if name in message else f"{name}: {message}"


def run(args) -> int:
    from collections import deque

    from crystal_fourier._commands._options import parse_species
    from crystal_fourier._engine import check_engine_options
    from crystal_fourier.runtime import iter_structures, load_trained, stream_predictions
    from crystal_fourier.runtime.learning._prediction import prediction_atom_limit

    check_engine_options(args.workers, args.scheduler)
    if args.resume and args.out is None:
        raise CrystalFourierError("--resume needs --out FILE (the CSV of the run to finish)")
    species = parse_species(args.species)
    trained = load_trained(args.model, device=args.device)
    symprec = args.symprec if args.symprec is not None else trained.config.symprec
    target = trained.target
    header = ["file", "frame", *target.output_columns, "error", "symprec"]
    out = _Rows(args.out, header, resume=args.resume)
    done = len(out.kept)
    failed = sum(1 for row in out.kept if row[-2])
    total = done
    pending = deque()  # (source, frame, name) of the items read, not yet written: one Prediction per item, in order

    def items():
        count = 0
        for index, item in enumerate(iter_structures(args.files, species=species)):
            count = index + 1
            frame = "" if item.frame is None else str(item.frame)
            if index < done:  # already in --out FILE: the same inputs, in the same order, or no resume
                out.check_kept(index, item.source, frame)
            else:
                pending.append((item.source, frame, item.name))
            yield item.name, item
        out.check_all_kept(count)

    stream = stream_predictions(trained, items(), skip=done, symprec=symprec, load=_load,
                                max_atoms=None if args.allow_large else prediction_atom_limit(trained),
                                workers=args.workers, scheduler=args.scheduler)
    try:
        for prediction in stream:  # rows are written chunk by chunk, in input order
            source, frame, name = pending.popleft()
            total += 1
            tolerance = "" if prediction.symprec is None else f"{prediction.symprec:g}"
            if prediction.error is not None:
                failed += 1
                out.add([source, frame, *[""] * len(target.output_columns), _located(name, prediction.error),
                         tolerance])
            else:
                out.add([source, frame, *target.csv_values(prediction.value), "", tolerance])
    except BaseException:
        if out.pending:  # the rows computed before an interruption or a lost worker are kept for --resume
            out.flush()
        raise
    out.flush()
    if failed:
        print(f"crystal-fourier predict: {failed} of {total} structure(s) failed (empty prediction, "
              "reason in the error column)", file=sys.stderr)
        return 1
    return 0


def _load(item):
    return item.load()


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

    def check_kept(self, index: int, source: str, frame: str) -> None:
        """The kept row ``index`` must be for structure ``index`` of the inputs (same source and frame)."""
        row = self.kept[index]
        if row[0] != source or row[1] != frame:
            raise CrystalFourierError(
                f"{self.journal.path}: cannot resume: row {index + 2} is for {row[0]!r} frame {row[1]!r}, but "
                f"structure {index + 1} of the inputs is {source!r} frame {frame!r}; give the same sources in the "
                "same order")

    def check_all_kept(self, count: int) -> None:
        """Every kept row was matched: the inputs hold at least as many structures as the file has rows."""
        if count < len(self.kept):
            raise CrystalFourierError(
                f"{self.journal.path}: cannot resume: it holds {len(self.kept)} rows but the inputs only {count} "
                "structures; give the same sources in the same order")

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
