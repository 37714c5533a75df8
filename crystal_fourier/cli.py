"""The ``crystal-fourier`` command: one entry point, one subcommand per task.

Each subcommand lives in its own module under ``crystal_fourier._commands`` and
exposes ``add_parser(subparsers)`` (which sets ``func`` on its parser). Modules
are imported when the command line is parsed, so ``crystal-fourier basis`` never
imports torch. Every :class:`CrystalFourierError`, and every operating-system error
on a path the user gave (read-only directory, a directory where a file is expected,
a full disk), becomes one line on stderr and exit status 2; no traceback reaches
the user unless ``--traceback`` asks for one. Exit status 1 means "a check failed".
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from crystal_fourier._engine import EXIT_WORKER_LOST
from crystal_fourier._version import __version__
from crystal_fourier.errors import CrystalFourierError, WorkerLost

__all__ = ["main", "build_parser", "help_texts", "write_help_docs", "error_line", "COMMANDS"]

COMMANDS = (
    # (module under crystal_fourier._commands, in the order shown by --help; the command's name is the
    # module's with '_' written '-': structure_factor.py is `crystal-fourier structure-factor`)
    "demo",
    "basis",
    "structure_factor",
    "summary",
    "graph",
    "plot",
    "report",
    "faithful",
    "tensor",
    "verify",
    "generate",
    "train",
    "evaluate",
    "predict",
    "audit",
    "pretrain",
    "dataset",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one clear line and exit 2, as for CrystalFourierError
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to render docs/cli/*.txt)."""
    parser = _Parser(
        prog="crystal-fourier",
        description="Exact space-group-invariant Fourier bases, certificates, and the Crystal Fourier Transformer.",
    )
    parser.add_argument("--version", action="version", version=f"crystal-fourier {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="on an error, show the full Python traceback (for debugging and bug reports)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"crystal_fourier._commands.{name}")
        module.add_parser(subparsers)
    return parser


_HELP_WIDTH = 100
"""Fixed width of the committed help texts, so they do not depend on the terminal."""


def help_texts() -> dict[str, str]:
    """``--help`` of the command and of every subcommand, at a fixed width (docs/cli/*.txt)."""
    import functools

    parser = build_parser()
    formatter = functools.partial(argparse.HelpFormatter, width=_HELP_WIDTH)
    parser.formatter_class = formatter
    texts = {"crystal-fourier": parser.format_help()}
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in subparsers.choices.items():
        subparser.formatter_class = formatter
        texts[name] = subparser.format_help()
    return texts


def write_help_docs(directory: str | os.PathLike[str]) -> list[str]:
    """Write ``<directory>/<command>.txt`` (the repository's docs/cli) atomically.

    The folder is explicit: a writer of repository files never defaults to the installed
    package (in a wheel install, site-packages). Returns the names of the files that changed.
    """
    from pathlib import Path

    from crystal_fourier._atomic import atomic_write_text

    directory = Path(directory)
    return [f"{name}.txt" for name, text in help_texts().items()
            if atomic_write_text(directory / f"{name}.txt", text)]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a check failed, 2 bad input, 4 a worker died)."""
    from crystal_fourier._commands._options import resolve_defaults

    parser = build_parser()
    args = resolve_defaults(parser.parse_args(argv))
    try:
        status = args.func(args)
    except BrokenPipeError:  # e.g. `crystal-fourier summary | head`
        return 0
    except KeyboardInterrupt:
        if args.traceback:
            raise
        print(f"crystal-fourier {args.command}: interrupted", file=sys.stderr)
        return 130
    except (CrystalFourierError, OSError, MemoryError) as error:
        if args.traceback:
            raise
        print(f"crystal-fourier {args.command}: error: {error_line(error)}", file=sys.stderr)
        # 2 for bad input; 4 when a worker process died (the finished chunks are kept: --resume)
        return EXIT_WORKER_LOST if isinstance(error, WorkerLost) else 2
    return int(status or 0)


def error_line(error: BaseException) -> str:
    """One line for the user: the message of a CrystalFourierError, the path and reason of an OSError.

    >>> error_line(PermissionError(13, "Permission denied", "/ro/model"))
    '/ro/model: permission denied'
    >>> error_line(IsADirectoryError(21, "Is a directory", "out.csv"))
    'out.csv: is a directory (a file is expected)'
    """
    if isinstance(error, MemoryError):
        return "out of memory; choose a smaller cutoff, size or model (see README, resource limits)"
    if isinstance(error, OSError) and not isinstance(error, CrystalFourierError):
        reason = (error.strerror or type(error).__name__).lower()
        if isinstance(error, IsADirectoryError):
            reason += " (a file is expected)"
        elif isinstance(error, NotADirectoryError):
            reason += " (a part of the path is a file, a directory is expected)"
        paths = [str(p) for p in (error.filename, error.filename2) if p is not None]
        text = f"{' -> '.join(paths)}: {reason}" if paths else f"{reason}: {error}"
    else:
        text = str(error)
    return " ".join(text.split()) or type(error).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
