"""counts for every group (csv, json or table)

One row per group: {columns}. Counts include k = 0; dim is the number of real basis functions.
--groups may name plane groups too (p4gm, c2mm, or 'plane' for all 17): their rows have the plane
group's number (1-17) in sg, its lower-case symbol and the Hall number of the embedding space group,
and their counts are those of the frequencies (h, k).
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
    parse_group_list,
)

COLUMNS = ("sg", "hall_number", "symbol", "n_operations", "n_frequencies", "n_present_frequencies",
           "n_present_orbits", "n_absent_orbits", "dim")


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "summary", __doc__, columns=", ".join(COLUMNS))
    add_cutoff_arguments(parser, allow_large=True)
    add_groups_option(parser, plane=True)
    parser.add_argument("--format", choices=("csv", "json", "table"), default="table", help="output format")
    parser.add_argument("--conditions", action="store_true",
                        help="add the column reflection_conditions (International Tables Vol. A notation, zones "
                             "separated by ' | ')")
    parser.add_argument("--faithful", action="store_true",
                        help="add the column faithful_cutoff (smallest faithful cutoff of the shell; slower; empty "
                             "for plane groups)")
    parser.set_defaults(func=run)


def rows(groups, cutoff: int, shell: str, faithful: bool = False, conditions: bool = False) -> list[dict]:
    """Summary rows for the given group numbers (and plane groups, :class:`~crystal_fourier.derive.PlaneGroup`)."""
    from crystal_fourier.derive import basis, reflection_conditions
    from crystal_fourier.derive._plane_groups import plane_reflection_conditions

    result = []
    for number in groups:
        plane = hasattr(number, "embedding")  # a PlaneGroup
        row = basis(number, cutoff, shell).summary()
        if faithful:
            from crystal_fourier.derive import faithful_cutoff

            row["faithful_cutoff"] = None if plane else faithful_cutoff(number, shell)
        if conditions:
            texts = plane_reflection_conditions(number) if plane else [z.text for z in reflection_conditions(number)]
            row["reflection_conditions"] = " | ".join(texts) or "none"
        result.append(row)
    return result


def run(args) -> int:
    groups = parse_group_list(args.groups, plane=True)
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
