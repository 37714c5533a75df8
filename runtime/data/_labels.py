"""Labels from a real calculator (ASE's EMT potential), and the columns of a labelled data set.

:func:`emt_labels` scales a crystal isotropically (so its symmetry is kept), finds
the volume of least EMT energy, and fits an equation of state (Birch-Murnaghan,
``ase.eos.EquationOfState``) to a scan around it: the energy per atom at the
equilibrium volume and the bulk modulus B = V d2E/dV2 in GPa.

The labelled random data set that uses them (``make_dataset``) is in
:mod:`~crystal_fourier.runtime.data._random_datasets`.

EMT needs ASE (``pip install ase``; the ``data`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.data._elastic import ELASTIC_COLUMNS
from crystal_fourier.runtime.data._emt import check_emt_elements, emt_calculator
from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["LABEL_COLUMNS", "ELASTIC_LABEL_COLUMNS", "DATASET_TARGETS", "label_columns", "EMTLabels", "emt_labels",
           "ATTEMPTS"]


LABEL_COLUMNS = ("material_id", "cif", "spacegroup", "energy_per_atom", "bulk_modulus")
"""Columns of the data set that ``make_dataset`` writes (target ``"eos"``)."""

DATASET_TARGETS = ("eos", "elastic_tensor")
"""What ``make_dataset`` labels: ``eos`` (energy per atom and EOS bulk modulus) or ``elastic_tensor``
(those plus the 21 components of the EMT elastic tensor and its Voigt-Reuss-Hill moduli)."""

ELASTIC_LABEL_COLUMNS = LABEL_COLUMNS + ELASTIC_COLUMNS + ("bulk_modulus_vrh", "shear_modulus_vrh")
"""Columns of the data set of target ``elastic_tensor``: :data:`LABEL_COLUMNS`, the 21 stiffness components
C_IJ (I <= J, GPa, Voigt order xx, yy, zz, yz, xz, xy, in the Cartesian frame of the row's CIF, which is the
standardized cell's canonical frame: a along x, b in the xy plane) and the Hill bulk and shear moduli (GPa)."""


def label_columns(target: str) -> tuple[str, ...]:
    """The columns of a data set of ``target`` (one of :data:`DATASET_TARGETS`).

    >>> len(label_columns("eos")), len(label_columns("elastic_tensor"))
    (5, 28)
    """
    if target not in DATASET_TARGETS:
        raise CrystalFourierError(f"unknown data-set target {target!r}: expected one of {', '.join(DATASET_TARGETS)}")
    return LABEL_COLUMNS if target == "eos" else ELASTIC_LABEL_COLUMNS

_COARSE_SCALES = np.linspace(0.80, 1.30, 6)    # linear factors of the first search
_FIT_STRAIN = 0.02                               # +-2% linear = +-6% volume around the minimum
_FIT_POINTS = 7
_MIN_SCALE, _MAX_SCALE = 0.5, 2.0                # linear factors beyond which the minimum search gives up
ATTEMPTS = 5                                     # new random crystals tried when a fit fails


@dataclass(frozen=True)
class EMTLabels:
    """EMT labels of one crystal.

    Attributes
    ----------
    energy_per_atom : float
        Energy per atom at the equilibrium volume, eV/atom (EMT's reference: the fcc metals).
    bulk_modulus : float
        Bulk modulus from the equation-of-state fit, GPa.
    volume_per_atom : float
        Equilibrium volume per atom, Angstrom^3.
    scale : float
        Linear factor that takes the given cell to the equilibrium volume.
    """

    energy_per_atom: float
    bulk_modulus: float
    volume_per_atom: float
    scale: float


def emt_labels(crystal: Crystal, *, points: int = _FIT_POINTS, strain: float = _FIT_STRAIN) -> EMTLabels:
    """Energy per atom and bulk modulus of ``crystal`` with ASE's EMT, from an isotropic volume scan.

    The cell is only scaled, never relaxed in shape or positions, so the crystal keeps
    its symmetry: the labels are functions of the structure up to scale, and the same
    for every description of it (they depend on distances only).

    Parameters
    ----------
    crystal : Crystal
        Made of EMT elements only (:data:`EMT_ELEMENTS`).
    points : int
        Volumes in the fit, at least 5.
    strain : float
        Half-width of the fit's scan, as a linear strain (0.02 is +-6% in volume).

    Returns
    -------
    EMTLabels

    Raises
    ------
    CrystalFourierError
        Non-EMT elements, no energy minimum within scale factors 0.5-2, or a failed fit.

    Examples
    --------
    >>> fcc = Crystal.from_arrays(3.6 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [29] * 4)
    >>> labels = emt_labels(fcc)
    >>> round(labels.energy_per_atom, 3), round(labels.bulk_modulus), round(labels.volume_per_atom, 2)
    (-0.007, 134, 11.57)
    """
    check_emt_elements(crystal)
    if points < 5:
        raise CrystalFourierError(f"the equation-of-state fit needs at least 5 points, got {points}")
    from ase.eos import EquationOfState
    from ase.units import GPa

    atoms = crystal.to_ase()
    atoms.calc = emt_calculator()
    cell = np.array(atoms.cell[:])

    def energy(scale: float) -> float:
        atoms.set_cell(cell * scale, scale_atoms=True)
        return float(atoms.get_potential_energy())

    scales = list(_COARSE_SCALES)
    energies = [energy(s) for s in scales]
    # extend the search while the minimum sits on the edge
    while int(np.argmin(energies)) in (0, len(scales) - 1):
        step = scales[1] - scales[0]
        if int(np.argmin(energies)) == 0:
            new = scales[0] - step
            if new < _MIN_SCALE:
                raise CrystalFourierError(f"no EMT energy minimum above scale 0.5 for {crystal!r}")
            scales.insert(0, new)
            energies.insert(0, energy(new))
        else:
            new = scales[-1] + step
            if new > _MAX_SCALE:
                raise CrystalFourierError(f"no EMT energy minimum below scale 2 for {crystal!r} (atoms too far apart)")
            scales.append(new)
            energies.append(energy(new))
    best = int(np.argmin(energies))
    # parabola through the three points around the minimum, then the fit around that
    x, y = np.array(scales[best - 1:best + 2]), np.array(energies[best - 1:best + 2])
    a, b, _ = np.polyfit(x, y, 2)
    center = float(-b / (2 * a)) if a > 0 else float(scales[best])
    factors = center * (1.0 + np.linspace(-strain, strain, points))
    fit_energies = [energy(s) for s in factors]
    volumes = [abs(np.linalg.det(cell)) * s ** 3 for s in factors]
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v0, e0, modulus = EquationOfState(volumes, fit_energies, eos="birchmurnaghan").fit()
    except Exception as error:  # noqa: BLE001 - scipy raises several kinds
        raise CrystalFourierError(f"equation-of-state fit failed for {crystal!r}: {error}") from None
    if not (np.isfinite(v0) and np.isfinite(e0) and np.isfinite(modulus)) or modulus <= 0 \
            or not min(volumes) * 0.9 <= v0 <= max(volumes) * 1.1:
        raise CrystalFourierError(f"equation-of-state fit of {crystal!r} is unphysical (V0={v0}, B={modulus})")
    n = crystal.n_atoms
    return EMTLabels(energy_per_atom=float(e0) / n, bulk_modulus=float(modulus / GPa),
                     volume_per_atom=float(v0) / n, scale=float((v0 / abs(np.linalg.det(cell))) ** (1.0 / 3.0)))
