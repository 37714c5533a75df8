"""Pictures of a derived basis: sections of the cell, the dual graph, and a per-group HTML report.

This stage reads derive (and proofs, for the report) and is never read by
them: derive stays exact and offline. matplotlib, the optional extra ``plot``,
is imported only inside the rendering functions, so importing this package
costs nothing. Every picture is deterministic: the same inputs give the same
bytes (fixed style, fonts, dpi, and no dates or versions in the metadata).

The headless-browser harness that the report tests use is test infrastructure and lives with
them (tests/visual/browser.py).
"""

from crystal_fourier.visual._audit_page import render_audit_page
from crystal_fourier.visual._graph_picture import render_graph
from crystal_fourier.visual._report import render_report, write_report
from crystal_fourier.visual._sections import render_section

# What users call: a section's picture, the dual-graph picture and the per-group report. The limits, the
# several-section layout, the file writers the command line uses and the helpers behind them are private
# to this package.
__all__ = ["render_section", "render_graph", "render_report", "write_report", "render_audit_page"]
