"""render the stamped torch modules of one shell and cutoff (generated/)

Render one nn.Module per space group (its exact tables behind the shared kernel) and the index with
the shell's frequencies into OUT/<shell>_<cutoff>/, atomically and deterministically. Exit status: 0
up to date or written, 1 --check found differences, 2 bad input or a hand-edited file.

Notes
-----
Writes ``<out>/<shell>_<cutoff>/sg001.py ... sg230.py`` and the index ``__init__.py``
(see :mod:`crystal_fourier.derive._codegen`) as a whole: the files are rendered group by group
(bounded memory at any cutoff) into a temporary sibling directory that replaces the old one in
one rename (:func:`crystal_fourier._atomic.atomic_write_directory`), so an interrupted run leaves
the old directory or none, never a partial one; a directory whose files all stay the same is
left untouched. The work is estimated first and printed (:func:`crystal_fourier.derive.generation_estimate`,
fitted by bench/bench_generate_estimate.py); beyond the limits of the README
("Resource limits") it is refused unless ``--allow-large``. ``--check``
writes nothing and exits 1 with a unified diff when the files on disk differ from what the
generator produces now, or when a directory holds stray files (temporaries of an interrupted
write, modules the generator no longer makes). A file edited by hand (its body no longer matches its
``output_sha256``) is never overwritten silently: ``--force`` does that.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crystal_fourier._progress import progress_bar
from crystal_fourier._commands._options import (
    add_command,
    add_cutoff_arguments,
    add_groups_option,
    parse_groups,
)
from crystal_fourier.errors import CrystalFourierError

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``generate`` on the ``crystal-fourier`` subparsers."""
    parser = add_command(subparsers, "generate", __doc__)
    add_cutoff_arguments(parser, allow_large=True)
    add_groups_option(parser)
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="parent directory of <shell>_<cutoff>/, always explicit (the repository's "
                             "generated/ for the shipped sets: `make generate`); never the installed package")
    parser.add_argument("--shipped", action="store_true",
                        help="all shipped sets (ball 5, ball 6), generated/__init__.py and the tensor tables "
                             "generated/tensor_bases.py instead of --shell/--cutoff")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 with a unified diff if any file differs")
    parser.add_argument("--force", action="store_true",
                        help="overwrite files that were edited by hand")
    parser.set_defaults(func=run)
    return parser


def _progress(label: str):
    """A wrapper for codegen's ``progress``: a bar over the groups, shown only on a terminal."""
    return lambda iterable: progress_bar(iterable, label, None, unit="group")


def _hand_edits(directory: Path, command: str) -> list[str]:
    """Messages for the generated files in ``directory`` whose body no longer matches their output_sha256."""
    return [message for path in (sorted(directory.glob("*.py")) if directory.is_dir() else [])
            for message in _hand_edit(path, command)]


def _compared(rendered, directory: Path, produced: set[str], counts: dict):
    """Pass ``rendered`` (name, text) pairs through, recording each name and counting texts unlike the files on disk."""
    from crystal_fourier.derive._writer import read_text

    for name, text in rendered:
        produced.add(name)
        counts["changed"] += read_text(directory / name) != text
        yield name, text


def _strays(directory: Path, produced: set[str], complete: bool) -> list[Path]:
    """Temporaries left by an interrupted write, and (for a complete set) modules the generator no longer makes."""
    if not directory.is_dir():
        return []
    strays = sorted(directory.glob(".*.tmp"))
    if complete:
        strays += sorted(path for path in directory.glob("*.py") if path.name not in produced)
    return strays


def _report_check(directory: Path, command: str, n_produced: int, changed: int, edits: list[str],
                  strays: list[Path]) -> int:
    """Print what ``--check`` found in one directory; returns 1 if anything differs, else 0."""
    for message in edits:
        print(message, file=sys.stderr)
    for path in strays:
        print(f"{path}: not written by the generator (an interrupted write or a module it no longer "
              "makes); delete it", file=sys.stderr)
    if changed or edits or strays:
        print(f"{directory}: {changed} of {n_produced} files differ from the generator's output, "
              f"{len(strays)} stray file(s); run `{command}` to update them", file=sys.stderr)
        return 1
    print(f"{directory}: {n_produced} files up to date")
    return 0


