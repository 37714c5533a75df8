"""Bring a crystal to the ITA standard conventional setting of its space group, canonically.

Two steps (CONVENTIONS.md, "Coordinates at run time"):

0. **Atom order.** Near a tolerance threshold spglib's answer depends on the order of its atoms
   (issue 31: a carbon-24 crystal was group 38 or 8 depending on which atom came first), so the
   atoms are first put in one canonical order (:func:`canonical_atom_order`: wrapped, snapped to
   2**-40, sorted by Z, x, y, z); everything below sees the same input for every order of the atoms
   and every lattice image of each atom. When that answer is a near tie (its
   :func:`~crystal_fourier.runtime.symmetry._symmetrization.symmetry_residual` above
   :data:`NEAR_TIE_FRACTION` of symprec), spglib also runs on three fixed re-orderings of that order
   (reversed, half-rotated, both) and the least symmetric answer is kept, so that a near-tie resolves
   the same way for other descriptions of the crystal (origin, frame) more often; otherwise spglib
   runs once.
1. **spglib** detects the group at ``symprec`` and returns the conventional cell in
   *our* Hall setting (``get_symmetry_dataset(cell, symprec, hall_number=...)``;
   spglib's own default is origin choice 1 for the 24 two-origin groups, ours is
   origin choice 2). Its positions are symmetrized exactly.
2. **Canonical choice.** That cell is only determined up to the affine normalizer of
   the group: for P-1 any of the 8 inversion centres may be the origin, for Fd-3m
   the origin may sit on either diamond sublattice, for P4 the c axis may point up
   or down and the origin slide along it. spglib picks one by the input's basis and
   origin, so its output changes when the same crystal is given shifted, in another
   basis or as a primitive cell. Invariant features (functions invariant under G, not
   under the normalizer) would then change too. We therefore enumerate every
   description (M, s): x -> M x + s with M a proper integer isometry of the cell
   that normalizes the point group and keeps the centring, and s solving the exact
   congruences M t + (I - R') s = t' (mod 1, in 48ths) for every operation; slide
   along the polar axes so that the weighted structure factor F(h) of the polar
   frequencies is real and positive; and keep the description whose weighted
   structure factors (Re F(h), Im F(h)) over the box |h| <= 2 are lexicographically
   largest. When candidates tie on all of these (in Pn-3, Pn-3n, Fm-3c and Fd-3c two
   different origins can agree on every |h| <= 2), the one whose atom set, as sorted
   (Z, x, y, z) snapped to a 2**-20 grid, is lexicographically smallest wins: that key
   cannot tie between different atom sets. Every input of the same crystal gives the
   same candidates, so the same choice: the result is unique up to the operations of G
   (which map it to itself).

   The linear parts M are not only isometries of spglib's cell: spglib reduces the cell with
   its tolerance, so when two cells of the lattice are within symprec of a tie (a Pc cell with
   |a + c| = |a|) its choice depends on the input's basis.
   :func:`~crystal_fourier.runtime.symmetry._normalizer._linear_parts` therefore
   reduces the cell itself, among the bases that keep the setting, to the least key
   (a^2 + b^2 + c^2, then a^2, b^2, c^2, then the off-diagonal metric entries: ITA's shortest
   vectors, beta > 90), exactly up to
   :data:`~crystal_fourier.runtime.symmetry._normalizer.METRIC_TIE_TOLERANCE`, and keeps every basis
   that ties on it; the atoms decide between those as above.

The exact symmetrization of step 1 is :mod:`crystal_fourier.runtime.symmetry._symmetrization`, the
choice of step 2 :mod:`crystal_fourier.runtime.symmetry._canonical_choice`; this module runs spglib,
the two steps in order, the handedness rule and the change to another setting.

Memory and time are linear in the atoms times the operations (no atoms x atoms array):
about 0.5 s and 76 MiB for a 2,136-atom Fm-3c cell (bench/bench_standardize.py).

The result is therefore invariant (to float round-off) under permutations of the
atoms, lattice translations of single atoms, rotations of the Cartesian frame,
changes of origin and of basis (another origin choice or axis setting), and giving
a primitive or supercell-free conventional cell. An improper rotation of the frame
gives the mirror image, a different crystal when the crystal is chiral (P4_1 becomes P4_3):
with ``handedness="canonical"`` (the default) both hands give one standardized crystal
(``StandardizedCrystal.reflected`` records the mirror); ``handedness="keep"`` keeps them apart.
"""

