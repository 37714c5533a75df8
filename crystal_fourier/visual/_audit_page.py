"""One self-contained HTML page of an audit: the per-kind table with error / tolerance bars, the failing
cases, the model errors, and links to the reproducer scripts.

Rendered by jinja2 (``StrictUndefined``, autoescaping on) from ``templates/audit.html.j2``, like the
group report (:mod:`crystal_fourier.visual._report`): no script, nothing loaded from outside; the
bars are CSS widths. The report object is read, never imported here (the audit sits above this stage).
"""

from __future__ import annotations

import math

__all__ = ["BAR_DECADES", "render_audit_page", "ratio_bar"]

BAR_DECADES = 6
"""A bar spans error / tolerance from 10^-6 to 10^6 on a log scale; the tolerance (ratio 1) is the middle."""


def ratio_bar(ratio: float) -> float:
    """Width in percent of the bar of ``ratio`` = error / tolerance (log scale, 50 at the tolerance).

    Parameters
    ----------
    ratio : float
        error / tolerance, >= 0.

    Returns
    -------
    float
        0 to 100.

    Examples
    --------
    >>> ratio_bar(1.0), ratio_bar(1e6), ratio_bar(0.0)
    (50.0, 100.0, 0.0)
    """
    if not ratio > 0:
        return 0.0
    position = 50.0 + 50.0 * math.log10(ratio) / BAR_DECADES
    return round(min(100.0, max(0.0, position)), 1)


def render_audit_page(report: object, *, tolerance: str, reproducers: "dict | None" = None) -> str:
    """The HTML text of ``report`` (an :class:`~crystal_fourier.audit.AuditReport`); same report, same text.

    Parameters
    ----------
    report : AuditReport
        A finished audit.
    tolerance : str
        The tolerances in words, as report.md states them.
    reproducers : dict, optional
        Failed check -> path of its reproducer relative to the page (linked from the failures table).

    Returns
    -------
    str
        A self-contained HTML page.
    """
    from crystal_fourier.visual._report import _environment

    reproducers = reproducers or {}
    rows = []
    for row in report.summary(worst=1):
        worst = row["worst"][0]
        rows.append({**row, "ratio": worst["ratio"], "bar": ratio_bar(worst["ratio"]),
                     "case": f"{worst['crystal']} (sg{worst['group']}) {worst['label']}"
                             + (f" ({worst['detail']})" if worst.get("detail") else "")})
    failures = [{"crystal": c.crystal, "group": c.group, "kind": c.kind, "label": c.label, "detail": c.detail,
                 "quantity": c.quantity,
                 "error": c.error, "tolerance": c.tolerance, "ratio": c.ratio, "bar": ratio_bar(c.ratio),
                 "float64_error": c.float64_error, "reproducer": reproducers.get(c)}
                for c in report.failures]
    context = {
        "model": report.model, "dtype": report.dtype, "claim": report.claim.describe(), "ok": report.ok,
        "crystals": report.crystals, "n_checks": len(report.checks), "failing_kinds": list(report.failing_kinds),
        "tolerance": tolerance, "rows": rows, "failures": failures[:200],
        "n_failures": len(failures), "errors": list(report.errors), "notes": list(report.notes),
        "skipped_improper": report.skipped_improper, "seconds": report.seconds,
        "model_seconds": report.model_seconds,
    }
    return _environment().get_template("audit.html.j2").render(**context)
