"""The ``continuity`` kind: outputs along a small random path of displacements and strains have no jumps.

A potential whose cutoff, neighbour list or descriptor switches abruptly jumps when a pair
distance crosses it. Along the path t -> crystal(t), t = -1 .. 1 (every atom displaced by t u,
with u a random (n, 3) field of norm :data:`CONTINUITY_DISPLACEMENT` A, and the cell strained by
t S, S a random symmetric strain of norm :data:`CONTINUITY_STRAIN`), each output is evaluated at
two steps: h = 2 / (:data:`CONTINUITY_POINTS` - 1) and h / 2 (the path at h / 2 holds the path at
h, so this costs 2 x CONTINUITY_POINTS - 1 calls). D(h) is the largest |fourth difference| along the
path. A jump J gives D = 3J at every step; a continuous output's fourth differences shrink with the
step: 16x per halving where it is smooth, 2x at a kink (a switching derivative), 2x to 16x where it
is rough at the scale of h (measured: CHGNet's forces, D(h) / D(h/2) = 1.7 to 9.8).

Two stages. The screen: the part of D(h/2) that does not shrink like h^2 (:data:`CONTINUITY_SCREEN_ORDER`),
``P = max(0, (4 D(h/2) - D(h)) / 3)`` (0 for fourth differences that shrink 4x or more, 3J for a jump
J), against :data:`CONTINUITY_TOLERANCE` x max(1, max |output| on the path); an output within it
passes. An output above it is judged one step finer (the path's midpoints, 2 x CONTINUITY_POINTS - 2
more calls) on the part of D(h/4) that does not shrink like h (:data:`CONTINUITY_ORDER`),
``P = max(0, 2 D(h/4) - D(h/2))``: 3J for a jump, 0 for a kink or a sharp but smooth feature resolved
at h/4 (measured: CHGNet's forces on perov_5/18565, D = 6.0e-3, 3.0e-3, 5.9e-4 at h, h/2, h/4 in
float64). The screen's stricter order also catches two jumps within one step h (D(h) = 6J, D(h/2) = 2J).

A path changes each pair distance by up to about 0.1 A (0.05 A at most from displacements, 1% from
the strain): a switch at a distance within that of the crystal's own pair distances is crossed and
found; one far from every pair distance of the crystal is not (symmetric crystals have discrete
distance shells). A jump smaller than the smooth part's D at the finer step is not resolved, nor are
jumps that cluster within one step h/4 so that D(h/4) is less than half of D(h/2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crystal_fourier.runtime import Crystal

__all__ = ["CONTINUITY_POINTS", "CONTINUITY_DISPLACEMENT", "CONTINUITY_STRAIN", "CONTINUITY_TOLERANCE",
           "CONTINUITY_ORDER", "CONTINUITY_SCREEN_ORDER", "ContinuityPath", "continuity_path", "continuity_checks",
           "persistent_difference"]

KIND = "continuity"
STEPS = ("h", "h/2", "h/4")
CONTINUITY_POINTS = 41
"""Points of the coarse path (t = -1 .. 1, step h = 0.05); the fine path (step h / 2) has 81."""
CONTINUITY_SCREEN_ORDER = 2
"""The screen at (h, h/2): an output whose largest fourth difference shrinks at least 4x passes at once."""
CONTINUITY_ORDER = 1
"""The verdict at (h/2, h/4): a fourth difference that shrinks at least 2x (a kink, or smoother) is no jump."""
CONTINUITY_DISPLACEMENT = 0.05
"""Norm (A) of the displacement field over all atoms at t = 1: an atom moves by at most 0.05 A."""
CONTINUITY_STRAIN = 0.01
"""Frobenius norm of the strain at t = 1 (distances change by up to about 1%)."""
CONTINUITY_TOLERANCE = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-3}
"""Largest persistent fourth difference P (:func:`persistent_difference`) along a path, relative to
max(1, max |output| on it): a jump above a third of it fails. Measured (2026-12-07): ASE EMT P <= 1e-8
(1e-3 of the float64 tolerance; jumps of about 4e-9 eV where its neighbour list cuts its smoothed
cutoff), a smooth pair potential P = 0; CHGNet's forces on 12 perov_5 crystals D(h) / D(h/2) = 1.7 to
9.8 (3 of 12 above the screen), its energy P <= 2e-5
relative (float32 round-off); on 30 perov_5 crystals every force path passes the verdict (4 after a
float64 rerun: float32 noise at h/4); a pair potential with a hard cutoff (0.5 meV per pair) P = 2e-3 eV;
the untrained CFT where standardize's group switches P = 3J, J = 0.007 to 0.083."""


