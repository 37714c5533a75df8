"""The Crystal Fourier Transformer and its structure input, training and evaluation.

Sub-packages by concern, in the order they may import each other (each only from those before
it; tests/test_layers.py checks every import statement): ``structure_io`` (crystals, CIF, POSCAR,
extended XYZ), ``symmetry`` (standardization, tolerances, periodic distances, random symmetric
crystals), ``data`` (data-set files, EMT labels), ``network`` (samples and batches, the routing
encoder built from the generated modules, neighbourhoods, the transformer, baselines) and
``learning`` (training, classical baselines, saved models, pretraining, zero-shot).

The public names are the re-exports below, written as plain imports inside ``if TYPE_CHECKING:``
(editors and type checkers follow them) and loaded on first use from that same block
(``crystal_fourier._lazy``), so importing a light module such as a CIF reader never imports torch.
What the package's own command line, benchmarks and tests need beyond them, they import from the
private module that defines it.

No module is named like a function it exports (``symmetry._standardization`` holds
``standardize``, ``learning._pretraining`` holds ``pretrain``), so every name here is the same
object on first access and after any submodule is imported (tests/test_public_names.py).
"""

from typing import TYPE_CHECKING

from crystal_fourier._lazy import lazy_imports

if TYPE_CHECKING:
    from crystal_fourier.runtime.data._datasets import load_dataset, write_cdvae_csv
    from crystal_fourier.runtime.data._elastic import elastic_tensor, vrh_moduli
    from crystal_fourier.runtime.data._labels import emt_labels
    from crystal_fourier.runtime.data._random_datasets import make_dataset
    from crystal_fourier.runtime.learning._classical import fit_classical
    from crystal_fourier.runtime.learning._elastic_target import ElasticTarget
    from crystal_fourier.runtime.learning._evaluation import predict_samples
    from crystal_fourier.runtime.learning._model_files import TrainedModel
    from crystal_fourier.runtime.learning._prediction import Prediction, stream_predictions
    from crystal_fourier.runtime.learning._pretraining import pretrain
    from crystal_fourier.runtime.learning._sample_store import open_sample_store, write_sample_store
    from crystal_fourier.runtime.learning._samples import prepare_samples
    from crystal_fourier.runtime.learning._scalar_target import ScalarTarget
    from crystal_fourier.runtime.learning._target import Target
    from crystal_fourier.runtime.learning._targets import target_for
    from crystal_fourier.runtime.learning._tensor_comparison import compare_tensor_models
    from crystal_fourier.runtime.learning._training import TrainResult, distributed_backend, fit, load_trained
    from crystal_fourier.runtime.learning._zero_shot import holdout_groups
    from crystal_fourier.runtime.network._batching import collate, sample_from_standardized
    from crystal_fourier.runtime.network._config import (
        CutoffSpec,
        MODEL_KINDS,
        ModelConfig,
        PretrainConfig,
        TrainConfig,
    )
    from crystal_fourier.runtime.network._invariant_bases import invariant_basis
    from crystal_fourier.runtime.network._model import build_model
    from crystal_fourier.runtime.network._neighbour_list import neighbour_list
    from crystal_fourier.runtime.network._routing import RoutingEncoder
    from crystal_fourier.runtime.network._space_group_encoding import SpaceGroupEncoding
    from crystal_fourier.runtime.structure_io._cif_writer import write_cif
    from crystal_fourier.runtime.structure_io._structure_sources import StructureItem, iter_structures
    from crystal_fourier.runtime.structure_io._poscar import write_poscar
    from crystal_fourier.runtime.structure_io._structure_files import read_structure
    from crystal_fourier.runtime.structure_io._structures import Crystal
    from crystal_fourier.runtime.symmetry._normalizer import normalizer_elements
    from crystal_fourier.runtime.symmetry._random_crystals import crystal_of, crystals_of, random_crystal
    from crystal_fourier.runtime.symmetry._standardization import DEFAULT_SYMPREC, detect_group, standardize
    from crystal_fourier.runtime.symmetry._standardized_crystal import StandardizedCrystal
    from crystal_fourier.runtime.symmetry._tensor_bases import cartesian_tensor_basis

__all__ = [
    "Crystal", "read_structure", "iter_structures", "StructureItem", "write_cif", "write_poscar", "standardize",
    "detect_group", "normalizer_elements",
    "StandardizedCrystal", "DEFAULT_SYMPREC", "random_crystal", "crystal_of", "crystals_of", "load_dataset",
    "write_cdvae_csv", "make_dataset", "emt_labels", "SpaceGroupEncoding", "RoutingEncoder", "invariant_basis",
    "MODEL_KINDS", "ModelConfig", "TrainConfig", "PretrainConfig", "CutoffSpec", "build_model", "fit", "TrainResult",
    "TrainedModel", "load_trained", "prepare_samples", "predict_samples", "stream_predictions", "Prediction",
    "pretrain", "fit_classical", "holdout_groups", "Target", "ScalarTarget", "ElasticTarget", "target_for",
    "elastic_tensor", "vrh_moduli", "compare_tensor_models", "cartesian_tensor_basis", "neighbour_list", "collate",
    "sample_from_standardized", "open_sample_store", "write_sample_store", "distributed_backend",
]

__getattr__ = lazy_imports(__name__, __file__)
