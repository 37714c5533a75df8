"""The Crystal Fourier Transformer and its structure input, training and evaluation.

Sub-packages by concern, in the order they may import each other (each only from those before
it; tests/test_layers.py checks every import statement): ``structure_io`` (crystals, CIF, POSCAR,
extended XYZ), ``symmetry`` (standardization, tolerances, periodic distances, random symmetric
crystals), ``data`` (data-set files, EMT labels), ``network`` (samples and batches, the routing
encoder built from the generated modules, neighbourhoods, the transformer, baselines) and
``learning`` (training, classical baselines, saved models, pretraining, zero-shot).

Public names are re-exported lazily, so importing a light module such as
``crystal_fourier.runtime.structure_io._cif`` never imports torch.

No module is named like a function it exports (``symmetry.standardization`` holds
``standardize``, ``learning.pretraining`` holds ``pretrain``, ``network.invariant_bases`` holds
``invariant_basis``), so every name here is the same object on first access and after any
submodule is imported (tests/test_public_names.py).
"""

from crystal_fourier._lazy import lazy_attributes

_EXPORTS = {
    "Crystal": "structure_io._structures", "read_structure": "structure_io._structure_files",
    "iter_structures": "structure_io._structure_sources", "StructureItem": "structure_io._structure_sources",
    "parse_cif": "structure_io._cif", "read_cif": "structure_io._cif", "write_cif": "structure_io._cif",
    "read_poscar": "structure_io._poscar",
    "standardize": "symmetry._standardization", "StandardizedCrystal": "symmetry._standardization",
    "DEFAULT_SYMPREC": "symmetry._standardization",
    "random_crystal": "symmetry._random_crystals", "emt_labels": "data._labels", "make_dataset": "data._labels",
    "Record": "data._datasets", "load_dataset": "data._datasets", "load_cdvae_csv": "data._datasets",
    "RoutingEncoder": "network._routing", "invariant_basis": "network._invariant_bases",
    "SpaceGroupEncoding": "network._space_group_encoding",
    "ModelConfig": "network._config", "build_model": "network._model", "CrystalTransformer": "network._model",
    "TrainConfig": "network._config", "fit": "learning._training", "load_trained": "learning._training",
    "prepare_samples": "learning._samples", "predict_samples": "learning._evaluation",
    "run_zero_shot": "learning._zero_shot", "holdout_groups": "learning._zero_shot",
    "zero_shot_report": "learning._zero_shot", "structure_from_dict": "structure_io._pymatgen_dicts",
    "origin_choices": "structure_io._cif_symmetry",
    "pretrain": "learning._pretraining", "PretrainConfig": "network._config",
    "orbit_distance": "learning._pretraining",
    "fit_classical": "learning._classical", "neighbour_list": "network._neighbourhood",
    "neighbourhood_features": "network._neighbourhood", "with_neighbours": "network._neighbourhood",
    "feature_matrix": "learning._classical", "CLASSICAL_KINDS": "learning._classical",
    "detect_group": "symmetry._standardization", "split_indices": "learning._splits",
    "TrainResult": "learning._training", "TrainedModel": "learning._model_files",
    "elastic_tensor": "data._elastic", "vrh_moduli": "data._elastic",
    "Target": "learning._target", "ScalarTarget": "learning._scalar_target",
    "ElasticTarget": "learning._elastic_target", "target_for": "learning._targets", "CutoffSpec": "network._config",
    "TENSOR_HEADS": "network._config",
    "compare_tensor_models": "learning._tensor_comparison",
    "cartesian_tensor_basis": "symmetry._tensor_bases", "crystal_tensor_basis": "symmetry._tensor_bases",
    # What the repository's own clients (the command line, bench/, tests) need (issue 21: clients use the
    # public API, tests/test_client_imports.py):
    "cell_parameters": "structure_io._structures", "lattice_from_parameters": "structure_io._structures",
    "element_symbol": "structure_io._structures", "atomic_number": "structure_io._structures",
    "parse_poscar": "structure_io._poscar", "write_poscar": "structure_io._poscar",
    "write_extxyz": "data._datasets", "write_cdvae_csv": "data._datasets", "load_extxyz": "data._datasets",
    "load_matbench_json": "data._datasets",
    "orbit": "symmetry._random_crystals", "random_lattice": "symmetry._random_crystals",
    "fixed_points": "symmetry._random_crystals",
    "operations_with_fixed_points": "symmetry._random_crystals", "periodic_distances": "symmetry._periodic",
    "ENANTIOMORPHIC_PARTNERS": "symmetry._standardization",
    "dataset_estimate": "data._labels", "ELASTIC_LABEL_COLUMNS": "data._labels",
    "ELASTIC_COLUMNS": "data._elastic", "symmetry_projector": "data._elastic", "symmetry_violation": "data._elastic",
    "rotate_stiffness": "data._elastic",
    "sample_from_arrays": "network._batching",
    "sample_from_standardized": "network._batching", "collate": "network._batching",
    "lattice_features": "network._cell_features",
    "lattice_from_features": "network._cell_features", "INVARIANCE_TOLERANCE": "network._neighbourhood",
    "slot_frequencies": "network._routing_tables", "setting_routing": "network._routing_tables",
    "MODEL_KINDS": "network._config", "classical_zero_shot": "learning._classical",
    "Normalizer": "learning._training", "regression_metrics": "learning._evaluation",
    "training_split": "learning._training", "prediction_batches": "learning._evaluation",
    "centrosymmetric_groups": "learning._zero_shot", "TENSOR_MODELS": "learning._tensor_comparison",
    "load_pretrained": "learning._pretraining", "Prediction": "learning._prediction",
    "stream_predictions": "learning._prediction", "prediction_atom_limit": "learning._prediction",
    "check_device": "learning._model_files",
    "check_output_directory": "learning._model_files", "distributed_rank": "learning._training",
    "distributed_backend": "learning._training", "SampleStore": "learning._sample_store",
    "open_sample_store": "learning._sample_store", "write_sample_store": "learning._sample_store",
    "is_sample_store": "learning._sample_store",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_attributes(__name__, _EXPORTS)
