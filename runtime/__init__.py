"""The Crystal Fourier Transformer and its structure input, training and evaluation.

Public names are re-exported lazily, so importing a light module such as
``crystal_fourier.runtime.cif`` never imports torch.

A function named like its module (``standardize``, ``pretrain``, ``invariant_basis``) is not
re-exported here: importing the submodule binds the package attribute to the module, so the
lazy name would be a function on first access and a module afterwards. Call them from their
modules (``crystal_fourier.runtime.standardize.standardize``) or, for ``invariant_basis``, as
``crystal_fourier.invariant_basis``.
"""

from importlib import import_module

_EXPORTS = {
    "Crystal": "structures", "read_structure": "structures",
    "parse_cif": "cif", "read_cif": "cif", "write_cif": "cif",
    "read_poscar": "poscar",
    "StandardizedCrystal": "standardize", "DEFAULT_SYMPREC": "standardize",
    "random_crystal": "random_crystals", "emt_labels": "labels", "make_dataset": "labels",
    "Record": "datasets", "load_dataset": "datasets", "load_cdvae_csv": "datasets",
    "RoutingEncoder": "routing",
    "ModelConfig": "model", "build_model": "model", "CrystalTransformer": "model",
    "TrainConfig": "training", "fit": "training", "load_trained": "training", "prepare_samples": "training",
    "predict_samples": "training", "run_zero_shot": "zero_shot", "holdout_groups": "zero_shot",
    "PretrainConfig": "pretrain", "orbit_distance": "pretrain",
    "fit_classical": "classical", "neighbour_list": "neighbourhood", "neighbourhood_features": "neighbourhood",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f"crystal_fourier.runtime.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'crystal_fourier.runtime' has no attribute {name!r}")
