"""re-derive and re-check invariance, absences, completeness, independence

Exit status 0 when every check passes, 1 naming every failing group and check. --groups may name
plane groups too (p4gm, c2mm, or 'plane' for all 17): their certificates add the reflection
conditions (against the absences) and the structure-factor forms (an exact identity).
"""

from __future__ import annotations

import sys
from pathlib import Path

from crystal_fourier._commands._options import (
    add_command,
    add_cutoff_arguments,
    add_groups_option,
    check_cutoff_work,
    parse_group_list,
)


def add_parser(subparsers) -> None:
    parser = add_command(subparsers, "verify", __doc__)
    add_groups_option(parser, plane=True)
    add_cutoff_arguments(parser, allow_large=True)
    parser.add_argument("--sympy", action="store_true",
                        help="also prove f(g x) - f(x) = 0 with SymPy for every function and operation (slow)")
    parser.add_argument("--tensors", action="store_true",
                        help="also certify each group's tensor bases (symmetric2, piezoelectric, elastic, axial2): "
                             "exact invariance, index symmetry, independence, dimension = character formula (space "
                             "groups only)")
    parser.add_argument("--out", type=Path, default=None, help="write one certificate JSON per group here")
    parser.add_argument("--quiet", action="store_true", help="print only failures and the final line")
    parser.set_defaults(func=run)


def _verify_tensors(groups: list[int], args) -> int:
    """Certify the tensor bases of the groups' standard settings; print a table; 1 if any check failed."""
    from crystal_fourier.derive import TENSOR_KINDS, standard_hall_number
    from crystal_fourier.proofs import verify_tensors

    results = verify_tensors([standard_hall_number(n) for n in groups if isinstance(n, int)], out=args.out)
    if not args.quiet:
        print(f"{'sg':>3}  {'symbol':<12} {'hall':>4}  " + " ".join(f"{kind:>13}" for kind in TENSOR_KINDS)
              + "  status")
    for r in results:
        if not args.quiet or not r.ok:
            print(f"{r.sg:>3}  {r.symbol:<12} {r.hall_number:>4}  " + " ".join(f"{d:>13}" for d in r.dimensions)
                  + ("  ok" if r.ok else "  FAILED: " + ", ".join(r.failed)))
    failed = [r for r in results if not r.ok]
    if failed:
        names = "; ".join(f"sg {r.sg} ({r.symbol}): {', '.join(r.failed)}" for r in failed)
        print(f"verify: tensor bases of {len(failed)} of {len(results)} groups FAILED: {names}", file=sys.stderr)
        return 1
    print(f"verify: tensor bases of all {len(results)} groups certified (invariance, index symmetry, "
          "independence, dimension = character formula)")
    return 0


def run(args) -> int:
    from crystal_fourier.proofs import verify_groups

    groups = parse_group_list(args.groups, plane=True)
    check_cutoff_work(groups, args, f"verifying {len(groups)} group(s) at {args.shell} cutoff {args.cutoff}")
    results = verify_groups(groups, args.cutoff, args.shell, sympy=args.sympy, out=args.out,
                            progress=sys.stderr.isatty())
    header = (f"{'sg':>3}  {'symbol':<12} {'hall':>4} {'ops':>4} {'dim':>5} {'chi':>5} {'absent':>6} "
              f"{'terms':>8}  status")
    if not args.quiet:
        print(header)
    for r in results:
        status = "ok" if r.ok else "FAILED: " + ", ".join(r.failed)
        if not args.quiet or not r.ok:
            print(f"{r.sg:>3}  {r.symbol:<12} {r.hall_number:>4} {r.n_operations:>4} {r.dim:>5} "
                  f"{r.character_formula:>5} {r.n_absent_frequencies:>6} {r.terms_checked:>8}  {status}")
    failed = [r for r in results if not r.ok]
    checks = "invariance, absences, completeness, independence" + (", sympy" if args.sympy else "")
    if any(not isinstance(group, int) for group in groups):
        checks += "; plane groups also reflection conditions, structure-factor forms"
    # Tensor bases are a 3D crystal's: plane groups have none here.
    tensor_status = _verify_tensors(groups, args) if args.tensors and any(isinstance(g, int) for g in groups) else 0
    if failed:
        names = "; ".join(f"sg {r.sg} ({r.symbol}): {', '.join(r.failed)}" for r in failed)
        print(f"verify: {len(failed)} of {len(results)} groups FAILED at {args.shell} {args.cutoff}: {names}",
              file=sys.stderr)
        return 1
    print(f"verify: all {len(results)} groups passed ({checks}) at {args.shell} cutoff {args.cutoff}"
          + (f"; certificates in {args.out}" if args.out else ""))
    return tensor_status
