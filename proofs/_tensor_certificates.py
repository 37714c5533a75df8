"""Certificates of the tensor bases (derive/_tensors.py): invariance, index symmetry, independence, completeness.

For one setting and one kind, four exact checks on derive's output:

1. invariance: every basis tensor T satisfies (R ⊗ ... ⊗ R) T = T (times det R for axial2) for
   every rotation R of the setting, checked on the full 3^rank components in integers (each
   tensor scaled by the least common denominator of its components), by tensor contraction, not
   through the component representation the derivation used;
2. index symmetry: every basis tensor has the index symmetries of its kind (T^{ij} = T^{ji};
   e^{ijk} = e^{ikj}; c^{ijkl} = c^{jikl} = c^{ijlk} = c^{klij});
3. independence: the basis tensors are linearly independent (their pivot components form an
   identity matrix);
4. completeness: their number equals the dimension of the invariant subspace given by the
   character formula dim = (1/|P|) sum_R chi(R), with chi of the tensor representation computed
   from the power traces p_n = tr(R^n) alone (Newton's identities, exact integers):

   * chi_Sym2(R) = (p_1^2 + p_2) / 2                      (symmetric rank 2)
   * chi_axial(R) = det(R) chi_Sym2(R),  det R = (p_1^3 - 3 p_1 p_2 + 2 p_3) / 6
   * chi_piezo(R) = p_1 chi_Sym2(R)                       (V ⊗ Sym^2 V)
   * chi_elastic(R) = (chi_Sym2(R)^2 + chi_Sym2(R^2)) / 2,  chi_Sym2(R^2) = (p_2^2 + p_4) / 2
     (Sym^2(Sym^2 V)).

Independent invariant tensors as many as the invariant subspace has dimensions span it, so 1-4
together prove the basis is exactly the set of allowed tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lcm
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._atomic import atomic_write_text
from crystal_fourier._version import __version__
from crystal_fourier.derive import TENSOR_KINDS, space_group, tensor_basis
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.proofs._certificates import certificate_json

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from crystal_fourier.derive import SpaceGroup, TensorBasis

__all__ = ["TENSOR_CHECKS", "power_traces", "tensor_character", "character_tensor_dimension",
           "check_tensor_invariance", "check_index_symmetry", "check_tensor_independence",
           "tensor_certificate", "TensorResult", "verify_tensors"]

TENSOR_CHECKS = ("invariance", "index_symmetry", "independence", "completeness")

# Index permutations a kind's tensors are symmetric under (axis orders for numpy.transpose).
_INDEX_SYMMETRIES = {
    "symmetric2": ((1, 0),), "axial2": ((1, 0),), "piezoelectric": ((0, 2, 1),),
    "elastic": ((1, 0, 2, 3), (0, 1, 3, 2), (2, 3, 0, 1)),
}


def power_traces(rotation: Sequence[Sequence[int]]) -> tuple[int, int, int, int]:
    """(tr R, tr R^2, tr R^3, tr R^4) of an integer 3x3 matrix, exactly.

    Parameters
    ----------
    rotation : sequence of sequence of int
        A 3x3 integer matrix.

    Returns
    -------
    tuple of int

    Examples
    --------
    >>> power_traces(((0, -1, 0), (1, 0, 0), (0, 0, 1)))   # 4-fold about z
    (1, -1, 1, 3)
    """
    matrix = np.array(rotation, dtype=np.int64)
    power, traces = np.eye(3, dtype=np.int64), []
    for _ in range(4):
        power = power @ matrix
        traces.append(int(np.trace(power)))
    return tuple(traces)


def tensor_character(kind: str, rotation: Sequence[Sequence[int]]) -> int:
    """The character of ``rotation`` on the tensors of ``kind``, from its power traces alone.

    Parameters
    ----------
    kind : str
        One of :data:`TENSOR_KINDS`.
    rotation : sequence of sequence of int
        A 3x3 integer rotation matrix (proper or improper).

    Returns
    -------
    int
        The trace of the rotation's action on the kind's tensors (with det R for ``axial2``).

    Raises
    ------
    CrystalFourierError
        For an unknown kind.

    Examples
    --------
    >>> identity = ((1, 0, 0), (0, 1, 0), (0, 0, 1))
    >>> [tensor_character(kind, identity) for kind in TENSOR_KINDS]
    [6, 18, 21, 6]
    >>> inversion = ((-1, 0, 0), (0, -1, 0), (0, 0, -1))
    >>> [tensor_character(kind, inversion) for kind in TENSOR_KINDS]
    [6, -18, 21, -6]
    """
    p1, p2, p3, p4 = power_traces(rotation)
    sym2 = (p1 * p1 + p2) // 2
    if kind == "symmetric2":
        return sym2
    if kind == "axial2":
        return (p1 ** 3 - 3 * p1 * p2 + 2 * p3) // 6 * sym2
    if kind == "piezoelectric":
        return p1 * sym2
    if kind == "elastic":
        return (sym2 * sym2 + (p2 * p2 + p4) // 2) // 2
    raise CrystalFourierError(f"unknown tensor kind {kind!r}; expected one of {', '.join(TENSOR_KINDS)}")


def character_tensor_dimension(group: SpaceGroup, kind: str) -> int:
    """dim of the invariant tensors = (1/|P|) sum over the distinct rotations R of chi(R), exactly.

    Parameters
    ----------
    group : SpaceGroup
        The space group; only its point group's rotations are used.
    kind : str
        One of :data:`TENSOR_KINDS`.

    Returns
    -------
    int

    Raises
    ------
    CrystalFourierError
        If the sum is not a non-negative multiple of |P| (the rotations would not form a group).

    Examples
    --------
    >>> character_tensor_dimension(space_group(225), "elastic"), character_tensor_dimension(space_group(1), "elastic")
    (3, 21)
    """
    rotations = group.rotations
    total = sum(tensor_character(kind, rotation) for rotation in rotations)
    if total % len(rotations) or total < 0:
        raise CrystalFourierError(f"{group}: character sum {total} of {kind} tensors is not a non-negative "
                                  f"multiple of |P| = {len(rotations)}")
    return total // len(rotations)


def _integer_tensors(basis: TensorBasis) -> list[np.ndarray]:
    """Each basis tensor times the least common denominator of its components, as an int64 array."""
    result = []
    for tensor in basis.tensors:
        flat = np.array(tensor, dtype=object).reshape(-1)
        scale = lcm(*(value.denominator for value in flat))
        result.append(np.array([int(value * scale) for value in flat], dtype=np.int64).reshape((3,) * basis.rank))
    return result


def _act(rotation: np.ndarray, tensor: np.ndarray) -> np.ndarray:
    """(R ⊗ ... ⊗ R) T: contract each index of T with R's column index."""
    result = tensor
    for axis in range(tensor.ndim):
        result = np.moveaxis(np.tensordot(rotation, result, axes=([1], [axis])), 0, axis)
    return result


