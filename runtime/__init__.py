"""The Crystal Fourier Transformer and its structure input, training and evaluation.

Sub-packages by concern: ``structure_io`` (crystals, CIF, POSCAR), ``data`` (data-set files,
EMT labels), ``symmetry`` (standardization, tolerances, periodic distances, random symmetric
crystals), ``network`` (the routing encoder built from the generated modules, neighbourhoods,
the transformer, baselines) and ``learning`` (batching, training, saved models, pretraining,
zero-shot).

Public names are re-exported lazily, so importing a light module such as
``crystal_fourier.runtime.structure_io.cif`` never imports torch.

A function named like its module (``standardize``, ``pretrain``, ``invariant_basis``) is not
re-exported here: importing the submodule binds the package attribute to the module, so the
lazy name would be a function on first access and a module afterwards. Call them from their
modules (``crystal_fourier.runtime.symmetry.standardize.standardize``) or, for ``invariant_basis``, as
``crystal_fourier.invariant_basis``.
"""

from importlib import import_module

_EXPORTS = {
    "Crystal": "structure_io.structures", "read_structure": "structure_io.structures",
    "parse_cif": "structure_io.cif", "read_cif": "structure_io.cif", "write_cif": "structure_io.cif",
    "read_poscar": "structure_io.poscar",
    "StandardizedCrystal": "symmetry.standardize", "DEFAULT_SYMPREC": "symmetry.standardize",
    "random_crystal": "symmetry.random_crystals", "emt_labels": "data.labels", "make_dataset": "data.labels",
    "Record": "data.datasets", "load_dataset": "data.datasets", "load_cdvae_csv": "data.datasets",
    "RoutingEncoder": "network.routing",
    "ModelConfig": "network.model", "build_model": "network.model", "CrystalTransformer": "network.model",
    "TrainConfig": "learning.training", "fit": "learning.training", "load_trained": "learning.training",
    "prepare_samples": "learning.training", "predict_samples": "learning.training",
    "run_zero_shot": "learning.zero_shot", "holdout_groups": "learning.zero_shot",
    "PretrainConfig": "learning.pretrain", "orbit_distance": "learning.pretrain",
    "fit_classical": "network.classical", "neighbour_list": "network.neighbourhood",
    "neighbourhood_features": "network.neighbourhood",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f"crystal_fourier.runtime.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'crystal_fourier.runtime' has no attribute {name!r}")
