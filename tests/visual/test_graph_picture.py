"""The dual-graph picture: layout geometry, size limit, orbit colours in the pixels, the graph command."""

from __future__ import annotations

import json
from io import BytesIO

import numpy as np
import pytest
from crystal_fourier.derive import basis

from crystal_fourier.cli import main
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.visual._graph_picture import ABSENT_COLOUR, MAX_NODES, graph_layout, render_graph

needs_matplotlib = pytest.mark.usefixtures("matplotlib_required")
LAYOUT_TOLERANCE = 1e-12  # positions are integer combinations of (1, 0) and (1/2, sqrt 3/2)


def test_layout_panels_are_the_l_layers():
    b = basis(4, 2, "box")
    layout = graph_layout(b.frequencies)
    assert layout.layers == (-2, -1, 0, 1, 2)
    assert np.array_equal(np.array(layout.layers)[layout.panel], b.frequencies.hkl[:, 2])
    np.testing.assert_array_equal(layout.position, b.frequencies.hkl[:, :2])


@pytest.mark.parametrize("number", [99, 166, 191, 194, 225])
def test_orbit_members_in_one_layer_lie_on_one_circle(number):
    """The layout uses the reciprocal metric, so each in-layer point-group image keeps its distance from k = 0."""
    b = basis(number, 3)
    layout = graph_layout(b.frequencies)
    radius = np.hypot(*layout.position.T)
    d = b.decomposition
    for orbit in range(len(d)):
        members = d.members(orbit)
        for panel in np.unique(layout.panel[members]):
            ring = radius[members[layout.panel[members] == panel]]
            np.testing.assert_allclose(ring, ring[0], rtol=0, atol=LAYOUT_TOLERANCE)


def test_hexagonal_layer_is_a_regular_hexagon():
    layout = graph_layout(basis(191, 2).frequencies)  # P6/mmm: the six (1 0 0)-type frequencies at l = 0
    radius = np.hypot(*layout.position.T)
    ring = layout.position[(layout.panel == layout.layers.index(0)) & (np.abs(radius - 1) < LAYOUT_TOLERANCE)]
    angles = np.sort(np.degrees(np.arctan2(ring[:, 1], ring[:, 0])) % 360)
    np.testing.assert_allclose(angles, [0, 60, 120, 180, 240, 300], rtol=0, atol=1e-9)


def test_too_many_frequencies_is_a_clear_error():
    assert len(basis(225, 4).frequencies) <= MAX_NODES
    with pytest.raises(CrystalFourierError, match=r"at most 400 frequencies; ball cutoff 5 has 515: lower --cutoff"):
        render_graph(basis(225, 5))


def _rgb(png: bytes) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(BytesIO(png), format="png")[..., :3]


@needs_matplotlib
def test_every_present_orbit_colour_and_the_absent_crosses_are_drawn():
    from matplotlib import colormaps

    b = basis(194, 2)  # P6_3/mmc: (0 0 l), l odd, absent
    rgb = _rgb(render_graph(b))
    d = b.decomposition
    n_present = int((~d.absent).sum())
    assert 2 <= n_present <= 20
    assert d.absent.any()
    for colour in range(n_present):
        wanted = np.array(colormaps["tab20"](colour)[:3])
        assert (np.abs(rgb - wanted).max(axis=-1) < 2 / 255).sum() > 10, f"orbit colour {colour} not drawn"
    # The crosses of (0 0 +-1); P6/mmm (191) has the same frequencies and layout and no absence.
    assert _cross_pixels(rgb) > 20
    assert _cross_pixels(_rgb(render_graph(basis(191, 2)))) == 0


def _cross_pixels(rgb) -> int:
    """Pixels of exactly the crosses' colour above the legend strip (the legend shows a cross too)."""
    from matplotlib.colors import to_rgb

    return int((np.abs(rgb[:-60] - np.array(to_rgb(ABSENT_COLOUR))).max(axis=-1) < 1.5 / 255).sum())


@needs_matplotlib
@pytest.mark.parametrize(("fmt", "magic"), [("png", b"\x89PNG"), ("svg", b"<?xml")])
def test_graph_pictures_are_byte_identical(fmt, magic):
    b = basis(76, 2)
    picture = render_graph(b, fmt)
    assert picture.startswith(magic)
    assert picture == render_graph(b, fmt)


@needs_matplotlib
def test_graph_command_png_and_svg(tmp_path, capsys):
    png, svg = tmp_path / "g.png", tmp_path / "g.svg"
    assert main(["graph", "194", "--cutoff", "2", "--format", "png", "--out", str(png)]) == 0
    assert main(["graph", "194", "--cutoff", "2", "--format", "svg", "--out", str(svg)]) == 0
    assert _rgb(png.read_bytes()).std() > 0.05
    assert b"<svg" in svg.read_bytes()
    assert capsys.readouterr().out == ""


def test_graph_command_dot_and_json_unchanged(capsys):
    assert main(["graph", "4", "--cutoff", "1", "--shell", "box", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["nodes"]) == 27
    assert main(["graph", "4", "--cutoff", "1", "--shell", "box"]) == 0
    assert capsys.readouterr().out.startswith('digraph "sg4"')


@pytest.mark.parametrize(("argv", "message"), [
    (["--format", "png"], "--format png writes a picture: give --out FILE.png"),
    (["--format", "png", "--cutoff", "5", "--out", "big.png"], "at most 400 frequencies"),
    (["--format", "dot", "--out", "g.dot"], "--out is for --format png or svg"),
])
def test_graph_bad_input_exits_2(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "225", *argv]) == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