from __future__ import annotations

import numpy as np

from crystal_fourier._spglib import check_symprec, symmetry_dataset
from crystal_fourier.derive._space_groups import SpaceGroup, space_group, standard_hall_number
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._structures import Crystal, cell_parameters, lattice_from_parameters
from crystal_fourier.runtime.symmetry._canonical_choice import canonical_description
from crystal_fourier.runtime.symmetry._standardized_crystal import (
    ENANTIOMORPHIC_PARTNERS,
    HANDEDNESS,
    StandardizedCrystal,
)
from crystal_fourier.runtime.symmetry._symmetrization import determinant_3x3, input_frame, inverse_3x3
from crystal_fourier.runtime.symmetry._symmetrization import residual_exceeds, site_assignment, symmetrized
from crystal_fourier.runtime.symmetry._tolerances import (  # the one default (re-exported here)
    DEFAULT_SYMPREC,
    SYMPREC_RETRY_SEQUENCE,
)

__all__ = [
    "DEFAULT_SYMPREC",
    "ENANTIOMORPHIC_PARTNERS",
    "HANDEDNESS",
    "SYMPREC_RETRY_SEQUENCE",
    "StandardizedCrystal",
    "canonical_atom_order",
    "standardize",
    "detect_group",
]

# --------------------------------------------------------------------------- spglib ingress
_SUBJECT = "the crystal"


def _dataset(crystal: Crystal, symprec: float, angle_tolerance: float, hall_number: int = 0):
    try:   # the crystal's own read-only arrays: spglib copies its input (Crystal.spglib_cell would copy them first)
        return symmetry_dataset((crystal.lattice, crystal.positions, crystal.numbers), symprec=symprec,
                                angle_tolerance=angle_tolerance,
                                hall_number=hall_number, subject=_SUBJECT)
    except CrystalFourierError as error:  # the crystal's repr (its formula and cell) only when it is needed
        raise CrystalFourierError(str(error).replace(_SUBJECT, repr(crystal), 1)) from None


def detect_group(crystal: Crystal, *, symprec: float = DEFAULT_SYMPREC, angle_tolerance: float = -1.0) -> int:
    """The space-group number spglib finds for ``crystal`` at ``symprec``.

    Parameters
    ----------
    crystal : Crystal
    symprec : float
        Distance tolerance in Angstrom (:data:`DEFAULT_SYMPREC`).
    angle_tolerance : float
        spglib's angle tolerance in degrees; negative means spglib's own default.

    Raises
    ------
    CrystalFourierError
        If spglib fails (e.g. atoms closer than ``symprec``).

    Examples
    --------
    >>> detect_group(Crystal.from_arrays(3.6 * np.eye(3), [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], [29] * 4))
    225
    """
    return int(_dataset(canonical_atom_order(crystal), symprec, angle_tolerance).number)


def _lattice_from_metric(metric: np.ndarray) -> np.ndarray:
    a, b, c = np.sqrt(metric.diagonal()).tolist()
    g = metric.tolist()
    # Python floats: the IEEE quotients and products of numpy's float64 scalars, without their overhead;
    # min(max(x, -1), 1) is np.clip's (NaN stays NaN)
    cosines = [g[1][2] / (b * c), g[0][2] / (a * c), g[0][1] / (a * b)]
    angles = np.degrees(np.arccos(np.array([min(max(x, -1.0), 1.0) for x in cosines])))
    return lattice_from_parameters(a, b, c, *angles.tolist())


