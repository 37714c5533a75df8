"""What a model claims, and the tolerance its outputs are held to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crystal_fourier.errors import CrystalFourierError

__all__ = ["AUDIT_TOLERANCE", "Claim", "audit_tolerance"]

AUDIT_TOLERANCE = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}
"""Largest error per dtype, relative to the scale of the output: max(1, max |value|) over the
reference output of that quantity (energy in eV, forces in eV/A, stress in eV/A^3).

Rationale: a model output is a sum over atoms and neighbours, each term rounded once and the
sum reordered by a re-description (another atom order, a supercell of up to 8x the atoms); the
float64 errors measured with ASE's EMT over random crystals of all 230 groups are below 1e-12 of
the scale, so 1e-9 leaves a margin of 1000 while any real violation (a neighbour missed, a
signed volume, fractional coordinates used raw) is of order 1e-3 or more. float32 (eps 1.2e-7)
gets 1e-4: round-off in a float32 network, summed over tens of atoms, reaches ~1e-5 of the
scale; a failure above it in float32 that vanishes in a float64 rerun is reported as round-off.
This is :data:`crystal_fourier.testing.FLOAT_TOLERANCE` (point functions, 1e-12 / 1e-5) widened
for whole-crystal sums."""

SYMMETRIES = ("E3", "SE3")


@dataclass(frozen=True)
class Claim:
    """What the audited model claims; the audit checks exactly this.

    Attributes
    ----------
    symmetry : str
        ``'E3'``: invariant (equivariant) under rotations and reflections of the frame, so a
        mirror image has the same energy; ``'SE3'``: under rotations only (the ``reflection``
        kind is then not checked). Every other kind describes the same crystal in the same
        handedness, so every model must pass it whatever it claims.
    energy : str
        ``'extensive'`` (total energy: a supercell of n cells has n times the energy) or
        ``'intensive'`` (per atom, per volume, or any property of the material).
    forces : bool
        Check forces as equivariant vectors when the model returns them.
    stress : bool
        Check stress as an equivariant, intensive rank-2 tensor when the model returns it.
    kinds : tuple of str or None
        Restrict the claim to these kinds (None: every kind); a narrower claim is stated here,
        never by hiding failures.

    Examples
    --------
    >>> Claim(symmetry="SE3").checks("reflection"), Claim().checks("reflection")
    (False, True)
    """

    symmetry: str = "E3"
    energy: str = "extensive"
    forces: bool = True
    stress: bool = True
    kinds: "tuple[str, ...] | None" = None

    def __post_init__(self) -> None:
        if self.symmetry not in SYMMETRIES:
            raise CrystalFourierError(f"claim symmetry must be E3 or SE3, got {self.symmetry!r}")
        if self.energy not in ("extensive", "intensive"):
            raise CrystalFourierError(f"claim energy must be 'extensive' or 'intensive', got {self.energy!r}")
        if self.kinds is not None:
            from crystal_fourier.audit._kinds import parse_kinds

            object.__setattr__(self, "kinds", parse_kinds(",".join(self.kinds)))

    def checks(self, kind: str) -> bool:
        """Whether the claim covers re-descriptions of ``kind``.

        Parameters
        ----------
        kind : str
            A re-description kind, or ``'derivatives'``.

        Returns
        -------
        bool
        """
        if self.kinds is not None and kind not in self.kinds:
            return False
        if kind == "derivatives":   # forces and stress are derivatives of a total energy only
            return self.energy == "extensive" and (self.forces or self.stress)
        return not (kind == "reflection" and self.symmetry == "SE3")

    def describe(self) -> str:
        """One line, e.g. ``'E3, extensive energy, forces, stress'``."""
        parts = [self.symmetry, f"{self.energy} energy"]
        parts += ["forces"] if self.forces else []
        parts += ["stress"] if self.stress else []
        if self.kinds is not None:
            parts.append("kinds " + ",".join(self.kinds))
        return ", ".join(parts)


def audit_tolerance(dtype: "np.typing.DTypeLike", scale: float) -> float:
    """:data:`AUDIT_TOLERANCE` of ``dtype`` times max(1, ``scale``).

    Parameters
    ----------
    dtype : numpy.typing.DTypeLike
        The model's floating type, float32 or float64.
    scale : float
        The scale of the reference output: max |value| of the quantity (eV, eV/A or eV/A^3).

    Returns
    -------
    float
        The absolute tolerance, in the quantity's unit.

    Raises
    ------
    CrystalFourierError
        For another dtype.

    Examples
    --------
    >>> audit_tolerance(np.float64, 20.0)
    2e-08
    """
    key = np.dtype(dtype)
    if key not in AUDIT_TOLERANCE:
        raise CrystalFourierError(f"no audit tolerance for dtype {key}: expected float32 or float64")
    return AUDIT_TOLERANCE[key] * max(1.0, float(scale))
