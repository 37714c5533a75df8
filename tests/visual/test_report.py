"""The HTML report: its content, that it loads nothing, and that headless Chromium renders it cleanly."""

from __future__ import annotations

import base64
import re
import shutil
from io import BytesIO

import pytest
from crystal_fourier.derive import basis

from crystal_fourier.cli import main
from crystal_fourier.errors import CrystalFourierError
from .browser import console_messages, render_page
from crystal_fourier.visual._report import MAX_FORMULAS, _environment, render_report, report_context, write_report

pytestmark = pytest.mark.usefixtures("matplotlib_required")

GROUP, CUTOFF = 76, 2  # P4_1: acentric Re/Im pairs, screw absences (0 0 l), l != 4n, with witnesses


@pytest.fixture(scope="module")
def derived():
    return basis(GROUP, CUTOFF)


@pytest.fixture(scope="module")
def report(derived, tmp_path_factory):
    """(path, html) of the report, rendered once for the module."""
    path = write_report(derived, tmp_path_factory.mktemp("report"))
    return path, path.read_text(encoding="utf-8")


def test_report_lists_every_operation(derived, report):
    _, html = report
    assert html.count('<tr class="operation">') == len(derived.group.operations) == 4
    for op in derived.group.operations:
        assert f'<td class="xyz">{op.xyz}</td>' in html
    assert "-y,x,z+1/4" in html


def test_report_orbit_table_and_absences(derived, report):
    _, html = report
    orbits = derived.decomposition.orbits()
    rows = re.findall(r'<tr class="orbit( absent)?">(.*?)</tr>', html)
    assert len(rows) == len(orbits)
    assert sum(1 for absent, _ in rows if absent) == sum(o.absent for o in orbits) > 0
    # (0 0 1) is absent in P4_1, proved by the 4_1 screw; its row names the witness.
    index = next(i for i, o in enumerate(orbits) if o.representative == (0, 0, 1))
    witness = derived.group.operations[orbits[index].witness].xyz
    assert f'<td class="num">{index}</td><td class="xyz">(0 0 1)</td>' in rows[index][1]
    assert witness in rows[index][1]
    assert html.count('<tr class="absence">') == sum(o.absent for o in orbits)


def test_report_certificate_and_counts(derived, report):
    _, html = report
    assert '<dd id="certificate-status"><span class="ok">ok</span></dd>' in html
    assert html.count('<tr class="check">') == 4
    assert "FAILED" not in html
    assert f"{derived.dim} real basis functions" in html


def test_report_embeds_formulas_and_pictures(derived, report):
    import matplotlib.image

    _, html = report
    formulas = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="(f_\{\d+\} = [^"]*)">', html)
    assert len(formulas) == min(derived.dim, MAX_FORMULAS)
    assert all(base64.b64decode(svg).startswith(b"<?xml") for svg, _ in formulas)
    assert formulas[1][1] == "f_{1} = \\cos{\\left(2 \\pi x \\right)} + \\cos{\\left(2 \\pi y \\right)}"
    pictures = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(pictures) == 2  # the section grid and the dual graph
    for png in pictures:
        rgb = matplotlib.image.imread(BytesIO(base64.b64decode(png)), format="png")[..., :3]
        assert rgb.std() > 0.05


def test_report_loads_nothing(report):
    _, html = report
    for attribute in re.findall(r'(?:src|href)\s*=\s*["\']?([^"\'\s>]+)', html, flags=re.IGNORECASE):
        assert attribute.startswith(("data:", "#")), attribute
    for pattern in (r"<script", r"<link", r"<iframe", r"@import", r"url\(", r"src=[\"']?(https?:)?//"):
        assert not re.search(pattern, html, flags=re.IGNORECASE), pattern


def test_report_is_deterministic(derived, report):
    _, html = report
    assert render_report(derived) == html


