"""Machine-checkable certificates of derive's output and the ``verify`` path that re-checks them."""

from crystal_fourier._lazy import lazy_attributes
from crystal_fourier.proofs._certificates import (
    CHECKS,
    PLANE_CHECKS,
    certificate,
    certificate_json,
    check_absences,
    check_completeness,
    check_independence,
    check_invariance,
    check_plane_group,
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
    "PLANE_CHECKS", "check_plane_group",
    "GroupResult", "verify_group", "verify_groups",
    "TENSOR_CHECKS", "TensorResult", "character_tensor_dimension", "check_index_symmetry", "check_tensor_independence",
    "check_tensor_invariance", "power_traces", "tensor_certificate", "tensor_character", "verify_tensors",
]

# The structure-factor certificates need SymPy: they load on first use (issue 30).
_LAZY = {"structure_factor_certificate": "_structure_factor_certificates",
         "exponential_expansion": "_structure_factor_certificates",
         "operation_sum_expansion": "_structure_factor_certificates",
         "factored_basis_certificate": "_structure_factor_certificates"}
__all__.extend(sorted(_LAZY))
__getattr__ = lazy_attributes(__name__, _LAZY)
