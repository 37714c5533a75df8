"""Systematic absences, each with the operation that proves it.

A frequency k is systematically absent iff some operation (R, t) fixes it,
R^T k = k, with k.t not an integer (CONVENTIONS.md): then c_k = e(k.t) c_k
forces c_k = 0 for every invariant function. That operation is the witness.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crystal_fourier.derive._operations import DEN, Operation
from crystal_fourier.derive._orbits import OrbitDecomposition

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["absence_witness", "systematic_absences", "is_witness"]


def absence_witness(decomposition: OrbitDecomposition, orbit: int) -> Operation | None:
    """The operation proving that ``orbit`` is absent, or None if it is present.

    Parameters
    ----------
    decomposition : OrbitDecomposition
        The orbit decomposition of a frequency set under a space group.
    orbit : int
        Index of the orbit in ``decomposition`` (0-based, canonical order).

    Returns
    -------
    Operation or None
        The first operation of the group that fixes the orbit's representative k0 (R^T k0 = k0) with
        k0.t not an integer, or None when the orbit is present.

    Examples
    --------
    >>> from crystal_fourier.derive import basis
    >>> b = basis(4, 1, "box")  # P2_1: (0 1 0) is absent, witness -x,y+1/2,-z
    >>> i = int(b.decomposition.orbit_of[b.frequencies.index([[0, 1, 0]])[0]])
    >>> absence_witness(b.decomposition, i)
    Operation.parse('-x,y+1/2,-z')
    """
    index = int(decomposition.witness[orbit])
    if index < 0:
        return None
    return decomposition.graph.group.operations[index]


def is_witness(operation: Operation, hkl: ArrayLike) -> bool:
    """True iff ``operation`` fixes k = ``hkl`` (R^T k = k) with k.t not an integer.

    Parameters
    ----------
    operation : Operation
        A space-group operation x -> R x + t, t in 24ths.
    hkl : array_like
        Three integers, the frequency k (Miller indices).

    Returns
    -------
    bool
        True iff R^T k = k and k.t is not an integer (exact, modulo 24).

    Examples
    --------
    >>> is_witness(Operation.parse("-x,y+1/2,-z"), (0, 1, 0))
    True
    >>> is_witness(Operation.parse("-x,y+1/2,-z"), (0, 2, 0))
    False
    """
    h = tuple(int(v) for v in hkl)
    image = tuple(sum(operation.rotation[i][j] * h[i] for i in range(3)) for j in range(3))
    phase = sum(a * b for a, b in zip(h, operation.translation_24, strict=True)) % DEN
    return image == h and phase != 0


def systematic_absences(decomposition: OrbitDecomposition) -> list[tuple[tuple[int, int, int], Operation]]:
    """Every absent frequency with its orbit's witness, in canonical order.

    The witness of an orbit is stated for its representative k0; for another
    member m = R^T k0 the conjugate witness is used, so each pair satisfies
    :func:`is_witness` itself.

    Parameters
    ----------
    decomposition : OrbitDecomposition
        The orbit decomposition of a frequency set under a space group.

    Returns
    -------
    list of (tuple of int, Operation)
        One ``((h, k, l), witness)`` pair per absent frequency of the set, in the set's order.
    """
    graph = decomposition.graph
    operations = graph.group.operations
    hkl = graph.frequencies.hkl
    result = []
    for index in range(len(hkl)):
        orbit = int(decomposition.orbit_of[index])
        if not decomposition.absent[orbit]:
            continue
        # A member's own first violating operation: R^T m = m with m.t not integer.
        fixed = (graph.image[index] == index) & (graph.phase_24[index] != 0)
        result.append((tuple(int(v) for v in hkl[index]), operations[int(fixed.argmax())]))
    return result
