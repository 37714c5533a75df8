"""basis --form factored: each function as alpha A(k0) + beta B(k0), equal to the sum form exactly."""

import copy

import pytest

from crystal_fourier.derive import basis, structure_factor_document
from crystal_fourier.derive._factored_bases import factored_form, factored_scales
from crystal_fourier.proofs import factored_basis_certificate

SAMPLE = (1, 2, 4, 14, 19, 76, 146, 169, 194, 225, 227, 230)


@pytest.mark.parametrize("shifts", ["auto", "never"])
@pytest.mark.parametrize("number", SAMPLE, ids=lambda n: f"sg{n}")
def test_factored_equals_sum_form_exactly(number, shifts):
    result = factored_basis_certificate(basis(number, 2, "box"), shifts=shifts)
    assert result["ok"], result["failures"]
    assert result["n_checked"] + result["n_sum_form"] == result["n_functions"]
    assert result["n_checked"] > 0


def test_known_factored_functions():
    fm3m = basis("Fm-3m", 2, "box")
    assert str(factored_form(fm3m, 1, shifts="never")) == "4*cos(2*pi*x)*cos(2*pi*y)*cos(2*pi*z)"
    assert factored_scales(basis(14, 1, "box"), 1) == ((1, 0, 0), 0.25, 0)
    assert str(factored_form(basis(1, 0), 0)) == "1"


def test_a_wrong_form_fails():
    derived = basis(14, 2, "box")
    broken = copy.deepcopy(structure_factor_document(14))
    broken["classes"][1]["A"] = broken["classes"][1]["A"].lstrip("-")
    result = factored_basis_certificate(derived, document=broken)
    assert not result["ok"]
    assert "differs at frequencies" in result["failures"][0]
