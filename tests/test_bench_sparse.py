"""bench/ of issue 25: the sparse-data protocol's split and statistics, and the pinned ablation variants."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import sparse_split   # noqa: E402
import sparse_stats   # noqa: E402


def fake_records(per_group: int) -> list:
    """Records named like make_dataset's rows (crystal i of group 1 + i % 230), target = i."""
    return [SimpleNamespace(id=f"cf{sparse_split.DATA_SEED}-{i:06d}-sg{1 + i % 230}",
                            targets={"energy_per_atom": float(i)}) for i in range(230 * per_group)]


def ids(records) -> set:
    return {r.id for r in records}


def test_test_set_is_fixed_four_per_group():
    records = fake_records(20)
    tests = sparse_split.test_records(records)
    assert len(tests) == 920
    assert {sparse_split.index_of(r)[0] for r in tests} == set(range(920))
    for setting in sparse_split.SETTINGS:
        for seed in (0, 3):
            chosen = sparse_split.split(records, setting, seed)
            assert [r.id for r in chosen.test] == [r.id for r in tests]
            assert not ids(chosen.train) & ids(tests)


def test_training_sets_are_nested_in_k_and_differ_between_seeds():
    records = fake_records(20)
    for seed in range(5):
        k1, k4 = (ids(sparse_split.split(records, s, seed).train) for s in ("k1", "k4"))
        assert len(k1) == 230
        assert len(k4) == 920
        assert k1 < k4
        # k <= 4 draws from the first 8 pool crystals of each group (ranks 4-11: rows 920-2759)
        assert all(920 <= sparse_split.index_of(SimpleNamespace(id=i))[0] < 2760 for i in k4)
    draws = [ids(sparse_split.split(records, "k4", seed).train) for seed in range(5)]
    assert all(a != b for n, a in enumerate(draws) for b in draws[n + 1:])
    k16 = [ids(sparse_split.split(records, "k16", seed).train) for seed in range(2)]
    assert k16[0] == k16[1]
    assert len(k16[0]) == 3680


def test_split_needs_only_twelve_per_group_up_to_k4():
    small, large = fake_records(12), fake_records(20)
    for setting in ("k1", "k4", "zs4"):
        assert ids(sparse_split.split(small, setting, 2).train) == ids(sparse_split.split(large, setting, 2).train)
    with pytest.raises(ValueError, match="at least 20 crystals per group"):
        sparse_split.split(small, "k16", 0)


def test_zero_shot_holds_out_a_fifth_of_the_groups():
    held = sparse_split.zero_shot_groups()
    assert held == sparse_split.zero_shot_groups()
    assert len(held) == 46
    assert len(set(held)) == 46
    assert all(1 <= g <= 230 for g in held)
    chosen = sparse_split.split(fake_records(12), "zs4", 1)
    assert chosen.heldout_groups == held
    assert len(chosen.train) == 184 * 4
    assert not {sparse_split.index_of(r)[1] for r in chosen.train} & set(held)


def test_group_classes():
    assert [sparse_split.crystal_system(g) for g in (1, 15, 16, 142, 143, 194, 230)] == [
        "triclinic", "monoclinic", "orthorhombic", "tetragonal", "trigonal", "hexagonal", "cubic"]
    assert [sparse_split.group_order(g) for g in (1, 2, 166, 225, 229)] == [1, 2, 36, 192, 96]
    assert sparse_split.order_bin(225) == "49-192"
    assert sparse_split.order_bin(2) == "1-4"


def test_paired_t_matches_scipy():
    from scipy import stats

    a = np.array([0.10, 0.12, 0.11, 0.13, 0.09])
    b = np.array([0.12, 0.13, 0.14, 0.13, 0.12])
    assert sparse_stats.paired_t(a - b) == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-12)


def test_group_sign_flip_and_bootstrap():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(1, 231), 4)
    base = rng.random(len(groups))
    p, low, high = sparse_stats.crystal_tests(base * 0.8, base, groups)   # A 20% better on every crystal
    assert p < 1e-3
    assert low == pytest.approx(0.2)
    assert high == pytest.approx(0.2)
    p, low, high = sparse_stats.crystal_tests(base, base, groups)
    assert p == 1.0
    assert low == high == 0.0
    noise = base + rng.normal(0, 0.05, len(groups))
    p, low, high = sparse_stats.crystal_tests(noise, base, groups)
    assert p > 0.01
    assert low < 0 < high


def run(arm, setting, seed, mae, predictions=None):
    return {"key": f"{arm}|{setting}|{seed}|10", "arm": arm, "setting": setting, "seed": seed, "steps": 10,
            "test_mae": mae, "heldout_mae": mae if setting == "zs4" else None, "seen_mae": None,
            "heldout_groups": [], "predictions": predictions, "seconds": 1.0, "parameters": 5,
            "target": "energy_per_atom", "batch_size": 2, "commit": "x", "machine": "m", "torch": "t",
            "threads": 1}