def _hand_edit(path: Path, command: str) -> list[str]:
    """The message for ``path`` if it exists and its body no longer matches its output_sha256, else nothing."""
    from crystal_fourier.derive._stamps import verify_stamp
    from crystal_fourier.derive._writer import read_text

    text = read_text(path)
    try:
        if text is not None:
            verify_stamp(text, path, regenerate=command)
    except CrystalFourierError as error:
        return [str(error)]
    return []


def _write_package_files(out: Path, args: argparse.Namespace) -> int:
    """The files of ``--shipped`` outside the sets: generated/__init__.py (it names the shipped sets) and the
    tensor tables generated/tensor_bases.py; returns 1 if ``--check`` found a difference, else 0."""
    from crystal_fourier.derive._codegen import render_package
    from crystal_fourier.derive._tensor_tables import TENSOR_MODULE, render_tensor_module
    from crystal_fourier.derive._writer import unified_diff, write_files

    status = 0
    edits = _hand_edit(out / TENSOR_MODULE, f"crystal-fourier generate --shipped --out {out}")
    if edits and not args.force and not args.check:
        raise CrystalFourierError(f"{out / TENSOR_MODULE} was edited by hand; it was not written. {edits[0]}")
    for message in edits if args.check else ():
        print(message, file=sys.stderr)
        status = 1
    package = {out / "__init__.py": render_package(), out / TENSOR_MODULE: render_tensor_module()}
    for change in write_files(package, dry_run=args.check):
        if args.check:
            sys.stdout.write(unified_diff(change))
            print(f"{change.path} differs from the generator's output; run `crystal-fourier generate "
                  f"--shipped --out {out}`", file=sys.stderr)
            status = 1
    return status


def run(args: argparse.Namespace) -> int:
    """Generate (or ``--check``) the requested directories, group by group; returns the exit status.

    Files are rendered and written one at a time (memory bounded by one group's derivation);
    hand-edited files are looked for before anything is written.
    """
    from crystal_fourier._atomic import atomic_write_directory
    from crystal_fourier.derive._bases import check_work
    from crystal_fourier.derive._codegen import SHIPPED, directory_name, iter_directory
    from crystal_fourier.derive._generation_cost import generation_estimate
    from crystal_fourier.derive._writer import unified_diff, write_files

    out = args.out
    if out.exists() and not out.is_dir():
        raise CrystalFourierError(f"--out {out} is not a directory")
    groups = None if args.groups is None else parse_groups(args.groups)
    requests = SHIPPED if args.shipped else ((args.shell, args.cutoff),)
    for shell, cutoff in requests:  # every request estimated (and refused) before any is rendered
        # The command's own cost model (derivation, rendering and its process), fitted to measured runs.
        estimate = generation_estimate(shell, cutoff, groups)
        check_work(estimate, f"generate --shell {shell} --cutoff {cutoff}", args.allow_large)
        print(f"{out / directory_name(shell, cutoff)}: estimated {estimate.describe()}", file=sys.stderr)
    status = 0
    for shell, cutoff in requests:
        directory = out / directory_name(shell, cutoff)
        command = f"crystal-fourier generate --shell {shell} --cutoff {cutoff} --out {args.out}"
        edits = _hand_edits(directory, command)
        if edits and not args.force and not args.check:
            raise CrystalFourierError(f"{len(edits)} file(s) under {directory} were edited by hand; nothing "
                                      f"was written. First: {edits[0]}")
        produced, changed = set(), 0
        rendered = iter_directory(shell, cutoff, groups, progress=_progress(directory_name(shell, cutoff)))
        if args.check:
            for name, text in rendered:
                produced.add(name)
                for change in write_files({directory / name: text}, dry_run=True):
                    changed += 1
                    sys.stdout.write(unified_diff(change))
            strays = _strays(directory, produced, complete=groups is None)
            status = max(status, _report_check(directory, command, len(produced), changed, edits, strays))
            continue

        old = sorted(name for name in os.listdir(directory) if not name.endswith(".tmp")) \
            if directory.is_dir() else []
        counts = {"changed": 0}
        atomic_write_directory(directory, _compared(rendered, directory, produced, counts), keep=old,
                               unchanged=lambda d=directory, c=counts: d.is_dir() and c["changed"] == 0)
        changed = counts["changed"]
        strays = _strays(directory, produced, complete=groups is None)
        note = f"; {len(strays)} stray file(s) not written by the generator: {strays[0].name} ..." if strays else ""
        print(f"{directory}: {changed} written, {len(produced) - changed} unchanged{note}")
    if args.shipped:
        status = max(status, _write_package_files(out, args))
    return status
