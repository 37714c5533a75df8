"""Machine-checkable certificates of derive's output and the ``verify`` path that re-checks them."""

from typing import TYPE_CHECKING

from crystal_fourier._lazy import lazy_imports
from crystal_fourier.proofs._certificates import certificate
from crystal_fourier.proofs._tensor_certificates import tensor_certificate, verify_tensors
from crystal_fourier.proofs._verify import verify_groups

# The structure-factor certificates need SymPy: they load on first use from this block (issue 30).
if TYPE_CHECKING:
    from crystal_fourier.proofs._structure_factor_certificates import structure_factor_certificate

__all__ = [
    "certificate", "verify_groups", "tensor_certificate", "verify_tensors",
    "structure_factor_certificate",
]

__getattr__ = lazy_imports(__name__, __file__)
