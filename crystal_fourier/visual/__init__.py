"""Pictures of a derived basis: sections of the cell, the dual graph, and a per-group HTML report.

This stage reads derive (and proofs, for the report) and is never read by
them: derive stays exact and offline. matplotlib, the optional extra ``plot``,
is imported only inside the rendering functions, so importing this package
costs nothing. Every picture is deterministic: the same inputs give the same
bytes (fixed style, fonts, dpi, and no dates or versions in the metadata).

The headless-browser harness that the report tests use is test infrastructure and lives with
them (tests/visual/browser.py).
"""

from crystal_fourier.visual._graph_picture import MAX_NODES, render_graph, write_graph_picture
from crystal_fourier.visual._render import require_matplotlib
from crystal_fourier.visual._report import MAX_FORMULAS, render_report, write_report
from crystal_fourier.visual._sections import (
    DEFAULT_RESOLUTION,
    MAX_GRID,
    Section,
    render_section,
    render_sections,
    section_values,
)

# What users call: a section's values and pictures, the dual-graph picture, the report, and the limits
# they check. The layout, symmetry-element and mathtext helpers behind them are private to this package.
__all__ = [
    "DEFAULT_RESOLUTION", "MAX_GRID", "MAX_NODES", "MAX_FORMULAS",
    "Section", "section_values", "render_section", "render_sections",
    "render_graph", "write_graph_picture",
    "render_report", "write_report",
    "require_matplotlib",
]
