"""Elastic tensors: Voigt notation, rotations, Voigt-Reuss-Hill moduli, symmetry projection, EMT labels.

Conventions (stated once, used by the labels, the tensor head and the benchmarks):

* **Voigt order** xx, yy, zz, yz, xz, xy (indices 1-6 of C11 ... C66), the stiffness
  C_IJ = C_ijkl with I = (ij), J = (kl), in **GPa**.
* **Engineering shear strain**: the Voigt strain vector is (e_xx, e_yy, e_zz, 2 e_yz, 2 e_xz, 2 e_xy),
  so sigma_I = sum_J C_IJ e_J with the symmetric strain tensor e (:func:`voigt_strain`).
* **Stress** sign of ASE: positive in tension, sigma = (1/V) dE/de.
* **Finite strains**: the cell rows L go to L (I + e) (atoms follow in fractional coordinates),
  for each Voigt component J at +-h and +-2h (h = ``strain``, engineering value);
  C_IJ = (8 (sigma_I(h) - sigma_I(-h)) - (sigma_I(2h) - sigma_I(-2h))) / (12 h), the fourth-order central
  difference at h = 0.001 (the two-point one at h = 0.005 leaves an O(h^2) anharmonic error that breaks the
  trigonal and hexagonal relation C66 = (C11 - C12) / 2 by up to 7e-4 relative on the random crystals); then C is
  symmetrized, (C + C^T) / 2 (the crystal is scaled to its EMT volume but keeps a small deviatoric residual
  stress, which breaks the major symmetry at order |sigma_0|).
* **Symmetry**: the allowed tensors of a crystal are the span of
  :func:`crystal_fourier.runtime.cartesian_tensor_basis` (kind ``"elastic"``) in the crystal's
  Cartesian frame; :func:`symmetry_projector` is the orthogonal projector onto that span for the
  Frobenius norm of the full rank-4 tensor (a rotation-invariant norm, so the projection commutes with
  rotations of the frame), and :func:`symmetry_violation` the norm of the part outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.data._emt import check_emt_elements, emt_calculator

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from crystal_fourier.runtime.structure_io._structures import Crystal
    from crystal_fourier.runtime.symmetry._standardized_crystal import StandardizedCrystal

__all__ = [
    "VOIGT_PAIRS",
    "ELASTIC_COLUMNS",
    "ELASTIC_SYMMETRY_TOLERANCE",
    "ElasticTensor",
    "voigt_strain",
    "voigt_to_cartesian",
    "cartesian_to_voigt",
    "rotate_stiffness",
    "voigt_moduli",
    "vrh_moduli",
    "symmetry_projector",
    "project_stiffness",
    "symmetry_violation",
    "frame_rotation",
    "elastic_tensor",
]

VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
"""Cartesian index pairs of the Voigt indices 1-6: xx, yy, zz, yz, xz, xy."""

ELASTIC_COLUMNS = tuple(f"elastic_c{i + 1}{j + 1}" for i in range(6) for j in range(i, 6))
"""Data-set columns of the 21 independent stiffness components C_IJ (I <= J), GPa."""

ELASTIC_SYMMETRY_TOLERANCE = 1e-3
"""Largest relative symmetry violation |C - P C| / |C| (Frobenius, full tensor) accepted for a label.
Measured on 80 random EMT crystals of every crystal system (clamped ions, h = 0.001, at most 16 atoms): below
7e-13 in the triclinic to cubic systems except trigonal (5e-6) and hexagonal (6e-7), whose in-plane isotropy
holds only for the exact linear response: the finite difference's O(h^4) remainder, large where a neighbour
shell sits on EMT's steep cutoff, breaks it slightly (1e-3 at h = 0.005 on one Al3Pd3 crystal). A wrong
strain or Voigt convention gives violations of order 0.1-1 in every group whose allowed tensors tie shear to
normal components (trigonal, hexagonal)."""

DEFAULT_STRAIN = 0.001
"""Engineering strain h of the finite deformations (+-0.1% and +-0.2%)."""

RELAX_FORCE = 1e-4
"""eV/Angstrom: ions count as relaxed when every force is below this (ASE BFGS's fmax)."""

_RELAX_STEPS = 500


def voigt_strain(vector: "ArrayLike") -> np.ndarray:
    """The symmetric strain tensor of a Voigt strain vector with engineering shear.

    (e1..e6) -> [[e1, e6/2, e5/2], [e6/2, e2, e4/2], [e5/2, e4/2, e3]].

    >>> voigt_strain([0, 0, 0, 0.02, 0, 0]).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.01], [0.0, 0.01, 0.0]]
    """
    e = np.asarray(vector, dtype=np.float64)
    return np.array([[e[0], e[5] / 2, e[4] / 2], [e[5] / 2, e[1], e[3] / 2], [e[4] / 2, e[3] / 2, e[2]]])


def voigt_to_cartesian(voigt: "ArrayLike") -> np.ndarray:
    """The rank-4 stiffness C_ijkl of a Voigt matrix, shape=(..., 6, 6) -> (..., 3, 3, 3, 3).

    >>> c = voigt_to_cartesian(np.eye(6))
    >>> float(c[1, 2, 2, 1]), float(c[0, 0, 0, 0]), float(c[0, 1, 0, 0])
    (1.0, 1.0, 0.0)
    """
    voigt = np.asarray(voigt, dtype=np.float64)
    index = np.empty((3, 3), dtype=np.int64)
    for n, (i, j) in enumerate(VOIGT_PAIRS):
        index[i, j] = index[j, i] = n
    return voigt[..., index[:, :, None, None], index[None, None, :, :]]


def cartesian_to_voigt(tensor: "ArrayLike") -> np.ndarray:
    """The Voigt matrix of a rank-4 stiffness, shape=(..., 3, 3, 3, 3) -> (..., 6, 6) (no factors)."""
    tensor = np.asarray(tensor)
    first = np.array([p[0] for p in VOIGT_PAIRS])
    second = np.array([p[1] for p in VOIGT_PAIRS])
    return tensor[..., first[:, None], second[:, None], first[None, :], second[None, :]]


def rotate_stiffness(voigt: "ArrayLike", rotation: "ArrayLike") -> np.ndarray:
    """C' of the frame r' = Q r: C'_ijkl = Q_ia Q_jb Q_kc Q_ld C_abcd, Voigt in and out.

    Parameters
    ----------
    voigt : array_like
        shape=(..., 6, 6): stiffness in Voigt notation (GPa).
    rotation : array_like
        shape=(3, 3): the orthogonal matrix Q.

    Returns
    -------
    numpy.ndarray
        shape=(..., 6, 6), float64, the rotated stiffness (GPa).

    Examples
    --------
    >>> q = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])   # 90 degrees about z: C11 <-> C22
    >>> c = np.zeros((6, 6)); c[0, 0] = 1.0
    >>> float(rotate_stiffness(c, q)[1, 1])
    1.0
    """
    q = np.asarray(rotation, dtype=np.float64)
    full = voigt_to_cartesian(voigt)
    return cartesian_to_voigt(np.einsum("ia,jb,kc,ld,...abcd->...ijkl", q, q, q, q, full))


def voigt_moduli(voigt: "ArrayLike") -> tuple[float, float]:
    """The Voigt bounds (K_V, G_V) of a stiffness, GPa: linear in C, defined for every tensor.

    >>> voigt_moduli(np.diag([3.0, 3, 3, 1, 1, 1]))
    (1.0, 1.2)
    """
    c = np.asarray(voigt, dtype=np.float64)
    k_v = (c[0, 0] + c[1, 1] + c[2, 2] + 2 * (c[0, 1] + c[0, 2] + c[1, 2])) / 9
    g_v = (c[0, 0] + c[1, 1] + c[2, 2] - c[0, 1] - c[0, 2] - c[1, 2] + 3 * (c[3, 3] + c[4, 4] + c[5, 5])) / 15
    return float(k_v), float(g_v)


def vrh_moduli(voigt: "ArrayLike") -> dict[str, float]:
    """Voigt, Reuss and Hill bulk (K) and shear (G) moduli of a stiffness (GPa in, GPa out).

    K_V = (C11+C22+C33 + 2(C12+C13+C23)) / 9, G_V = (C11+C22+C33 - C12-C13-C23 + 3(C44+C55+C66)) / 15;
    with S = C^-1: 1/K_R = S11+S22+S33 + 2(S12+S13+S23),
    15/G_R = 4(S11+S22+S33) - 4(S12+S13+S23) + 3(S44+S55+S66); Hill = the means.
    K_V is also the response to isotropic strain, V d2E/dV2: the equation-of-state bulk modulus
    of a cell scaled with its atoms (clamped ions).

    Parameters
    ----------
    voigt : array_like
        shape=(6, 6): stiffness in Voigt notation (GPa).

    Returns
    -------
    dict of str to float
        ``K_V``, ``K_R``, ``K_VRH``, ``G_V``, ``G_R``, ``G_VRH`` in GPa.

    Raises
    ------
    CrystalFourierError
        If C is singular (no Reuss bounds).

    Examples
    --------
    >>> c = np.zeros((6, 6)); c[:3, :3] = 60.0; c[range(3), range(3)] = 180.0; c[range(3, 6), range(3, 6)] = 60.0
    >>> {k: round(v, 6) for k, v in vrh_moduli(c).items()}
    {'K_V': 100.0, 'K_R': 100.0, 'K_VRH': 100.0, 'G_V': 60.0, 'G_R': 60.0, 'G_VRH': 60.0}
    """
    c = np.asarray(voigt, dtype=np.float64)
    try:
        s = np.linalg.inv(c)
    except np.linalg.LinAlgError:
        raise CrystalFourierError("the stiffness matrix is singular: no Reuss moduli") from None
    k_v, g_v = voigt_moduli(c)
    k_r = 1.0 / (s[0, 0] + s[1, 1] + s[2, 2] + 2 * (s[0, 1] + s[0, 2] + s[1, 2]))
    g_r = 15.0 / (4 * (s[0, 0] + s[1, 1] + s[2, 2]) - 4 * (s[0, 1] + s[0, 2] + s[1, 2])
                  + 3 * (s[3, 3] + s[4, 4] + s[5, 5]))
    return {"K_V": float(k_v), "K_R": float(k_r), "K_VRH": float((k_v + k_r) / 2),
            "G_V": float(g_v), "G_R": float(g_r), "G_VRH": float((g_v + g_r) / 2)}


def symmetry_projector(hall_number: int, lattice: "ArrayLike") -> np.ndarray:
    """Orthonormal basis U of the allowed stiffnesses in the frame of ``lattice``, as flat rank-4 tensors.

    The columns span :func:`crystal_fourier.runtime.cartesian_tensor_basis` (hall_number, lattice,
    "elastic"), orthonormalized (QR, float64) for the Frobenius inner product of 81 components;
    P = U U^T is the orthogonal projector onto the allowed tensors.

    Parameters
    ----------
    hall_number : int
        Setting 1-530 of the crystal's group.
    lattice : array_like
        shape=(3, 3), rows = the conventional cell of that setting in the wanted Cartesian frame.

    Returns
    -------
    numpy.ndarray
        shape=(81, dimension), dtype=float64, orthonormal columns.

    Examples
    --------
    >>> symmetry_projector(523, 4.0 * np.eye(3)).shape   # Fm-3m: C11, C12, C44
    (81, 3)
    """
    from crystal_fourier.runtime.symmetry._tensor_bases import cartesian_tensor_basis

    basis = cartesian_tensor_basis(int(hall_number), np.asarray(lattice, dtype=np.float64), "elastic")
    flat = basis.reshape(len(basis), 81).T
    q, _ = np.linalg.qr(flat)
    return q


def project_stiffness(voigt: "ArrayLike", projector: np.ndarray) -> np.ndarray:
    """The allowed part P C of a Voigt stiffness (shape (..., 6, 6)), P = U U^T of :func:`symmetry_projector`."""
    flat = voigt_to_cartesian(voigt).reshape(*np.shape(voigt)[:-2], 81)
    projected = (flat @ projector) @ projector.T
    return cartesian_to_voigt(projected.reshape(*np.shape(voigt)[:-2], 3, 3, 3, 3))


def symmetry_violation(voigt: "ArrayLike", projector: np.ndarray, *, relative: bool = False) -> "float | np.ndarray":
    """|C - P C| (Frobenius norm of the full rank-4 tensor, GPa), or divided by |C| when ``relative``.

    Zero exactly for an allowed tensor (up to round-off); the norm is that of the 81 components, so it
    does not depend on the frame.

    Parameters
    ----------
    voigt : array_like
        shape=(..., 6, 6): stiffness in Voigt notation (GPa).
    projector : numpy.ndarray
        shape=(81, d): orthonormal columns spanning the allowed tensors, as from
        :func:`symmetry_projector`.
    relative : bool, default False
        Divide by |C|.

    Returns
    -------
    float or numpy.ndarray
        A float for one matrix, else shape=(...).

    Examples
    --------
    >>> u = symmetry_projector(523, 4.0 * np.eye(3))
    >>> c = np.zeros((6, 6)); c[0, 0] = 1.0    # C11 alone is not cubic
    >>> round(float(symmetry_violation(c, u)), 6)
    0.816497
    """
    voigt = np.asarray(voigt, dtype=np.float64)
    flat = voigt_to_cartesian(voigt).reshape(*voigt.shape[:-2], 81)
    rest = flat - (flat @ projector) @ projector.T
    norm = np.linalg.norm(rest, axis=-1)
    if relative:
        norm = norm / np.maximum(np.linalg.norm(flat, axis=-1), np.finfo(np.float64).tiny)
    return float(norm) if norm.ndim == 0 else norm


def frame_rotation(input_lattice: "ArrayLike", standardized: "StandardizedCrystal") -> np.ndarray:
    """The orthogonal Q with r_std = Q r_in between a crystal's Cartesian frame and its standardized one.

    The standardized cell seen in the input frame is L_conv = T^-T L_in (T = ``standardized.transformation``,
    x_std = T x_in + s); its lattice in the canonical frame is L_std = L_conv Q^T up to the symmetrization of
    the metric, so Q is the orthogonal polar factor of (L_conv^-1 L_std)^T. A tensor predicted in the
    standardized frame is C_in = rotate_stiffness(C_std, Q^T).

    Parameters
    ----------
    input_lattice : array_like
        shape=(3, 3), rows = the input crystal's cell (Angstrom).
    standardized : StandardizedCrystal
        Its :func:`~crystal_fourier.runtime.standardize` result.

    Returns
    -------
    numpy.ndarray
        shape=(3, 3), dtype=float64, orthogonal.
    """
    lattice_in = np.asarray(input_lattice, dtype=np.float64)
    conventional = np.linalg.inv(np.asarray(standardized.transformation, dtype=np.float64)).T @ lattice_in
    m = (np.linalg.solve(conventional, np.asarray(standardized.lattice, dtype=np.float64))).T
    u, _, vt = np.linalg.svd(m)
    return u @ vt


@dataclass(frozen=True)
class ElasticTensor:
    """EMT elastic tensor of one crystal.

    Attributes
    ----------
    voigt : numpy.ndarray
        shape=(6, 6), GPa, Voigt order xx, yy, zz, yz, xz, xy, in the Cartesian frame of the crystal given.
    relaxed_ions : bool
        True when the ions were relaxed at every strain (relaxed-ion tensor), False for clamped ions.
    asymmetry : float
        max |C_IJ - C_JI| / max |C_IJ| before the symmetrization (the residual stress's trace).
    symmetry_violation : float
        Relative violation |C - P C| / |C| of the crystal's symmetry (after symmetrization).
    """

    voigt: np.ndarray
    relaxed_ions: bool
    asymmetry: float
    symmetry_violation: float

    @property
    def columns(self) -> dict[str, float]:
        """The 21 components C_IJ (I <= J) under the names of :data:`ELASTIC_COLUMNS`."""
        upper = np.triu_indices(6)
        return dict(zip(ELASTIC_COLUMNS, (float(v) for v in self.voigt[upper]), strict=True))


def _relax(atoms) -> None:
    import logging

    from ase.optimize import BFGS

    logging.getLogger("ase").setLevel(logging.ERROR)
    optimizer = BFGS(atoms, logfile=None)
    if not optimizer.run(fmax=RELAX_FORCE, steps=_RELAX_STEPS):
        raise CrystalFourierError(f"ion relaxation did not reach forces below {RELAX_FORCE} eV/A in "
                                  f"{_RELAX_STEPS} steps")


def elastic_tensor(crystal: "Crystal", hall_number: int, *, strain: float = DEFAULT_STRAIN, relax_ions: bool = False,
                   tolerance: float = ELASTIC_SYMMETRY_TOLERANCE) -> ElasticTensor:
    """EMT stiffness of ``crystal`` from +-``strain`` finite strains (module docstring for the conventions).

    Ions: clamped by default (every atom stays at its fractional position in the strained cell). With
    ``relax_ions`` they are relaxed (ASE BFGS to forces below :data:`RELAX_FORCE`, cell fixed) at the
    reference and at every strain: the relaxed-ion tensor, of the relaxed crystal. Atoms fixed by
    symmetry feel no force, so for crystals without free internal coordinates both agree.

    Parameters
    ----------
    crystal : Crystal
        EMT elements only, in the Cartesian frame the tensor is wanted in.
    hall_number : int
        Setting of its group (the symmetry check uses the allowed tensors of this setting in the
        crystal's frame, so ``crystal`` must be the conventional cell of that setting).
    strain : float
        Engineering strain amplitude.
    relax_ions : bool
        Relaxed-ion tensor (True) or clamped-ion tensor (False, the default).
    tolerance : float
        Largest relative symmetry violation accepted (:data:`ELASTIC_SYMMETRY_TOLERANCE`).

    Raises
    ------
    CrystalFourierError
        Non-EMT elements, a failed relaxation, or a tensor that violates the crystal's symmetry
        beyond ``tolerance`` (a wrong convention somewhere).

    Examples
    --------
    >>> from crystal_fourier.runtime.structure_io._structures import Crystal
    >>> cu = Crystal.from_arrays(3.59 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [29] * 4)
    >>> c = elastic_tensor(cu, 523).voigt
    >>> [round(float(v)) for v in (c[0, 0], c[0, 1], c[3, 3])]   # C11, C12, C44 of EMT Cu, GPa
    [172, 115, 90]
    """
    from ase.units import GPa

    check_emt_elements(crystal)
    atoms = crystal.to_ase()
    atoms.calc = emt_calculator()
    if relax_ions:
        _relax(atoms)
    cell = np.array(atoms.cell[:])
    positions = atoms.get_scaled_positions()
    stiffness = np.zeros((6, 6))
    for j in range(6):
        stresses = []
        for amount in (strain, -strain, 2 * strain, -2 * strain):
            vector = np.zeros(6)
            vector[j] = amount
            atoms.set_cell(cell @ (np.eye(3) + voigt_strain(vector)), scale_atoms=False)
            atoms.set_scaled_positions(positions)
            if relax_ions:
                _relax(atoms)
            sigma = atoms.get_stress(voigt=False)
            stresses.append([sigma[i, k] for i, k in VOIGT_PAIRS])
        plus, minus, plus2, minus2 = np.array(stresses)
        stiffness[:, j] = (8 * (plus - minus) - (plus2 - minus2)) / (12 * strain) / GPa
    scale = float(np.abs(stiffness).max()) or 1.0
    asymmetry = float(np.abs(stiffness - stiffness.T).max()) / scale
    stiffness = (stiffness + stiffness.T) / 2
    violation = symmetry_violation(stiffness, symmetry_projector(hall_number, crystal.lattice), relative=True)
    if not violation <= tolerance:  # NaN fails too
        raise CrystalFourierError(
            f"the elastic tensor of {crystal!r} violates the symmetry of Hall setting {hall_number} by "
            f"{violation:.3g} (relative, Frobenius), more than the tolerance {tolerance:g}: a strain or Voigt "
            "convention is wrong, or the crystal is not in the conventional cell of that setting")
    return ElasticTensor(voigt=stiffness, relaxed_ions=bool(relax_ions), asymmetry=asymmetry,
                         symmetry_violation=float(violation))