def check_tensor_invariance(basis: TensorBasis, group: SpaceGroup) -> dict:
    """(R ⊗ ... ⊗ R) T == T (det R times it for axial2) for every basis tensor and rotation, in integers.

    Parameters
    ----------
    basis : TensorBasis
        A derived tensor basis (components in the crystal basis).
    group : SpaceGroup
        The group whose rotations (integer matrices) act.

    Returns
    -------
    dict
        ``{"ok", "pairs_checked", "failures"}`` (at most 20, each a tensor index and rotation).
    """
    failures, checked = [], 0
    for index, tensor in enumerate(_integer_tensors(basis)):
        for rotation in group.rotations:
            matrix = np.array(rotation, dtype=np.int64)
            sign = round(np.linalg.det(matrix)) if basis.kind == "axial2" else 1
            checked += 1
            if not np.array_equal(sign * _act(matrix, tensor), tensor):
                failures.append({"tensor": index, "rotation": [list(row) for row in rotation]})
    return {"ok": not failures, "pairs_checked": checked, "failures": failures[:20]}


def check_index_symmetry(basis: TensorBasis) -> dict:
    """Every basis tensor equals its transposes under the kind's index permutations.

    Parameters
    ----------
    basis : TensorBasis
        A derived tensor basis.

    Returns
    -------
    dict
        ``{"ok", "failures"}`` (at most 20, each a tensor index and the axes it is not symmetric in).
    """
    failures = [{"tensor": index, "axes": list(axes)}
                for index, tensor in enumerate(_integer_tensors(basis))
                for axes in _INDEX_SYMMETRIES[basis.kind] if not np.array_equal(tensor.transpose(axes), tensor)]
    return {"ok": not failures, "failures": failures[:20]}


