"""The dual graph: edges k -> R^T k labelled with the exact phase 24 (k.t) mod 24."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crystal_fourier.derive import DEN, Operation, dual_graph, frequency_set, space_group
from crystal_fourier.derive._dual_graphs import graph_to_dot, graph_to_json
from crystal_fourier.testing import REPRESENTATIVE_GROUPS


def _graph(number, cutoff=3, shell="ball"):
    group = space_group(number)
    return dual_graph(group, frequency_set(group, cutoff, shell))


def _edge(graph, hkl, xyz):
    """(target hkl, phase_24) of the edge leaving ``hkl`` under the operation ``xyz``."""
    k = int(graph.frequencies.index([hkl])[0])
    g = graph.group.operations.index(Operation.parse(xyz))
    return tuple(int(v) for v in graph.frequencies.hkl[graph.image[k, g]]), int(graph.phase_24[k, g])


@pytest.mark.parametrize(
    ("number", "hkl", "xyz", "target", "phase_24"),
    [
        (4, (0, 1, 0), "-x,y+1/2,-z", (0, 1, 0), 12),       # P2_1: fixed, phase 1/2 -> absent
        (4, (1, 1, 0), "-x,y+1/2,-z", (-1, 1, 0), 12),
        (76, (1, 0, 1), "-y,x,z+1/4", (0, -1, 1), 6),       # R^T k, not R k = (0, 1, 1)
        (76, (0, 0, 1), "y,-x,z+3/4", (0, 0, 1), 18),
        (144, (1, 0, 1), "-y,x-y,z+1/3", (0, -1, 1), 8),    # hexagonal 3_1: R^T k = (k, -h-k, l)
        (169, (1, 0, 1), "x-y,x,z+1/6", (1, -1, 1), 4),     # 6_1: R^T (1,0,1) = (1,-1,1)
        (169, (1, 1, 2), "y,-x+y,z+5/6", (-1, 2, 2), 16),   # R^T k = (-k, h+k, l); 2 * 5/6 = 5/3
        (227, (1, 1, 1), "-y,x+1/4,z+1/4", (1, -1, 1), 12),
        (227, (0, 0, 2), "y+3/4,-x,z+3/4", (0, 0, 2), 12),  # 4_1 along c: (0 0 2) is absent
        (227, (2, 2, 0), "x,y+1/2,z+1/2", (2, 2, 0), 0),    # F-centring: 2 * 1/2 = 1
    ],
)
def test_edge_exact_values(number, hkl, xyz, target, phase_24):
    assert _edge(_graph(number), hkl, xyz) == (target, phase_24)


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_edges_are_the_plane_wave_identity(number):
    """e(k.(R x + t)) = e(k.t) e((R^T k).x): the meaning of an edge, checked numerically."""
    graph = _graph(number)
    group = graph.group
    hkl = graph.frequencies.hkl.astype(float)
    x = np.random.default_rng(number).uniform(-1, 1, size=(3, 3))
    rotations = np.array([op.rotation for op in group.operations], dtype=float)
    translations = np.array([op.translation_24 for op in group.operations], dtype=float) / DEN
    images = np.einsum("gij,pj->gpi", rotations, x) + translations[:, None, :]       # (g, p, 3)
    left = np.exp(2j * np.pi * np.einsum("ni,gpi->ngp", hkl, images))
    right = (np.exp(2j * np.pi * graph.phase_24 / DEN)[:, :, None]
             * np.exp(2j * np.pi * np.einsum("ngi,pi->ngp", hkl[graph.image], x)))
    np.testing.assert_allclose(left, right, rtol=0, atol=1e-11)


def _product_table(operations):
    """table[a, b] = index of operations[a] @ operations[b], by exact integer keys (vectorized)."""
    rotations = np.array([op.rotation for op in operations])
    translations = np.array([op.translation_24 for op in operations])

    def key(r, t):   # entries of R in {-1, 0, 1}: base 3; translations in 24ths: base 24
        return (r.reshape(*r.shape[:-2], 9) + 1) @ 3 ** np.arange(9) * DEN**3 + (t % DEN) @ DEN ** np.arange(3)

    products = key(np.einsum("aij,bjk->abik", rotations, rotations),
                   np.einsum("aij,bj->abi", rotations, translations) + translations[:, None, :])
    keys = key(rotations, translations)
    order = np.argsort(keys)
    table = order[np.searchsorted(keys[order], products)]
    assert np.array_equal(keys[table], products), "the operations are not closed"
    return table


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_edges_compose_exactly(number):
    """Under a @ b: image = image_b(image_a(k)), phase = phase_a(k) + phase_b(image_a(k)) (mod 24)."""
    graph = _graph(number, 1, "box")
    n = len(graph.group.operations)
    a, b = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    product = _product_table(graph.group.operations)
    via_a = graph.image[:, a]                                                   # (k, a, b)
    composed_image = graph.image[via_a, b]                                     # image_b(image_a(k))
    np.testing.assert_array_equal(graph.image[:, product], composed_image)
    composed_phase = (graph.phase_24[:, a] + graph.phase_24[via_a, b]) % DEN
    np.testing.assert_array_equal(graph.phase_24[:, product], composed_phase)


@pytest.mark.parametrize("number", REPRESENTATIVE_GROUPS, ids=lambda n: f"sg{n}")
def test_every_operation_permutes_the_frequencies(number):
    graph = _graph(number)
    n = len(graph.frequencies)
    np.testing.assert_array_equal(np.sort(graph.image, axis=0), np.arange(n)[:, None].repeat(graph.image.shape[1], 1))
    assert graph.image[:, 0].tolist() == list(range(n))              # the identity comes first
    assert not graph.phase_24[:, 0].any()
    assert graph.phase_24.min() >= 0
    assert graph.phase_24.max() < DEN
    assert not graph.image.flags.writeable
    assert not graph.phase_24.flags.writeable


def test_json_export(p2_1):
    graph = dual_graph(p2_1, frequency_set(p2_1, 1, "box"))
    text = graph_to_json(graph)
    document = json.loads(text)
    assert text == json.dumps(document, sort_keys=True, indent=1) + "\n"
    assert text == graph_to_json(dual_graph(p2_1, frequency_set(p2_1, 1, "box")))     # deterministic
    assert (document["sg"], document["hall_number"], document["shell"], document["cutoff"]) == (4, 6, "box", 1)
    assert document["operations"] == ["x,y,z", "-x,y+1/2,-z"]
    assert document["nodes"] == graph.frequencies.hkl.tolist()
    # 27 nodes x 2 operations, less the one repeated edge 0 -> 0 of the zero frequency.
    assert len(document["edges"]) == 53
    nodes = np.array(document["nodes"])
    source, target, operation, phase = (np.array([edge[key] for edge in document["edges"]])
                                        for key in ("source", "target", "operation", "phase24"))
    rotations = np.array([op.rotation for op in p2_1.operations])
    translations = np.array([op.translation_24 for op in p2_1.operations])
    np.testing.assert_array_equal(nodes[target], np.einsum("ei,eij->ej", nodes[source], rotations[operation]))
    np.testing.assert_array_equal(phase, np.einsum("ei,ei->e", nodes[source], translations[operation]) % DEN)


def test_dot_export(p2_1):
    graph = dual_graph(p2_1, frequency_set(p2_1, 1, "box"))
    text = graph_to_dot(graph)
    assert text.startswith('digraph "sg4" {\n')
    assert text.endswith("}\n")
    k = int(graph.frequencies.index([[0, 1, 0]])[0])
    assert f'  n{k} [label="0 1 0"];' in text
    assert f'  n{k} -> n{k} [label="12/24"];' in text          # the absence-proving self-loop
    assert "n0 -> n0" not in text                              # phase-0 self-loops carry no constraint
