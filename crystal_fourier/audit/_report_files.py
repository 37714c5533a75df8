"""An audit report on disk: report.json, report.md, summary.png and one reproducer script per failure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # a report is written by AuditReport.write, which imports this module: types only here
    from crystal_fourier.audit._audit import AuditReport
    from crystal_fourier.audit._redescriptions import Redescription

__all__ = ["report_data", "markdown_table", "summary_picture", "reproducer_script", "write_report"]

MAX_REPRODUCERS = 20
"""At most this many reproducer scripts (the worst failures first); the JSON lists every failure."""


def report_data(report: AuditReport) -> dict:
    """Everything in the report as JSON-ready data (summary rows and every failed check)."""
    return {
        "model": report.model, "spec": report.spec, "claim": report.claim.describe(), "dtype": report.dtype,
        "crystals": report.crystals, "kinds": list(report.kinds), "checks": len(report.checks), "ok": report.ok,
        "failing_kinds": list(report.failing_kinds), "seconds": round(report.seconds, 3),
        "model_seconds": round(report.model_seconds, 3), "summary": report.summary(),
        "tolerances": _tolerance_rule(report), "skipped_improper": report.skipped_improper,
        "notes": list(report.notes),
        "failures": [{"crystal": c.crystal, "group": c.group, "kind": c.kind, "label": c.label, "detail": c.detail,
                      "quantity": c.quantity, "error": c.error, "tolerance": c.tolerance, "ratio": c.ratio,
                      "float64_error": c.float64_error} for c in report.failures],
        "model_errors": [{"crystal": e.crystal, "kind": e.kind, "label": e.label, "message": e.message}
                         for e in report.errors],
    }


def _tolerance_rule(report: AuditReport) -> str:
    """The tolerance in words: per dtype, relative to max(1, max |reference|)."""
    from crystal_fourier.audit._claims import AUDIT_TOLERANCE

    from crystal_fourier.audit._derivatives import DERIVATIVE_STEP, DERIVATIVE_TOLERANCE

    dtype = np.dtype(report.dtype)
    rule = f"{AUDIT_TOLERANCE[dtype]:g} x max(1, max |reference output|) ({report.dtype})"
    if "derivatives" in report.kinds:
        rule += (f"; derivatives: central differences with step {DERIVATIVE_STEP[dtype]:g} (A, strain), "
                 f"tolerance {DERIVATIVE_TOLERANCE[dtype]:g} x max(1, max |output|)")
    if "continuity" in report.kinds:
        from crystal_fourier.audit._continuity import (
            CONTINUITY_DISPLACEMENT, CONTINUITY_POINTS, CONTINUITY_STRAIN, CONTINUITY_TOLERANCE)

        rule += (f"; continuity: along random paths (all atoms displaced by up to {CONTINUITY_DISPLACEMENT:g} A "
                 f"in all, strain up to {CONTINUITY_STRAIN:g}) at the steps h = {2 / (CONTINUITY_POINTS - 1):g} and "
                 "h/2, the part of the largest |fourth difference| D that does not shrink like h^2, "
                 "P = max(0, (4 D(h/2) - D(h)) / 3); above it, the part that does not shrink like h at (h/2, h/4), "
                 "P = max(0, 2 D(h/4) - D(h/2)) (a jump J gives 3J, a kink 0), "
                 f"tolerance {CONTINUITY_TOLERANCE[dtype]:g} x max(1, max |output|)")
    if "batch" in report.kinds:
        rule += "; batch: one crystal in a batch against the same crystal alone, at the audit tolerance"
    return rule


def markdown_table(report: AuditReport) -> str:
    """The summary as a Markdown table, with a header line naming the model, the claim and the tolerance.

    Columns: kind, quantity, n, max error, median, max error / tolerance, above tolerance (round-off
    in parentheses when a float64 rerun explained some), and the worst case: its crystal, group and
    re-description (e.g. ``det -1 [[...]]``). Model errors and skipped improper operations follow.

    Parameters
    ----------
    report : AuditReport
        A finished audit.

    Returns
    -------
    str
        The Markdown text, ending in a newline.
    """
    verdict = ("**all within tolerance**" if report.ok else f"**FAILS** {', '.join(report.failing_kinds)}")
    if report.errors:
        verdict += f"; **{len(report.errors)} model calls raised or timed out**"
    lines = [f"Audit of **{report.model}** ({report.dtype}); claim: {report.claim.describe()}; "
             f"{report.crystals} crystals, {len(report.checks)} checks: " + verdict, "",
             f"Tolerance: {_tolerance_rule(report)} of each quantity (eV, eV/A, eV/A^3).", "",
             "| kind | quantity | n | max error | median | error / tol. | above tol. | worst case |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for row in report.summary(worst=1):
        worst = row["worst"][0]
        above = f"{row['above']}" + (f" (+{row['roundoff']} round-off)" if row["roundoff"] else "")
        lines.append(f"| {row['kind']} | {row['quantity']} | {row['n']} | {row['max']:.2e} | {row['median']:.2e} | "
                     f"{worst['ratio']:.3g} | {above} | {worst['crystal']} (sg{worst['group']}) "
                     f"{_cell(worst['label'] + ('; ' + worst['detail'] if worst['detail'] else ''))} |")
    if report.skipped_improper:
        lines += ["", f"Claim SE3: {report.skipped_improper} improper group operations (det Q = -1) skipped."]
    if report.notes:
        lines += ["", *(f"Note: {_cell(note)}." for note in report.notes)]
    if report.errors:
        lines += ["", "Model errors (these calls gave no output; their checks are missing):", ""]
        lines += [f"- {e.crystal}, {e.kind} '{_cell(e.label)}': {_cell(e.message)}" for e in report.errors]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def summary_picture(report: AuditReport) -> bytes:
    """PNG: per kind, the largest error / tolerance of each quantity (log scale; 1 is the tolerance)."""
    from crystal_fourier._figures import render_figure

    rows = report.summary(worst=1)
    kinds = [k for k in report.kinds if any(r["kind"] == k for r in rows)]
    quantities = [q for q in ("energy", "forces", "stress") if any(r["quantity"] == q for r in rows)]

    def draw(figure):
        axes = figure.add_subplot(1, 1, 1)
        width = 0.8 / max(1, len(quantities))
        for j, quantity in enumerate(quantities):
            ratios = []
            for kind in kinds:
                chosen = [c.error / c.tolerance for c in report.checks if c.kind == kind and c.quantity == quantity]
                ratios.append(max(max(chosen, default=0.0), 1e-8))
            axes.bar(np.arange(len(kinds)) + (j - (len(quantities) - 1) / 2) * width, ratios, width, label=quantity)
        axes.axhline(1.0, color="black", linestyle="--", linewidth=1, label="tolerance")
        axes.set_yscale("log")
        axes.set_xticks(np.arange(len(kinds)))
        axes.set_xticklabels(kinds, rotation=35, ha="right")
        axes.set_ylabel("max error / tolerance")
        axes.set_title(f"{report.model}: {report.claim.describe()}")
        axes.legend(loc="upper left", fontsize="small")

    return render_figure(draw, (7.0, 4.0), "png", tight=True)


def _crystal_source(name: str, crystal) -> str:
    return (f"{name} = Crystal(\n    {np.asarray(crystal.lattice).tolist()!r},\n"
            f"    {np.asarray(crystal.positions).tolist()!r},\n    {crystal.numbers.tolist()!r})\n")


def reproducer_script(report: AuditReport, case: Redescription, reference: dict, got: dict, quantity: str,
                      tolerance: float) -> str:
    """A self-contained Python script: both descriptions, the map, the two model calls and the numbers seen.

    The script needs only crystal-fourier (and the model); it embeds ``tolerance``, the one the
    audit held this check to, prints the error again and exits 1 exactly when the error is
    above it (the audit's verdict, for a deterministic model); 2 when ``MODEL`` is still to be
    filled in (a model without a spec); 3 when the model raises (as the audit's statuses).

    Parameters
    ----------
    report : AuditReport
        The audit that found the failure (model, spec, claim).
    case : Redescription
        The failing re-description.
    reference : dict
        The model's outputs on the original crystal, quantity -> value.
    got : dict
        The model's outputs on the re-described crystal.
    quantity : str
        ``'energy'``, ``'forces'`` or ``'stress'``.
    tolerance : float
        The absolute tolerance the check was held to (eV, eV/A or eV/A^3).

    Returns
    -------
    str
        The script's source.
    """
    mapping = {"energy": "scalar", "forces": "vectors", "stress": "tensor"}[quantity]
    extensive = report.claim.energy == "extensive"
    load = (f"MODEL = model_from_spec({report.spec!r})" if report.spec is not None else
            f"MODEL = None  # put the audited model here ({report.model}): a callable Crystal -> float | dict")
    seen_reference = np.asarray(reference[quantity]).tolist()
    seen_got = np.asarray(got[quantity]).tolist()
    return f'''"""Reproducer: {report.model} breaks its claim ({report.claim.describe()}) on {quantity}.

Re-description: {case.kind} '{case.label}' ({case.original.n_atoms} -> {case.crystal.n_atoms} atoms).
The two crystals below are the same periodic crystal: new atom i is old atom ATOM_MAP[i] moved by the
integer lattice vector TRANSLATIONS[i], then r' = ROTATION r + ORIGIN (Cartesian); extensive
quantities scale by CELLS. Audit numbers: original {quantity} = {seen_reference!r},
re-described {quantity} = {seen_got!r}.
"""
import sys
from fractions import Fraction

import numpy as np

from crystal_fourier.audit import Redescription, as_model, model_from_spec  # noqa: F401
from crystal_fourier.runtime import Crystal

{_crystal_source("ORIGINAL", case.original)}
{_crystal_source("REDESCRIBED", case.crystal)}
ATOM_MAP = {case.atom_map.tolist()!r}
TRANSLATIONS = {case.translations.tolist()!r}
ROTATION = {case.rotation.tolist()!r}
ORIGIN = {case.origin.tolist()!r}
BASIS = {[[str(x) for x in row] for row in case.basis]!r}
CELLS = Fraction({str(case.cells)!r})
TOLERANCE = {tolerance!r}

{load}

if __name__ == "__main__":
    case = Redescription.from_map(ORIGINAL, REDESCRIBED, ATOM_MAP, rotation=ROTATION, origin=ORIGIN,
                                  basis=[[Fraction(x) for x in row] for row in BASIS], kind={case.kind!r},
                                  label={case.label!r})   # re-checks the map
    if MODEL is None:   # exit 1 means "fails the claim": nothing was checked here
        print("put the audited model in MODEL first", file=sys.stderr)
        sys.exit(2)
    model = as_model(MODEL)
    try:
        reference, got = model(ORIGINAL)["{quantity}"], model(REDESCRIBED)["{quantity}"]
    except Exception as error:   # the audit's exit status 3: the model raised
        print(f"the model raised {{type(error).__name__}}: {{error}}", file=sys.stderr)
        sys.exit(3)
    expected = case.expected("{mapping}", reference{", extensive=" + str(extensive) if mapping == "scalar" else ""})
    error = float(np.max(np.abs(expected - got)))
    print(f"{quantity}: expected {{expected.tolist()}}, got {{np.asarray(got).tolist()}}, error {{error:.3g}} "
          f"(tolerance {{TOLERANCE:.3g}})")
    sys.exit(1 if error > TOLERANCE else 0)
'''


def write_report(report: AuditReport, out: "str | os.PathLike[str]", *, picture: bool = True) -> dict[str, Path]:
    """Write report.json, report.md, report.html (one page, :func:`~crystal_fourier.visual.render_audit_page`),
    summary.png (when matplotlib is installed and ``picture``) and reproducers/NN_kind_quantity.py for the
    worst :data:`MAX_REPRODUCERS` failures, atomically.

    Parameters
    ----------
    report : AuditReport
        The result of :func:`audit`.
    out : str or os.PathLike
        The directory to write (created if needed).
    picture : bool
        Also draw summary.png (largest error / tolerance per kind and quantity).

    Returns
    -------
    dict
        Role -> path written (``json``, ``markdown``, ``html``, ``picture``, and ``reproducer-N``).
    """
    from crystal_fourier._atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
    from crystal_fourier.visual import render_audit_page

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = {"json": out / "report.json", "markdown": out / "report.md", "html": out / "report.html"}
    atomic_write_json(written["json"], report_data(report))
    atomic_write_text(written["markdown"], markdown_table(report))
    reproducers = _reproducer_names(report)
    atomic_write_text(written["html"], render_audit_page(report, tolerance=_tolerance_rule(report),
                                                                reproducers=reproducers))
    if picture:
        from crystal_fourier.errors import CrystalFourierError

        try:
            data = summary_picture(report)
        except CrystalFourierError:   # pragma: no cover - matplotlib is the optional extra 'plot'
            data = None
        if data is not None:
            written["picture"] = out / "summary.png"
            atomic_write_bytes(written["picture"], data)
    for count, (check, relative) in enumerate(reproducers.items()):
        case, reference, got = report.cases[(check.crystal, check.kind, check.label)]
        path = out / relative
        path.parent.mkdir(exist_ok=True)
        atomic_write_text(path, reproducer_script(report, case, reference, got, check.quantity, check.tolerance))
        written[f"reproducer-{count}"] = path
    return written


def _reproducer_names(report: AuditReport) -> dict:
    """Failed check -> its reproducer's path relative to the report directory (the worst
    :data:`MAX_REPRODUCERS` re-description cases, one per case)."""
    seen, names = set(), {}
    for check in report.failures:
        key = (check.crystal, check.kind, check.label)
        if key in seen or key not in report.cases or len(names) >= MAX_REPRODUCERS:
            continue
        seen.add(key)
        names[check] = f"reproducers/{len(names):02d}_{check.kind}_{check.quantity}.py"
    return names
