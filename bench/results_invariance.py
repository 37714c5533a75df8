"""Invariance in practice (table 3 of bench_results.py): the spread of each trained model's predictions
over symmetry-equivalent descriptions of the same test crystals."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_kinds import CLASSICAL_KINDS, TRANSFORMER_KINDS  # noqa: E402  (sibling script)


def predict(result, samples, features=None) -> np.ndarray:
    """A model's predictions; a classical one uses ``features`` (``feature_matrix`` of ``samples``) when given."""
    from crystal_fourier.runtime import predict_samples

    if hasattr(result, "predict_samples"):   # runtime.network.classical.ClassicalResult
        return result.predict(features) if features is not None else result.predict_samples(list(samples))
    return result.normalizer.denormalize(predict_samples(result.model, list(samples)))


def _rotation(rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))  # proper: an improper rotation gives the mirror image


def structure_descriptions(crystal, rng, symprec: float) -> dict:
    """The same crystal given in other ways (each standardized afterwards like any input)."""
    import spglib
    from crystal_fourier.derive import space_group
    from crystal_fourier.runtime import detect_group
    from crystal_fourier.runtime import Crystal

    out = {}
    out["rotated frame"] = [Crystal(crystal.lattice @ _rotation(rng).T, crystal.positions, crystal.numbers)
                            for _ in range(3)]
    variants = []
    for _ in range(3):
        order = rng.permutation(crystal.n_atoms)
        moved = crystal.positions[order] + rng.integers(-2, 3, size=crystal.positions.shape)
        variants.append(Crystal(crystal.lattice, moved, crystal.numbers[order]))
    out["permuted atoms (+ lattice translations)"] = variants
    variants = []
    for basis in (np.array([[1, 1, 0], [0, 1, 0], [0, -1, 1]]), np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])):
        shifted = (crystal.positions + rng.random(3)) @ np.linalg.inv(basis)
        variants.append(Crystal(basis @ crystal.lattice, shifted, crystal.numbers))
    out["origin shift + change of basis / cyclic axes (exact)"] = variants
    exact = spglib.standardize_cell(crystal.spglib_cell, to_primitive=True, no_idealize=True, symprec=symprec)
    out["primitive cell, rotated frame (exact: spglib no_idealize)"] = (
        [] if exact is None else [Crystal(exact[0] @ _rotation(rng).T, exact[1], exact[2])])
    # find_primitive and the std cell of another Hall number are *idealized* by spglib at symprec: atoms are moved
    # onto exactly symmetric positions (up to symprec), so these are slightly different inputs, not re-descriptions.
    primitive = spglib.find_primitive(crystal.spglib_cell, symprec=symprec)
    out["primitive cell (spglib find_primitive, idealized)"] = (
        [] if primitive is None else [Crystal(primitive[0] @ _rotation(rng).T, primitive[1], primitive[2])])
    number = detect_group(crystal, symprec=symprec)
    standard = space_group(number).hall_number
    others = [h for h in range(1, 531) if space_group(hall_number=h).number == number and h != standard]
    variants = []
    for hall in rng.permutation(others)[:2] if others else []:
        data = spglib.get_symmetry_dataset(crystal.spglib_cell, symprec=symprec, hall_number=int(hall))
        if data is not None and data.number == number:
            variants.append(Crystal(data.std_lattice, data.std_positions, data.std_types))
    out["another setting (other Hall number; spglib std cell, idealized)"] = variants
    return out


def operation_descriptions(sample, rng) -> dict:
    """Group operations applied to the standardized cell (no re-standardization)."""
    from crystal_fourier.derive import space_group

    rotations, translations_24 = space_group(hall_number=sample.hall_number).arrays
    pick = rng.permutation(len(rotations))[:24]
    whole = []
    for k in pick:
        moved = sample.positions @ rotations[k].T + translations_24[k] / 24.0
        order = rng.permutation(len(sample))
        whole.append(dataclasses.replace(sample.with_positions(moved[order]), numbers=sample.numbers[order]))
    per_atom = []
    for _ in range(8):
        k = rng.integers(len(rotations), size=len(sample))
        moved = np.einsum("nij,nj->ni", rotations[k], sample.positions) + translations_24[k] / 24.0
        per_atom.append(sample.with_positions(moved))
    return {"operation of G on all atoms (+ permutation)": whole,
            "own operation of G per atom (orbit representatives)": per_atom}


