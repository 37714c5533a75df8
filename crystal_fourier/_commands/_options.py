"""Arguments shared by several subcommands, parsed into exact values."""

from __future__ import annotations

import argparse

from crystal_fourier.derive import DEFAULT_CUTOFF
from crystal_fourier.derive._space_groups import parse_groups
from crystal_fourier.errors import CrystalFourierError

__all__ = ["add_cutoff_arguments", "add_group_argument", "add_groups_option", "parse_groups", "integer",
           "nonnegative_int", "positive_int", "nonnegative_index", "seed_int", "worker_count", "add_allow_large_option",
           "check_cutoff_work", "positive_float", "dropout_float", "add_symprec_option", "add_species_option",
           "parse_species", "ConfigDefault", "scientific", "resolve_defaults", "add_command", "parse_group_list",
           "PLANE_COMMANDS", "add_engine_options", "group_basis"]

PLANE_COMMANDS = ("basis", "graph", "structure-factor", "summary", "verify")
"""The commands that accept the 17 plane groups (``p4gm``), where a 2D crystal makes sense."""


def add_command(subparsers, name: str, doc: str | None, **fields) -> argparse.ArgumentParser:
    """The parser of command ``name``, whose texts are ``doc``, the command's docstring (ASE's pattern).

    Each text is written once: the first paragraph of ``doc`` is the help line that
    ``crystal-fourier --help`` lists, the paragraphs after it, up to a ``Notes`` section (for
    developers), are the description of ``crystal-fourier NAME --help``. argparse re-wraps both, so
    the docstring's line breaks do not matter. ``fields`` fill ``{name}`` placeholders, for text
    computed from the code (summary's column names).
    """
    import inspect

    text = inspect.cleandoc(doc or "").split("\nNotes\n-----\n")[0]
    if fields:
        text = text.format(**fields)
    summary, _, description = text.strip().partition("\n\n")
    return subparsers.add_parser(name, help=" ".join(summary.split()) or None,
                                 description=" ".join(description.split()) or None)


class ConfigDefault:
    """The default of a field of a runtime config class (``TrainConfig``, ``ModelConfig``, ``PretrainConfig``).

    Read from the class when first needed, in a help text (``%(default)s``) or by
    :func:`resolve_defaults` once the command line is parsed: no default is copied by hand into
    the command line, and building the parser never imports torch (the config classes live beside
    the model).
    """

    def __init__(self, config: str, field: str, text=str) -> None:
        self.config, self.field, self.text = config, field, text

    @property
    def value(self):
        import dataclasses
        import importlib

        cls = getattr(importlib.import_module("crystal_fourier.runtime"), self.config)
        return next(f.default for f in dataclasses.fields(cls) if f.name == self.field)

    def __str__(self) -> str:
        return self.text(self.value)

    def __repr__(self) -> str:
        return f"ConfigDefault({self.config!r}, {self.field!r})"


def scientific(value: float) -> str:
    """The short scientific form of a rate in a help text: ``'5e-4'`` for 0.0005."""
    mantissa, exponent = f"{value:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def resolve_defaults(args: argparse.Namespace) -> argparse.Namespace:
    """Replace every :class:`ConfigDefault` left in parsed ``args`` (an option not given) by its value."""
    for name, value in vars(args).items():
        if isinstance(value, ConfigDefault):
            setattr(args, name, value.value)
    return args


def _integer(text: str, expected: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None


def integer(text: str) -> int:
    """argparse type: an integer whose range the config it goes to checks, once (``--epochs`` -> TrainConfig)."""
    return _integer(text, "an integer")


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


def worker_count(text: str) -> int:
    """argparse type: a number of processes, 1 to 4 x the CPU cores (more only thrash, or exhaust the process table)."""
    import os

    value = positive_int(text)
    largest = 4 * (os.cpu_count() or 1)
    if value > largest:
        raise argparse.ArgumentTypeError(f"at most {largest} worker processes on this machine, got {value}")
    return value


def nonnegative_index(text: str) -> int:
    """argparse type: an index, an integer >= 0."""
    value = _integer(text, "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an index >= 0, got {value}")
    return value


def seed_int(text: str) -> int:
    """argparse type: a random seed, an integer in 0 to 2**63 - 1 (numpy refuses negative seeds)."""
    value = _integer(text, "an integer >= 0")
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"a seed must be an integer in 0 to 2**63-1, got {value}")
    return value


