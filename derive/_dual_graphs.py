"""The dual graph of a group on a frequency set (CONVENTIONS.md).

Nodes are the frequencies k of the set; each operation (R, t) gives an edge
k -> R^T k labelled with the exact phase k.t, stored as the integer
24 (k.t) mod 24. Everything is computed at once for all frequencies and
operations with integer array operations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive._frequency_sets import FrequencySet
from crystal_fourier.derive._operations import DEN
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["DualGraph", "dual_graph", "graph_to_dot", "graph_to_json"]


@dataclass(frozen=True, slots=True, eq=False)
class DualGraph:
    """Edges of the dual graph as dense integer tables.

    Attributes
    ----------
    group : SpaceGroup
    frequencies : FrequencySet
    image : np.ndarray
        shape=(n_frequencies, n_operations), dtype=int64: index of R_g^T k_i.
    phase_24 : np.ndarray
        shape=(n_frequencies, n_operations), dtype=int64: 24 (k_i . t_g) mod 24.
    """

    group: object
    frequencies: FrequencySet
    image: np.ndarray
    phase_24: np.ndarray


def dual_graph(group: SpaceGroup, frequencies: FrequencySet) -> DualGraph:
    """Build the dual graph of ``group`` on ``frequencies``.

    Every edge k -> R^T k carries the phase k.t (CONVENTIONS.md: an invariant
    function has c_{R^T k} = e(k.t) c_k).

    Parameters
    ----------
    group : SpaceGroup
        The space group, centring operations included.
    frequencies : FrequencySet
        The frequencies (nodes), closed under the point group.

    Returns
    -------
    DualGraph
        ``image[k, g]`` the index of R_g^T k and ``phase_24[k, g]`` = k.t_g mod 24, both read-only.

    Raises
    ------
    CrystalFourierError
        If the frequency set is not closed under the point group.

    Examples
    --------
    >>> from crystal_fourier.derive import space_group, frequency_set
    >>> g = space_group(4)  # P2_1: -x, y+1/2, -z
    >>> graph = dual_graph(g, frequency_set(g, 1, "box"))
    >>> k = graph.frequencies.index([[0, 1, 0]])[0]
    >>> bool(graph.image[k, 1] == k), int(graph.phase_24[k, 1])
    (True, 12)
    """
    rotations, translations_24 = group.arrays
    images = np.einsum("ni,gij->ngj", frequencies.hkl, rotations)
    image = frequencies.index(images)
    if np.any(image < 0):
        raise CrystalFourierError(f"frequency set is not closed under the point group of {group}")
    phase_24 = (frequencies.hkl @ translations_24.T) % DEN
    image.setflags(write=False)
    phase_24.setflags(write=False)
    return DualGraph(group, frequencies, image, phase_24)


def _edges(graph: DualGraph):
    """Unique labelled edges (source, target, phase_24, first operation index), sorted."""
    n_frequencies, n_operations = graph.image.shape
    source = np.repeat(np.arange(n_frequencies), n_operations)
    target = graph.image.reshape(-1)
    phase = graph.phase_24.reshape(-1)
    operation = np.tile(np.arange(n_operations), n_frequencies)
    table = np.stack([source, target, phase, operation], axis=1)
    # Keep the first operation for each distinct (source, target, phase); stable for determinism.
    _, first = np.unique(table[:, :3], axis=0, return_index=True)
    return table[np.sort(first)]


def _axes(graph: DualGraph):
    """(3, None) for a space group; (2, the plane group) for a plane group's graph (frequencies (h, k, 0))."""
    if not graph.frequencies.plane:
        return 3, None
    from crystal_fourier.derive._plane_groups import PLANE_GROUPS, plane_group

    return 2, plane_group(next(s for s, hall in PLANE_GROUPS.items() if hall == graph.group.hall_number))


def graph_to_json(graph: DualGraph) -> str:
    """JSON with "nodes" ([h,k,l] per frequency) and "edges" ({source, target,
    phase24, operation}), one edge per distinct labelled pair, keys sorted.

    Parameters
    ----------
    graph : DualGraph
        The graph to write.

    Returns
    -------
    str
        The JSON text (also with ``sg``, ``hall_number``, ``shell``, ``cutoff`` and the operations as
        xyz strings), ending in a newline. A plane group's graph has ``plane_group``, ``symbol`` and
        ``embedding_hall_number`` instead of ``sg`` and ``hall_number``, nodes [h,k] and operations on (x, y).
    """
    edges = [
        {"source": int(s), "target": int(t), "phase24": int(p), "operation": int(o)}
        for s, t, p, o in _edges(graph)
    ]
    n, plane = _axes(graph)
    head = ({"sg": graph.group.number, "hall_number": graph.group.hall_number} if plane is None else
            {"plane_group": plane.number, "symbol": plane.symbol, "embedding_hall_number": graph.group.hall_number})
    document = {
        **head,
        "shell": graph.frequencies.shell,
        "cutoff": graph.frequencies.cutoff,
        "operations": [",".join(op.xyz.split(",")[:n]) for op in graph.group.operations],
        "nodes": graph.frequencies.hkl[:, :n].tolist(),
        "edges": edges,
    }
    return json.dumps(document, sort_keys=True, indent=1) + "\n"


def graph_to_dot(graph: DualGraph, orbit_of: np.ndarray | None = None, absent: np.ndarray | None = None) -> str:
    """Graphviz DOT text: one node per frequency (labelled hkl), one edge per
    distinct labelled pair (label = phase in 24ths); self-loops with phase 0
    are omitted since they carry no constraint.

    Parameters
    ----------
    graph : DualGraph
        The graph to draw.
    orbit_of : numpy.ndarray, optional
        shape=(n,), int: the orbit of each frequency, written as each node's ``group`` attribute.
    absent : numpy.ndarray, optional
        shape=(n,), bool: frequencies drawn dashed (systematically absent ones).

    Returns
    -------
    str
        The DOT text, ending in a newline.
    """
    n, plane = _axes(graph)
    name = f"sg{graph.group.number}" if plane is None else plane.symbol
    lines = [f'digraph "{name}" {{', "  node [shape=box, fontname=monospace];"]
    for index, hkl in enumerate(graph.frequencies.hkl[:, :n].tolist()):
        attributes = [f'label="{" ".join(map(str, hkl))}"']
        if orbit_of is not None:
            attributes.append(f'group="orbit{int(orbit_of[index])}"')
        if absent is not None and absent[index]:
            attributes.append("style=dashed")
        lines.append(f"  n{index} [{', '.join(attributes)}];")
    for s, t, p, _ in _edges(graph):
        if s == t and p == 0:
            continue
        lines.append(f'  n{s} -> n{t} [label="{p}/24"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
