"""Tables and paired tests of the sparse-data protocol (bench/bench_sparse.py --collect).

Two paired tests for every comparison "arm A against arm B" at one setting, both on the seeds the two
arms share (seed s of A and of B trained on the same crystals and are tested on the same ones):

* **seeds**: the paired t test on the seed-level MAE differences d_s = MAE_A,s - MAE_B,s (n - 1 degrees of
  freedom); "paired SDs" is mean(d) / SD(d), the effect in units of its own seed-to-seed spread. It
  includes the training noise (initialisation, batch order, training subset).
* **test crystals**: each crystal's absolute error averaged over those seeds, compared between A and B by
  a sign-flip permutation test on the per-group sums of the differences (the 230 groups are the units:
  crystals of one group are not independent), 20,000 flips, and a bootstrap over groups (5,000 resamples)
  of the relative difference 1 - MAE_A / MAE_B, 95% percentile interval. It asks whether the trained
  models differ on this population of crystals, given the training runs made.

All random draws are seeded (``STATS_SEED``): the tables are the same on every collect.
"""

from __future__ import annotations

import math

import numpy as np

import sparse_split

STATS_SEED = 25
FLIPS = 20_000
RESAMPLES = 5_000
GOAL_RELATIVE = 0.15
GOAL_PAIRED_SDS = 2.0
ARM_ORDER = ("cft/on", "cft-p1/on", "cft+pair/on", "sinusoidal/on", "augmented/on", "none/on",
             "cft/off", "cft-p1/off", "cft+pair/off", "sinusoidal/off", "augmented/off", "none/off", "gbm+distance",
             "schnet", "schnet+layer", "schnet+layer-p1", "cgcnn", "cgcnn+layer", "cgcnn+layer-p1")
LABELS = {"cft": "CFT", "cft-p1": "CFT as P1 (control)", "cft+pair": "CFT + pair bias", "sinusoidal": "sinusoidal",
          "augmented": "sinusoidal + augmentation", "none": "no encoding", "gbm+distance": "GBM + distance features",
          "schnet": "SchNet", "schnet+layer": "SchNet + layer", "schnet+layer-p1": "SchNet + layer as P1 (control)",
          "cgcnn": "CGCNN", "cgcnn+layer": "CGCNN + layer", "cgcnn+layer-p1": "CGCNN + layer as P1 (control)"}
HOSTS = ("schnet", "cgcnn")
"""The host GNNs of bench_hosts.HOST_ARMS: each compared with the layer, without it and with the layer as P1."""


def label(arm: str) -> str:
    name, _, neighbourhood = arm.partition("/")
    text = LABELS.get(name, name)
    return f"{text}, neighbourhood {neighbourhood}" if neighbourhood else text


def arms_of(runs: dict) -> list:
    present = {r["arm"] for r in runs.values()}
    return [a for a in ARM_ORDER if a in present] + sorted(present - set(ARM_ORDER))


def settings_of(runs: dict) -> list:
    present = {r["setting"] for r in runs.values()}
    return [s for s in sparse_split.SETTINGS if s in present]


def by_seed(runs: dict, arm: str, setting: str) -> dict:
    """seed -> run of ``arm`` at ``setting`` (the largest step budget when several)."""
    chosen = {}
    for run in runs.values():
        if run["arm"] == arm and run["setting"] == setting:
            if run["seed"] not in chosen or run["steps"] > chosen[run["seed"]]["steps"]:
                chosen[run["seed"]] = run
    return chosen


def score(run: dict) -> float:
    """The run's MAE that the setting is judged by: held-out groups in the zero-shot setting, else all."""
    return run["heldout_mae"] if run["setting"].startswith("zs") else run["test_mae"]


