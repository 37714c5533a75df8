"""Arguments shared by several subcommands, parsed into exact values."""

from __future__ import annotations

import argparse

from crystal_fourier.errors import CrystalFourierError

__all__ = ["add_cutoff_arguments", "add_group_argument", "add_groups_option", "parse_groups", "nonnegative_int", "positive_int"]


def _integer(text: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0 (a cutoff)."""
    value = _integer(text, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"cutoff must be an integer >= 0, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a size, a count)."""
    value = _integer(text, "a positive integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def add_cutoff_arguments(parser: argparse.ArgumentParser, default_cutoff: int = 5) -> None:
    """--cutoff N (ball radius R or box size K) and --shell ball|box."""
    parser.add_argument("--cutoff", type=nonnegative_int, default=default_cutoff,
                        help=f"ball radius R or box size K, an integer >= 0 (default {default_cutoff})")
    parser.add_argument("--shell", choices=("ball", "box"), default="ball",
                        help="frequency shell of CONVENTIONS.md (default ball)")


def add_group_argument(parser: argparse.ArgumentParser) -> None:
    """GROUP (number 1-230 or symbol) and --hall H (1-530) for another setting."""
    parser.add_argument("group", metavar="GROUP", nargs="?",
                        help="space group: number 1-230 or symbol such as Fd-3m, 'P 1 21/c 1' (standard setting)")
    parser.add_argument("--hall", type=int, default=None, metavar="H",
                        help="Hall number 1-530 selecting a setting (origin choice 1, other axes, ...)")


def resolve_group(args):
    """The SpaceGroup named by GROUP and/or --hall."""
    from crystal_fourier.derive import space_group

    if args.group is None and args.hall is None:
        raise CrystalFourierError("give a GROUP (number 1-230 or symbol) or --hall H")
    return space_group(args.group, hall_number=args.hall)


def parse_groups(text: str | None) -> list[int]:
    """'1-230', '225,227', '1-10,194' or symbols ('Fd-3m,P6_3/mmc') -> sorted group numbers.

    >>> parse_groups("1-3,225")
    [1, 2, 3, 225]
    """
    from crystal_fourier.derive import space_group

    if text is None or text.strip() in ("", "all"):
        return list(range(1, 231))
    numbers = set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "-" in item and item.replace("-", "").isdigit() and not item.startswith("-"):
            low, high = (int(v) for v in item.split("-", 1))
            if not (1 <= low <= high <= 230):
                raise CrystalFourierError(f"group range {item!r} must lie within 1-230, low to high")
            numbers.update(range(low, high + 1))
        else:
            numbers.add(space_group(item).number)
    if not numbers:
        raise CrystalFourierError(f"no groups in {text!r}")
    return sorted(numbers)


def add_groups_option(parser: argparse.ArgumentParser) -> None:
    """--groups LIST: numbers, ranges or symbols, comma-separated (default all 230)."""
    parser.add_argument("--groups", default=None, metavar="LIST",
                        help="comma-separated numbers, ranges or symbols, e.g. '1-230' or '225,Fd-3m' (default: all 230)")
