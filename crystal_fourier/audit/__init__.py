"""Audit any crystal model's invariance claims on exact re-descriptions of crystals.

A model of whole crystals (an interatomic potential, an ASE calculator, a property predictor,
this package's transformer) must give one answer on every description of one crystal. This
package builds those descriptions exactly, with the atom map and frame change that carry
energies, forces and stresses from one to the other (:class:`Redescription`), runs a model on
them (:func:`audit`, adapters for callables, ASE, saved models and CHGNet), checks what the
model claims (:class:`Claim`), and reports (:class:`AuditReport`: JSON, Markdown, a PNG and a
reproducer script per failure). ``crystal-fourier audit`` is the command line.
"""

from typing import TYPE_CHECKING

from crystal_fourier._lazy import lazy_imports

# Loaded on first use from this block, so that importing the package imports neither hypothesis nor torch.
if TYPE_CHECKING:
    from crystal_fourier.audit._adapters import ModelAdapter, SavedModel
    from crystal_fourier.audit._specs import as_model, model_from_spec
    from crystal_fourier.audit._audit import AuditReport, audit
    from crystal_fourier.audit._claims import AUDIT_TOLERANCE, Claim
    from crystal_fourier.audit._kinds import KINDS, redescriptions
    from crystal_fourier.audit._basis_changes import in_basis, niggli_basis, supercell
    from crystal_fourier.audit._redescriptions import Redescription, origin_shifted, permuted, rotated
    from crystal_fourier.audit._report_files import markdown_table
    from crystal_fourier.audit._strategies import crystals, redescribed
    from crystal_fourier.audit._symmetry_redescriptions import group_operations, normalizer_cosets

__all__ = [
    "audit", "AuditReport", "Claim", "KINDS", "redescriptions", "Redescription", "as_model", "ModelAdapter",
    "SavedModel", "model_from_spec", "permuted", "rotated", "supercell", "in_basis", "origin_shifted", "niggli_basis",
    "normalizer_cosets", "group_operations", "crystals", "redescribed", "AUDIT_TOLERANCE", "markdown_table",
]

__getattr__ = lazy_imports(__name__, __file__)
