"""The ``derivatives`` kind: forces and stress against central differences of the model's own energy.

A conservative potential's forces are F_i = -dE/dr_i and its stress is sigma = (1/V) dE/d(epsilon)
(ASE's sign: positive under tension; the cell rows L -> L (I + epsilon), fractional coordinates
fixed, V the volume |det L|). Both are checked along random unit directions, by central
differences of the energy with the step of :data:`DERIVATIVE_STEP`, in the cell as given and in
its left-handed twin (-a, -b, -c) (the same crystal, the same Cartesian atoms), so a stress that
divides by the signed volume is caught on a single structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crystal_fourier.runtime import Crystal

__all__ = ["DERIVATIVE_STEP", "DERIVATIVE_TOLERANCE", "derivative_probes", "derivative_errors", "derivative_checks"]

DERIVATIVE_STEP = {np.dtype(np.float64): 1e-4, np.dtype(np.float32): 5e-3}
"""Central-difference step per dtype: Angstrom for an atom's displacement, dimensionless for a strain.

The error of a central difference is h^2/6 times the third derivative (truncation) plus about
eps |E| / h (round-off of the two energies). Measured (2026-12-07): ASE EMT in float64 at 1e-4,
below 2e-8 (eV/A, eV/A^3); CHGNet in float32, below 5e-4 at steps 1e-2 and 3e-3."""

DERIVATIVE_TOLERANCE = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 5e-3}
"""Largest |model - central difference| per dtype, relative to max(1, max |output|) (eV/A for
forces, eV/A^3 for stress): 500x the float64 error measured on EMT, 10x the float32 error measured
on CHGNet. A stress of the wrong sign differs by 2 |sigma : S|, so in float32 it is flagged when the
stress along the unit strain S exceeds 2.5e-3 eV/A^3 (0.4 GPa)."""

KIND = "derivatives"
HANDEDNESS = ("as given", "left-handed (-a,-b,-c)")


@dataclass(frozen=True)
class DerivativeProbe:
    """One directional derivative: ``quantity`` (forces or stress) of ``crystal`` along ``direction``.

    ``direction`` is a unit Cartesian vector on atom ``atom`` (forces) or a unit-norm symmetric
    strain (stress, shape (3, 3)); ``label`` names the cell handedness, atom and direction.
    """

    quantity: str
    label: str
    crystal: Crystal
    atom: int
    direction: np.ndarray

    def displaced(self, step: float) -> Crystal:
        """The crystal moved by ``step`` along the direction (atom displaced, or cell strained)."""
        lattice = np.asarray(self.crystal.lattice, dtype=np.float64)
        if self.quantity == "forces":
            shift = np.zeros((self.crystal.n_atoms, 3))
            shift[self.atom] = step * self.direction
            return Crystal(lattice, self.crystal.positions + shift @ np.linalg.inv(lattice), self.crystal.numbers)
        return Crystal(lattice @ (np.eye(3) + step * self.direction), self.crystal.positions, self.crystal.numbers)


def left_handed(crystal: Crystal) -> Crystal:
    """The same crystal in the basis (-a, -b, -c): det L changes sign, the Cartesian atoms do not."""
    return Crystal(-np.asarray(crystal.lattice), -np.asarray(crystal.positions), crystal.numbers)


def derivative_probes(crystal: Crystal, rng: np.random.Generator, count: int) -> list[DerivativeProbe]:
    """``count`` random atom directions and ``count`` random strains, in each handedness of the cell."""
    probes = []
    for name, cell in zip(HANDEDNESS, (crystal, left_handed(crystal)), strict=True):
        for _ in range(count):
            atom = int(rng.integers(crystal.n_atoms))
            direction = rng.normal(size=3)
            direction /= np.linalg.norm(direction)
            probes.append(DerivativeProbe("forces", f"{name}: atom {atom} along {np.round(direction, 3).tolist()}",
                                          cell, atom, direction))
        for _ in range(count):
            strain = rng.normal(size=(3, 3))
            strain = (strain + strain.T) / 2
            strain /= np.linalg.norm(strain)
            probes.append(DerivativeProbe("stress", f"{name}: strain {np.round(strain, 3).tolist()}",
                                          cell, -1, strain))
    return probes


def derivative_errors(probe: DerivativeProbe, outputs: dict, energy_plus: float, energy_minus: float,
                      step: float) -> "tuple[float, float, float] | None":
    """(error, scale, central difference) of one probe, None when the model gives no such output.

    Forces: error |F_atom . u + (E+ - E-) / 2h|; stress: |sigma : S - (E+ - E-) / (2h V)|; scale
    max(1, max |output|).
    """
    if probe.quantity not in outputs:
        return None
    difference = (float(energy_plus) - float(energy_minus)) / (2.0 * step)
    value = np.asarray(outputs[probe.quantity], dtype=np.float64)
    if probe.quantity == "forces":
        predicted, expected = float(value[probe.atom] @ probe.direction), -difference
    else:
        predicted, expected = float(np.sum(value * probe.direction)), difference / abs(probe.crystal.volume)
    scale = max(1.0, float(np.max(np.abs(value), initial=0.0)))
    return abs(predicted - expected), scale, expected


def derivative_checks(adapter, crystal: Crystal, claim, *, name: str, group: int, rng: np.random.Generator,  # noqa: PLR0913
                      count: int, timeout: "float | None" = None, float64=None) -> tuple[list, list, float]:
    """The ``derivatives`` checks of one crystal: (checks, model errors, seconds in the model).

    ``count`` random probes per quantity and handedness (:func:`derivative_probes`); the step and
    tolerance are :data:`DERIVATIVE_STEP` and :data:`DERIVATIVE_TOLERANCE` of the adapter's dtype.
    Quantities the claim leaves out (``Claim(forces=False)``) or the model does not return are not checked.

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
        Probes per quantity and handedness.
    timeout : float, optional
        Seconds one model call may take.
    float64 : ModelAdapter, optional
        The float32 model's float64 twin: each probe above its tolerance is rerun in it with the
        float64 step and held to the float64 tolerance; within it, the check counts as round-off.

    Returns
    -------
    (list of Check, list of ModelError, float)
    """
    from crystal_fourier.audit._audit import Check
    from crystal_fourier.audit._calls import ModelError

    dtype = np.dtype(adapter.dtype)
    step, relative = DERIVATIVE_STEP[dtype], DERIVATIVE_TOLERANCE[dtype]
    probes = [p for p in derivative_probes(crystal, rng, count) if getattr(claim, p.quantity)]
    found, failed, seconds = _differences(adapter, crystal, probes, step, timeout)
    errors = [ModelError(name, KIND, label, message) for label, message in failed]
    above = [p for p, value in zip(probes, found, strict=True) if value is not None and value[0] > relative * value[1]]
    twins = dict(zip(map(id, above), _differences(float64, crystal, above, DERIVATIVE_STEP[np.dtype(np.float64)],
                                                  None)[0], strict=True)) if above and float64 is not None else {}
    checks = []
    for probe, value in zip(probes, found, strict=True):
        if value is None:
            continue
        error, scale, _ = value
        twin = twins.get(id(probe))
        checks.append(Check(name, group, KIND, probe.label, probe.quantity, error, scale, relative * scale,
                            None if twin is None else twin[0],
                            None if twin is None else DERIVATIVE_TOLERANCE[np.dtype(np.float64)] * twin[1]))
    return checks, errors, seconds


def _differences(adapter, crystal: Crystal, probes: list, step: float, timeout: "float | None"
                 ) -> tuple[list, list, float]:
    """Per probe (error, scale, central difference) or None, the failed calls as (label, message), and the seconds.

    One batch of calls: the cells of the probes (as given, left-handed), and each probe at +step and -step.
    """
    from crystal_fourier.audit._calls import guarded_calls

    cells = list({id(p.crystal): p.crystal for p in probes}.values())   # the cell as given, its left-handed twin
    calls = cells + [c for p in probes for c in (p.displaced(step), p.displaced(-step))]
    outputs, seconds = guarded_calls(adapter, calls, timeout=timeout)
    failed = [(HANDEDNESS[cell is not crystal], got) for cell, got in zip(cells, outputs, strict=False)
              if isinstance(got, str)]
    found = []
    for i, probe in enumerate(probes):
        reference = outputs[next(j for j, cell in enumerate(cells) if cell is probe.crystal)]
        plus, minus = outputs[len(cells) + 2 * i], outputs[len(cells) + 2 * i + 1]
        if isinstance(reference, str):
            found.append(None)
        elif isinstance(plus, str) or isinstance(minus, str):
            failed.append((f"{probe.label} (step {step:g})", plus if isinstance(plus, str) else minus))
            found.append(None)
        else:
            found.append(derivative_errors(probe, reference, plus["energy"], minus["energy"], step))
    return found, failed, seconds
