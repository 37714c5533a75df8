"""
Auditing a model: ASE's EMT calculator
======================================

The audit builds exact re-descriptions of each crystal (permuted atoms, shifted origin, rotated
frame, supercells, other bases, the group's own operations ...) and checks that the model gives
the same energy, the carried-over forces and stress on every one. Here ASE's EMT potential on
three random crystals, one re-description per kind, takes about a second.
"""

import matplotlib.pyplot as plt

from crystal_fourier.audit import Claim, audit, markdown_table
from crystal_fourier.runtime import random_crystal

crystals = [random_crystal(number, seed=number, max_atoms=12).crystal for number in (14, 166, 227)]
report = audit("ase:EMT", crystals, claim=Claim(symmetry="E3", energy="extensive"), per_kind=1)
print(f"{len(report.checks)} checks, ok = {report.ok}")
print(markdown_table(report))

# %%
# The largest error per kind and quantity, relative to its tolerance (1e-9 of the output's scale
# in float64). Every bar far below 1 means the calculator is invariant to round-off.
rows = report.summary()
labels = [f"{row['kind']} {row['quantity']}" for row in rows]
ratios = [max(row["max"], 1e-18) / row["tolerance"] for row in rows]
fig, ax = plt.subplots(figsize=(7, 0.22 * len(rows) + 1))
ax.barh(labels, ratios, color="tab:blue")
ax.axvline(1.0, color="tab:red", label="tolerance")
ax.set_xscale("log")
ax.set_xlabel("largest error / tolerance")
ax.invert_yaxis()
ax.legend(loc="lower right")
fig.tight_layout()
