"""write a self-contained HTML report of one group (needs matplotlib)

One HTML page with the group's operations in xyz notation, the orbit table, the absences with their
witnesses, the closed forms (typeset offline), the certificate and the pictures, all embedded: the
page loads nothing. Written to DIR/sg<N>_hall<H>_<shell><cutoff>.html. Needs the optional extra: pip
install 'crystal-fourier[plot]'.
"""

from __future__ import annotations

from crystal_fourier._commands._options import (
    add_command,
    add_cutoff_arguments,
    add_group_argument,
    group_basis,
)


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "report", __doc__)
    add_group_argument(parser)
    add_cutoff_arguments(parser, allow_large=True)
    parser.add_argument("--section", default="z=0", metavar="AXIS=LEVEL",
                        help="the plane section of the heat maps, e.g. z=1/4 (default z=0)")
    parser.add_argument("--out", required=True, metavar="DIR", help="directory for the report (created if needed)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.visual import write_report
    from crystal_fourier._figures import require_matplotlib
    from crystal_fourier.visual._sections import Section

    section = Section.parse(args.section)
    require_matplotlib()
    path = write_report(group_basis(args, "the report"), args.out, section=section)
    print(f"wrote {path}")
    return 0