def test_compare_and_verdict_from_seed_maes():
    runs = {}
    for seed, (cft, p1) in enumerate([(0.080, 0.100), (0.082, 0.101), (0.079, 0.099), (0.081, 0.103),
                                      (0.080, 0.098)]):
        for arm, mae in (("cft/on", cft), ("cft-p1/on", p1), ("sinusoidal/on", p1 * 0.9)):
            r = run(arm, "k1", seed, mae)
            runs[r["key"]] = r
    result = sparse_stats.compare(runs, "cft/on", "cft-p1/on", "k1", None)
    assert result["seeds"] == 5
    assert result["relative"] == pytest.approx(1 - 0.0804 / 0.1002)
    d = np.array([0.080 - 0.100, 0.082 - 0.101, 0.079 - 0.099, 0.081 - 0.103, 0.080 - 0.098])
    assert result["paired_sds"] == pytest.approx(-d.mean() / d.std(ddof=1))
    lines = sparse_stats.verdict(runs, None)
    assert any("k1, CFT, neighbourhood on against CFT as P1 (control), neighbourhood on: +19.8%" in line
               and "met" in line for line in lines)
    assert any("against sinusoidal, neighbourhood on: +10.8%" in line and "missed" in line for line in lines)
    assert any(line.startswith("- k4,") and line.endswith("not run.") for line in lines)


def test_ablation_variants_pin_every_model_option():
    import bench_ablation
    from crystal_fourier.runtime import ModelConfig, build_model

    names = {f.name for f in dataclasses.fields(ModelConfig)}
    for variant in bench_ablation.VARIANTS:
        for neighbourhood in bench_ablation.NEIGHBOURHOODS:
            fields = {**bench_ablation.PINNED_MODEL, **bench_ablation.VARIANTS[variant][1], "neighbourhood": True}
            assert set(fields) == names, variant
            config = bench_ablation.variant_model(variant, neighbourhood)
            assert config.pair_bias_radius == (3 if variant.startswith("cft6+pair") else None)
    # the committed cft6 runs (neighbourhood off) had 155,906 parameters: without the pair bias
    model = build_model(bench_ablation.variant_model("cft6", "off"))
    assert sum(p.numel() for p in model.parameters()) == 155_906


def test_cft_as_p1_evaluates_the_encoding_as_group_1():
    import torch
    import sparse_arms
    from crystal_fourier.derive import space_group
    from crystal_fourier.runtime import build_model

    model = build_model(sparse_arms.model_config("cft", True, cutoff=3, d_route=8))
    features = model.positional.features
    control = sparse_arms.AsP1(features)
    positions = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.1, 0.7]], dtype=torch.float32)
    hall = torch.full((2,), space_group(225).hall_number)
    p1 = torch.ones(2, dtype=torch.int64)
    assert torch.equal(control(positions, hall), features(positions, p1))
    assert not torch.allclose(control(positions, hall), features(positions, hall))
    assert sum(p.numel() for p in control.parameters()) == sum(p.numel() for p in features.parameters())


def test_as_p1_gives_the_pair_bias_plain_plane_waves():
    import torch
    import sparse_arms
    from crystal_fourier.derive import space_group
    from crystal_fourier.runtime import build_model

    model = build_model(sparse_arms.model_config("cft", True, cutoff=3, d_route=8, pair_bias_radius=2))
    features = model.positional.features
    control = sparse_arms.AsP1(features)
    positions = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.1, 0.7]], dtype=torch.float32)
    hall = torch.full((2,), space_group(225).hall_number)
    p1 = torch.ones(2, dtype=torch.int64)
    wrapped = control.forward_with_pair_features(positions, control.plan(hall), 2)
    plain = features.forward_with_pair_features(positions, features.plan(p1), 2)
    averaged = features.forward_with_pair_features(positions, features.plan(hall), 2)
    assert all(torch.equal(a, b) for a, b in zip(wrapped, plain, strict=True))
    assert not torch.allclose(wrapped[1], averaged[1])
    # P1's slot features are e(n.x) (up to the encoder's normalisation), so the pair products depend on x_i - x_j
    shifted = features.forward_with_pair_features(positions + 0.25, features.plan(p1), 2)[1]
    pair_re, pair_im = plain[1].chunk(2, dim=1)
    moved_re, moved_im = shifted.chunk(2, dim=1)
    products = pair_re[0] * pair_re[1] + pair_im[0] * pair_im[1]
    moved = moved_re[0] * moved_re[1] + moved_im[0] * moved_im[1]
    assert torch.allclose(products, moved, atol=1e-5)


