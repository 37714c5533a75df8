"""Exact derivation of symmetry-adapted Fourier bases (integer work; SymPy only for display and proof)."""

from typing import TYPE_CHECKING

from crystal_fourier._lazy import lazy_imports
from crystal_fourier.derive._absences import absence_witness, systematic_absences
from crystal_fourier.derive._bases import DEFAULT_CUTOFF, Basis, basis
from crystal_fourier.derive._characters import character_dimension
from crystal_fourier.derive._dual_graphs import DualGraph, dual_graph
from crystal_fourier.derive._frequency_sets import FrequencySet, frequency_set
from crystal_fourier.derive._operations import DEN, Operation
from crystal_fourier.derive._orbits import Orbit, OrbitDecomposition, orbit_decomposition
from crystal_fourier.derive._real_bases import RealBasis, real_basis
from crystal_fourier.derive._space_groups import SpaceGroup, space_group, standard_hall_number
from crystal_fourier.derive._tensors import TENSOR_KINDS, TensorBasis, tensor_basis

# Heavier parts (SymPy expressions and tensor closed forms, the exporters, structure-factor forms) load on first use
# from this block, so ``from crystal_fourier.derive import basis`` stays light.
if TYPE_CHECKING:
    from crystal_fourier.derive._faithful import faithful_cutoff
    from crystal_fourier.derive._plane_groups import plane_group
    from crystal_fourier.derive._reciprocal_symmetry import (
        centric_flags,
        centric_zones,
        epsilon_factors,
        equivalent_reflections,
        restricted_phase,
    )
    from crystal_fourier.derive._reflection_conditions import reflection_conditions
    from crystal_fourier.derive._printers import render
    from crystal_fourier.derive._structure_factor_export import structure_factor_document
    from crystal_fourier.derive._structure_factors import structure_factor_form
    from crystal_fourier.derive._symbolic_forms import closed_form, closed_forms, latex
    from crystal_fourier.derive._tensor_forms import exact_cartesian_basis, voigt_form

__all__ = [
    "DEN", "DEFAULT_CUTOFF", "space_group", "standard_hall_number", "SpaceGroup", "Operation", "basis", "Basis",
    "frequency_set",
    "FrequencySet", "dual_graph", "DualGraph", "orbit_decomposition", "OrbitDecomposition", "Orbit", "real_basis",
    "RealBasis", "systematic_absences", "absence_witness", "character_dimension", "closed_form", "closed_forms",
    "latex", "faithful_cutoff", "tensor_basis", "TensorBasis", "TENSOR_KINDS", "voigt_form", "exact_cartesian_basis",
    "render", "structure_factor_document", "structure_factor_form",
    "reflection_conditions", "centric_zones", "epsilon_factors", "equivalent_reflections", "restricted_phase",
    "centric_flags", "plane_group",
]

__getattr__ = lazy_imports(__name__, __file__)
