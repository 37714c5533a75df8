"""One self-contained HTML page per group: operations, orbits, absences, closed forms, certificate, pictures.

The page is rendered by jinja2 (``StrictUndefined``, autoescaping on) from
``templates/report.html.j2``. It loads nothing: formulas are SVG and pictures
are PNG, both embedded as ``data:`` URIs, and there is no script, so it reads
the same offline, in a mail attachment or from a CI artifact.
"""

from __future__ import annotations

import base64
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from crystal_fourier._atomic import atomic_write_text
from crystal_fourier.derive import DEN
from crystal_fourier._checks import check_int
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    import os

    from crystal_fourier.derive import Basis
    from crystal_fourier.visual._sections import Section

__all__ = ["MAX_FORMULAS", "TEMPLATE_DIR", "report_context", "render_report", "report_name", "write_report"]

MAX_FORMULAS = 64
"""Closed forms typeset on the page; the rest are named with a pointer to ``crystal-fourier basis``."""
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

# (det R, trace R) -> Hermann-Mauguin type of the rotation part.
_ROTATION_TYPE = {(1, 3): "1", (1, -1): "2", (1, 0): "3", (1, 1): "4", (1, 2): "6",
                  (-1, -3): "-1", (-1, 1): "m", (-1, 0): "-3", (-1, -1): "-4", (-1, -2): "-6"}


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _rotation_type(operation) -> str:
    r = operation.rotation
    det = (r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) - r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0])
           + r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]))
    return _ROTATION_TYPE[(det, r[0][0] + r[1][1] + r[2][2])]


def _hkl(values) -> str:
    return "(" + " ".join(str(int(v)) for v in values) + ")"


def _graph_basis(basis):
    """The same group and shell at the largest cutoff <= basis' whose graph picture fits, or None."""
    from crystal_fourier.derive import basis as derive_basis
    from crystal_fourier.visual._graph_picture import MAX_NODES

    cutoff = basis.frequencies.cutoff
    while cutoff >= 0:
        smaller = derive_basis(basis.group, cutoff, basis.frequencies.shell, hall_number=basis.group.hall_number)
        if len(smaller.frequencies) <= MAX_NODES:
            return smaller
        cutoff -= 1
    return None


def report_context(basis: Basis, *, section: Section | str = "z=0", max_formulas: int = MAX_FORMULAS) -> dict:
    """Everything the template shows, as plain values (strings, numbers, lists, dicts).

    Raises
    ------
    CrystalFourierError
        Bad section or ``max_formulas``, or no matplotlib.
    """
    from crystal_fourier.derive import closed_form, latex
    from crystal_fourier.proofs import certificate
    from crystal_fourier.visual._graph_picture import render_graph
    from crystal_fourier.visual._mathtext import formula_svg, mathtext_lines
    from crystal_fourier.visual._sections import MAX_GRID, Section, render_sections

    check_int("max_formulas", max_formulas, 0)
    section = section if isinstance(section, Section) else Section.parse(section)
    group = basis.group
    decomposition = basis.decomposition
    operations = group.operations
    functions_of_orbit: dict[int, list[int]] = {}
    for index, orbit in enumerate(basis.real.orbit.tolist()):
        functions_of_orbit.setdefault(orbit, []).append(index)

    orbits, absences = [], []
    for index, orbit in enumerate(decomposition.orbits()):
        witness = None if orbit.witness is None else operations[orbit.witness]
        partner = int(decomposition.partner[index])
        status = "absent" if orbit.absent else ("centric" if orbit.centric else f"acentric, -O is #{partner}")
        orbits.append({"index": index, "representative": _hkl(orbit.representative), "size": len(orbit.members),
                       "status": status, "functions": ", ".join(map(str, functions_of_orbit.get(index, []))),
                       "witness": "" if witness is None else witness.xyz})
        if orbit.absent:
            representative = int(decomposition.representative[index])
            phase = int(basis.graph.phase_24[representative, orbit.witness])
            absences.append({"orbit": index, "representative": _hkl(orbit.representative),
                             "size": len(orbit.members), "witness_index": orbit.witness, "witness": witness.xyz,
                             "phase": str(Fraction(phase, DEN))})

    functions = []
    for index, function in enumerate(basis.real.functions()[:max_formulas]):
        expression = closed_form(function)
        lines, omitted = mathtext_lines(expression, f"f_{{{index}}}")
        functions.append({"index": index, "orbit": function.orbit, "part": function.part,
                          "n_terms": len(function.frequencies), "omitted": omitted, "latex": latex(expression),
                          "svg": _data_uri(formula_svg(lines), "image/svg+xml")})

    document = certificate(basis)
    checks = []
    details = {
        "invariance": lambda c: f"{c['terms_checked']} (function, operation, term) images checked exactly",
        "absences": lambda c: f"{c['n_absent_frequencies']} absent frequencies, each with a re-checked witness",
        "completeness": lambda c: f"dim {c['dim']} = character formula {c['character_formula']}",
        "independence": lambda c: "supports disjoint except Re/Im pairs of one orbit",
    }
    for name, describe in details.items():
        checks.append({"name": name, "ok": document[name]["ok"], "detail": describe(document[name]),
                       "failures": len(document[name].get("failures", []))})

    n_grid = min(MAX_GRID, basis.dim)
    pictures = [{
        "caption": f"The first {n_grid} basis functions on the section {section} (red positive, blue negative), "
                   "with the cell outline and the symmetry elements perpendicular to the section.",
        "alt": f"heat maps of f_0 to f_{n_grid - 1} on the section {section}",
        "png": _data_uri(render_sections(basis, range(n_grid), section), "image/png"),
    }]
    small = _graph_basis(basis)
    graph_note = ""
    if small is not None:
        pictures.append({
            "caption": f"The dual graph at {small.frequencies.shell} cutoff {small.frequencies.cutoff}: "
                       "one panel per layer l, orbits coloured, absent frequencies crossed.",
            "alt": f"dual graph at {small.frequencies.shell} cutoff {small.frequencies.cutoff}",
            "png": _data_uri(render_graph(small), "image/png"),
        })
        if small.frequencies.cutoff != basis.frequencies.cutoff:
            graph_note = (f"The dual-graph picture uses cutoff {small.frequencies.cutoff}: "
                          f"cutoff {basis.frequencies.cutoff} has too many frequencies to draw legibly.")

    summary = basis.summary()
    return {
        "title": f"{group.symbol} (No. {group.number}), Hall {group.hall_number}: "
                 f"{basis.frequencies.shell} cutoff {basis.frequencies.cutoff}",
        "group": {"symbol": group.symbol, "number": group.number, "hall_number": group.hall_number,
                  "hall_symbol": group.hall_symbol, "choice": group.choice or "-",
                  "crystal_system": group.crystal_system, "standard": group.is_standard},
        "shell": basis.frequencies.shell,
        "cutoff": basis.frequencies.cutoff,
        "summary": summary,
        "operations": [{"index": i, "xyz": op.xyz, "type": _rotation_type(op),
                        "translation": ", ".join(str(Fraction(t, DEN)) for t in op.translation_24)}
                       for i, op in enumerate(operations)],
        "orbits": orbits,
        "absences": absences,
        "functions": functions,
        "n_functions_omitted": basis.dim - len(functions),
        "certificate": {"ok": document["ok"], "generator": document["generator"], "checks": checks},
        "pictures": pictures,
        "graph_note": graph_note,
        "version": document["generator"],
    }