def check_tensor_independence(basis: TensorBasis) -> dict:
    """The pivot components of the basis form an identity matrix, so the tensors are independent.

    Parameters
    ----------
    basis : TensorBasis
        A derived tensor basis.

    Returns
    -------
    dict
        ``{"ok", "pivots"}``.
    """
    pivots = basis.pivots
    ok = len(set(pivots)) == len(pivots) and all(
        row[pivot] == (r == s) for r, row in enumerate(basis.components) for s, pivot in enumerate(pivots))
    return {"ok": ok, "pivots": list(pivots)}


def tensor_certificate(group: object = None, kind: str = "elastic", *, hall_number: int | None = None) -> dict:
    """The certificate of one setting's basis of ``kind`` tensors: all four checks, exact, JSON-ready.

    Parameters
    ----------
    group : SpaceGroup, int, str or None
        Number, symbol or :class:`~crystal_fourier.derive.SpaceGroup` (None with ``hall_number``).
    kind : str
        One of :data:`~crystal_fourier.derive.TENSOR_KINDS`: ``symmetric2``, ``piezoelectric``,
        ``elastic``, ``axial2``.
    hall_number : int, optional
        Any of the 530 settings instead of ``group``.

    Returns
    -------
    dict
        ``ok``, ``dimension`` and one entry per check (invariance under every rotation, the
        kind's index symmetries, independence, completeness against the character formula).

    Examples
    --------
    >>> c = tensor_certificate(194, "elastic")
    >>> c["ok"], c["dimension"], c["completeness"]["character_formula"]
    (True, 5, 5)
    """
    basis = tensor_basis(group, kind, hall_number=hall_number)
    setting = space_group(hall_number=basis.hall_number)
    expected = character_tensor_dimension(setting, basis.kind)
    checks = {
        "invariance": check_tensor_invariance(basis, setting),
        "index_symmetry": check_index_symmetry(basis),
        "independence": check_tensor_independence(basis),
        "completeness": {"ok": expected == basis.dimension, "dimension": basis.dimension,
                         "character_formula": expected},
    }
    return {
        "generator": f"crystal_fourier {__version__}",
        "sg": setting.number,
        "hall_number": setting.hall_number,
        "symbol": setting.symbol,
        "kind": basis.kind,
        "rank": basis.rank,
        "n_rotations": len(setting.rotations),
        "dimension": basis.dimension,
        "basis": [[str(value) for value in row] for row in basis.components],
        **checks,
        "ok": all(check["ok"] for check in checks.values()),
    }


@dataclass(frozen=True, slots=True)
class TensorResult:
    """Outcome of certifying every tensor kind of one setting: dimensions and the failed (kind, check) pairs."""

    sg: int
    hall_number: int
    symbol: str
    dimensions: tuple[int, ...]
    failed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True iff every check of every kind passed."""
        return not self.failed


def verify_tensors(hall_numbers: Iterable[int], kinds: Iterable[str] = TENSOR_KINDS, *,
                   out: Path | None = None) -> list[TensorResult]:
    """:func:`tensor_certificate` for each setting and kind; ``failed`` names 'kind:check'.

    With ``out``, the certificates of each setting (kind -> certificate) are written atomically to
    ``out/sg{number:03d}_h{hall:03d}_tensors.json``.

    Parameters
    ----------
    hall_numbers : iterable of int
        The settings (1-530).
    kinds : iterable of str
        Tensor kinds, default all four.
    out : Path, optional
        Directory for the certificate files (none written when None).

    Returns
    -------
    list of TensorResult
        One per setting, in order: its dimensions per kind and the failed checks.

    >>> [r.dimensions for r in verify_tensors([1, 523])]
    [(6, 18, 21, 6), (1, 0, 3, 0)]
    """
    kinds = tuple(kinds)
    results = []
    for hall in hall_numbers:
        documents = [tensor_certificate(hall_number=hall, kind=kind) for kind in kinds]
        if out is not None:
            name = f"sg{documents[0]['sg']:03d}_h{hall:03d}_tensors.json"
            atomic_write_text(Path(out) / name, certificate_json({doc["kind"]: doc for doc in documents}))
        failed = tuple(f"{doc['kind']}:{name}" for doc in documents for name in TENSOR_CHECKS if not doc[name]["ok"])
        results.append(TensorResult(sg=documents[0]["sg"], hall_number=hall, symbol=documents[0]["symbol"],
                                    dimensions=tuple(doc["dimension"] for doc in documents), failed=failed))
    return results