def test_preload_caches_samples_in_a_store_and_reads_the_same_back(tmp_path):
    import sparse_arms

    from crystal_fourier.runtime import random_crystal

    records = [SimpleNamespace(id=f"c{seed}", crystal=random_crystal(number, seed=seed, max_atoms=6).crystal,
                               targets={}) for seed, number in enumerate((1, 14, 225))]
    saved = dict(sparse_arms._SAMPLES)
    try:
        sparse_arms._SAMPLES.clear()
        sparse_arms.preload(records, tmp_path / "cache.samples")
        fresh = dict(sparse_arms._SAMPLES)
        sparse_arms._SAMPLES.clear()
        written = (tmp_path / "cache.samples" / "manifest.json").stat().st_mtime_ns
        sparse_arms.preload(records, tmp_path / "cache.samples")   # read back from the store, nothing computed
        assert (tmp_path / "cache.samples" / "manifest.json").stat().st_mtime_ns == written   # not rewritten
        assert list(sparse_arms._SAMPLES) == ["c0", "c1", "c2"]
        for name, sample in fresh.items():
            again = sparse_arms._SAMPLES[name]
            assert np.array_equal(again.positions, sample.positions)
            assert np.array_equal(again.numbers, sample.numbers)
            assert np.array_equal(again.neighbours.sums, sample.neighbours.sums)
            assert again.hall_number == sample.hall_number
    finally:
        sparse_arms._SAMPLES.clear()
        sparse_arms._SAMPLES.update(saved)
    assert not list(tmp_path.glob("*.pkl"))


def test_ablation_p1_control_wraps_only_while_its_variant_trains(tmp_path):
    import bench_ablation
    import sparse_arms

    from crystal_fourier.runtime import TrainConfig, fit, prepare_samples, random_crystal

    assert bench_ablation.variant_model("cft6-p1", "off") == bench_ablation.variant_model("cft6", "off")
    assert "cft6-p1" in bench_ablation.AS_P1_VARIANTS
    samples = prepare_samples([(random_crystal(number, seed=seed, max_atoms=6).crystal, {"target": float(seed)},
                                f"c{seed}") for seed, number in enumerate((1, 14, 62, 225) * 3)], "target")
    config = TrainConfig(model=sparse_arms.model_config("cft", False, cutoff=3, d_route=8), epochs=1, batch_size=4,
                         progress=False)
    with bench_ablation.p1_while_fitting():
        wrapped = fit(samples, config, tmp_path / "p1")
    plain = fit(samples, config, tmp_path / "plain")   # the name is restored on leaving
    assert isinstance(wrapped.model.positional.features, sparse_arms.AsP1)
    assert not isinstance(plain.model.positional.features, sparse_arms.AsP1)
    assert (sum(p.numel() for p in wrapped.model.parameters())
            == sum(p.numel() for p in plain.model.parameters()))


def test_ablation_paired_comparisons_pair_runs_by_seed():
    from scipy import stats

    import bench_ablation

    maes = {"cft6": [0.027, 0.025, 0.028], "sinusoidal": [0.030, 0.034, 0.031], "cft6-p1": [0.029, 0.026]}
    runs = {}
    for variant, values in maes.items():
        for seed, mae in enumerate(values):
            key = bench_ablation.run_key("carbon-24", variant, "off", seed, "none")
            runs[key] = {"dataset": "carbon-24", "variant": variant, "neighbourhood": "off", "holdout": "none",
                         "seed": seed, "test_mae": mae, "test_metrics": {"mae": mae}}
    table = bench_ablation.paired_comparisons(runs)
    rows = {tuple(cell.strip() for cell in line.split("|")[3:5]): [c.strip() for c in line.split("|")]
            for line in table.splitlines()[2:]}
    assert set(rows) == {("cft6", "sinusoidal"), ("cft6", "cft6-p1"), ("cft6-p1", "sinusoidal")}
    row = rows["cft6", "sinusoidal"]
    expected_p = stats.ttest_rel(maes["cft6"], maes["sinusoidal"]).pvalue
    expected_welch = stats.ttest_ind(maes["cft6"], maes["sinusoidal"], equal_var=False).pvalue
    assert float(row[9]) == pytest.approx(expected_p, abs=5e-4)
    assert float(row[10]) == pytest.approx(expected_welch, abs=5e-4)
    assert row[7] == f"{1 - np.mean(maes['cft6']) / np.mean(maes['sinusoidal']):+.1%}"
    assert row[11] == "3 of 3"
    assert rows["cft6", "cft6-p1"][11] == "2 of 2"   # seed 2 has no P1 run: only seeds 0 and 1 pair
    assert rows["cft6", "cft6-p1"][5] == f"{np.mean(maes['cft6'][:2]):.4f}"
