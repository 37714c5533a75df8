"""Benchmark (issue 30): structure-factor forms of every group, their derive time and factor counts.

Prints, for the 230 ITA standard settings (and with --all-settings the 530 Hall settings):
* the time to derive every form (integer work: parity classes, factoring, merging) on one core,
  then to print them as SymPy expressions, then (with --certify) to certify them exactly;
* a baseline in the same process: the plain operation sums as SymPy expressions (one cosine and one
  sine per operation), and the ratio;
* the factor-count goal: for each group with >= 4 operations, the total number of trigonometric
  factors in A and B over all classes against half of the plain operation sum's (2 |G/Z^3|), and the
  groups that miss it although the lower bound allows it (factors / goal, bound).

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_structure_factors.py [--all-settings] [--certify] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

import sympy as sp

from crystal_fourier.derive import space_group, standard_hall_number, structure_factor_form
from crystal_fourier.derive._structure_factors import factor_lower_bound, plain_factor_count


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def plain_sums(halls) -> float:
    """Baseline: A and B as the plain operation sums, SymPy expressions, for every setting."""
    h, k, l, x, y, z = sp.symbols("h k l x y z")
    start = time.perf_counter()
    for hall in halls:
        group = space_group(hall_number=hall)
        a_terms, b_terms = [], []
        for op in group.operations:
            image = [sum(op.rotation[i][j] * (x, y, z)[j] for j in range(3)) + sp.Rational(op.translation_24[i], 24)
                     for i in range(3)]
            argument = 2 * sp.pi * (h * image[0] + k * image[1] + l * image[2])
            a_terms.append(sp.cos(argument))
            b_terms.append(sp.sin(argument))
        sp.Add(*a_terms)
        sp.Add(*b_terms)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all-settings", action="store_true", help="the 530 Hall settings, not the 230 standard ones")
    parser.add_argument("--certify", action="store_true", help="also time the exact certificates")
    parser.add_argument("--shifts", choices=("auto", "always", "never"), default="auto",
                        help="where phases become shifts linear in h (default auto: as Vol. B unless that misses "
                             "the factor goal)")
    parser.add_argument("--json", type=Path, default=None, help="write the per-group numbers here")
    args = parser.parse_args()
    halls = list(range(1, 531)) if args.all_settings else [standard_hall_number(n) for n in range(1, 231)]
    for hall in halls:            # the spglib database and operations load first (not part of the derivation)
        space_group(hall_number=hall)

    # Nothing in this process has derived a form yet: the first calls are the cold derivation.
    start = time.perf_counter()
    forms = [structure_factor_form(None, hall_number=hall, shifts=args.shifts) for hall in halls]
    derive_s = time.perf_counter() - start
    start = time.perf_counter()
    for form in forms:
        form.conditions()
        form.expressions()
    print_s = time.perf_counter() - start
    baseline_s = plain_sums(halls)
    certify_s = None
    if args.certify:
        from crystal_fourier.derive._structure_factor_export import structure_factor_document
        from crystal_fourier.proofs import structure_factor_certificate

        start = time.perf_counter()
        failures = [hall for hall in halls
                    if not structure_factor_certificate(
                        structure_factor_document(None, hall_number=hall, shifts=args.shifts))["ok"]]
        certify_s = time.perf_counter() - start
    rows = []
    for form in forms:
        n = len(form.group.operations)
        rows.append({"sg": form.group.number, "hall_number": form.group.hall_number, "symbol": form.group.symbol,
                     "n_operations": n, "n_classes": len(form.classes), "n_factors": form.n_factors,
                     "n_factors_plain": plain_factor_count(form.group), "factored": form.factored,
                     "n_factors_lower_bound": factor_lower_bound(form.group)})
    eligible = [r for r in rows if r["n_operations"] >= 4]
    meeting = [r for r in eligible if 2 * r["n_factors"] <= r["n_factors_plain"]]
    below_plain = [r for r in eligible if r["n_factors"] <= r["n_factors_plain"]]
    # No form of any kind meets the goal where one present class alone needs more (factor_lower_bound).
    unreachable = [r for r in eligible if 2 * r["n_factors_lower_bound"] > r["n_factors_plain"]]
    at_bound = [r for r in eligible if r["n_factors"] == r["n_factors_lower_bound"]]
    print(f"commit {_commit()}; {len(halls)} settings ({'all' if args.all_settings else 'ITA standard'}); "
          f"shifts {args.shifts}")
    print(f"derive (integer work): {derive_s:.2f} s; SymPy expressions: {print_s:.2f} s; "
          f"total {derive_s + print_s:.2f} s (goal <= 30 s)")
    print(f"baseline, plain operation sums as SymPy: {baseline_s:.2f} s "
          f"(forms / baseline = {(derive_s + print_s) / baseline_s:.2f})")
    if certify_s is not None:
        print(f"certificates: {certify_s:.1f} s, {len(failures)} failed {failures[:10]}")
    print(f"factor-count goal (<= half the plain sum's, |G/Z^3| >= 4): {len(meeting)} of {len(eligible)} groups; "
          f"no more than the plain sum: {len(below_plain)} of {len(eligible)}")
    print(f"provably unreachable (one class needs > half the plain sum's factors): {len(unreachable)} groups "
          f"{[r['sg'] for r in unreachable]}; goal met by {len(meeting)} of the {len(eligible) - len(unreachable)} "
          f"others; {len(at_bound)} groups at the lower bound exactly")
    missing = [r for r in eligible if r not in meeting and r not in unreachable]
    print(f"reachable but missing the goal ({len(missing)}): " + ", ".join(
        f"{r['symbol']} {r['n_factors']}/{r['n_factors_plain'] // 2} (bound {r['n_factors_lower_bound']})"
        for r in missing))
    print(f"total factors {sum(r['n_factors'] for r in rows)} against {sum(r['n_factors_plain'] for r in rows)} "
          f"in the plain sums; classes {sum(r['n_classes'] for r in rows)}; "
          f"unfactored settings {[r['hall_number'] for r in rows if not r['factored']]}")
    if args.json:
        args.json.write_text(json.dumps({"commit": _commit(), "derive_s": derive_s, "print_s": print_s,
                                         "baseline_s": baseline_s, "certify_s": certify_s, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