_WRAP_TOLERANCE = 1e-12
"""Fractional coordinates within this of 0 or 1 (round-off of exact special positions) are set to 0."""


def _wrap(positions: np.ndarray) -> np.ndarray:
    wrapped = np.mod(positions, 1.0)
    wrapped[np.abs(wrapped - np.rint(wrapped)) < _WRAP_TOLERANCE] = 0.0   # near 0 or 1 (in [0, 1]) -> 0
    return wrapped


_ORDER_GRID = 2**40
"""Fractional coordinates are snapped to multiples of 1/_ORDER_GRID (9.1e-13: far below any
symprec, above the round-off of x + 1000) before the canonical atom order is taken, so that x
and x + 1 (a lattice translation of one atom) give bit-identical input to spglib."""


def canonical_atom_order(crystal: Crystal) -> Crystal:
    """The same crystal with its atoms in one order that does not depend on the input's order.

    spglib's answer near a tolerance threshold depends on the order of its atoms (which atom it
    starts from); sorting them first makes that answer a function of the crystal. Positions are
    wrapped into [0, 1) and snapped to multiples of 2**-40 (so a lattice translation of one atom
    changes nothing, bit for bit), then sorted by atomic number, then x, y, z. The key is a total
    order on distinct atoms; atoms with equal keys are identical, so ties cannot matter.

    Parameters
    ----------
    crystal : Crystal

    Returns
    -------
    Crystal
        Same lattice; positions in [0, 1) on the 2**-40 grid, sorted by (Z, x, y, z).

    Examples
    --------
    >>> a = Crystal.from_arrays(4 * np.eye(3), [[0.5, 0, 0], [1.0, 0, 0], [0, 0, 0]], ["Cl", "Na", "Cl"])
    >>> b = canonical_atom_order(a)
    >>> b.numbers.tolist(), b.positions.tolist()
    ([11, 17, 17], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.0, 0.0]])
    """
    grid = np.rint(crystal.positions * _ORDER_GRID).astype(np.int64)   # np.round's own ufunc for 0 decimals
    grid = np.mod(grid, _ORDER_GRID)
    order = np.lexsort((grid[:, 2], grid[:, 1], grid[:, 0], crystal.numbers))
    # a Crystal's arrays: its read-only lattice, and positions and numbers made here (taken over, not copied)
    return Crystal._checked(crystal.lattice, grid[order] / _ORDER_GRID, crystal.numbers[order], owned=True)


_IDENTITY = np.eye(3)
_FLIP_C = np.diag([1.0, 1.0, -1.0])
_IDENTITY.setflags(write=False)
_FLIP_C.setflags(write=False)


