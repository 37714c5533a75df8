"""
A basis function: sections, a level set and the dual graph
==========================================================

The exact invariant Fourier basis of P6_3/mmc (group 194) at ball cutoff R = 3: one of its real
basis functions drawn on two sections of the cell (with the symmetry elements the section
meets), its level set f = c in the unit cell, and the dual graph whose components are the orbits
of frequencies. Every picture comes from the package's ``crystal_fourier.visual`` helpers or
from evaluating the basis, nothing drawn by hand.
"""

import io

import matplotlib.pyplot as plt
import numpy as np

from crystal_fourier.derive import basis, space_group
from crystal_fourier.visual import render_graph, render_section

group = space_group("P6_3/mmc")
cell_basis = basis(group, cutoff=3, shell="ball")
summary = cell_basis.summary()
print(f"group {group.number}: dim {summary['dim']} (k = 0 included)")
index = 3

# %%
# Two sections of function 3: the plane z = 0 and the side plane x = 0. Red is positive, blue
# negative; the z = 0 cell is the 120-degree rhombus of the hexagonal axes.
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, section in zip(axes, ("z=0", "x=0"), strict=True):
    png = render_section(cell_basis, index, section, resolution=64)
    ax.imshow(plt.imread(io.BytesIO(png)))
    ax.set_title(f"function {index}, {section}")
    ax.axis("off")
fig.tight_layout()

# %%
# The level set f = 0.5 max f of the same function in the unit cell, from the float64
# evaluation ``Basis.real`` on a 24 x 24 x 24 grid of fractional coordinates (voxels where
# f exceeds the level, drawn in the fractional cube).
n = 24
axis = (np.arange(n) + 0.5) / n
points = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
values = cell_basis.real(points)[:, index].reshape(n, n, n)
level = 0.5 * values.max()
fig = plt.figure(figsize=(5, 5))
ax = fig.add_subplot(projection="3d")
ax.voxels(values > level, facecolors="tab:red", edgecolor="none", alpha=0.8)
ax.set(xlabel="x", ylabel="y", zlabel="z", title=f"f_{index} > {level:.2f}")
print(f"{int((values > level).sum())} of {n ** 3} voxels above the level")

# %%
# The dual graph k -> R^T k: one panel per layer l, frequencies coloured by orbit, absent ones
# crossed out (their witness operation fixes k with a phase that is not an integer).
png = render_graph(cell_basis)
fig, ax = plt.subplots(figsize=(9, 6))
ax.imshow(plt.imread(io.BytesIO(png)))
ax.axis("off")
