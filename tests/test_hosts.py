"""Host GNNs with the invariant layer (issue 25): graphs, shapes, and the audit's verdicts equal to the host's alone.

Skipped cleanly without torch_geometric (the ``hosts`` extra, which ``make install`` installs).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("torch_geometric")

from crystal_fourier.audit import KINDS, Claim, audit  # noqa: E402 - after the skip
from crystal_fourier.hosts import HOST_KINDS, build_host, collate_graphs, crystal_graph, host_predictor  # noqa: E402
from crystal_fourier.runtime import SpaceGroupEncoding, neighbour_list, random_crystal, standardize  # noqa: E402

CLAIM = Claim(symmetry="E3", energy="intensive", forces=False, stress=False)
GROUPS = (14, 166, 225)


@pytest.fixture(scope="module")
def crystals():
    return [random_crystal(number, seed=number, max_atoms=8).crystal for number in GROUPS]


def _host(kind: str, layer: bool):
    torch.manual_seed(0)
    encoding = SpaceGroupEncoding(cutoff=6, dim=16) if layer else None
    return build_host(kind, encoding=encoding, width=32).double().eval()


def test_graph_is_the_standardized_cell_with_periodic_edges(crystals):
    graph = crystal_graph(crystals[2], cutoff=5.0)
    standard = standardize(crystals[2])
    pairs = neighbour_list(standard.lattice, standard.positions, 5.0)
    assert int(graph.group) == standard.number == 225
    np.testing.assert_array_equal(graph.frac.numpy(), standard.positions)
    np.testing.assert_array_equal(graph.z.numpy(), standard.numbers)
    assert graph.edge_index.shape == (2, len(pairs))
    np.testing.assert_array_equal(graph.edge_index[1].numpy(), pairs.centres)
    np.testing.assert_allclose(graph.edge_weight.numpy(), pairs.distances, rtol=0, atol=0)


@pytest.mark.parametrize("kind", HOST_KINDS)
def test_the_layer_changes_the_predictions_of_a_batch_by_crystal(kind, crystals):
    batch = collate_graphs([crystal_graph(c) for c in crystals])
    alone, layered = _host(kind, False), _host(kind, True)
    with torch.no_grad():
        out, out_layered = alone(batch), layered(batch)
        single = torch.cat([layered(collate_graphs([crystal_graph(c)])) for c in crystals])
    assert out.shape == out_layered.shape == (len(crystals),)
    assert float((out - out_layered).abs().min()) > 1e-6   # the layer's features reach the output
    torch.testing.assert_close(single, out_layered, rtol=0, atol=1e-12)   # no crystal sees another's atoms
    assert layered.encoding is not None
    assert alone.encoding is None
    # graphs that carry the layer's basis values (computed once per crystal) give the same predictions
    with torch.no_grad():
        cached = layered(collate_graphs([crystal_graph(c, basis_of=layered.encoding) for c in crystals]))
    torch.testing.assert_close(cached, out_layered, rtol=0, atol=1e-12)
    schnet = _host("schnet", True).network
    assert type(schnet).__module__ == "torch_geometric.nn.models.schnet"


@pytest.mark.parametrize("kind", HOST_KINDS)
def test_host_with_the_layer_passes_the_audit_exactly_as_the_host_alone(kind, crystals):
    reports = {layer: audit(host_predictor(_host(kind, layer)), crystals, claim=CLAIM, per_kind=1, seed=0)
               for layer in (False, True)}
    verdicts = {layer: [(c.crystal, c.kind, c.label, c.quantity, c.failed) for c in report.checks]
                for layer, report in reports.items()}
    assert verdicts[True] == verdicts[False]
    assert len(verdicts[True]) >= 30
    # every kind; `derivatives` is skipped for an energy claimed intensive (CLAIM), `batch` for a model
    # called one crystal at a time (a plain callable)
    assert {c.kind for c in reports[True].checks} == set(KINDS) - {"derivatives", "batch"}
    # continuity may fail for both alike: the standardization's symmetry detection (symprec) switches along a
    # path of small displacements, and the energy jumps with it (issue 26's finding, the CFT's too)
    assert not [f for f in reports[True].failures if f.kind != "continuity"], reports[True].summary()


def test_the_audit_fails_a_layer_fed_unstandardized_positions(crystals):
    """The control: the same layer on the input's raw fractional coordinates is not invariant, and the audit says so."""
    torch.manual_seed(0)
    encoding = SpaceGroupEncoding(cutoff=6, dim=4).double()

    def raw(crystal) -> float:
        group = standardize(crystal).number
        x = torch.tensor(np.array(crystal.positions))
        with torch.no_grad():
            return float(encoding(x, torch.full((len(x),), group)).sum(dim=1).mean())

    report = audit(raw, crystals, claim=CLAIM, per_kind=1, seed=0)
    assert not report.ok
    assert "rotation" not in report.failing_kinds   # a frame rotation leaves fractional coordinates alone
    assert {"origin", "unimodular"} & set(report.failing_kinds)
