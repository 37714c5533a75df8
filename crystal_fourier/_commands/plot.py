"""draw basis functions on a section of the unit cell (needs matplotlib)

Heat map of one real basis function (--function I) or of the first 16 (--all) on the plane section
x=, y= or z= of the unit cell, with the cell outline and the symmetry elements perpendicular to the
section (rotation and screw axes, mirror and glide planes) and the inversion centres in it. Needs
the optional extra: pip install 'crystal-fourier[plot]'.
"""

from __future__ import annotations

from crystal_fourier._commands._options import (
    add_command,
    add_cutoff_arguments,
    add_group_argument,
    group_basis,
    nonnegative_index,
    positive_int,
)
from crystal_fourier.errors import CrystalFourierError

_SUFFIXES = {".png": "png", ".svg": "svg"}


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "plot", __doc__)
    add_group_argument(parser)
    add_cutoff_arguments(parser, allow_large=True)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--function", type=nonnegative_index, metavar="I",
                       help="index of the real basis function (0 is the constant k = 0; see crystal-fourier basis)")
    which.add_argument("--all", action="store_true", help="a grid of the first 16 functions")
    parser.add_argument("--section", default="z=0", metavar="AXIS=LEVEL",
                        help="the plane section, e.g. z=0.25, z=1/4 or x=0 (default z=0)")
    parser.add_argument("--resolution", type=positive_int, default=None, metavar="N",
                        help="grid intervals per cell edge (default 96, or 48 with --all)")
    parser.add_argument("--out", required=True, metavar="FILE.png", help="output picture (.png or .svg)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from crystal_fourier._atomic import atomic_write_bytes
    from crystal_fourier.visual import render_section
    from crystal_fourier._figures import require_matplotlib
    from crystal_fourier.visual._sections import DEFAULT_RESOLUTION, Section, render_sections

    out = Path(args.out)
    fmt = _SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise CrystalFourierError(f"--out {args.out!r}: the picture is PNG or SVG, name it FILE.png or FILE.svg")
    section = Section.parse(args.section)
    require_matplotlib()
    derived = group_basis(args, "the basis")
    if args.all:
        picture = render_sections(derived, None, section, resolution=args.resolution or 48, fmt=fmt)
    else:
        picture = render_section(derived, args.function, section, resolution=args.resolution or DEFAULT_RESOLUTION,
                                 fmt=fmt)
    atomic_write_bytes(out, picture)
    print(f"wrote {out}")
    return 0
