"""Exact derivation of symmetry-adapted Fourier bases (integer work; SymPy only for display and proof)."""

from crystal_fourier._lazy import lazy_attributes
from crystal_fourier.derive._absences import absence_witness, is_witness, systematic_absences
from crystal_fourier.derive._bases import DEFAULT_CUTOFF, DEFAULT_SHELL, Basis, basis
from crystal_fourier.derive._characters import character_dimension, cyclotomic_sum
from crystal_fourier.derive._dual_graphs import DualGraph, dual_graph, graph_to_dot, graph_to_json
from crystal_fourier.derive._frequency_sets import SHELLS, FrequencySet, frequency_set, shell_frequencies
from crystal_fourier.derive._operations import DEN, Operation
from crystal_fourier.derive._orbits import Orbit, OrbitDecomposition, orbit_decomposition
from crystal_fourier.derive._real_bases import PHASE_DEN, RealBasis, RealFunction, real_basis
from crystal_fourier.derive._space_groups import (
    SpaceGroup,
    all_space_groups,
    check_group_axioms,
    crystal_system,
    parse_groups,
    space_group,
    standard_hall_number,
)
from crystal_fourier.derive._tensors import (
    TENSOR_KINDS,
    TensorBasis,
    tensor_basis,
    tensor_components,
    to_cartesian,
    voigt_matrix,
)

# Heavier parts (SymPy expressions and tensor closed forms, the jinja2 code generator, exports) load on first use, so
# ``from crystal_fourier.derive import basis`` stays light.
_LAZY = {
    "closed_form": "_symbolic_forms", "closed_forms": "_symbolic_forms", "latex": "_symbolic_forms",
    "invariance_residual": "_symbolic_forms",
    "BasisSymmetry": "_faithful", "basis_symmetry": "_faithful", "is_faithful": "_faithful",
    "faithful_cutoff": "_faithful", "MAX_FAITHFUL_CUTOFF": "_faithful",
    "FORMATS": "_export", "to_text": "_export", "to_latex": "_export", "to_json": "_export",
    "SHIPPED": "_codegen", "render_group_module": "_codegen", "render_directory": "_codegen",
    "VoigtForm": "_tensor_forms", "voigt_form": "_tensor_forms", "exact_cartesian_basis": "_tensor_forms",
    "standard_lattice": "_tensor_forms", "component_name": "_tensor_forms",
    "TENSOR_FORMATS": "_tensor_export", "tensor_document": "_tensor_export", "tensor_to_text": "_tensor_export",
    "tensor_to_latex": "_tensor_export", "tensor_to_json": "_tensor_export", "render_tensor": "_tensor_export",
    "render_tensor_module": "_tensor_tables",
    # What the command line and the tests of the generated files need (issue 21: clients use the public API):
    "work_estimate": "_bases", "check_work": "_bases", "clear_caches": "_bases", "operations_as_arrays": "_operations",
    "X": "_symbolic_forms", "Y": "_symbolic_forms", "Z": "_symbolic_forms", "render": "_export",
    "directory_name": "_codegen", "iter_directory": "_codegen", "render_package": "_codegen", "LEDGER": "_ledger",
    "generation_estimate": "_generation_cost", "generation_features": "_generation_cost",
    "check_ledger": "_ledger", "reference_render_sha256": "_ledger",
    "read_stamp": "_stamps", "verify_stamp": "_stamps",
    "read_text": "_writer", "write_files": "_writer", "unified_diff": "_writer",
    "TENSOR_MODULE": "_tensor_tables", "tensor_table_record": "_tensor_tables",
    # Structure-factor forms (issue 30): International Tables Vol. B, A1.4.3, derived and factored.
    "ParityClass": "_structure_factors", "SHIFTS": "_structure_factors", "StructureFactorForm": "_structure_factors",
    "structure_factor_form": "_structure_factors", "plain_factor_count": "_structure_factors",
    "STRUCTURE_FACTOR_FORMATS": "_structure_factor_export", "structure_factor_document": "_structure_factor_export",
    "render_structure_factor": "_structure_factor_export",
    "factored_form": "_factored_bases", "factored_forms": "_factored_bases", "factored_scales": "_factored_bases",
    "PLANE_GROUPS": "_plane_groups", "PlaneGroup": "_plane_groups", "plane_group": "_plane_groups",
    "plane_group_document": "_plane_groups", "plane_reflection_conditions": "_plane_groups",
    "ZoneCondition": "_reflection_conditions", "reflection_conditions": "_reflection_conditions",
    "is_allowed": "_reflection_conditions", "allowed_mask": "_reflection_conditions",
    "CentricZone": "_reciprocal_symmetry", "centric_zones": "_reciprocal_symmetry",
    "epsilon_factors": "_reciprocal_symmetry", "centric_flags": "_reciprocal_symmetry",
    "restricted_phase": "_reciprocal_symmetry", "equivalent_reflections": "_reciprocal_symmetry",
}

__all__ = [
    "DEN", "PHASE_DEN", "SHELLS", "DEFAULT_CUTOFF", "DEFAULT_SHELL",
    "Operation", "SpaceGroup", "FrequencySet", "DualGraph", "Orbit", "OrbitDecomposition",
    "RealBasis", "RealFunction", "Basis",
    "space_group", "standard_hall_number", "all_space_groups", "check_group_axioms", "crystal_system", "parse_groups",
    "frequency_set", "shell_frequencies", "dual_graph", "graph_to_dot", "graph_to_json",
    "orbit_decomposition", "absence_witness", "is_witness", "systematic_absences",
    "real_basis", "basis", "character_dimension", "cyclotomic_sum",
    "TENSOR_KINDS", "TensorBasis", "tensor_basis", "tensor_components", "to_cartesian", "voigt_matrix",
]
__all__.extend(sorted(_LAZY))


__getattr__ = lazy_attributes(__name__, _LAZY)
