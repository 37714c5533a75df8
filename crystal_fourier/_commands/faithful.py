"""smallest cutoff at which only the group's own operations leave the basis invariant

Candidates: the holohedry's rotations with translations in 24ths. At an unfaithful cutoff the
invariant functions are also invariant under a larger group.
"""

from __future__ import annotations

from crystal_fourier._commands._options import add_command, add_group_argument, positive_int, resolve_group


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "faithful", __doc__)
    add_group_argument(parser)
    parser.add_argument("--shell", choices=("ball", "box"), default=None,
                        help="one shell (default: both)")
    parser.add_argument("--show", type=positive_int, default=None, metavar="N",
                        help="also list, at cutoff N, the extra operations that leave the basis invariant")
    parser.set_defaults(func=run)


def run(args) -> int:
    from crystal_fourier.derive import faithful_cutoff
    from crystal_fourier.derive._faithful import basis_symmetry

    group = resolve_group(args)
    print(f"{group.symbol} (No. {group.number}), Hall number {group.hall_number}")
    for shell in (args.shell,) if args.shell else ("ball", "box"):
        cutoff = faithful_cutoff(group.number, shell, hall_number=group.hall_number)
        print(f"  {shell}: smallest faithful cutoff {cutoff}")
        if args.show is not None:
            symmetry = basis_symmetry(group.number, args.show, shell, hall_number=group.hall_number)
            own = set(group.operations)
            extra = [op.xyz for op in symmetry.operations if op not in own]
            state = "faithful" if symmetry.faithful else f"NOT faithful (index {symmetry.index})"
            print(f"  {shell} {args.show}: {state}; {len(extra)} extra operations"
                  + (": " + "; ".join(extra[:12]) + (" ..." if len(extra) > 12 else "") if extra else ""))
    return 0
