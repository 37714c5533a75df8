"""The audit's one-page HTML report: per-kind bars, failing cases with reproducer links, model errors;
self-contained (no script, nothing fetched), and rendered by headless Chromium without console messages."""

from __future__ import annotations

import re

import numpy as np
import pytest

from crystal_fourier.audit import audit
from crystal_fourier.runtime import random_crystal
from crystal_fourier.visual._audit_page import ratio_bar

from .browser import render_page


def _signed_volume(crystal):
    """BROKEN (as tests/audit/models.py): a term in the signed cell volume fails det -1 bases."""
    return -float(crystal.n_atoms) + 1e-3 * float(np.linalg.det(crystal.lattice))


def _raises_on_supercells(crystal):
    if crystal.n_atoms > 4:
        raise RuntimeError("too many atoms")
    return -float(crystal.n_atoms)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    crystal = random_crystal(225, seed=0, max_atoms=4).crystal
    out = tmp_path_factory.mktemp("audit-page")
    report = audit(_signed_volume, [crystal], kinds="rotation,unimodular", per_kind=2)
    return report, report.write(out, picture=False)


def test_page_has_the_table_the_failures_and_links(written):
    report, files = written
    html = files["html"].read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('class="kind-row"') == len(report.summary())
    assert html.count('class="failure"') == len(report.failures) > 0
    links = re.findall(r'href="(reproducers/[^"]+)"', html)
    assert links
    assert all((files["html"].parent / link).is_file() for link in links)
    assert "FAILS</span> in unimodular" in html
    assert "<script" not in html
    assert 'src="http' not in html
    assert 'href="http' not in html


def test_bars_are_log_scaled_around_the_tolerance():
    assert ratio_bar(1.0) == 50.0
    assert ratio_bar(1e-3) == 25.0
    assert ratio_bar(1e3) == 75.0
    assert ratio_bar(1e12) == 100.0
    assert ratio_bar(float("nan")) == 0.0


def test_page_lists_model_errors_and_escapes(tmp_path):
    crystal = random_crystal(225, seed=0, max_atoms=4).crystal
    report = audit(_raises_on_supercells, [crystal], kinds="supercell", per_kind=1, names=["<b>x</b>"])
    html = report.write(tmp_path, picture=False)["html"].read_text()
    assert html.count('class="model-error"') == len(report.errors) == 1
    assert "RuntimeError: too many atoms" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html


def test_chromium_renders_the_audit_page_without_console_errors(written, chromium, tmp_path):
    import matplotlib.image

    _, files = written
    page = render_page(files["html"], tmp_path / "shot.png", chromium=chromium, window=(1200, 900))
    rgb = matplotlib.image.imread(str(page.screenshot))[..., :3]
    assert rgb.shape == (900, 1200, 3)
    assert (rgb.min(axis=-1) < 0.2).mean() > 0.002, "no dark (text) pixels in the screenshot"
    red = (rgb[..., 0] > 0.7) & (rgb[..., 1] < 0.4) & (rgb[..., 2] < 0.5)
    assert red.sum() > 50, "no red (over tolerance) bar drawn"
    assert page.console == (), page.console


def test_a_failing_case_shows_its_detail(tmp_path):
    """A check's ``detail`` (continuity's fourth differences and the groups along the path) is on the page,
    escaped, beside its case."""
    import dataclasses

    crystal = random_crystal(225, seed=0, max_atoms=4).crystal
    report = audit(_raises_on_supercells, [crystal], kinds="translation", per_kind=1)
    check = dataclasses.replace(report.checks[0], error=1.0, tolerance=1e-6, detail="D(h) = 0.3, groups <225>")
    report = dataclasses.replace(report, checks=(check, *report.checks[1:]))
    html = report.write(tmp_path, picture=False)["html"].read_text()
    assert 'class="failure"' in html
    assert "D(h) = 0.3, groups &lt;225&gt;" in html
