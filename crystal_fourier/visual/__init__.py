"""Pictures of a derived basis: sections of the cell, the dual graph, and a per-group HTML report.

This stage reads derive (and proofs, for the report) and is never read by
them: derive stays exact and offline. matplotlib, the optional extra ``plot``,
is imported only inside the rendering functions, so importing this package
costs nothing. Every picture is deterministic: the same inputs give the same
bytes (fixed style, fonts, dpi, and no dates or versions in the metadata).

The headless-browser harness that the report tests use (``_browser``) is private: it is
test infrastructure, not part of the API.
"""

from crystal_fourier.visual._graph_picture import (
    MAX_NODES,
    GraphLayout,
    graph_layout,
    render_graph,
    write_graph_picture,
)
from crystal_fourier.visual._mathtext import formula_svg, mathtext_lines, mathtext_terms
from crystal_fourier.visual._report import MAX_FORMULAS, render_report, report_context, report_name, write_report
from crystal_fourier.visual._sections import (
    DEFAULT_RESOLUTION,
    MAX_GRID,
    Section,
    check_function_index,
    plane_basis,
    render_section,
    render_sections,
    section_values,
)
from crystal_fourier.visual._symmetry_elements import (
    AxisPoint,
    InversionPoint,
    PlaneLine,
    SectionElements,
    in_plane_axes,
    section_elements,
)

__all__ = [
    "DEFAULT_RESOLUTION", "MAX_GRID", "MAX_NODES", "MAX_FORMULAS",
    "Section", "AxisPoint", "PlaneLine", "InversionPoint", "SectionElements", "GraphLayout",
    "in_plane_axes", "section_elements", "plane_basis", "check_function_index", "section_values",
    "render_section", "render_sections", "graph_layout", "render_graph", "write_graph_picture",
    "mathtext_terms", "mathtext_lines", "formula_svg",
    "report_context", "render_report", "report_name", "write_report",
]