def standardize(
    crystal: Crystal,
    *,
    symprec: float = DEFAULT_SYMPREC,
    angle_tolerance: float = -1.0,
    declared: SpaceGroup | int | str | None = None,
    hall_number: int | None = None,
    handedness: str = "canonical",
    retry: bool = True,
) -> StandardizedCrystal:
    """The canonical conventional cell of ``crystal`` in the ITA standard setting of its group.

    Satisfies ``standardize(c') == standardize(c)`` (same cell parameters and the same
    positions, to round-off) for every description c' of the same crystal: atoms
    permuted, atoms moved by lattice vectors, frame rotated, origin shifted, another
    basis of the lattice (primitive cell, other axis setting or origin choice).

    Parameters
    ----------
    crystal : Crystal
    symprec : float
        spglib distance tolerance in Angstrom (:data:`DEFAULT_SYMPREC` = 0.1).
    angle_tolerance : float
        spglib angle tolerance in degrees; negative means spglib's default.
    declared : int or str, optional
        The group the caller says the crystal has (number or symbol). It must be the
        group spglib finds at ``symprec``; otherwise this raises, naming both.
    hall_number : int, optional
        Another setting of the detected group (1-530), e.g. origin choice 1. The
        crystal is first made canonical in the standard setting, then transformed
        by spglib, so the result is canonical in that setting too.
    handedness : {"canonical", "keep"}
        "canonical" (default): a crystal and its mirror image standardize to one description.
        Improper normalizer elements of a Sohncke group are candidates of the canonical choice,
        and a crystal of the higher-numbered member of an enantiomorphic pair
        (:data:`ENANTIOMORPHIC_PARTNERS`) is replaced by its mirror image (then ``number`` is
        the partner's); ``reflected`` says when the result is the mirror image of the input.
        "keep": the input's hand is kept (``reflected`` is always False), for targets that are
        not mirror-invariant.
    retry : bool
        When spglib finds no symmetry at ``symprec`` (atoms closer than it, a cell it cannot
        reduce), try each smaller value of :data:`SYMPREC_RETRY_SEQUENCE` in turn (default);
        the one used is ``result.symprec``. False: ``symprec`` only.

    Returns
    -------
    StandardizedCrystal

    Raises
    ------
    CrystalFourierError
        If spglib fails at every tolerance tried, the declared group is not the detected one,
        ``hall_number`` is a setting of another group, or ``handedness`` is not one of
        :data:`HANDEDNESS`.

    Examples
    --------
    >>> a = 3.57
    >>> fcc = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])
    >>> diamond = Crystal.from_arrays(a * np.eye(3), np.vstack([fcc, fcc + .25]), [6] * 8)
    >>> s = standardize(diamond)
    >>> s.number, s.hall_number, s.n_atoms
    (227, 526, 8)
    >>> (s.positions * 8).round().astype(int).tolist()   # in eighths: 8b of origin choice 2
    [[5, 1, 1], [1, 5, 1], [3, 3, 3], [7, 7, 3], [1, 1, 5], [5, 5, 5], [7, 3, 7], [3, 7, 7]]
    """
    if handedness not in HANDEDNESS:
        raise CrystalFourierError(f"handedness must be one of {', '.join(HANDEDNESS)}, got {handedness!r}")
    crystal = canonical_atom_order(crystal)  # spglib's answer may depend on the atom order: give it one
    input_determinant = float(np.linalg.det(crystal.lattice))
    # x_pre = before @ x_in: a left-handed basis is re-described right-handed (c -> -c, the same crystal),
    # and the higher member of an enantiomorphic pair is replaced by its mirror image (x -> -x).
    before = _FLIP_C if input_determinant < 0 else _IDENTITY   # read-only: replaced, never written
    if input_determinant < 0:
        crystal = Crystal(before @ crystal.lattice, crystal.positions @ before, crystal.numbers)
    data, crystal, symprec, prepared = _spglib_answer(crystal, symprec, angle_tolerance, retry)
    number = int(data.number)
    if declared is not None:
        wanted = space_group(declared)
        if wanted.number != number:
            found = space_group(number)
            relation = ("a larger point group than declared" if found.point_group_order > wanted.point_group_order
                        else "not the declared symmetry")
            raise CrystalFourierError(
                f"declared space group {wanted.number} ({wanted.symbol}) is not the group of this structure: "
                f"spglib finds {number} ({found.symbol}) at symprec={symprec} A ({relation}). "
                "Drop the declared group, or change symprec if the structure is noisy")
    if handedness == "canonical" and number in ENANTIOMORPHIC_PARTNERS:
        crystal = Crystal(crystal.lattice, -crystal.positions, crystal.numbers)
        before = -before
        data = _dataset(crystal, symprec, angle_tolerance)
        number = int(data.number)
        prepared = None
    standard = standard_hall_number(number)
    if int(data.hall_number) != standard:  # the 24 groups where spglib's default is origin choice 1
        data = _dataset(crystal, symprec, angle_tolerance, hall_number=standard)
        prepared = None
    if int(data.number) != number:  # pragma: no cover - spglib is self-consistent
        raise CrystalFourierError(f"spglib changed its mind about the group ({number} -> {data.number})")
    std_numbers = np.asarray(data.std_types, dtype=np.int64)
    transformation = np.asarray(data.transformation_matrix, dtype=np.float64)
    origin = np.asarray(data.origin_shift, dtype=np.float64)
    frame, assigned = prepared if prepared is not None else (None, None)
    metric, positions = symmetrized(crystal, data, standard, symprec, assigned=assigned, frame=frame)
    m, shift, positions = canonical_description(positions, std_numbers, metric, standard, proper=handedness == "keep")
    m_inv = inverse_3x3(m)
    lattice = _lattice_from_metric(m_inv.T @ metric @ m_inv)  # basis change that goes with x -> M x
    determinant = determinant_3x3(m) * determinant_3x3(transformation) * determinant_3x3(before)   # its sign only
    transformation = m @ transformation @ before
    origin = m @ origin + shift
    # the output lattice is right-handed (lattice_from_parameters): the map is improper when det T and
    # the input's handedness disagree
    reflected = bool(determinant * input_determinant < 0)
    if reflected and handedness == "keep":  # pragma: no cover - spglib's transformations are proper
        raise CrystalFourierError("standardization reflected the crystal although handedness='keep'")
    result = _finish(lattice, positions, std_numbers, number, standard, symprec, (transformation, origin, reflected))
    if hall_number is None or hall_number == standard:
        return result
    setting = space_group(hall_number=hall_number)
    if setting.number != number:
        raise CrystalFourierError(
            f"hall_number={hall_number} is a setting of group {setting.number} ({setting.symbol}), "
            f"but the structure has group {number} ({space_group(number).symbol})"
            + (" after handedness='canonical' took its mirror image; pass handedness='keep' for a setting of "
               f"{setting.number}" if ENANTIOMORPHIC_PARTNERS.get(setting.number) == number else ""))
    # Setting change from the canonical standard cell: a deterministic function of it.
    data = _dataset(result.crystal, symprec, angle_tolerance, hall_number=hall_number)
    transformation = np.asarray(data.transformation_matrix) @ result.transformation
    origin = np.asarray(data.transformation_matrix) @ result.origin_shift + np.asarray(data.origin_shift)
    return _finish(np.asarray(data.std_lattice), np.asarray(data.std_positions), np.asarray(data.std_types),
                   number, hall_number, symprec, (transformation, origin, result.reflected))


