"""The Crystal Fourier Transformer and its structure input, training and evaluation.

Sub-packages by concern: ``structure_io`` (crystals, CIF, POSCAR), ``data`` (data-set files,
EMT labels), ``symmetry`` (standardization, tolerances, periodic distances, random symmetric
crystals), ``network`` (the routing encoder built from the generated modules, neighbourhoods,
the transformer, baselines) and ``learning`` (batching, training, saved models, pretraining,
zero-shot).

Public names are re-exported lazily, so importing a light module such as
``crystal_fourier.runtime.structure_io.cif`` never imports torch.

No module is named like a function it exports (``symmetry.standardization`` holds
``standardize``, ``learning.pretraining`` holds ``pretrain``, ``network.invariant_bases`` holds
``invariant_basis``), so every name here is the same object on first access and after any
submodule is imported (tests/test_public_names.py).
"""

from importlib import import_module

_EXPORTS = {
    "Crystal": "structure_io.structures", "read_structure": "structure_io.structures",
    "parse_cif": "structure_io.cif", "read_cif": "structure_io.cif", "write_cif": "structure_io.cif",
    "read_poscar": "structure_io.poscar",
    "standardize": "symmetry.standardization", "StandardizedCrystal": "symmetry.standardization",
    "DEFAULT_SYMPREC": "symmetry.standardization",
    "random_crystal": "symmetry.random_crystals", "emt_labels": "data.labels", "make_dataset": "data.labels",
    "Record": "data.datasets", "load_dataset": "data.datasets", "load_cdvae_csv": "data.datasets",
    "RoutingEncoder": "network.routing", "invariant_basis": "network.invariant_bases",
    "ModelConfig": "network.model", "build_model": "network.model", "CrystalTransformer": "network.model",
    "TrainConfig": "learning.training", "fit": "learning.training", "load_trained": "learning.training",
    "prepare_samples": "learning.training", "predict_samples": "learning.training",
    "run_zero_shot": "learning.zero_shot", "holdout_groups": "learning.zero_shot",
    "pretrain": "learning.pretraining", "PretrainConfig": "learning.pretraining",
    "orbit_distance": "learning.pretraining",
    "fit_classical": "network.classical", "neighbour_list": "network.neighbourhood",
    "neighbourhood_features": "network.neighbourhood",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f"crystal_fourier.runtime.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'crystal_fourier.runtime' has no attribute {name!r}")
