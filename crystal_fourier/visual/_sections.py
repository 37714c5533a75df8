"""A basis function on a plane section of the unit cell, as a value grid and as a heat map.

The section x_a = c (``Section``) is sampled on the closed vertex grid
u_i = i/n, v_j = j/n, i, j = 0..n, of its two in-plane axes (z = c: (x, y);
y = c: (x, z); x = c: (y, z)); both cell edges are included, so the grid is
periodic and, for n a multiple of 24, closed under every operation that maps
the section onto itself. The heat map draws that grid (Gouraud shading) in
Cartesian coordinates of the CONVENTIONS.md metric: a = b = c = 1 with
gamma = 120 degrees on hexagonal axes, orthonormal otherwise (the monoclinic
angle and rhombohedral axes are drawn as if orthonormal), with the cell outline
and the symmetry elements of :mod:`crystal_fourier.visual._symmetry_elements`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier._figures import DPI, render_figure
from crystal_fourier.visual._symmetry_elements import in_plane_axes, section_elements

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crystal_fourier.derive import Basis, SpaceGroup

__all__ = ["Section", "DEFAULT_RESOLUTION", "MAX_GRID", "plane_basis", "check_function_index",
           "section_values", "render_section", "render_sections"]

DEFAULT_RESOLUTION = 96
"""Grid intervals per cell edge: a multiple of 24, so every translation in 24ths maps the grid to itself."""
MAX_GRID = 16
"""Most functions drawn by :func:`render_sections` (a 4 x 4 grid)."""

_AXES = "xyz"
_ZERO_SECTION = 1e-12
"""Largest |value| on a section that is drawn as identically zero (a blank panel on a unit colour scale)."""
_SECTION = re.compile(r"^\s*([xyzXYZ])\s*=\s*([-+0-9./eE ]+?)\s*$")


@dataclass(frozen=True, slots=True)
class Section:
    """The plane x_axis = level of the unit cell, exact.

    Attributes
    ----------
    axis : int
        0, 1 or 2 for x, y, z.
    level : Fraction
        Reduced into [0, 1) (the section z = 1 is the section z = 0).

    Examples
    --------
    >>> s = Section.parse("z=0.25")
    >>> s, str(s), s.plane
    (Section.parse('z=1/4'), 'z = 1/4', (0, 1))
    >>> Section.parse("x = 3/2") == Section(0, Fraction(1, 2))
    True
    >>> Section.parse("z=0").points(2)[2, 1].tolist()   # u = 1/2 (x), v = 1 (y)
    [0.5, 1.0, 0.0]
    """

    axis: int
    level: Fraction

    def __post_init__(self) -> None:
        if self.axis not in (0, 1, 2):
            raise CrystalFourierError(f"section axis must be 0, 1 or 2 (x, y, z), got {self.axis!r}")
        if isinstance(self.level, float) or not isinstance(self.level, (int, Fraction)):
            raise CrystalFourierError(f"section level must be an exact int or Fraction, got {self.level!r}")
        object.__setattr__(self, "level", Fraction(self.level) % 1)

    @classmethod
    def parse(cls, text: str) -> "Section":
        """Parse ``'z=0.25'``, ``'z = 1/4'``, ``'x=0'``: an axis, '=', a decimal or a fraction.

        Parameters
        ----------
        text : str
            The section's text.

        Returns
        -------
        Section

        Raises
        ------
        CrystalFourierError
            Anything else, with the accepted forms in the message.
        """
        example = "expected x=, y= or z= and a number or fraction, e.g. z=0.25 or z=1/4"
        match = _SECTION.match(str(text))
        if match is None:
            raise CrystalFourierError(f"bad section {text!r}: {example}")
        try:
            level = Fraction(match.group(2).replace(" ", ""))
        except (ValueError, ZeroDivisionError):
            raise CrystalFourierError(f"bad section {text!r}: {match.group(2)!r} is not a number; {example}") from None
        return cls(_AXES.index(match.group(1).lower()), level)

    def __str__(self) -> str:
        return f"{_AXES[self.axis]} = {self.level}"

    def __repr__(self) -> str:
        return f"Section.parse('{_AXES[self.axis]}={self.level}')"

    @property
    def plane(self) -> tuple[int, int]:
        """The in-plane axes (u, v), in increasing order."""
        return in_plane_axes(self.axis)

    def points(self, resolution: int = DEFAULT_RESOLUTION) -> np.ndarray:
        """Fractional positions of the closed vertex grid, shape=(n+1, n+1, 3), float64.

        ``points[j, i]`` has u = i/n along ``plane[0]``, v = j/n along ``plane[1]``
        and the section's level along ``axis`` (rows are v, as in an image).

        Parameters
        ----------
        resolution : int, default DEFAULT_RESOLUTION
            n, grid cells per side (96 by default).

        Returns
        -------
        numpy.ndarray
        """
        n = _check_resolution(resolution)
        grid = np.linspace(0.0, 1.0, n + 1)
        positions = np.empty((n + 1, n + 1, 3))
        positions[..., self.axis] = float(self.level)
        positions[..., self.plane[0]] = grid[None, :]
        positions[..., self.plane[1]] = grid[:, None]
        return positions


def _check_resolution(resolution) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or not 2 <= resolution <= 1024:
        raise CrystalFourierError(
            f"resolution must be an integer in 2-1024 (grid intervals per edge), got {resolution!r}")
    return int(resolution)


def _as_section(section) -> Section:
    return section if isinstance(section, Section) else Section.parse(section)


def plane_basis(group: SpaceGroup, axis: int) -> np.ndarray:
    """Cartesian rows of the two in-plane lattice vectors of the section x_axis = c, shape=(2, 2), float64.

    Hexagonal axes (a = b, gamma = 120 degrees) give a 120-degree rhombus for
    z-sections; every other case is the unit square (c is perpendicular to a
    and b on hexagonal axes).

    >>> from crystal_fourier.derive import space_group
    >>> plane_basis(space_group(194), 2).round(3).tolist(), plane_basis(space_group(194), 0).tolist()
    ([[1.0, 0.0], [-0.5, 0.866]], [[1.0, 0.0], [0.0, 1.0]])
    """
    in_plane_axes(axis)
    if group.hexagonal_axes and axis == 2:
        return np.array([[1.0, 0.0], [-0.5, np.sqrt(3.0) / 2.0]])
    return np.eye(2)


def check_function_index(basis: Basis, index: int | np.integer) -> int:
    """``index`` as an int if it names a real basis function of ``basis``; else a clear error.

    >>> from crystal_fourier.derive import basis
    >>> check_function_index(basis(1, 2, "box"), 124)
    124
    """
    dim = basis.dim
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < dim:
        raise CrystalFourierError(
            f"function index {index!r} is out of range: {basis.group.symbol} (No. {basis.group.number}) at "
            f"{basis.frequencies.shell} cutoff {basis.frequencies.cutoff} has {dim} real basis functions, "
            f"numbered 0-{dim - 1} (k = 0 is function 0); raise --cutoff for more")
    return int(index)


def section_values(basis: Basis, index: int, section: Section | str,
                   resolution: int = DEFAULT_RESOLUTION) -> np.ndarray:
    """Real basis function ``index`` of ``basis`` on the vertex grid of ``section``.

    Parameters
    ----------
    basis : Basis
        A derived basis.
    index : int
        Index of the real function in ``basis.real``.
    section : Section or str
        The plane, such as ``'z=0'`` or ``'x=1/4'``.
    resolution : int, default 96
        n, the grid's cells per side.

    Returns
    -------
    np.ndarray
        shape=(n+1, n+1), float64: ``values[j, i] = f(points[j, i])`` (see
        :meth:`Section.points`). For an operation mapping the section onto itself,
        the grid is invariant under the induced permutation of its vertices
        (exactly so when n is a multiple of 24), because f is invariant.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> v = section_values(basis(99, 2), 1, "z=0", 24)       # P4mm
    >>> v.shape, bool(np.allclose(v, np.rot90(v), rtol=0, atol=1e-12))
    ((25, 25), True)
    """
    index = check_function_index(basis, index)
    points = _as_section(section).points(resolution)
    return basis.real.function(index)(points)


# --- drawing ----------------------------------------------------------------------------------------------------


def _lens_marker():
    from matplotlib.path import Path

    angle = np.linspace(0.0, 2.0 * np.pi, 33)
    return Path(np.stack([np.cos(angle), 0.55 * np.sin(angle)], axis=1), closed=True)


_FOLD_MARKERS = {3: "^", 4: "s", 6: "h"}


def _marker(fold: int):
    return _lens_marker() if fold == 2 else _FOLD_MARKERS[fold]


def _boundary_copies(point):
    """A point of [0, 1)^2 and its images on the far cell edges (u = 0 also drawn at u = 1)."""
    us = (point[0], point[0] + 1) if point[0] == 0 else (point[0],)
    vs = (point[1], point[1] + 1) if point[1] == 0 else (point[1],)
    return [(u, v) for u in us for v in vs]


def _segments(normal, offset):
    """Segments of the lines n . (u, v) = offset + m (m integer) inside the unit square, exact ends."""
    n0, n1 = normal
    values = [n0 * u + n1 * v for u in (0, 1) for v in (0, 1)]
    low, high = min(values), max(values)
    first = -((offset - low) // 1)  # smallest m with offset + m >= low
    segments = []
    m = first
    while offset + m <= high:
        r = offset + m
        ends = set()
        for u in (0, 1):
            if n1 and 0 <= Fraction(r - n0 * u, n1) <= 1:
                ends.add((Fraction(u), Fraction(r - n0 * u, n1)))
        for v in (0, 1):
            if n0 and 0 <= Fraction(r - n1 * v, n0) <= 1:
                ends.add((Fraction(r - n1 * v, n0), Fraction(v)))
        if len(ends) >= 2:
            ordered = sorted(ends, key=lambda p: n1 * p[0] - n0 * p[1])
            segments.append((ordered[0], ordered[-1]))
        m += 1
    return segments


def _plane_style(plane, axis: int) -> tuple[str, str]:
    """(linestyle, legend label): mirror solid; glide dashed (in-plane), dotted (along the normal), dash-dot (both)."""
    if plane.is_mirror:
        return "-", "mirror plane"
    in_plane = any(v for i, v in enumerate(plane.glide) if i != axis)
    normal = bool(plane.glide[axis])
    if in_plane and normal:
        return "-.", "glide plane, oblique glide"
    if normal:
        return ":", "glide plane, glide along the normal"
    return "--", "glide plane, glide in the section"


def _to_cartesian(points, basis_2d):
    return np.asarray(points, dtype=np.float64) @ basis_2d


def _draw_elements(ax, elements, basis_2d, scale: float = 1.0) -> dict:
    """Draw axes, planes and inversion centres; returns legend handles by label."""
    from matplotlib.lines import Line2D

    handles = {}
    lines = {}
    for plane in elements.planes:  # one style per line: the mirror wins over a coinciding glide
        key = (plane.normal, plane.offset)
        if key not in lines or plane.is_mirror:
            lines[key] = plane
    for (normal, offset), plane in sorted(lines.items()):
        style, label = _plane_style(plane, elements.axis)
        for start, end in _segments(normal, offset):
            xy = _to_cartesian([start, end], basis_2d)
            ax.plot(xy[:, 0], xy[:, 1], linestyle=style, color="black", linewidth=1.6 * scale, zorder=4,
                    solid_capstyle="butt", dash_capstyle="butt")
        handles.setdefault(label, Line2D([], [], linestyle=style, color="black", linewidth=1.6))
    for element in elements.axes:
        face = "black" if element.screw == 0 else "white"
        label = f"{element.fold}-fold {'rotation' if element.screw == 0 else 'screw'} axis"
        for point in _boundary_copies(element.point):
            x, y = _to_cartesian(point, basis_2d)
            ax.plot([x], [y], marker=_marker(element.fold), markersize=9 * scale, markerfacecolor=face,
                    markeredgecolor="black", markeredgewidth=1.0 * scale, linestyle="none", zorder=6)
            if element.screw:
                ax.text(x + 0.035, y + 0.035, f"${element.fold}_{{{element.screw}}}$", fontsize=8 * scale,
                        zorder=7, color="black")
        handles.setdefault(label, Line2D([], [], marker=_marker(element.fold), markersize=8, linestyle="none",
                                         markerfacecolor=face, markeredgecolor="black"))
    for element in elements.inversions:
        for point in _boundary_copies(element.point):
            x, y = _to_cartesian(point, basis_2d)
            ax.plot([x], [y], marker="o", markersize=4.5 * scale, markerfacecolor="white", markeredgecolor="black",
                    markeredgewidth=0.9 * scale, linestyle="none", zorder=8)
        handles.setdefault("inversion centre", Line2D([], [], marker="o", markersize=5, linestyle="none",
                                                      markerfacecolor="white", markeredgecolor="black"))
    return handles


def _draw_panel(ax, values, basis_2d, elements, title: str, *, scale: float = 1.0, bare: bool = False):
    """Heat map of ``values`` on the cell, cell outline, symmetry elements; returns (mesh, legend handles)."""
    n = values.shape[0] - 1
    grid = np.linspace(0.0, 1.0, n + 1)
    u, v = np.meshgrid(grid, grid)
    x = u * basis_2d[0, 0] + v * basis_2d[1, 0]
    y = u * basis_2d[0, 1] + v * basis_2d[1, 1]
    vmax = float(np.abs(values).max())
    zero = vmax < _ZERO_SECTION  # e.g. sin(2 pi z) on z = 0: the function vanishes on this section
    vmax = 1.0 if zero else vmax
    mesh = ax.pcolormesh(x, y, values, shading="gouraud", cmap="RdBu_r", vmin=-vmax, vmax=vmax, rasterized=True)
    corners = _to_cartesian([(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)], basis_2d)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if bare:
        ax.set_xlim(corners[:, 0].min(), corners[:, 0].max())
        ax.set_ylim(corners[:, 1].min(), corners[:, 1].max())
        return mesh, {}
    ax.plot(corners[:, 0], corners[:, 1], color="black", linewidth=1.2 * scale, zorder=5)
    handles = _draw_elements(ax, elements, basis_2d, scale) if elements is not None else {}
    pad = 0.09
    ax.set_xlim(corners[:, 0].min() - pad, corners[:, 0].max() + pad)
    ax.set_ylim(corners[:, 1].min() - pad, corners[:, 1].max() + pad)
    plane = in_plane_axes(elements.axis) if elements is not None else (0, 1)
    for point, text in (((0.5, -0.06), _AXES[plane[0]]), ((-0.06, 0.5), _AXES[plane[1]]),
                        ((-0.045, -0.045), "0"), ((1.0, -0.06), "1"), ((-0.06, 1.0), "1")):
        x0, y0 = _to_cartesian(point, basis_2d)
        ax.text(x0, y0, text, ha="center", va="center", fontsize=9 * scale,
                style="italic" if text in _AXES else "normal")
    ax.set_title(title + (" (zero on this section)" if zero else ""), fontsize=10 * scale)
    return mesh, handles


def _function_title(basis, index: int) -> str:
    function = basis.real.function(index)
    return f"$f_{{{index}}}$  (orbit {function.orbit}, {function.part})"


def _group_title(basis, section) -> str:
    group = basis.group
    setting = "" if group.is_standard else f", Hall {group.hall_number}"
    return (f"{group.symbol} (No. {group.number}{setting}), {basis.frequencies.shell} cutoff "
            f"{basis.frequencies.cutoff}, section {section}")


def render_section(basis: Basis, index: int, section: Section | str = "z=0", *, resolution: int = DEFAULT_RESOLUTION,
                   fmt: str = "png", dpi: int = DPI, bare: bool = False) -> bytes:
    """Heat map of real basis function ``index`` on ``section``, with the cell outline and symmetry elements.

    Parameters
    ----------
    basis : Basis
    index : int
        Function number, 0 <= index < basis.dim (0 is the constant k = 0).
    section : Section or str
        e.g. ``'z=0.25'``.
    resolution : int
        Grid intervals per cell edge.
    fmt : {'png', 'svg'}
    dpi : int
    bare : bool
        Only the heat map, filling the canvas (2 x 2 inches): for thumbnails and image tests.

    Returns
    -------
    bytes
        The picture; the same arguments give the same bytes.

    Raises
    ------
    CrystalFourierError
        Index out of range, bad section or resolution, or no matplotlib.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> render_section(basis(99, 2), 1, "z=0", resolution=24)[:4]
    b'\\x89PNG'
    """
    index = check_function_index(basis, index)
    section = _as_section(section)
    values = section_values(basis, index, section, resolution)
    basis_2d = plane_basis(basis.group, section.axis)
    elements = None if bare else section_elements(basis.group, section.axis, section.level)

    def draw(figure):
        if bare:
            ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
            _draw_panel(ax, values, basis_2d, None, "", bare=True)
            return
        ax = figure.add_axes((0.04, 0.16, 0.76, 0.74))
        mesh, handles = _draw_panel(ax, values, basis_2d, elements, _function_title(basis, index))
        figure.colorbar(mesh, cax=figure.add_axes((0.84, 0.25, 0.03, 0.56)), label="f")
        figure.suptitle(_group_title(basis, section), fontsize=10)
        if handles:
            figure.legend(list(handles.values()), list(handles), loc="lower center", ncol=2, fontsize=8,
                          frameon=False)

    return render_figure(draw, (2.0, 2.0) if bare else (6.4, 6.4), fmt, dpi=dpi)


def render_sections(basis: Basis, indices: Iterable[int] | None = None, section: Section | str = "z=0", *,
                    resolution: int = 48, fmt: str = "png", dpi: int = DPI) -> bytes:
    """A grid of heat maps: the functions ``indices`` (default the first :data:`MAX_GRID`) on ``section``.

    Each panel has its own symmetric colour scale (red positive, blue negative).

    Parameters
    ----------
    basis : Basis
        A derived basis.
    indices : iterable of int, optional
        The functions to show (at most :data:`MAX_GRID`).
    section : Section or str, default "z=0"
        The plane, such as ``'z=0'`` or ``'x=1/4'``.
    resolution : int, default 48
        Grid cells per side of each panel.
    fmt : {'png', 'svg'}, default 'png'
        The picture format.
    dpi : int, default DPI
        Resolution of a PNG.

    Returns
    -------
    bytes
        The picture.

    Raises
    ------
    CrystalFourierError
        More than :data:`MAX_GRID` indices, an index out of range, a bad section, or no matplotlib.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> render_sections(basis(2, 1), resolution=12)[:4]
    b'\\x89PNG'
    """
    indices = list(range(min(MAX_GRID, basis.dim))) if indices is None else list(indices)
    if not 1 <= len(indices) <= MAX_GRID:
        raise CrystalFourierError(f"a grid shows 1-{MAX_GRID} functions, got {len(indices)}")
    indices = [check_function_index(basis, i) for i in indices]
    section = _as_section(section)
    grids = [section_values(basis, i, section, resolution) for i in indices]
    basis_2d = plane_basis(basis.group, section.axis)
    elements = section_elements(basis.group, section.axis, section.level)
    columns = int(np.ceil(np.sqrt(len(indices))))
    rows = int(np.ceil(len(indices) / columns))
    panel = 2.3

    def draw(figure):
        handles = {}
        height = rows * panel + 1.0
        for k, (index, values) in enumerate(zip(indices, grids, strict=True)):
            row, column = divmod(k, columns)
            left = column / columns + 0.01
            bottom = 1.0 - (0.45 + (row + 1) * panel) / height
            ax = figure.add_axes((left, bottom, 0.98 / columns, panel / height * 0.86))
            _, found = _draw_panel(ax, values, basis_2d, elements, _function_title(basis, index), scale=0.65)
            handles.update(found)
        figure.suptitle(_group_title(basis, section), fontsize=10)
        if handles:
            figure.legend(list(handles.values()), list(handles), loc="lower center", ncol=3, fontsize=7,
                          frameon=False)

    return render_figure(draw, (columns * panel, rows * panel + 1.0), fmt, dpi=dpi)