def sees_distances(kind: str) -> bool:
    """Whether a model sees interatomic distances: the classical '+ distance' ones, and the transformers
    when they embed neighbourhoods (``ModelConfig.neighbourhood``, on by default)."""
    from crystal_fourier.runtime import ModelConfig

    return kind.endswith("+distance") or (kind in TRANSFORMER_KINDS and ModelConfig().neighbourhood)


def invariance_study(records_by_id, tests, results: dict, count: int, symprec: float) -> dict:
    """Spread of each model's predictions over descriptions of ``count`` test crystals."""
    from crystal_fourier.runtime import sample_from_standardized
    from crystal_fourier.runtime.learning._classical import feature_matrix
    from crystal_fourier.runtime import standardize

    rng = np.random.default_rng(2026)
    chosen = tests[:count]
    spreads = {}   # category -> kind -> list of spreads
    overall = {kind: [] for kind in results}   # per crystal: the spread over all its descriptions
    overall_exact = {kind: [] for kind in results}   # the same without the idealized ones
    changed = Counter()   # category -> crystals whose detected group differs from the original's
    n_descriptions = Counter()
    for sample in chosen:
        crystal = records_by_id[sample.id].crystal
        groups = {}
        for category, crystals in structure_descriptions(crystal, rng, symprec).items():
            if not crystals:
                continue
            standardized = [standardize(c, symprec=symprec) for c in crystals]
            groups[category] = [sample] + [sample_from_standardized(s, target=sample.target, id=sample.id)
                                           for s in standardized]
            if any(s.number != sample.number for s in standardized):
                changed[category] += 1
        groups.update({k: [sample] + v for k, v in operation_descriptions(sample, rng).items()})
        lows, highs = {kind: math.inf for kind in results}, {kind: -math.inf for kind in results}
        exact_lows, exact_highs = dict(lows), dict(highs)
        for category, variants in groups.items():
            n_descriptions[category] += len(variants) - 1
            features = feature_matrix(variants) if set(results) & set(CLASSICAL_KINDS) else None
            for kind, result in results.items():
                values = predict(result, variants, features)
                spreads.setdefault(category, {}).setdefault(kind, []).append(float(values.max() - values.min()))
                lows[kind], highs[kind] = min(lows[kind], values.min()), max(highs[kind], values.max())
                # Per-atom operations are not a re-description of the crystal (see markdown()); models that
                # see distances are not expected to be invariant to them.
                if "idealized" not in category and not (sees_distances(kind) and "per atom" in category):
                    exact_lows[kind] = min(exact_lows[kind], values.min())
                    exact_highs[kind] = max(exact_highs[kind], values.max())
        for kind in results:
            overall[kind].append(float(highs[kind] - lows[kind]))
            overall_exact[kind].append(float(exact_highs[kind] - exact_lows[kind]))
    report = {"crystals": len(chosen), "symprec": symprec, "categories": {}}
    for category, by_kind in spreads.items():
        report["categories"][category] = {
            "descriptions": int(n_descriptions[category]), "group_changed": int(changed[category]),
            **{kind: {"max": float(np.max(v)), "median": float(np.median(v))} for kind, v in by_kind.items()}}
    report["all"] = {kind: {"max": float(np.max(v)), "median": float(np.median(v))} for kind, v in overall.items()}
    report["exact"] = {kind: {"max": float(np.max(v)), "median": float(np.median(v))}
                       for kind, v in overall_exact.items()}
    return report
