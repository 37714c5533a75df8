"""counts for every group (csv, json or table)

One row per group: {columns}. Counts include k = 0; dim is the number of real basis functions.
"""

from __future__ import annotations

import csv
import json
import sys

from crystal_fourier._commands._options import (
    add_command,
    add_cutoff_arguments,
    add_groups_option,
    check_cutoff_work,
    parse_groups,
)

COLUMNS = ("sg", "hall_number", "symbol", "n_operations", "n_frequencies", "n_present_frequencies",
           "n_present_orbits", "n_absent_orbits", "dim")


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "summary", __doc__, columns=", ".join(COLUMNS))
    add_cutoff_arguments(parser, allow_large=True)
    add_groups_option(parser)
    parser.add_argument("--format", choices=("csv", "json", "table"), default="table", help="output format")
    parser.add_argument("--conditions", action="store_true",
                        help="add the column reflection_conditions (International Tables Vol. A notation, zones "
                             "separated by ' | ')")
    parser.add_argument("--faithful", action="store_true",
                        help="add the column faithful_cutoff (smallest faithful cutoff of the shell; slower)")
    parser.set_defaults(func=run)


def rows(groups, cutoff: int, shell: str, faithful: bool = False, conditions: bool = False) -> list[dict]:
    """Summary rows for the given group numbers."""
    from crystal_fourier.derive import basis, reflection_conditions

    result = []
    for number in groups:
        row = basis(number, cutoff, shell).summary()
        if faithful:
            from crystal_fourier.derive import faithful_cutoff

            row["faithful_cutoff"] = faithful_cutoff(number, shell)
        if conditions:
            row["reflection_conditions"] = " | ".join(zone.text for zone in reflection_conditions(number)) or "none"
        result.append(row)
    return result


def run(args) -> int:
    groups = parse_groups(args.groups)
    check_cutoff_work(groups, args, f"a summary of {len(groups)} group(s) at {args.shell} cutoff {args.cutoff}")
    table = rows(groups, args.cutoff, args.shell, args.faithful, args.conditions)
    columns = (list(COLUMNS) + (["faithful_cutoff"] if args.faithful else [])
               + (["reflection_conditions"] if args.conditions else []))
    if args.format == "json":
        sys.stdout.write(json.dumps(table, indent=1) + "\n")
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
    else:
        widths = {c: max(len(c), *(len(str(r[c])) for r in table)) for c in columns}
        print("  ".join(c.rjust(widths[c]) for c in columns))
        for row in table:
            print("  ".join(str(row[c]).rjust(widths[c]) for c in columns))
    return 0
