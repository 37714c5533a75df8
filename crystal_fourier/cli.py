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

__all__ = ["main", "build_parser", "help_texts", "write_help_docs", "COMMANDS"]

COMMANDS = (
    # (module under crystal_fourier.commands, in the order shown by --help)
    "demo",
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


HELP_WIDTH = 100
"""Fixed width of the committed help texts, so they do not depend on the terminal."""


def help_texts() -> dict[str, str]:
    """``--help`` of the command and of every subcommand, at a fixed width (docs/cli/*.txt)."""
    import functools

    parser = build_parser()
    formatter = functools.partial(argparse.HelpFormatter, width=HELP_WIDTH)
    parser.formatter_class = formatter
    texts = {"crystal-fourier": parser.format_help()}
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in subparsers.choices.items():
        subparser.formatter_class = formatter
        texts[name] = subparser.format_help()
    return texts


def write_help_docs(directory=None) -> list[str]:
    """Write docs/cli/<command>.txt atomically; returns the names of the files that changed."""
    from pathlib import Path

    from crystal_fourier.atomic import atomic_write_text

    directory = Path(directory) if directory else Path(__file__).resolve().parent.parent / "docs" / "cli"
    return [f"{name}.txt" for name, text in help_texts().items()
            if atomic_write_text(directory / f"{name}.txt", text)]


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
