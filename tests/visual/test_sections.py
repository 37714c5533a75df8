"""Sections of the cell: parsing, the sampled grid's symmetry, the heat map's pixels, the plot command."""

from __future__ import annotations

from fractions import Fraction
from io import BytesIO

import numpy as np
import pytest
from crystal_fourier.derive import DEN, basis

from crystal_fourier.cli import main
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.testing import FLOAT_TOLERANCE
from crystal_fourier.visual._sections import (
    MAX_GRID,
    Section,
    check_function_index,
    render_section,
    render_sections,
    section_values,
)

TOLERANCE = FLOAT_TOLERANCE[np.dtype(np.float64)]
"""Grid values are cosine sums at exactly mapped grid points: equal up to rounding (see crystal_fourier.testing)."""
RESOLUTION = 48  # a multiple of 24: every operation in 24ths maps the vertex grid onto itself

needs_matplotlib = pytest.mark.usefixtures("matplotlib_required")


@pytest.mark.parametrize(("text", "axis", "level"), [
    ("z=0.25", 2, Fraction(1, 4)), ("z = 1/4", 2, Fraction(1, 4)), ("X=0", 0, Fraction(0)),
    ("y=3/2", 1, Fraction(1, 2)), ("z=-0.25", 2, Fraction(3, 4)), ("z=1", 2, Fraction(0)),
])
def test_section_parse(text, axis, level):
    assert Section.parse(text) == Section(axis, level)
    assert Section.parse(repr(Section.parse(text))[15:-2]) == Section(axis, level)  # repr round-trips


@pytest.mark.parametrize("text", ["w=0.3", "z", "z=", "z=abc", "z=1/0", "0.25", "z=0.25=1", "zz=0", ""])
def test_bad_section_is_a_clear_error(text):
    with pytest.raises(CrystalFourierError, match=r"bad section .*e\.g\. z=0\.25"):
        Section.parse(text)


@pytest.mark.parametrize("index", [-1, 10, True, 1.0, "1"])
def test_function_index_out_of_range(index):
    b = basis(99, 1)  # P4mm at ball 1: 4 functions
    with pytest.raises(CrystalFourierError, match=r"function index .* out of range: P4mm .* numbered 0-"):
        check_function_index(b, index)
    with pytest.raises(CrystalFourierError, match="out of range"):
        section_values(b, index, "z=0", 8)


def test_section_values_are_the_function_on_the_grid():
    b = basis(227, 3)
    section = Section.parse("y=1/8")
    points = section.points(RESOLUTION)
    expected = b.real(points.reshape(-1, 3))[:, 2].reshape(points.shape[:2])
    np.testing.assert_allclose(section_values(b, 2, section, RESOLUTION), expected, rtol=0, atol=TOLERANCE)
    assert np.all(points[..., 1] == 0.125)
    assert points[0, -1, 0] == 1.0
    assert points[-1, 0, 2] == 1.0


def test_p4mm_grid_is_invariant_under_array_rotation_and_flips():
    """P4mm (99) at z = 0: 4-fold at the origin and mirrors x, y, x=y: the closed grid has the square's symmetry."""
    b = basis(99, 4)
    for index in range(1, b.dim):
        values = section_values(b, index, "z=0", RESOLUTION)
        for image in (np.rot90(values), np.rot90(values, 2), np.flipud(values), np.fliplr(values), values.T):
            np.testing.assert_allclose(image, values, rtol=0, atol=TOLERANCE)


def _section_maps(group, section, n):
    """Index maps (i, j) -> (i', j') of the periodic n x n grid for each operation mapping the section to itself."""
    a, (b, c) = section.axis, section.plane
    maps = []
    for op in group.operations:
        r = op.rotation
        t = [Fraction(v, DEN) for v in op.translation_24]
        if r[a][b] or r[a][c] or (r[a][a] * section.level + t[a] - section.level) % 1:
            continue
        shift = [(r[b][a] * section.level + t[b]) * n, (r[c][a] * section.level + t[c]) * n]
        if any(s.denominator != 1 for s in shift):
            continue
        i, j = np.meshgrid(np.arange(n), np.arange(n))
        i2 = (r[b][b] * i + r[b][c] * j + int(shift[0])) % n
        j2 = (r[c][b] * i + r[c][c] * j + int(shift[1])) % n
        maps.append((op.xyz, i2, j2))
    return maps


def _symmetry_errors(values, group, section):
    """Largest |f(g p) - f(p)| over the grid for each operation g mapping the section onto itself."""
    n = values.shape[0] - 1
    periodic = values[:n, :n]
    return {xyz: float(np.abs(periodic[j2, i2] - periodic).max()) for xyz, i2, j2 in _section_maps(group, section, n)}