def _finite(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (a learning rate, a tolerance)."""
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def dropout_float(text: str) -> float:
    """argparse type: a probability in [0, 1)."""
    value = _finite(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def add_cutoff_arguments(parser: argparse.ArgumentParser, default_cutoff: int | ConfigDefault = DEFAULT_CUTOFF, *,
                         allow_large: bool = False) -> None:
    """--cutoff N (ball radius R or box size K) and --shell ball|box; with ``allow_large`` also --allow-large."""
    parser.add_argument("--cutoff", type=nonnegative_int, default=default_cutoff,
                        help="ball radius R or box size K, an integer >= 0 (default %(default)s)")
    parser.add_argument("--shell", choices=("ball", "box"), default="ball",
                        help="frequency shell of CONVENTIONS.md (default ball)")
    if allow_large:
        add_allow_large_option(parser)


def add_allow_large_option(parser: argparse.ArgumentParser) -> None:
    """--allow-large: go ahead with work estimated beyond the limits (README, resource limits)."""
    parser.add_argument("--allow-large", action="store_true",
                        help="go ahead even when the estimated time or memory exceeds the limits (5 min, 2 GiB)")


def check_cutoff_work(groups, args, what: str, *, render: bool = False):
    """Refuse, before any work, a cutoff whose estimated cost for ``groups`` exceeds the limits (unless --allow-large).

    ``groups`` are SpaceGroup objects or numbers; the estimate adds their times and takes the largest memory.
    Returns that estimate (a :class:`~crystal_fourier.derive._bases.WorkEstimate`; None without groups).
    """
    from crystal_fourier.derive._bases import check_work, work_estimate

    total = None
    for group in groups:
        hall = getattr(group, "hall_number", None)
        estimate = work_estimate(group, args.cutoff, args.shell, hall_number=hall, render=render)
        total = estimate if total is None else total + estimate
    if total is not None:
        check_work(total, what, getattr(args, "allow_large", False))
    return total


def add_group_argument(parser: argparse.ArgumentParser, *, plane: bool = False) -> None:
    """GROUP (number 1-230 or symbol; with ``plane`` also a plane-group symbol) and --hall H (1-530)."""
    parser.add_argument("group", metavar="GROUP", nargs="?",
                        help="space group: number 1-230 or symbol such as Fd-3m, 'P 1 21/c 1' (standard setting)"
                             + ("; or a plane group as Volume A writes it, in lower case: p1, p2, pm, pg, cm, p2mm, "
                                "p2mg, p2gg, c2mm, p4, p4mm, p4gm, p3, p3m1, p31m, p6, p6mm" if plane else ""))
    parser.add_argument("--hall", type=positive_int, default=None, metavar="H",
                        help="Hall number 1-530 selecting a setting (origin choice 1, other axes, ...)")


def _plane_only(plane_group) -> CrystalFourierError:
    return CrystalFourierError(f"{plane_group.symbol} is a plane group; plane groups are accepted by "
                               f"{', '.join(PLANE_COMMANDS)}")


def resolve_group(args, *, plane: bool = False):
    """The SpaceGroup named by GROUP and/or --hall; with ``plane``, a PlaneGroup for a plane-group symbol."""
    from crystal_fourier.derive import space_group
    from crystal_fourier.derive._plane_groups import as_plane_group

    if args.group is None and args.hall is None:
        raise CrystalFourierError("give a GROUP (number 1-230 or symbol) or --hall H")
    found = None if args.group is None else as_plane_group(args.group)
    if found is not None:
        if not plane:
            raise _plane_only(found)
        if args.hall is not None:
            raise CrystalFourierError(f"{found} has one setting: --hall does not apply")
        return found
    return space_group(args.group, hall_number=args.hall)


def group_basis(args, what: str, *, plane: bool = False, render: bool = False):
    """The basis of GROUP/--hall (:func:`resolve_group`) at --cutoff/--shell, once :func:`check_cutoff_work`
    allows "``what`` of <group> at <shell> cutoff <cutoff>"."""
    from crystal_fourier.derive import basis

    group = resolve_group(args, plane=plane)
    name = str(group) if hasattr(group, "embedding") else f"group {group.number}"  # a PlaneGroup has an embedding
    check_cutoff_work([group], args, f"{what} of {name} at {args.shell} cutoff {args.cutoff}", render=render)
    return basis(group, args.cutoff, args.shell)


def parse_group_list(text: str | None, *, plane: bool = False) -> list:
    """``--groups`` of a command that takes plane groups too: group numbers, then PlaneGroup objects.

    Items that name plane groups (``p4gm``, or ``plane`` for all 17) become
    :class:`~crystal_fourier.derive.PlaneGroup` objects; the rest go to :func:`parse_groups` (None,
    '' and 'all' mean all 230 space groups, and a list of plane groups alone names no space group).

    >>> [getattr(g, "symbol", g) for g in parse_group_list("225,p4gm,c2mm", plane=True)]
    [225, 'c2mm', 'p4gm']
    """
    from crystal_fourier.derive import plane_group
    from crystal_fourier.derive._plane_groups import as_plane_group

    items = [item.strip() for item in (text or "").split(",") if item.strip()]
    planes, rest = [], []
    for item in items:
        found = plane_group(1) if item == "plane" else as_plane_group(item)
        if found is not None and not plane:
            raise _plane_only(found)
        if item == "plane":
            planes.extend(plane_group(n) for n in range(1, 18))
        elif found is not None:
            planes.append(found)
        else:
            rest.append(item)
    unique = sorted({g.number: g for g in planes}.values(), key=lambda g: g.number)
    numbers = parse_groups(",".join(rest)) if rest or not unique else []
    return numbers + unique


def add_groups_option(parser: argparse.ArgumentParser, *, plane: bool = False) -> None:
    """--groups LIST: numbers, ranges or symbols, comma-separated (default all 230); with ``plane`` also
    plane-group symbols and ``plane`` (all 17)."""
    parser.add_argument("--groups", default=None, metavar="LIST",
                        help="comma-separated numbers, ranges or symbols, e.g. '1-230' or '225,Fd-3m' "
                             + ("(default: all 230); plane groups by their lower-case symbols (p4gm, c2mm) or "
                                "'plane' for all 17" if plane else "(default: all 230)"))


def add_symprec_option(parser: argparse.ArgumentParser, *, from_model: bool) -> None:
    """--symprec A: spglib's distance tolerance for the standardization.

    ``from_model=False`` (train): default :data:`~crystal_fourier.runtime.symmetry._tolerances.DEFAULT_SYMPREC`,
    stored in the model. ``from_model=True`` (predict, evaluate): default None, meaning the value
    stored in the model's config.json.
    """
    from crystal_fourier.runtime import DEFAULT_SYMPREC

    if from_model:
        parser.add_argument("--symprec", type=positive_float, default=None, metavar="A",
                            help="spglib tolerance in Angstrom for the standardization (default: the one the model "
                                 "was trained with, stored in its config.json)")
    else:
        parser.add_argument("--symprec", type=positive_float, default=DEFAULT_SYMPREC, metavar="A",
                            help=f"spglib tolerance in Angstrom (default {DEFAULT_SYMPREC}); stored in the model "
                                 "and reused by predict and evaluate")


def parse_species(text: str | None) -> list[str] | None:
    """'Na,Cl' or 'Na Cl' -> ['Na', 'Cl'] (each checked to be an element); None stays None.

    >>> parse_species("Na, cl")
    ['Na', 'Cl']
    """
    from crystal_fourier.runtime.structure_io._elements import element_symbol

    if text is None:
        return None
    names = [item for item in text.replace(",", " ").split() if item]
    if not names:
        raise CrystalFourierError("--species must name at least one element, e.g. --species Na,Cl")
    return [element_symbol(name, where="--species") for name in names]


def add_species_option(parser: argparse.ArgumentParser) -> None:
    """--species LIST: the elements of VASP 4 POSCARs, which have no species line."""
    parser.add_argument("--species", default=None, metavar="LIST",
                        help="elements of VASP 4 POSCAR files (no species line), in the order of their counts, "
                             "e.g. Na,Cl (without it, a comment line that lists the elements is used); where a "
                             "file has a species line, it must agree")


def add_engine_options(parser: argparse.ArgumentParser, *, resume: str) -> None:
    """--workers N, --scheduler ADDRESS and --resume: where the engine runs the chunks (:mod:`crystal_fourier._engine`).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    resume : str
        What --resume keeps, in the command's words (its help text).
    """
    parser.add_argument("--workers", type=worker_count, default=1, metavar="N",
                        help="local worker processes (default 1: this process); the output is the same bytes "
                             "for any N")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run the chunks on an existing Dask distributed cluster, e.g. tcp://host:8786 "
                             "(needs the extra 'cluster'; its workers must see the same files)")
    parser.add_argument("--resume", action="store_true", help=resume)