@dataclass(frozen=True)
class ContinuityPath:
    """One random path t -> crystal(t): every atom displaced by t ``field`` (A), the cell strained by t ``strain``."""

    crystal: Crystal
    field: np.ndarray
    strain: np.ndarray

    @property
    def label(self) -> str:
        """The path in words: the sizes and the strain drawn."""
        return (f"path t = -1..1, h = {2 / (CONTINUITY_POINTS - 1):g}: |displacement| {CONTINUITY_DISPLACEMENT:g} A, "
                f"|strain| {CONTINUITY_STRAIN:g}, strain {np.round(self.strain, 4).tolist()}")

    def crystals(self, times) -> list[Crystal]:
        """The crystals at the given t."""
        lattice = np.asarray(self.crystal.lattice, dtype=np.float64)
        cartesian = self.crystal.positions @ lattice
        inverse = np.linalg.inv(lattice)
        return [Crystal(lattice @ (np.eye(3) + t * self.strain), (cartesian + t * self.field) @ inverse,
                        self.crystal.numbers)   # fractional coordinates of the moved atoms, then the cell strained
                for t in times]


def continuity_path(crystal: Crystal, rng: np.random.Generator) -> ContinuityPath:
    """Draw one random path from ``crystal`` (at t = 0): a displacement field and a symmetric strain.

    Parameters
    ----------
    crystal : Crystal
        The crystal at t = 0.
    rng : numpy.random.Generator
        The (crystal, kind) stream.

    Returns
    -------
    ContinuityPath
    """
    field = rng.normal(size=(crystal.n_atoms, 3))
    field *= CONTINUITY_DISPLACEMENT / np.linalg.norm(field)
    strain = rng.normal(size=(3, 3))
    strain = (strain + strain.T) / 2
    strain *= CONTINUITY_STRAIN / np.linalg.norm(strain)
    return ContinuityPath(crystal, field, strain)


def continuity_checks(adapter, crystal: Crystal, claim, *, name: str, group: int, rng: np.random.Generator,  # noqa: PLR0913
                      count: int, timeout: "float | None" = None, float64=None, symprec: "float | None" = None
                      ) -> tuple[list, list, float]:
    """The ``continuity`` checks of one crystal: (checks, model errors, seconds in the model).

    ``count`` paths (:func:`continuity_path`, evaluated at the steps h and h / 2); per path and
    quantity (energy, forces and stress as the claim and the model have them) one check, the
    persistent fourth difference P of the output (:func:`persistent_difference`) in its own (fixed)
    Cartesian frame. The check's detail gives D(h) and D(h / 2) (and D(h / 4) when refined); a failed
    path's detail also names the space groups spglib detects along it at ``symprec`` when there are
    several (:func:`~crystal_fourier.runtime.standardize`): a model that standardizes with a tolerance
    jumps where the detected group switches.

    The parameters and the result are those of
    :func:`~crystal_fourier.audit._derivatives.derivative_checks`, but ``count`` counts paths, a failed
    path is rerun (both steps) in the ``float64`` twin, and ``symprec`` (default
    :data:`~crystal_fourier.runtime.DEFAULT_SYMPREC`) is the tolerance (A) of the group annotation.
    """
    from crystal_fourier.audit._audit import Check
    from crystal_fourier.audit._calls import ModelError

    relative = CONTINUITY_TOLERANCE[np.dtype(adapter.dtype)]
    quantities = [q for q in ("energy", "forces", "stress") if q == "energy" or getattr(claim, q)]
    checks, errors, seconds = [], [], 0.0
    for _ in range(count):
        path = continuity_path(crystal, rng)
        found, failed, spent = _judged(adapter, path, quantities, relative, timeout)
        seconds += spent
        if failed is not None:
            errors.append(ModelError(name, KIND, path.label, failed))
            continue
        above = [q for q, (error, scale, _) in found.items() if error > relative * scale]
        rerun = {} if float64 is None or not above else _judged(
            float64, path, above, CONTINUITY_TOLERANCE[np.dtype(np.float64)], None)[0]
        failing = [q for q in above if q not in rerun or rerun[q][0] > CONTINUITY_TOLERANCE[np.dtype(np.float64)]
                   * found[q][1]]
        groups = _groups(path, symprec) if failing else ""
        for quantity, (error, scale, steps) in found.items():
            twin = rerun[quantity][0] if quantity in rerun else None
            differences = ", ".join(f"D({step}) {value:.3g}" for step, value in zip(STEPS, steps, strict=False))
            detail = f"{differences}{groups if quantity in failing else ''}"
            checks.append(Check(name, group, KIND, path.label, quantity, error, scale, relative * scale, twin,
                                CONTINUITY_TOLERANCE[np.dtype(np.float64)] * scale, detail))
    return checks, errors, seconds


