"""Audit any crystal model's invariance claims on exact re-descriptions of crystals.

A model of whole crystals (an interatomic potential, an ASE calculator, a property predictor,
this package's transformer) must give one answer on every description of one crystal. This
package builds those descriptions exactly, with the atom map and frame change that carry
energies, forces and stresses from one to the other (:class:`Redescription`), runs a model on
them (:func:`audit`, adapters for callables, ASE, saved models and CHGNet), checks what the
model claims (:class:`Claim`), and reports (:class:`AuditReport`: JSON, Markdown, a PNG and a
reproducer script per failure). ``crystal-fourier audit`` is the command line.
"""

from crystal_fourier._lazy import lazy_attributes

_EXPORTS = {
    "EXACT_TOLERANCE": "_redescriptions", "Redescription": "_redescriptions", "permuted": "_redescriptions",
    "translated_atoms": "_redescriptions", "origin_shifted": "_redescriptions", "rotated": "_redescriptions",
    "reflected": "_redescriptions", "in_basis": "_redescriptions", "supercell": "_redescriptions",
    "niggli_basis": "_redescriptions", "random_unimodular_basis": "_redescriptions",
    "primitive_and_conventional": "_symmetry_redescriptions", "group_operations": "_symmetry_redescriptions",
    "normalizer_cosets": "_symmetry_redescriptions", "near_degenerate_bases": "_symmetry_redescriptions",
    "random_rotation": "_redescriptions",
    "KINDS": "_kinds", "parse_kinds": "_kinds", "redescriptions": "_kinds", "random_groups": "_kinds",
    "CONTINUITY_TOLERANCE": "_continuity", "continuity_path": "_continuity",
    "DERIVATIVE_STEP": "_derivatives", "DERIVATIVE_TOLERANCE": "_derivatives",
    "AUDIT_TOLERANCE": "_claims", "Claim": "_claims", "audit_tolerance": "_claims",
    "Check": "_audit", "AuditReport": "_audit", "audit": "_audit",
    "ModelAdapter": "_adapters", "CallableModel": "_adapters", "ASEModel": "_adapters", "SavedModel": "_adapters",
    "CHGNetModel": "_pretrained", "SevenNetModel": "_pretrained",
    "as_model": "_specs", "model_from_spec": "_specs", "torch_dtype": "_adapters",
    "ModelError": "_calls",
    "write_report": "_report_files", "reproducer_script": "_report_files", "markdown_table": "_report_files",
    "crystals": "_strategies", "redescribed": "_strategies", "operations": "_strategies",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_attributes(__name__, _EXPORTS)
