"""Machine-checkable certificates of derive's output and the ``verify`` path that re-checks them."""

from crystal_fourier.proofs._certificates import (
    CHECKS,
    certificate,
    certificate_json,
    check_absences,
    check_completeness,
    check_independence,
    check_invariance,
    check_sympy,
    complex_coefficients,
)
from crystal_fourier.proofs._tensor_certificates import (
    TENSOR_CHECKS,
    TensorResult,
    character_tensor_dimension,
    check_index_symmetry,
    check_tensor_independence,
    check_tensor_invariance,
    power_traces,
    tensor_certificate,
    tensor_character,
    verify_tensors,
)
from crystal_fourier.proofs._verify import GroupResult, verify_group, verify_groups

__all__ = [
    "CHECKS", "certificate", "certificate_json", "check_absences", "check_completeness",
    "check_independence", "check_invariance", "check_sympy", "complex_coefficients",
    "GroupResult", "verify_group", "verify_groups",
    "TENSOR_CHECKS", "TensorResult", "character_tensor_dimension", "check_index_symmetry", "check_tensor_independence",
    "check_tensor_invariance", "power_traces", "tensor_certificate", "tensor_character", "verify_tensors",
]