def _judged(adapter, path: ContinuityPath, quantities: list, relative: float, timeout: "float | None"
            ) -> tuple[dict, "str | None", float]:
    """quantity -> (P, scale, D per step) of one path, refined to h/4 for the quantities that fail at h/2.

    Returns the checks, the first model error (None when every call succeeded) and the seconds in the model.
    """
    from crystal_fourier.audit._calls import guarded_calls

    fine = np.linspace(-1.0, 1.0, 2 * CONTINUITY_POINTS - 1)
    outputs, seconds = guarded_calls(adapter, path.crystals(fine), timeout=timeout)
    failed = next((o for o in outputs if isinstance(o, str)), None)
    if failed is not None:
        return {}, failed, seconds
    found, finer = {}, None
    for quantity in quantities:
        if quantity not in outputs[0]:
            continue
        values = _values(outputs, quantity)
        error, coarse, middle = persistent_difference(values, CONTINUITY_SCREEN_ORDER)
        scale = max(1.0, float(np.max(np.abs(values))))
        steps = (coarse, middle)
        if error > relative * scale:   # one step finer: a jump keeps its size, a sharp smooth feature does not
            if finer is None:
                finer, more = guarded_calls(adapter, path.crystals((fine[1:] + fine[:-1]) / 2), timeout=timeout)
                seconds += more
                failed = next((o for o in finer if isinstance(o, str)), None)
                if failed is not None:
                    return found, failed, seconds
            both = np.empty((2 * len(values) - 1, *values.shape[1:]))
            both[0::2], both[1::2] = values, _values(finer, quantity)
            error, _, smallest = persistent_difference(both, CONTINUITY_ORDER)
            scale = max(scale, float(np.max(np.abs(both))))
            steps = (coarse, middle, smallest)
        found[quantity] = (error, scale, steps)
    return found, None, seconds


def persistent_difference(values: np.ndarray, order: int = CONTINUITY_ORDER) -> tuple[float, float, float]:
    """(P, D(2s), D(s)) of one output sampled along a path at the step s.

    D is the largest |fourth difference| (over the path and the output's components) at the step
    2s (every second sample) and s (every sample); ``P = max(0, (2^q D(s) - D(2s)) / (2^q - 1))``
    with q = ``order``, the part of D(s) that does not shrink like s^q. A jump J gives D = 3J at
    both steps, so P = 3J; a smooth output gives D(2s) = 16 D(s) and P = 0.

    Parameters
    ----------
    values : numpy.ndarray
        Shape (2m + 1, ...): the output at t_0 < t_1 < ... equally spaced, m >= 4.
    order : int
        q: 1 (:data:`CONTINUITY_ORDER`, a kink gives 0) or 2 (:data:`CONTINUITY_SCREEN_ORDER`).

    Returns
    -------
    (float, float, float)

    Examples
    --------
    >>> t = np.linspace(-1, 1, 81)
    >>> persistent_difference(np.sin(t))[0]
    0.0
    >>> round(persistent_difference(np.sin(t) + 0.1 * (t > 0.01))[0], 6)
    0.3
    >>> persistent_difference(np.abs(t - 0.013))[0]    # a kink
    0.0
    """
    values = np.asarray(values, dtype=np.float64)
    fine = float(np.max(np.abs(np.diff(values, n=4, axis=0)), initial=0.0))
    coarse = float(np.max(np.abs(np.diff(values[::2], n=4, axis=0)), initial=0.0))
    shrink = 2.0 ** order
    return max(0.0, (shrink * fine - coarse) / (shrink - 1.0)), coarse, fine


def _groups(path: ContinuityPath, symprec: "float | None") -> str:
    """``'; groups on the path (symprec S): 4, 19'`` when :func:`~crystal_fourier.runtime.standardize` finds several
    along it (step h/2), else ``''``. Its group is what a model that standardizes sees: spglib's at symprec,
    and near a tie (a residual above a fraction of symprec) the least symmetric of four atom orders."""
    from crystal_fourier.errors import CrystalFourierError
    from crystal_fourier.runtime import DEFAULT_SYMPREC, standardize

    symprec = DEFAULT_SYMPREC if symprec is None else float(symprec)
    found = set()
    for crystal in path.crystals(np.linspace(-1.0, 1.0, 2 * CONTINUITY_POINTS - 1)):
        try:
            found.add(standardize(crystal, symprec=symprec, handedness="keep").number)
        except CrystalFourierError:
            found.add(0)
    found.discard(0)
    return f"; groups on the path (symprec {symprec:g}): {', '.join(map(str, sorted(found)))}" if len(found) > 1 else ""


def _values(outputs: list, quantity: str) -> np.ndarray:
    return np.array([np.asarray(o[quantity], dtype=np.float64) for o in outputs])
