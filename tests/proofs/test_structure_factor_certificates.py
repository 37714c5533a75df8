"""Structure-factor certificates: pass on every form, fail on a wrong sign, a wrong class, a gap or overlap."""

import copy

import pytest

from crystal_fourier.derive._structure_factor_export import structure_factor_document
from crystal_fourier.proofs import structure_factor_certificate
from crystal_fourier.derive import basis
from crystal_fourier.proofs._structure_factor_certificates import exponential_expansion, factored_basis_certificate

SAMPLE = (1, 2, 4, 14, 19, 43, 62, 76, 88, 141, 146, 166, 169, 194, 198, 225, 227, 230)
SETTINGS = (525, 434, 92, 30)   # Fd-3m origin 1, R3 on rhombohedral axes, another monoclinic cell, P2 unique c


@pytest.mark.parametrize("shifts", ["auto", "always", "never"])
@pytest.mark.parametrize("number", SAMPLE, ids=lambda n: f"sg{n}")
def test_certificate_passes(number, shifts):
    result = structure_factor_certificate(structure_factor_document(number, shifts=shifts))
    assert result["ok"], result["failures"]
    assert result["n_residues"] >= result["n_classes"] >= 1


@pytest.mark.parametrize("hall", SETTINGS, ids=lambda h: f"hall{h}")
def test_certificate_passes_other_settings(hall):
    result = structure_factor_certificate(structure_factor_document(None, hall_number=hall))
    assert result["ok"], result["failures"]


@pytest.mark.sweep
@pytest.mark.parametrize("shifts", ["always", "never"])
@pytest.mark.parametrize("hall", range(1, 531), ids=lambda h: f"hall{h}")
def test_certificate_sweep_every_setting(hall, shifts):
    """'auto' picks one of 'always' and 'never' per setting: both are covered."""
    result = structure_factor_certificate(structure_factor_document(None, hall_number=hall, shifts=shifts))
    assert result["ok"], result["failures"]


def test_wrong_sign_fails():
    document = structure_factor_document(14)
    broken = copy.deepcopy(document)
    broken["classes"][1]["A"] = broken["classes"][1]["A"].lstrip("-")
    result = structure_factor_certificate(broken)
    assert not result["ok"]
    assert "differs from the operation sum" in result["failures"][0]


def test_swapped_conditions_fail():
    broken = structure_factor_document("P2_12_12_1", shifts="never")
    first, second = broken["classes"][0], broken["classes"][1]
    first["condition"], second["condition"] = second["condition"], first["condition"]
    assert not structure_factor_certificate(broken)["ok"]


def test_missing_class_and_overlap_fail():
    document = structure_factor_document("Fm-3m")
    gap = copy.deepcopy(document)
    del gap["classes"][1]
    result = structure_factor_certificate(gap)
    assert not result["ok"]
    assert "0 classes hold" in " ".join(result["failures"])
    overlap = copy.deepcopy(document)
    overlap["classes"][1]["condition"] = "True"
    assert "2 classes hold" in " ".join(structure_factor_certificate(overlap)["failures"])


def test_conjugated_phase_fails():
    """e(-h.t) instead of e(h.t): the screw's class formula with the wrong sign of sin must fail."""
    document = structure_factor_document("P4_1")
    broken = copy.deepcopy(document)
    changed = False
    for item in broken["classes"]:
        if "sin" in item["B"]:
            item["B"] = f"-({item['B']})"
            changed = True
            break
    assert changed
    assert not structure_factor_certificate(broken)["ok"]


def test_wrong_miller_shift_fails():
    """A shift linear in h that is off by a quarter on one factor must fail."""
    broken = structure_factor_document("P2_12_12_1")
    broken["classes"][0]["A"] = broken["classes"][0]["A"].replace("k*y + k/4", "k*y - k/4")
    assert "k*y - k/4" in broken["classes"][0]["A"]
    assert not structure_factor_certificate(broken)["ok"]


def test_non_periodic_condition_fails():
    broken = structure_factor_document(14)
    broken["classes"][0]["condition"] = "Eq(Mod(k + l, 3), 0)"
    failures = " ".join(structure_factor_certificate(broken)["failures"])
    assert "not periodic" in failures


def test_expansion_rejects_a_non_bilinear_argument():
    import sympy as sp

    with pytest.raises(ValueError, match="not 2 pi"):
        exponential_expansion(sp.sympify("cos(2*pi*h**2*x)"))


# The factored forms (basis --form factored) equal the sum forms exactly.
FACTORED_SAMPLE = (1, 2, 4, 14, 19, 76, 146, 169, 194, 225, 227, 230)


@pytest.mark.parametrize("shifts", ["auto", "never"])
@pytest.mark.parametrize("number", FACTORED_SAMPLE, ids=lambda n: f"sg{n}")
def test_factored_equals_sum_form_exactly(number, shifts):
    result = factored_basis_certificate(basis(number, 2, "box"), shifts=shifts)
    assert result["ok"], result["failures"]
    assert result["n_checked"] + result["n_sum_form"] == result["n_functions"]
    assert result["n_checked"] > 0


def test_a_wrong_factored_form_fails():
    derived = basis(14, 2, "box")
    broken = copy.deepcopy(structure_factor_document(14))
    broken["classes"][1]["A"] = broken["classes"][1]["A"].lstrip("-")
    result = factored_basis_certificate(derived, document=broken)
    assert not result["ok"]
    assert "differs at frequencies" in result["failures"][0]