def spread(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    sd = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return f"{np.mean(values):.4f} +- {sd:.4f} ({len(values)})"


def paired_t(differences) -> float:
    """Two-sided p of the paired t test on ``differences`` (NaN with fewer than 2 or no spread)."""
    from scipy import stats

    d = np.asarray(differences, dtype=np.float64)
    if len(d) < 2 or np.std(d, ddof=1) == 0:
        return math.nan
    t = d.mean() / (np.std(d, ddof=1) / math.sqrt(len(d)))
    return float(2 * stats.t.sf(abs(t), len(d) - 1))


def crystal_tests(errors_a: np.ndarray, errors_b: np.ndarray, groups: np.ndarray) -> tuple[float, float, float]:
    """(sign-flip p over groups, bootstrap 2.5% and 97.5% of 1 - MAE_A / MAE_B over groups)."""
    rng = np.random.default_rng(STATS_SEED)
    unique = np.unique(groups)
    index = np.searchsorted(unique, groups)
    sums_a = np.bincount(index, weights=errors_a, minlength=len(unique))
    sums_b = np.bincount(index, weights=errors_b, minlength=len(unique))
    difference = sums_a - sums_b
    observed = abs(difference.sum())
    signs = rng.choice((-1.0, 1.0), size=(FLIPS, len(unique)))
    p = float((1 + np.sum(np.abs(signs @ difference) >= observed - 1e-15)) / (FLIPS + 1))
    draws = rng.integers(len(unique), size=(RESAMPLES, len(unique)))
    ratios = 1.0 - sums_a[draws].sum(axis=1) / sums_b[draws].sum(axis=1)
    low, high = np.percentile(ratios, [2.5, 97.5])
    return p, float(low), float(high)


def compare(runs: dict, arm_a: str, arm_b: str, setting: str, truth: "dict | None") -> "dict | None":
    """The paired comparison of ``arm_a`` against ``arm_b`` at ``setting`` (None without shared seeds)."""
    a, b = by_seed(runs, arm_a, setting), by_seed(runs, arm_b, setting)
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    scores_a = np.array([score(a[s]) for s in seeds])
    scores_b = np.array([score(b[s]) for s in seeds])
    d = scores_a - scores_b
    sd = float(np.std(d, ddof=1)) if len(d) > 1 else math.nan
    result = {"a": arm_a, "b": arm_b, "setting": setting, "seeds": len(seeds), "mae_a": float(scores_a.mean()),
              "mae_b": float(scores_b.mean()), "relative": float(1 - scores_a.mean() / scores_b.mean()),
              "diff": float(d.mean()), "diff_sd": sd,
              "paired_sds": float(-d.mean() / sd) if sd and sd > 0 else math.nan, "p_t": paired_t(d),
              "p_flip": math.nan, "ci": (math.nan, math.nan)}
    if truth is not None:
        values, groups = truth["values"], truth["groups"]
        keep = np.ones(len(values), dtype=bool)
        if setting.startswith("zs"):
            keep = np.isin(groups, a[seeds[0]]["heldout_groups"])
        errors_a = np.mean([np.abs(np.array(a[s]["predictions"]) - values) for s in seeds], axis=0)[keep]
        errors_b = np.mean([np.abs(np.array(b[s]["predictions"]) - values) for s in seeds], axis=0)[keep]
        p, low, high = crystal_tests(errors_a, errors_b, groups[keep])
        result.update({"p_flip": p, "ci": (low, high)})
    return result


def comparison_rows(results) -> list:
    lines = ["| setting | A | B | seeds | MAE A | MAE B | 1 - A/B | A - B (paired SD) | paired SDs "
             "| p (paired t, seeds) | p (sign flip, groups) | 1 - A/B, 95% bootstrap over groups |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['setting']} | {label(r['a'])} | {label(r['b'])} | {r['seeds']} | {r['mae_a']:.4f} | "
                     f"{r['mae_b']:.4f} | {100 * r['relative']:+.1f}% | {r['diff']:+.4f} ({r['diff_sd']:.4f}) | "
                     f"{r['paired_sds']:.2f} | {r['p_t']:.3g} | {r['p_flip']:.3g} | "
                     f"{100 * r['ci'][0]:+.1f}% to {100 * r['ci'][1]:+.1f}% |")
    return lines


def truth_of(records, target: str) -> "dict | None":
    if records is None:
        return None
    tests = sparse_split.test_records(records)
    return {"values": np.array([float(r.targets[target]) for r in tests]),
            "groups": np.array([sparse_split.index_of(r)[1] for r in tests]), "ids": [str(r.id) for r in tests]}


def breakdown(runs: dict, truth: dict, setting: str, key, labels) -> list:
    """Seed-averaged MAE per arm (rows) and per class of test crystal (columns: ``key(group)`` in ``labels``)."""
    classes = np.array([key(int(g)) for g in truth["groups"]])
    counts = {c: int(np.sum(classes == c)) for c in labels}
    lines = ["| arm | " + " | ".join(f"{c} ({counts[c]})" for c in labels) + " |", "|---|" + "---|" * len(labels)]
    for arm in arms_of(runs):
        seeds = by_seed(runs, arm, setting)
        if not seeds:
            continue
        errors = np.mean([np.abs(np.array(r["predictions"]) - truth["values"]) for r in seeds.values()], axis=0)
        lines.append(f"| {label(arm)} ({len(seeds)}) | "
                     + " | ".join(f"{errors[classes == c].mean():.4f}" if counts[c] else "-" for c in labels) + " |")
    return lines


def verdict(runs: dict, truth) -> list:
    """The issue's goals, each answered from the runs (or 'not run')."""
    lines = []
    for neighbourhood in ("on", "off"):
        cft = f"cft/{neighbourhood}"
        if not any(r["arm"] == cft for r in runs.values()):
            continue
        for setting in ("k1", "k4"):
            for rival in (f"cft-p1/{neighbourhood}", f"sinusoidal/{neighbourhood}"):
                r = compare(runs, cft, rival, setting, truth)
                if r is None:
                    lines.append(f"- {setting}, {label(cft)} against {label(rival)}: not run.")
                    continue
                met = r["relative"] >= GOAL_RELATIVE and r["paired_sds"] >= GOAL_PAIRED_SDS
                lines.append(f"- {setting}, {label(cft)} against {label(rival)}: {100 * r['relative']:+.1f}% "
                             f"({r['paired_sds']:.2f} paired SDs, p {r['p_t']:.3g} over {r['seeds']} seeds): goal "
                             f"(>= 15% and >= 2 paired SDs) {'met' if met else 'missed'}.")
        for rival in (f"cft-p1/{neighbourhood}", f"sinusoidal/{neighbourhood}"):
            gaps = [(s, compare(runs, cft, rival, s, None)) for s in ("k1", "k4", "k16")]
            gaps = [(s, r) for s, r in gaps if r is not None]
            if len(gaps) > 1:
                text = ", ".join(f"{s} {100 * r['relative']:+.1f}%" for s, r in gaps)
                if gaps[0][1]["relative"] <= 0:
                    judged = f"the CFT has no advantage at {gaps[0][0]}, so there is no gap to shrink"
                else:
                    shrinks = all(x[1]["relative"] > y[1]["relative"]
                                  for x, y in zip(gaps, gaps[1:], strict=False))
                    judged = "the CFT's advantage shrinks as k grows" if shrinks else "it does not shrink steadily"
                lines.append(f"- 1 - MAE(CFT) / MAE({label(rival)}) by k: {text}: {judged}.")
        zero = by_seed(runs, cft, "zs4")
        if zero:
            mine = np.mean([score(r) for r in zero.values()])
            others = {a: np.mean([score(r) for r in by_seed(runs, a, "zs4").values()]) for a in arms_of(runs)
                      if a != cft and by_seed(runs, a, "zs4")}
            beaten = [a for a, v in others.items() if v <= mine]
            listed = ", ".join(f"{label(a)} {v:.4f}" for a, v in others.items())
            lines.append(f"- zero-shot held-out MAE of {label(cft)}: {mine:.4f}; "
                         + (f"below every other arm run ({listed})." if not beaten else
                            f"NOT below {len(beaten)} of the {len(others)} other arms run ({listed})."))
    return lines


def pairing_check(runs: dict) -> list:
    """One line: whether every run tests the same crystals, and every arm of a (setting, seed) trains on the
    same ones (from the id hashes each run records)."""
    tests = {r["test_ids_sha256"] for r in runs.values()}
    trains: dict = {}
    for r in runs.values():
        trains.setdefault((r["setting"], r["seed"]), set()).add(r["train_ids_sha256"])
    unpaired = sorted(key for key, hashes in trains.items() if len(hashes) > 1)
    return [f"Pairing: {'one test set for every run' if len(tests) == 1 else f'{len(tests)} DIFFERENT test sets'}; "
            + ("every arm of a (setting, seed) trained on the same crystals (checked on the id hashes)." if not unpaired
               else f"training sets differ between arms at {unpaired} (not paired!).")]


def report(runs: dict, records, command: str) -> str:
    """The markdown of every table: MAE per arm and setting, paired comparisons, verdict, breakdowns."""
    sample = next(iter(runs.values()))
    target = sample["target"]
    truth = truth_of(records, target)
    settings = settings_of(runs)
    arms = arms_of(runs)
    head = [f"{s} test MAE" if not s.startswith("zs") else f"{s} held-out MAE | {s} seen-groups MAE" for s in settings]
    lines = ["## Test MAE per arm and training size (mean +- SD over seeds, seeds in parentheses)", "",
             "| arm | parameters | " + " | ".join(head) + " | s per run |",
             "|---|---|" + "---|" * (sum(2 if s.startswith("zs") else 1 for s in settings) + 1)]
    for arm in arms:
        cells, seconds, parameters = [], [], None
        for s in settings:
            seeds = by_seed(runs, arm, s)
            seconds += [r["seconds"] for r in seeds.values()]
            parameters = parameters or next((r["parameters"] for r in seeds.values() if r.get("parameters")), None)
            if s.startswith("zs"):
                cells += [spread([r["heldout_mae"] for r in seeds.values()]),
                          spread([r["seen_mae"] for r in seeds.values()])]
            else:
                cells.append(spread([r["test_mae"] for r in seeds.values()]))
        lines.append(f"| {label(arm)} | {parameters if parameters else '-'} | " + " | ".join(cells)
                     + f" | {np.mean(seconds):.0f} |")
    results = []
    for s in settings:
        for neighbourhood in ("on", "off"):
            for rival in ("cft-p1", "sinusoidal", "augmented", "none", "cft+pair"):
                r = compare(runs, f"cft/{neighbourhood}", f"{rival}/{neighbourhood}", s, truth)
                if r is not None:
                    results.append(r)
            if neighbourhood == "on":
                r = compare(runs, "cft/on", "gbm+distance", s, truth)
                if r is not None:
                    results.append(r)
    lines += ["", "## Paired comparisons (A = the CFT; in zs4 on the held-out groups' test crystals only)", "",
              *comparison_rows(results)]
    # the layer in the host GNNs: against the host alone, and against its own P1 control (the group averaging
    # removed, the same parameters); the control against the host alone says what the features as such cost
    hosts = [r for s in settings for host in HOSTS for a, b in ((f"{host}+layer", host),
                                                                (f"{host}+layer", f"{host}+layer-p1"),
                                                                (f"{host}+layer-p1", host))
             if (r := compare(runs, a, b, s, truth)) is not None]
    if hosts:
        lines += ["", "## Paired comparisons of the host GNNs (A = the host with the layer, or its P1 control)", "",
                  *comparison_rows(hosts)]
    lines += ["", "## The issue's goals, from these runs", "", *verdict(runs, truth)]
    if truth is not None:
        systems = [name for name, _, _ in sparse_split.CRYSTAL_SYSTEMS]
        bins = [f"{a}-{b}" for a, b in sparse_split.ORDER_BINS]
        for s in [s for s in settings if not s.startswith("zs")]:
            lines += ["", f"## {s}: test MAE by crystal system (seed-averaged errors; test crystals in parentheses)",
                      "", *breakdown(runs, truth, s, sparse_split.crystal_system, systems),
                      "", f"## {s}: test MAE by group order |G/Z^3| (centring included)", "",
                      *breakdown(runs, truth, s, sparse_split.order_bin, bins)]
    lines += ["", *pairing_check(runs)]
    steps = sorted({r["steps"] for r in runs.values()})
    commits = sorted({r["commit"] for r in runs.values()})
    lines += ["", f"{len(runs)} runs; steps {', '.join(map(str, steps))} (batch {sample['batch_size']}); target "
              f"{target}; commits {', '.join(commits)}; {sample['machine']}, torch {sample['torch']}, "
              f"{sample['threads']} thread(s); `{command}`."]
    return "\n".join(lines) + "\n"
