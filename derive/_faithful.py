"""Faithful cutoffs: when do the invariant functions tell the group apart?

At a small cutoff every invariant function of G can also be invariant under a
strictly larger group H, so an encoding built from them cannot distinguish
positions that G distinguishes. The *symmetry of the basis* is the set of
candidate operations (R, t) leaving every basis function invariant; the
candidates are the rotations of the lattice's holohedry (the integer matrices
preserving a generic metric of the setting) with translations in 24ths. The
cutoff is *faithful* when that set is exactly G / Z^3.

(R, t) leaves the orbit function psi_O = sum_{m in O} e(phi_m/24) e(m.x)
invariant iff for every member m: R^T m is in O and
phi_{R^T m} = phi_m + 24 (m.t) (mod 24). For fixed R this is a linear system in
t24 over Z/24, solved exactly by filtering the 24^3 candidate translations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive._bases import basis
from crystal_fourier._unimodular import unimodular_matrices
from crystal_fourier.derive._operations import DEN, Operation
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["BasisSymmetry", "basis_symmetry", "holohedry_rotations", "is_faithful", "faithful_cutoff",
           "MAX_FAITHFUL_CUTOFF"]

MAX_FAITHFUL_CUTOFF = 16
"""Largest cutoff :func:`faithful_cutoff` tries before giving up."""

# A fixed, deliberately asymmetric positive-definite integer form; averaging it over the point
# group gives the generic metric of the setting, exactly.
_GENERIC_FORM = np.array([[13, 2, 3], [2, 17, 5], [3, 5, 23]], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class BasisSymmetry:
    """The operations leaving every basis function of a group invariant.

    Attributes
    ----------
    group_order : int
        |G / Z^3|.
    operations : tuple of Operation
        Every candidate (R, t24) leaving the basis invariant (G's own included).
    """

    group_order: int
    operations: tuple[Operation, ...]

    @property
    def faithful(self) -> bool:
        """True iff only G's own operations leave the basis invariant."""
        return len(self.operations) == self.group_order

    @property
    def index(self) -> int:
        """|H| / |G|: 1 when faithful."""
        return len(self.operations) // self.group_order


@lru_cache(maxsize=None)
def holohedry_rotations(hall_number: int) -> np.ndarray:
    """Rotations of the lattice holohedry in a setting, shape=(n, 3, 3), dtype=int64.

    The matrices R with entries in {-1, 0, 1} that preserve the generic metric
    M = sum_{R in P} R^T A R (A a fixed asymmetric integer form), exactly.

    >>> from crystal_fourier.derive import standard_hall_number
    >>> len(holohedry_rotations(standard_hall_number(225))), len(holohedry_rotations(standard_hall_number(194)))
    (48, 24)
    """
    from crystal_fourier.derive._space_groups import space_group

    rotations, _ = space_group(hall_number=hall_number).arrays
    metric = np.einsum("gji,jk,gkl->il", rotations, _GENERIC_FORM, rotations)
    candidates, _ = unimodular_matrices()
    preserved = np.einsum("nji,jk,nkl->nil", candidates, metric, candidates)
    result = candidates[np.all(preserved == metric, axis=(1, 2))]
    result.setflags(write=False)
    return result


@lru_cache(maxsize=None)
def _all_translations() -> np.ndarray:
    return np.array(list(product(range(DEN), repeat=3)), dtype=np.int64)


def _symmetry_solutions(group, cutoff: int, shell: str, hall_number: int | None, stop_above_order: bool):
    """(group order, list of (rotation, translations_24 array)); with ``stop_above_order`` it stops as
    soon as more solutions than |G| are found (enough to decide faithfulness)."""
    derived = basis(group, cutoff, shell, hall_number=hall_number)
    decomposition = derived.decomposition
    hkl = derived.frequencies.hkl
    present = ~decomposition.absent[decomposition.orbit_of]
    members = np.flatnonzero(present)
    phases = decomposition.phase_24
    solutions = []
    total = 0
    for rotation in holohedry_rotations(derived.group.hall_number):
        images = derived.frequencies.index(hkl[members] @ rotation)
        if np.any(images < 0) or np.any(decomposition.orbit_of[images] != decomposition.orbit_of[members]):
            continue
        targets = (phases[images] - phases[members]) % DEN
        candidates = _all_translations()
        # Filtering a few constraints at a time keeps the candidate set tiny after the first chunk.
        for start in range(0, len(members), 8):
            chunk = slice(start, start + 8)
            keep = np.all((candidates @ hkl[members[chunk]].T) % DEN == targets[chunk], axis=1)
            candidates = candidates[keep]
            if not len(candidates):
                break
        if len(candidates):
            solutions.append((rotation, candidates))
            total += len(candidates)
            if stop_above_order and total > len(derived.group.operations):
                break
    return len(derived.group.operations), solutions


def basis_symmetry(group: SpaceGroup | int | str | None, cutoff: int, shell: str = "ball", *,
                   hall_number: int | None = None) -> BasisSymmetry:
    """All candidate operations leaving every basis function of ``group`` invariant.

    Exact integer work: for each holohedry rotation, the orbit condition is
    checked on the present frequencies, then the translations t24 in
    (Z/24)^3 solving m.t24 = phi_{R^T m} - phi_m (mod 24) are kept.

    Parameters
    ----------
    group : SpaceGroup, int, str or None
        The space group (number, symbol or group).
    cutoff : int
        The frequency cutoff.
    shell : str, default "ball"
        ``'ball'`` or ``'box'``.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.

    Returns
    -------
    BasisSymmetry
        The order of G/Z^3 and every operation (translation in 24ths) that fixes the whole basis.

    Examples
    --------
    >>> basis_symmetry(1, 0).index   # only k = 0: +-1 with any translation in 24ths
    27648
    >>> basis_symmetry(225, 5).faithful, basis_symmetry(226, 5).faithful
    (True, False)
    """
    order, solutions = _symmetry_solutions(group, cutoff, shell, hall_number, stop_above_order=False)
    found = [Operation.from_arrays(rotation, t) for rotation, translations in solutions for t in translations]
    return BasisSymmetry(order, tuple(sorted(found, key=_operation_key)))


def _operation_key(operation: Operation):
    return (operation.rotation, operation.translation_24)


def is_faithful(group: SpaceGroup | int | str | None, cutoff: int, shell: str = "ball", *,
                hall_number: int | None = None) -> bool:
    """True iff the basis at ``cutoff`` is invariant under G's operations only.

    Parameters
    ----------
    group : SpaceGroup, int, str or None
        The space group (number, symbol or group).
    cutoff : int
        The frequency cutoff.
    shell : str, default "ball"
        ``'ball'`` or ``'box'``.
    hall_number : int, optional
        Setting (spglib Hall number); the standard setting by default.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_faithful(227, 5), is_faithful(228, 5)
    (True, False)
    """
    order, solutions = _symmetry_solutions(group, cutoff, shell, hall_number, stop_above_order=True)
    return sum(len(t) for _, t in solutions) == order


def faithful_cutoff(group: SpaceGroup | int | str | None, shell: str = "ball", *, hall_number: int | None = None,
                    max_cutoff: int = MAX_FAITHFUL_CUTOFF) -> int:
    """The smallest cutoff at which the basis of ``group`` is faithful.

    Faithful: the operations leaving every basis function invariant are exactly the group's own,
    so the invariant features tell the group apart from every larger one.

    Parameters
    ----------
    group : SpaceGroup, int, str or None
        Number, symbol or :class:`SpaceGroup` (None when ``hall_number`` is given).
    shell : {'ball', 'box'}
        The frequency shell.
    hall_number : int, optional
        Any of the 530 settings instead of ``group``.
    max_cutoff : int
        The largest cutoff tried.

    Returns
    -------
    int
        The smallest faithful cutoff (R = 6 is faithful for every group in the ball shell).

    Raises
    ------
    CrystalFourierError
        If no cutoff up to ``max_cutoff`` is faithful.

    Examples
    --------
    >>> faithful_cutoff(1, "box"), faithful_cutoff(225), faithful_cutoff(228)
    (1, 2, 6)
    """
    for cutoff in range(max_cutoff + 1):
        if is_faithful(group, cutoff, shell, hall_number=hall_number):
            return cutoff
    raise CrystalFourierError(f"no faithful {shell} cutoff <= {max_cutoff} for group {group!r}")