NEAR_TIE_FRACTION = 0.25
"""The re-orderings of :func:`_least_symmetric_order` run only when the canonical order's answer has a
:func:`~crystal_fourier.runtime.symmetry._symmetrization.symmetry_residual` above this fraction of symprec.
Below it no operation is near spglib's threshold, so another order cannot drop one (the least symmetric
answer is the canonical order's); measured on 4,034 answers (spglib's 785 test POSCARs, 1,000 CDVAE test
crystals, 231 noisy random crystals, symprec 0.1 and 0.01): every answer a re-ordering changed had a
residual of at least 0.49 symprec. Above 0.25 at symprec 0.1: 15 of the 785 POSCARs (1.9%), and 44% and 38%
of the first 500 carbon-24 and perov-5 test crystals (relaxed, noisier cells)."""


def _spglib_answer(crystal: Crystal, symprec: float, angle_tolerance: float, retry: bool):
    """(dataset, crystal, symprec used, (input frame, site assignment) or None): spglib's answer for the canonical
    order, or, for a near tie (:data:`NEAR_TIE_FRACTION`), the least symmetric of :func:`_least_symmetric_order`."""
    data, symprec = _dataset_with_retry(crystal, symprec, angle_tolerance, retry)
    frame = input_frame(crystal, data)
    assigned = site_assignment(crystal, data, frame)   # used twice: the near-tie test and (usually) the symmetrization
    prepared = (frame, assigned)
    if residual_exceeds(crystal, data, NEAR_TIE_FRACTION * symprec, assigned, frame):
        chosen, crystal = _least_symmetric_order(data, crystal, symprec, angle_tolerance)
        if chosen is not data:
            data, prepared = chosen, None
    return data, crystal, symprec, prepared


