"""basis --form factored: each function as alpha A(k0) + beta B(k0) (its certificate against the sum form is
tested with the certificates, tests/proofs/test_structure_factor_certificates.py)."""

from crystal_fourier.derive import basis
from crystal_fourier.derive._factored_bases import factored_form, factored_scales


def test_known_factored_functions():
    fm3m = basis("Fm-3m", 2, "box")
    assert str(factored_form(fm3m, 1, shifts="never")) == "4*cos(2*pi*x)*cos(2*pi*y)*cos(2*pi*z)"
    assert factored_scales(basis(14, 1, "box"), 1) == ((1, 0, 0), 0.25, 0)
    assert str(factored_form(basis(1, 0), 0)) == "1"
