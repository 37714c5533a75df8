"""The ``crystal-fourier`` command: one entry point, one subcommand per task.

Each subcommand lives in its own module under ``crystal_fourier.commands`` and
exposes ``add_parser(subparsers)`` (which sets ``func`` on its parser). Modules
are imported when the command line is parsed, so ``crystal-fourier basis`` never
imports torch. Every :class:`CrystalFourierError` becomes one line on stderr and
exit status 2; no traceback reaches the user.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from crystal_fourier._version import __version__
from crystal_fourier.errors import CrystalFourierError

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = (
    # (module under crystal_fourier.commands, in the order shown by --help)
    "basis",
    "summary",
    "graph",
    "plot",
    "report",
    "faithful",
    "verify",
    "generate",
    "train",
    "evaluate",
    "predict",
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
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMANDS:
        module = importlib.import_module(f"crystal_fourier.commands.{name}")
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 a check failed, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except CrystalFourierError as error:
        print(f"crystal-fourier {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"crystal-fourier {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `crystal-fourier summary | head`
        return 0
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