def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), undefined=jinja2.StrictUndefined,
                              autoescape=True, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def render_report(basis: Basis, *, section: Section | str = "z=0", max_formulas: int = MAX_FORMULAS) -> str:
    """The HTML text of the report of ``basis`` (same inputs, same text).

    Parameters
    ----------
    basis : Basis
        A derived basis.
    section : Section or str, default "z=0"
        The plane of the heat maps.
    max_formulas : int, default MAX_FORMULAS
        Closed forms typeset on the page (64 by default).

    Returns
    -------
    str
        A self-contained HTML page (pictures embedded, nothing fetched).

    Raises
    ------
    CrystalFourierError
        Bad section or ``max_formulas``, or no matplotlib.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> html = render_report(basis(2, 1), max_formulas=2)
    >>> html.startswith("<!DOCTYPE html>"), "-x,-y,-z" in html, 'src="http' in html
    (True, True, False)
    """
    context = report_context(basis, section=section, max_formulas=max_formulas)
    return _environment().get_template("report.html.j2").render(**context)


def report_name(basis: Basis) -> str:
    """File name of the report, e.g. ``'sg227_hall526_ball5.html'``.

    >>> from crystal_fourier.derive import basis
    >>> report_name(basis(227, 2, "box"))
    'sg227_hall526_box2.html'
    """
    group = basis.group
    return f"sg{group.number}_hall{group.hall_number}_{basis.frequencies.shell}{basis.frequencies.cutoff}.html"


def write_report(basis: Basis, out_dir: str | os.PathLike[str], *, section: Section | str = "z=0",
                 max_formulas: int = MAX_FORMULAS) -> Path:
    """Write the report into the directory ``out_dir`` (created if needed), atomically; returns its path.

    Parameters
    ----------
    basis : Basis
        The basis to report on.
    out_dir : str or os.PathLike
        The directory; the file is named like ``sg227_hall526_ball5.html``.
    section : Section or str
        The section of the pictures, e.g. ``"z=0"``.
    max_formulas : int
        Typeset at most this many closed forms (the page says when more exist).

    Returns
    -------
    Path
        The HTML file written: one self-contained page, no script, nothing loaded from outside."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise CrystalFourierError(f"--out {str(out_dir)!r} is a file; give a directory for the report")
    path = out_dir / report_name(basis)
    atomic_write_text(path, render_report(basis, section=section, max_formulas=max_formulas))
    return path