def test_template_is_strict_and_escapes(derived):
    import jinja2

    template = _environment().get_template("report.html.j2")
    with pytest.raises(jinja2.UndefinedError):
        template.render()
    context = report_context(derived, max_formulas=1)
    context["title"] = "<b>&</b>"
    assert "<title>&lt;b&gt;&amp;&lt;/b&gt;</title>" in template.render(**context)


def test_report_limits_formulas_and_graph(tmp_path):
    html = render_report(basis(225, 5), max_formulas=3)
    assert len(re.findall(r"data:image/svg\+xml", html)) == 3
    assert "7 more functions are not typeset here" in html
    assert "The dual-graph picture uses cutoff 4" in html


@pytest.mark.parametrize(("kwargs", "message"), [({"section": "q=1"}, "bad section"),
                                             ({"max_formulas": -1}, "max_formulas")])
def test_report_bad_input(kwargs, message):
    with pytest.raises(CrystalFourierError, match=message):
        report_context(basis(2, 1), **kwargs)


def test_report_out_must_be_a_directory(tmp_path):
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(CrystalFourierError, match="is a file; give a directory"):
        write_report(basis(2, 1), file)


def test_report_command(tmp_path, capsys):
    assert main(["report", "P-1", "--cutoff", "1", "--out", str(tmp_path / "out")]) == 0
    path = tmp_path / "out" / "sg2_hall2_ball1.html"
    assert path.is_file()
    assert f"wrote {path}" in capsys.readouterr().out
    assert main(["report", "2", "--cutoff", "1", "--section", "z=?", "--out", str(tmp_path)]) == 2
    assert "bad section 'z=?'" in capsys.readouterr().err


def _keep(screenshot, tmp_path, artifacts, name):
    kept = tmp_path / name
    shutil.copyfile(screenshot, kept)
    if artifacts is not None:
        shutil.copyfile(screenshot, artifacts / name)
    return kept


def test_chromium_renders_the_report_without_console_errors(report, chromium, tmp_path, artifacts):
    import matplotlib.image

    path, _ = report
    page = render_page(path, tmp_path / "shot.png", chromium=chromium)
    kept = _keep(page.screenshot, tmp_path, artifacts, f"report_sg{GROUP}_screenshot.png")
    rgb = matplotlib.image.imread(str(kept))[..., :3]
    assert rgb.shape == (1600, 1200, 3)
    assert rgb.std() > 0.05, "the screenshot is blank"
    assert (rgb.min(axis=-1) < 0.2).mean() > 0.005, "no dark (text) pixels in the screenshot"
    assert page.console == (), page.console


def test_console_check_can_fail(chromium, tmp_path):
    """A page with a script error and a console.error is caught (so the check above means something)."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><p>x</p><script>console.error("deliberate");'
                   'throw new Error("boom");</script></body></html>', encoding="utf-8")
    page = render_page(bad, tmp_path / "bad.png", chromium=chromium, window=(300, 200))
    assert any("deliberate" in m for m in page.console)
    assert any("Uncaught Error: boom" in m for m in page.console)


def test_console_parser_ignores_chromium_noise():
    log = ('[9:9:1125/203656.2:ERROR:dbus/bus.cc:405] Failed to connect to the bus\n'
           '[9:9:1125/2.5:INFO:CONSOLE(12)] "Uncaught TypeError: x", source: file:///r.html (12)\n')
    assert console_messages(log) == ("Uncaught TypeError: x (file:///r.html (12))",)
    assert console_messages("") == ()


def test_no_chromium_is_a_clear_error(tmp_path):
    with pytest.raises(CrystalFourierError, match="cannot run Chromium"):
        render_page(tmp_path / "none.html", tmp_path / "s.png", chromium=str(tmp_path / "no-such-chromium"))



def test_console_messages_read_from_a_chromium_log():
    log = '[1:1:INFO:CONSOLE:3] "Uncaught Error: x", source: file:///a.html (3)\n[1:1:ERROR:bus.cc:4] dbus'
    assert console_messages(log) == ("Uncaught Error: x (file:///a.html (3))",)
