"""The documentation site builds with zero warnings, and three of its pages render in a browser.

One fresh build in one test (``sphinx -W --keep-going``, a new doctree directory, into a temporary
folder; the gallery's scripts run). Then headless Chromium opens the gallery's basis-function
page, the results overview and the API index; a script added to a copy of each page reports, on
the ``load`` event, how many images it has and which failed to load, and the API index must list
``standardize``, ``audit`` and (once a package exports it) ``SpaceGroupEncoding``. A test on a
synthetic page shows that a missing image is reported, so the check cannot pass by seeing nothing.
Without Sphinx or Chromium the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PUBLIC_PACKAGES = ("crystal_fourier", "crystal_fourier.derive", "crystal_fourier.proofs", "crystal_fourier.kernel",
                   "crystal_fourier.runtime", "crystal_fourier.audit", "crystal_fourier.visual",
                   "crystal_fourier.testing", "crystal_fourier.cache", "crystal_fourier.hosts")
PAGES = ("auto_examples/plot_basis_function.html", "results-overview.html", "api/index.html")
"""The pages opened in Chromium: the gallery's pictures, a results page's figure, the API index."""

BUILD_SECONDS_GOAL = 180
_MARK = "SITE-CHECK "
_PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (image) { return !(image.complete && image.naturalWidth > 0); })
                     .map(function (image) { return image.getAttribute("src"); });
  console.log("%s" + JSON.stringify({images: images.length, broken: broken,
                                      text: document.body.innerText.length}));
});
</script>
""" % _MARK


@functools.cache
def _browser_module():
    """tests/visual/browser.py, the project's headless-Chromium harness, loaded by path."""
    name = "crystal_fourier_tests_browser"
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "visual" / "browser.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # its dataclass resolves its annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def _missing(what: str, install: str):
    message = f"{what} is not installed ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must install it", pytrace=False)
    pytest.skip(f"{message}; required in CI")


@pytest.fixture(scope="module")
def chromium():
    path = _browser_module().find_chromium()
    if path is None:
        _missing("Chromium", "make browser, or apt-get install chromium")
    return path


def build_site(out: Path) -> tuple[Path, float, str]:
    """(html directory, seconds, log) of one fresh build of the site into ``out``, or skip without Sphinx."""
    for package in ("sphinx", "myst_parser", "pydata_sphinx_theme", "sphinx_gallery"):
        if importlib.util.find_spec(package) is None:
            _missing(package, "pip install -e '.[docs]'")
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    env = dict(os.environ, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    started = time.perf_counter()
    process = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
                             stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    log = process.stdout + process.stderr
    assert process.returncode == 0, f"the site does not build without warnings:\n{log[-5000:]}"
    return out / "html", seconds, log


def page_report(html: Path, chromium: str, scratch: Path) -> dict:
    """What Chromium saw on ``html``: images, broken image sources and the length of the text."""
    probe = html.with_name(f".probe-{html.name}")
    text = html.read_text(encoding="utf-8")
    assert "</body>" in text, f"{html} has no body"
    probe.write_text(text.replace("</body>", _PROBE + "</body>", 1), encoding="utf-8")
    try:
        render = _browser_module().render_page(probe, scratch / f"{html.stem}.png", chromium=chromium)
    finally:
        probe.unlink()
    reports = [message for message in render.console if message.startswith(_MARK)]
    assert reports, f"no report from the page's load event; console: {render.console}\n{render.stderr[-2000:]}"
    report, _ = json.JSONDecoder().raw_decode(reports[-1][len(_MARK):])   # the message, then its source
    return report


def check_build(html: Path, seconds: float, log: str) -> None:
    """Zero warnings, every guide page and gallery picture present, the build within the time goal."""
    assert "WARNING" not in log
    assert (html / "index.html").is_file()
    # Every guide page is in the site (the glob toctree), every gallery example ran and made a picture.
    for guide in (DOCS / "guide").glob("*.md"):
        assert (html / "guide" / f"{guide.stem}.html").is_file(), guide.name
    for example in (DOCS / "examples").glob("plot_*.py"):
        assert list((html / "_images").glob(f"sphx_glr_{example.stem}_001.png")), example.name
    print(f"site built in {seconds:.0f} s")
    assert seconds < 2 * BUILD_SECONDS_GOAL, f"the site took {seconds:.0f} s (goal {BUILD_SECONDS_GOAL} s on 2 cores)"


def check_api(html: Path) -> None:
    """An API page for every public name, a summary line for each in the index, the main names listed."""
    missing = []
    for package in PUBLIC_PACKAGES:
        for name in importlib.import_module(package).__all__:
            if not (html / "api" / "generated" / f"{package}.{name}.html").is_file():
                missing.append(f"{package}.{name}")
    assert not missing, f"public names without an API page: {missing}"
    index = (html / "api" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="row-(?:odd|even)">(.*?)</tr>', index, re.DOTALL)
    cells = [[re.sub(r"<[^>]+>", " ", cell).split() for cell in re.findall(r"<td>(.*?)</td>", row, re.DOTALL)]
             for row in rows]
    assert len(cells) == sum(len(importlib.import_module(package).__all__) for package in PUBLIC_PACKAGES)
    assert [row[0] for row in cells if len(row) < 2 or not row[1]] == []
    text = re.sub(r"<[^>]+>", " ", index)
    expected = ["standardize", "audit"]
    if any("SpaceGroupEncoding" in importlib.import_module(package).__all__ for package in PUBLIC_PACKAGES):
        expected.append("SpaceGroupEncoding")
    for name in expected:
        assert re.search(rf"\b{name}\b", text), f"the API index does not list {name}"


def test_site_builds_and_its_pages_render(chromium, tmp_path):
    """One test for the one build (pytest-xdist would otherwise build it once per worker)."""
    html, seconds, log = build_site(tmp_path)
    check_build(html, seconds, log)
    check_api(html)
    for page in PAGES:
        report = page_report(html / page, chromium, tmp_path)
        assert report["broken"] == [], f"{page}: images that did not load: {report['broken']}"
        assert report["text"] > 500, f"{page} shows almost no text: {report}"
        if page != "api/index.html":
            assert report["images"] >= 1, f"{page} has no image"


def test_a_broken_image_is_reported(chromium, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>" + "text " * 200 + "</p><img src='missing.png'></body></html>",
                    encoding="utf-8")
    report = page_report(page, chromium, tmp_path)
    assert report["images"] == 1
    assert report["broken"] == ["missing.png"]
