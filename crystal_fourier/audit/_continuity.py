"""The ``continuity`` kind: outputs along a small random path of displacements and strains change smoothly.

A potential whose cutoff, neighbour list or descriptor switches abruptly jumps when a pair
distance crosses it. Along the path t -> crystal(t), t = -1 .. 1 in :data:`CONTINUITY_POINTS`
steps (every atom displaced by t u, with u a random (n, 3) field of norm
:data:`CONTINUITY_DISPLACEMENT` A, and the cell strained by t S, S a random symmetric strain of
norm :data:`CONTINUITY_STRAIN`), the fourth difference of each output is about h^4 f'''' for a
smooth model and between J and 3J for a jump J. The check: max |fourth difference| against
:data:`CONTINUITY_TOLERANCE` x max(1, max |output| on the path). A path changes each pair
distance by up to about 0.1 A (0.05 A at most from displacements, 1% from the strain): a switch
at a distance within that of the crystal's own pair distances is crossed and found; one far from
every pair distance of the crystal is not (symmetric crystals have discrete distance shells).
"""

from __future__ import annotations

import numpy as np

from crystal_fourier.runtime import Crystal

__all__ = ["CONTINUITY_POINTS", "CONTINUITY_DISPLACEMENT", "CONTINUITY_STRAIN", "CONTINUITY_TOLERANCE",
           "continuity_path", "continuity_checks"]

KIND = "continuity"
CONTINUITY_POINTS = 41
"""Points on each path (t = -1 .. 1; step 0.05)."""
CONTINUITY_DISPLACEMENT = 0.05
"""Norm (A) of the displacement field over all atoms at t = 1: an atom moves by at most 0.05 A."""
CONTINUITY_STRAIN = 0.01
"""Frobenius norm of the strain at t = 1 (distances change by up to about 1%)."""
CONTINUITY_TOLERANCE = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-3}
"""Largest |fourth difference| along a path, relative to max(1, max |output| on it). Measured
(2026-12-07, 6 random crystals, 2 paths each): ASE EMT at most 2e-6 (forces of a 15-atom sg166
crystal), energy and stress below 1.1e-7; a pair potential with a 1 meV step at a cutoff placed
by its nearest-neighbour distance 3e-3 to 1.2e-2 eV (ratio >= 100 at energies up to 30 eV).
float32 round-off (eps 6e-8 on |E|, amplified at most 16x) stays below 1e-6."""


def continuity_path(crystal: Crystal, rng: np.random.Generator, points: int = CONTINUITY_POINTS
                    ) -> tuple[list[Crystal], str]:
    """The crystals on one random path, and its label (the displacement and strain drawn).

    Parameters
    ----------
    crystal : Crystal
        The crystal at t = 0.
    rng : numpy.random.Generator
        The (crystal, kind) stream.
    points : int
        Points from t = -1 to 1.

    Returns
    -------
    (list of Crystal, str)
    """
    lattice = np.asarray(crystal.lattice, dtype=np.float64)
    field = rng.normal(size=(crystal.n_atoms, 3))
    field *= CONTINUITY_DISPLACEMENT / np.linalg.norm(field)
    strain = rng.normal(size=(3, 3))
    strain = (strain + strain.T) / 2
    strain *= CONTINUITY_STRAIN / np.linalg.norm(strain)
    cartesian = crystal.positions @ lattice
    path = []
    for t in np.linspace(-1.0, 1.0, points):
        moved = (cartesian + t * field) @ np.linalg.inv(lattice)   # fractional, then the cell is strained
        path.append(Crystal(lattice @ (np.eye(3) + t * strain), moved, crystal.numbers))
    label = (f"path of {points} points: |displacement| {CONTINUITY_DISPLACEMENT:g} A, |strain| "
             f"{CONTINUITY_STRAIN:g}, strain {np.round(strain, 4).tolist()}")
    return path, label


def continuity_checks(adapter, crystal: Crystal, claim, *, name: str, group: int, rng: np.random.Generator,  # noqa: PLR0913
                      count: int, timeout: "float | None" = None, float64=None) -> tuple[list, list, float]:
    """The ``continuity`` checks of one crystal: (checks, model errors, seconds in the model).

    ``count`` paths (:func:`continuity_path`); per path and quantity (energy, forces and stress
    as the claim and the model have them) one check, the largest |fourth difference| of the
    output along the path in its own (fixed) Cartesian frame.

    Parameters
    ----------
    adapter : ModelAdapter
        The model.
    crystal : Crystal
        The crystal.
    claim : Claim
        Which quantities are checked.
    name : str
        The crystal's name in the report.
    group : int
        Its space-group number.
    rng : numpy.random.Generator
        The (crystal, kind) stream.
    count : int
        Paths per crystal.
    timeout : float, optional
        Seconds one model call may take.
    float64 : ModelAdapter, optional
        The float32 model's float64 twin: a failed path is rerun in it, and the check counts as
        round-off when the twin is within the float64 tolerance.

    Returns
    -------
    (list of Check, list of ModelError, float)
    """
    from crystal_fourier.audit._audit import Check
    from crystal_fourier.audit._calls import ModelError, guarded_calls

    relative = CONTINUITY_TOLERANCE[np.dtype(adapter.dtype)]
    checks, errors, seconds = [], [], 0.0
    for _ in range(count):
        path, label = continuity_path(crystal, rng)
        outputs, spent = guarded_calls(adapter, path, timeout=timeout)
        seconds += spent
        failed = [o for o in outputs if isinstance(o, str)]
        if failed:
            errors.append(ModelError(name, KIND, label, failed[0]))
            continue
        rerun = None
        for quantity in ("energy", "forces", "stress"):
            if quantity != "energy" and not (getattr(claim, quantity) and quantity in outputs[0]):
                continue
            error, scale = _jump(outputs, quantity)
            twin = None
            if error > relative * scale and float64 is not None:
                rerun = guarded_calls(float64, path)[0] if rerun is None else rerun
                twin = None if any(isinstance(o, str) for o in rerun) else _jump(rerun, quantity)[0]
            checks.append(Check(name, group, KIND, label, quantity, error, scale, relative * scale, twin,
                                CONTINUITY_TOLERANCE[np.dtype(np.float64)] * scale))
    return checks, errors, seconds


def _jump(outputs: list, quantity: str) -> tuple[float, float]:
    """(max |fourth difference|, max(1, max |value|)) of one output along a path."""
    values = np.array([np.asarray(o[quantity], dtype=np.float64) for o in outputs])
    fourth = np.diff(values, n=4, axis=0)
    return float(np.max(np.abs(fourth), initial=0.0)), max(1.0, float(np.max(np.abs(values))))
