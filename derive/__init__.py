"""Exact derivation of symmetry-adapted Fourier bases (integer work; SymPy only for display and proof)."""

from crystal_fourier.derive.absences import absence_witness, is_witness, systematic_absences
from crystal_fourier.derive.bases import DEFAULT_CUTOFF, DEFAULT_SHELL, Basis, basis
from crystal_fourier.derive.characters import character_dimension, cyclotomic_sum
from crystal_fourier.derive.dual_graphs import DualGraph, dual_graph, graph_to_dot, graph_to_json
from crystal_fourier.derive.frequency_sets import SHELLS, FrequencySet, frequency_set, shell_frequencies
from crystal_fourier.derive.operations import DEN, Operation
from crystal_fourier.derive.orbits import Orbit, OrbitDecomposition, orbit_decomposition
from crystal_fourier.derive.real_bases import PHASE_DEN, RealBasis, RealFunction, real_basis
from crystal_fourier.derive.space_groups import (
    SpaceGroup,
    all_space_groups,
    check_group_axioms,
    crystal_system,
    parse_groups,
    space_group,
    standard_hall_number,
)

__all__ = [
    "DEN", "PHASE_DEN", "SHELLS", "DEFAULT_CUTOFF", "DEFAULT_SHELL",
    "Operation", "SpaceGroup", "FrequencySet", "DualGraph", "Orbit", "OrbitDecomposition",
    "RealBasis", "RealFunction", "Basis",
    "space_group", "standard_hall_number", "all_space_groups", "check_group_axioms", "crystal_system", "parse_groups",
    "frequency_set", "shell_frequencies", "dual_graph", "graph_to_dot", "graph_to_json",
    "orbit_decomposition", "absence_witness", "is_witness", "systematic_absences",
    "real_basis", "basis", "character_dimension", "cyclotomic_sum",
]
