"""Tensor certificates: the checks pass on derive's bases, fail on broken ones, and the character
formula (power traces only) gives the textbook counts of the 32 point groups."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest

from crystal_fourier.cli import main
from crystal_fourier.derive import TENSOR_KINDS, space_group, tensor_basis
from crystal_fourier.proofs import tensor_certificate, verify_tensors
from crystal_fourier.proofs._tensor_certificates import (
    TensorResult,
    TENSOR_CHECKS,
    character_tensor_dimension,
    check_index_symmetry,
    check_tensor_independence,
    check_tensor_invariance,
    power_traces,
    tensor_character,
)
from crystal_fourier.errors import CrystalFourierError

# point-group representative (first space group) -> Nye's counts (symmetric2, piezoelectric, elastic, axial2),
# independent of tests/derive/test_tensors.py's table on purpose: here the character formula is checked.
TEXTBOOK = {
    1: (6, 18, 21, 6), 2: (6, 0, 21, 0), 3: (4, 8, 13, 4), 6: (4, 10, 13, 2), 10: (4, 0, 13, 0),
    16: (3, 3, 9, 3), 25: (3, 5, 9, 1), 47: (3, 0, 9, 0), 75: (2, 4, 7, 2), 81: (2, 4, 7, 2),
    83: (2, 0, 7, 0), 89: (2, 1, 6, 2), 99: (2, 3, 6, 0), 111: (2, 2, 6, 1), 123: (2, 0, 6, 0),
    143: (2, 6, 7, 2), 147: (2, 0, 7, 0), 149: (2, 2, 6, 2), 156: (2, 4, 6, 0), 162: (2, 0, 6, 0),
    168: (2, 4, 5, 2), 174: (2, 2, 5, 0), 175: (2, 0, 5, 0), 177: (2, 1, 5, 2), 183: (2, 3, 5, 0),
    187: (2, 1, 5, 0), 191: (2, 0, 5, 0), 195: (1, 1, 3, 1), 200: (1, 0, 3, 0), 207: (1, 0, 3, 1),
    215: (1, 1, 3, 0), 221: (1, 0, 3, 0),
}


@pytest.mark.parametrize("number", sorted(TEXTBOOK), ids=lambda n: f"sg{n}")
def test_character_formula_gives_the_textbook_counts(number):
    group = space_group(number)
    assert tuple(character_tensor_dimension(group, kind) for kind in TENSOR_KINDS) == TEXTBOOK[number]


@pytest.mark.parametrize("number", sorted(TEXTBOOK), ids=lambda n: f"sg{n}")
def test_certificate_of_each_point_group(number):
    for kind in TENSOR_KINDS:
        certificate = tensor_certificate(number, kind)
        assert certificate["ok"], {name: certificate[name] for name in TENSOR_CHECKS}
        assert certificate["dimension"] == certificate["completeness"]["character_formula"]


@pytest.mark.sweep
@pytest.mark.parametrize("hall_number", range(1, 531), ids=lambda h: f"hall{h}")
def test_every_setting_is_certified(hall_number):
    (result,) = verify_tensors([hall_number])
    assert result.ok, result.failed


def test_power_traces_and_characters_of_a_3_fold_on_hexagonal_axes():
    three_fold = ((0, -1, 0), (1, -1, 0), (0, 0, 1))  # x -> (-y, x - y, z)
    assert power_traces(three_fold) == (0, 0, 3, 0)
    # eigenvalues 1, w, w^2: Sym^2 has 1, w, w^2, w^2, 1, w (sum 0); V ⊗ Sym^2 sums to 0 as well;
    # Sym^2(Sym^2) = (0^2 + chi_Sym2(R^2) = 0) / 2 = 0
    assert [tensor_character(kind, three_fold) for kind in TENSOR_KINDS] == [0, 0, 0, 0]
    mirror = ((1, 0, 0), (0, -1, 0), (0, 0, 1))
    assert [tensor_character(kind, mirror) for kind in TENSOR_KINDS] == [2, 2, 5, -2]


def test_unknown_kind_in_character():
    with pytest.raises(CrystalFourierError, match="unknown tensor kind"):
        tensor_character("stiffness", ((1, 0, 0), (0, 1, 0), (0, 0, 1)))


def _broken(basis, components):
    return dataclasses.replace(basis, components=tuple(tuple(Fraction(v) for v in row) for row in components))


def test_invariance_check_fails_on_a_tensor_the_group_does_not_allow():
    cubic = tensor_basis(221, "symmetric2")
    orthorhombic = _broken(cubic, [[1, 2, 3, 0, 0, 0]])  # eps11 != eps22 != eps33
    result = check_tensor_invariance(orthorhombic, space_group(221))
    assert not result["ok"]
    assert result["failures"][0]["tensor"] == 0


def test_axial_sign_matters_to_the_invariance_check():
    polar = tensor_basis(3, "symmetric2")  # P2: 4 polar tensors, of which g13-type ones are not axial-invariant in m
    mirror_group = space_group(6)         # Pm: axial2 has only g12 and g23
    as_axial = dataclasses.replace(polar, kind="axial2")
    assert not check_tensor_invariance(as_axial, mirror_group)["ok"]
    assert check_tensor_invariance(tensor_basis(6, "axial2"), mirror_group)["ok"]


def test_index_symmetry_check_can_fail():
    basis = tensor_basis(1, "elastic")
    assert check_index_symmetry(basis)["ok"]
    # Component coordinates cannot express a tensor without the index symmetry, so give the full
    # tensor directly: T^{ij11} = 1 for all i, j is symmetric in (ij) and (kl) but not under ij <-> kl.
    block = ((1, 0, 0), (0, 0, 0), (0, 0, 0))
    fake = _FakeTensors(basis, (((block,) * 3,) * 3,))
    result = check_index_symmetry(fake)
    assert not result["ok"]
    assert result["failures"] == [{"tensor": 0, "axes": [2, 3, 0, 1]}]


class _FakeTensors:
    """A stand-in basis whose full tensors are given directly (e.g. without index symmetry)."""

    def __init__(self, basis, tensors):
        self.kind, self.rank, self.tensors = basis.kind, basis.rank, tuple(
            _fractions(tensor) for tensor in tensors)


def _fractions(nested):
    return tuple(_fractions(v) for v in nested) if isinstance(nested, tuple) else Fraction(nested)


def test_independence_check_fails_on_a_repeated_tensor():
    basis = tensor_basis(194, "symmetric2")
    repeated = dataclasses.replace(basis, dimension=2, components=(basis.components[0], basis.components[0]))
    assert not check_tensor_independence(repeated)["ok"]
    assert check_tensor_independence(basis)["ok"]


def test_completeness_fails_when_a_basis_tensor_is_missing(monkeypatch):
    import crystal_fourier.proofs._tensor_certificates as module

    full = tensor_basis(194, "elastic")

    def short(*args, **kwargs):
        return dataclasses.replace(full, dimension=4, components=full.components[:4], pivots=full.pivots[:4])

    monkeypatch.setattr(module, "tensor_basis", short)
    certificate = module.tensor_certificate(194, "elastic")
    assert not certificate["ok"]
    assert certificate["completeness"] == {"ok": False, "dimension": 4, "character_formula": 5}


def test_verify_tensors_writes_certificates(tmp_path):
    (result,) = verify_tensors([488], out=tmp_path)
    assert result.ok
    assert result.dimensions == (2, 0, 5, 0)
    document = json.loads((tmp_path / "sg194_h488_tensors.json").read_text())
    assert sorted(document) == sorted(TENSOR_KINDS)
    assert document["elastic"]["completeness"]["character_formula"] == 5


def test_verify_command_with_tensors(capsys, tmp_path):
    status = main(["verify", "--groups", "194,227", "--shell", "box", "--cutoff", "1", "--tensors",
                   "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert "tensor bases of all 2 groups certified" in out
    assert (tmp_path / "sg227_h526_tensors.json").exists()


def test_verify_command_reports_a_tensor_failure(capsys, monkeypatch):
    from crystal_fourier import proofs

    failing = TensorResult(sg=194, hall_number=488, symbol="P6_3/mmc", dimensions=(2, 0, 4, 0),
                                  failed=("elastic:completeness",))
    monkeypatch.setattr(proofs, "verify_tensors", lambda halls, out=None: [failing])
    status = main(["verify", "--groups", "194", "--shell", "box", "--cutoff", "1", "--tensors"])
    captured = capsys.readouterr()
    assert status == 1
    assert "elastic:completeness" in captured.err