def _least_symmetric_order(data, crystal: Crystal, symprec: float, angle_tolerance: float):
    """(dataset, crystal) of the order, among the canonical one and three fixed re-orderings of it, whose dataset has
    the fewest operations (then the smallest group number; then the first tried).

    :func:`standardize` calls this only for a near tie (:data:`NEAR_TIE_FRACTION`): otherwise the canonical
    order's answer is kept after one spglib call. The decision is a function of the canonical order, so
    the result still does not depend on the input's order.

    Near a tolerance threshold spglib's answer depends on the order of the atoms, so one canonical order
    is one answer, but a different description of the crystal (another origin or frame) sorts into another
    order and may tip to the other side. Trying the reversed and half-rotated orders as well and keeping
    the least symmetric answer makes such a tie resolve the same way far more often; the choice is still a
    function of the canonical order, so still independent of the input's atom order.
    """
    n = crystal.n_atoms
    forward = np.arange(n)
    best_key = (len(data.rotations), int(data.number))
    for order in (forward[::-1], np.roll(forward, n // 2), np.roll(forward[::-1], n // 2)):
        variant = Crystal(crystal.lattice, crystal.positions[order], crystal.numbers[order])
        try:
            other = _dataset(variant, symprec, angle_tolerance)
        except CrystalFourierError:
            continue
        key = (len(other.rotations), int(other.number))
        if key < best_key:
            data, crystal, best_key = other, variant, key
    return data, crystal


def _dataset_with_retry(crystal: Crystal, symprec: float, angle_tolerance: float, retry: bool):
    """spglib's dataset at ``symprec``, else at each smaller value of SYMPREC_RETRY_SEQUENCE: (data, symprec used)."""
    symprec = check_symprec(symprec)
    tolerances = [symprec] + ([t for t in SYMPREC_RETRY_SEQUENCE if t < symprec] if retry else [])
    first_error = None
    for tolerance in tolerances:
        try:
            return _dataset(crystal, tolerance, angle_tolerance), tolerance
        except CrystalFourierError as error:
            first_error = first_error or error
    if len(tolerances) == 1:
        raise first_error
    tried = ", ".join(f"{t:g}" for t in tolerances)
    raise CrystalFourierError(f"{first_error}; no symmetry found at any of symprec = {tried} A either") from None


def _finish(lattice, positions, numbers, number, hall_number, symprec, mapping):
    """The StandardizedCrystal; ``mapping`` = (transformation, origin shift, reflected) from the input."""
    transformation, origin, reflected = mapping
    positions = _wrap(np.asarray(positions, dtype=np.float64))
    # sorted by the positions rounded to 8 decimals: positions.round(8) is rint(x * 1e8) / 1e8, and dividing the
    # integers 0..1e8 by 1e8 keeps them distinct and in order, so rint(x * 1e8) gives the same order, one pass less
    rounded = np.rint(positions * 1e8)
    order = np.lexsort((rounded[:, 0], rounded[:, 1], rounded[:, 2], numbers))
    canonical_lattice = lattice_from_parameters(*cell_parameters(lattice))
    transformation = np.array(transformation, dtype=np.float64)
    origin = np.array(origin, dtype=np.float64)
    transformation.setflags(write=False)
    origin.setflags(write=False)
    return StandardizedCrystal(   # spglib's types are the input's numbers: Crystal._standardized checks the rest
        crystal=Crystal._standardized(canonical_lattice, positions[order], np.asarray(numbers, dtype=np.int64)[order]),
        number=int(number), hall_number=int(hall_number), symprec=float(symprec),
        transformation=transformation, origin_shift=origin, reflected=bool(reflected))