@pytest.mark.parametrize(("number", "section", "n_maps"), [
    (99, "z=0", 8), (183, "z=0", 12), (164, "z=0", 12), (194, "z=1/4", 12), (62, "y=1/4", 4), (227, "z=1/8", 16),
])
def test_grid_is_invariant_under_in_plane_operations(number, section, n_maps):
    """Hexagonal groups included: the 6-fold (x, y) -> (x - y, x) permutes the grid points exactly."""
    b = basis(number, 3)
    section = Section.parse(section)
    for index in range(min(b.dim, 12)):
        errors = _symmetry_errors(section_values(b, index, section, RESOLUTION), b.group, section)
        assert len(errors) == n_maps
        worst = max(errors, key=errors.get)
        assert errors[worst] <= TOLERANCE, f"f_{index} changes by {errors[worst]:.3g} under {worst}"


def test_symmetry_check_can_fail():
    """A function without the symmetry (P1's cos 2 pi x) is caught by P4mm's operations."""
    values = section_values(basis(1, 1), 1, "z=0", RESOLUTION)
    errors = _symmetry_errors(values, basis(99, 1).group, Section.parse("z=0"))
    assert max(errors.values()) > 1.0
    assert errors["x,y,z"] == 0.0


def _rgb(png: bytes) -> np.ndarray:
    import matplotlib.image

    return matplotlib.image.imread(BytesIO(png), format="png")[..., :3]


@needs_matplotlib
def test_heat_map_pixels_show_both_signs():
    b = basis(183, 3)
    png = render_section(b, 3, "z=0")
    rgb = _rgb(png)
    assert rgb.shape == (640, 640, 3)
    assert rgb.std() > 0.15  # not blank
    red = rgb[..., 0] - rgb[..., 2] > 0.3  # the diverging map: red where f > 0, blue where f < 0
    blue = rgb[..., 2] - rgb[..., 0] > 0.3
    assert red.mean() > 0.01
    assert blue.mean() > 0.01


@needs_matplotlib
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_renders_are_byte_identical(fmt):
    b = basis(194, 2)
    first = render_section(b, 2, "x=0", resolution=24, fmt=fmt)
    assert first == render_section(b, 2, "x=0", resolution=24, fmt=fmt)
    if fmt == "svg":
        assert b"<dc:date>" not in first
        assert b"Matplotlib v" not in first


@needs_matplotlib
def test_bare_image_has_the_square_symmetry():
    """The rendered P4mm heat map (4-fold through the cell centre) looks the same turned by 90 degrees."""
    rgb = _rgb(render_section(basis(99, 4), 5, "z=0", bare=True))
    assert rgb.shape == (200, 200, 3)
    assert rgb.std() > 0.1
    assert np.abs(np.rot90(rgb) - rgb).mean() < 0.01
    assert np.abs(np.fliplr(rgb) - rgb).mean() < 0.01
    lopsided = _rgb(render_section(basis(1, 2), 1, "z=0", bare=True))  # cos 2 pi x: no 4-fold
    assert np.abs(np.rot90(lopsided) - lopsided).mean() > 0.1


@needs_matplotlib
def test_grid_of_functions():
    b = basis(227, 5)
    rgb = _rgb(render_sections(b, section="z=1/8", resolution=24))
    assert rgb.std() > 0.1
    with pytest.raises(CrystalFourierError, match=f"1-{MAX_GRID} functions"):
        render_sections(basis(1, 3), range(MAX_GRID + 1))
    with pytest.raises(CrystalFourierError, match="out of range"):
        render_sections(b, [0, b.dim])


@needs_matplotlib
def test_plot_command(tmp_path, capsys):
    out = tmp_path / "p4mm.png"
    assert main(["plot", "P4mm", "--cutoff", "3", "--function", "1", "--section", "z=1/4", "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert _rgb(out.read_bytes()).std() > 0.1
    grid = tmp_path / "all.svg"
    assert main(["plot", "183", "--all", "--resolution", "24", "--out", str(grid)]) == 0
    assert grid.read_bytes().startswith(b"<?xml")
    capsys.readouterr()


@pytest.mark.parametrize(("argv", "suffix", "message"), [
    (["--function", "999"], ".png", "function index 999 is out of range"),
    (["--function", "1", "--section", "w=0.3"], ".png", "bad section 'w=0.3'"),
    (["--function", "1"], ".pdf", "name it FILE.png or FILE.svg"),
    ([], ".png", "one of the arguments --function --all is required"),
])
def test_plot_bad_input_exits_2(tmp_path, capsys, argv, suffix, message):
    out = tmp_path / f"x{suffix}"
    try:
        status = main(["plot", "99", *argv, "--out", str(out)])
    except SystemExit as exit_:  # argparse's own errors exit directly, also with status 2
        status = exit_.code
    assert status == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_basis_command_never_imports_matplotlib():
    """matplotlib is lazy: parsing every command and running `basis` leaves it unimported."""
    import subprocess
    import sys

    code = ("import sys, io, contextlib; from crystal_fourier.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['basis', '2', '--cutoff', '1'])\n"
            "import crystal_fourier.visual\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert process.stdout.strip() == "[]"
