"""
Learning curves
===============

Validation MAE per epoch of the Crystal Fourier Transformer and its baselines on carbon-24,
perov-5 and the demo's EMT set (mean over 3 seeds, the band one standard deviation), with the
classical baselines' validation MAE as horizontal lines, and the test MAE against the number of
training crystals. Read from the committed ``docs/learning_curves.json``, written by
``bench/learning_curves.py`` from the runs behind the results pages: nothing is trained when the
site is built.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

data = json.loads(Path("../learning_curves.json").read_text(encoding="utf-8"))
colours = {"cft": "tab:blue", "cft+pretrained": "tab:cyan", "sinusoidal": "tab:orange", "augmented": "tab:green",
           "ridge+distance": "tab:red", "gbm+distance": "tab:purple", "ridge": "tab:pink", "gbm": "tab:brown"}

# %%
# Validation MAE against epochs, one panel per data set.
fig, axes = plt.subplots(1, len(data["epochs"]), figsize=(12, 4), sharey=False)
for ax, (name, kinds) in zip(axes, data["epochs"].items(), strict=True):
    for kind, (mean_list, std_list) in kinds.items():
        mean, std = np.asarray(mean_list), np.asarray(std_list)
        epochs = np.arange(1, len(mean) + 1)
        ax.plot(epochs, mean, color=colours[kind], label=kind)
        ax.fill_between(epochs, mean - std, mean + std, color=colours[kind], alpha=0.2)
    for kind, value in data["classical_val"].get(name, {}).items():
        ax.axhline(value, color=colours[kind], linestyle="--", linewidth=1, label=kind)
    ax.set(title=name, xlabel="epoch", ylabel="validation MAE (eV/atom)", yscale="log")
axes[0].legend(fontsize=7)
fig.tight_layout()

for name, kinds in data["epochs"].items():
    best = {kind: min(mean) for kind, (mean, _) in kinds.items()}
    print(name, ", ".join(f"{kind} {value:.4f}" for kind, value in best.items()))

# %%
# Test MAE against the number of training crystals (the demo's EMT set, seed 0).
fig, ax = plt.subplots(figsize=(5, 4))
for kind, points in data["sizes"].items():
    sizes, maes = zip(*points, strict=True)
    ax.plot(sizes, maes, marker="o", color=colours[kind], label=kind)
ax.set(xlabel="training crystals", ylabel="test MAE (eV/atom)", xscale="log", yscale="log")
ax.legend()
fig.tight_layout()
