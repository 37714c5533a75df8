"""The dual graph drawn: frequencies at their reciprocal-space positions, one panel per layer l.

Nodes are the frequencies k = (h, k, l) of the set (CONVENTIONS.md, "the dual
graph"). The layers l = const are drawn side by side; inside a layer, k sits at
h a* + k b* in the reciprocal metric of the CONVENTIONS.md cell (a* and b* at
60 degrees on hexagonal axes, orthonormal otherwise), so the point group acts
on each layer as rotations and reflections of the picture. Present frequencies
are filled discs coloured by orbit (the connected components of the graph);
systematically absent ones are dark grey crosses. Edges k -> R^T k that stay in a
layer are drawn as thin lines (self-loops and edges between layers are left
out: the colours already show the components).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier._figures import DPI, FORMATS, render_figure, write_bytes_atomic

if TYPE_CHECKING:
    import os

    from crystal_fourier.derive import Basis, FrequencySet

__all__ = ["MAX_NODES", "ABSENT_COLOUR", "GraphLayout", "graph_layout", "render_graph", "write_graph_picture"]

MAX_NODES = 400
"""Most frequencies drawn (ball 4 has 257, box 3 has 343; ball 5 with 515 is too many to read)."""

ABSENT_COLOUR = "#503c46"
"""Dark grey with a tint: no text edge (pure grey) or orbit colour (tab20) gives it, so tests can find the crosses."""


@dataclass(frozen=True, slots=True, eq=False)
class GraphLayout:
    """Where each frequency is drawn.

    Attributes
    ----------
    layers : tuple of int
        The distinct l, ascending; panel p shows l = layers[p].
    panel : np.ndarray
        shape=(n_frequencies,), int64: panel of each frequency.
    position : np.ndarray
        shape=(n_frequencies, 2), float64: h a* + k b* inside its panel.
    """

    layers: tuple[int, ...]
    panel: np.ndarray
    position: np.ndarray


def graph_layout(frequencies: FrequencySet) -> GraphLayout:
    """Panel and in-panel position of every frequency of a :class:`~crystal_fourier.derive.FrequencySet`.

    The reciprocal basis is a* = (1, 0), b* = (1/2, sqrt(3)/2) on hexagonal axes
    and the unit square otherwise, so |position| is proportional to the length
    of (h, k, 0) and members of one orbit in one layer lie on one circle.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> layout = graph_layout(basis(1, 1, "box").frequencies)
    >>> layout.layers, layout.position.shape
    ((-1, 0, 1), (27, 2))
    """
    hkl = np.asarray(frequencies.hkl)
    layers, panel = np.unique(hkl[:, 2], return_inverse=True)
    reciprocal = np.array([[1.0, 0.0], [0.5, np.sqrt(3.0) / 2.0]]) if frequencies.hexagonal else np.eye(2)
    position = hkl[:, :2].astype(np.float64) @ reciprocal
    panel = panel.reshape(-1).astype(np.int64)
    for array in (panel, position):
        array.setflags(write=False)
    return GraphLayout(tuple(int(layer) for layer in layers), panel, position)


def _check_size(basis) -> None:
    n = len(basis.frequencies)
    if n > MAX_NODES:
        raise CrystalFourierError(
            f"the dual-graph picture is drawn for at most {MAX_NODES} frequencies; "
            f"{basis.frequencies.shell} cutoff {basis.frequencies.cutoff} has {n}: lower --cutoff "
            f"(ball 4 or box 3 fit) or use --format dot/json for large graphs")


def _layer_edges(basis, layout: GraphLayout) -> np.ndarray:
    """Distinct undirected edges {k, R^T k} inside one layer, shape=(n_edges, 2), sorted."""
    image = basis.graph.image
    source = np.repeat(np.arange(image.shape[0]), image.shape[1])
    target = image.reshape(-1)
    keep = (source != target) & (layout.panel[source] == layout.panel[target])
    pairs = np.sort(np.stack([source[keep], target[keep]], axis=1), axis=1)
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def render_graph(basis: Basis, fmt: str = "png", *, dpi: int = DPI) -> bytes:
    """The dual graph of ``basis`` as a picture (PNG or SVG bytes; same input, same bytes).

    One panel per layer l of the frequencies (h, k, l); present frequencies coloured by orbit,
    absent ones crossed, edges k -> R^T k within a layer.

    Parameters
    ----------
    basis : Basis
        A basis with at most :data:`MAX_NODES` frequencies.
    fmt : {'png', 'svg'}
        The picture format.
    dpi : int
        Resolution of a PNG.

    Returns
    -------
    bytes
        The PNG or SVG file's content.

    Raises
    ------
    CrystalFourierError
        More than :data:`MAX_NODES` frequencies, an unknown format, or no matplotlib.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> render_graph(basis(4, 1, "box"))[:4]
    b'\\x89PNG'
    """
    if fmt not in FORMATS:
        raise CrystalFourierError(f"unknown picture format {fmt!r}: expected one of {', '.join(FORMATS)}")
    _check_size(basis)
    layout = graph_layout(basis.frequencies)
    decomposition = basis.decomposition
    absent = decomposition.absent[decomposition.orbit_of]
    present_orbits = np.flatnonzero(~decomposition.absent)
    colour_of_orbit = np.full(len(decomposition), -1, dtype=np.int64)
    colour_of_orbit[present_orbits] = np.arange(len(present_orbits))
    edges = _layer_edges(basis, layout)
    n_panels = len(layout.layers)
    columns = int(np.ceil(np.sqrt(n_panels)))
    rows = int(np.ceil(n_panels / columns))
    extent = float(np.abs(layout.position).max(initial=0.0)) + 0.6
    panel_size = 2.6 if basis.plane_group is None else 6.0  # one panel: room for the title and legend
    marker = float(np.clip(70.0 / (2 * extent + 1), 2.5, 9.0))

    def draw(figure):
        from matplotlib import colormaps
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D

        palette = colormaps["tab20"]
        colours = np.array([palette(int(c) % 20) for c in colour_of_orbit[decomposition.orbit_of]])
        height = rows * panel_size + 1.1
        for p, layer in enumerate(layout.layers):
            row, column = divmod(p, columns)
            ax = figure.add_axes((column / columns + 0.01, 1.0 - (0.5 + (row + 1) * panel_size) / height,
                                  0.98 / columns, panel_size / height * 0.9))
            nodes = np.flatnonzero(layout.panel == p)
            inside = edges[layout.panel[edges[:, 0]] == p]
            if len(inside):
                ax.add_collection(LineCollection(layout.position[inside], colors="0.75", linewidths=0.6, zorder=1))
            shown = nodes[~absent[nodes]]
            ax.scatter(layout.position[shown, 0], layout.position[shown, 1], s=marker ** 2, c=colours[shown],
                       edgecolors="black", linewidths=0.4, zorder=3)
            hidden = nodes[absent[nodes]]
            ax.scatter(layout.position[hidden, 0], layout.position[hidden, 1], s=marker ** 2, marker="x",
                       c=ABSENT_COLOUR, linewidths=1.2, zorder=3)
            ax.set_xlim(-extent, extent)
            ax.set_ylim(-extent, extent)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if basis.plane_group is None:  # a plane group has the one layer l = 0, (h, k) only
                ax.set_title(f"l = {layer}", fontsize=9)
        group, plane = basis.group, basis.plane_group
        summary = basis.summary()
        name = (f"{group.symbol} (No. {group.number}, Hall {group.hall_number})" if plane is None
                else f"the plane group {plane.symbol} (No. {plane.number})")
        figure.suptitle(
            f"dual graph of {name}," + (" " if plane is None else "\n")
            + f"{basis.frequencies.shell} cutoff {basis.frequencies.cutoff}: {summary['n_frequencies']} frequencies, "
            f"{summary['n_present_orbits']} present and {summary['n_absent_orbits']} absent orbits", fontsize=9)
        handles = [
            Line2D([], [], marker="o", linestyle="none", markerfacecolor=palette(0), markeredgecolor="black",
                   label="present frequency (colour: its orbit)"),
            Line2D([], [], marker="x", linestyle="none", color=ABSENT_COLOUR, label="systematically absent"),
            Line2D([], [], color="0.75", label="edge $k \\to R^{T}k$ within a layer"),
        ]
        figure.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)

    return render_figure(draw, (columns * panel_size, rows * panel_size + 1.1), fmt, dpi=dpi)


def write_graph_picture(basis: Basis, fmt: str, out: str | os.PathLike[str] | None) -> bool:
    """Render :func:`render_graph` and write it atomically to ``out`` (a path); False if unchanged.

    Parameters
    ----------
    basis : Basis
        A basis with at most :data:`MAX_NODES` frequencies.
    fmt : {'png', 'svg'}
        The picture format.
    out : str, os.PathLike or None
        The file to write.

    Returns
    -------
    bool
        True when the file was written, False when it already held these bytes.

    Raises
    ------
    CrystalFourierError
        No ``out`` given (pictures are not written to a terminal), or as :func:`render_graph`.
    """
    if out is None:
        raise CrystalFourierError(f"--format {fmt} writes a picture: give --out FILE.{fmt}")
    return write_bytes_atomic(out, render_graph(basis, fmt))
