"""The group axioms of a setting's operations modulo Z^3, checked with exact integer arithmetic
(closure, identity, inverses, no repeats): every derivation relies on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.derive._operations import DEN, Operation, operations_as_arrays
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["check_group_axioms"]


def check_group_axioms(group: SpaceGroup) -> None:
    """Check that ``group.operations`` is a group modulo Z^3.

    Checks closure (every product is in the set), the identity, inverses, and
    that no two operations coincide. Uses exact integer arithmetic.

    Parameters
    ----------
    group : SpaceGroup
        The group to check; its ``operations`` are read as given (translations in 24ths).

    Returns
    -------
    None

    Raises
    ------
    CrystalFourierError
        Naming the first axiom that fails and the operations involved.

    >>> from crystal_fourier.derive import space_group
    >>> check_group_axioms(space_group(227))
    """
    # Vectorized: all n^2 products at once as integer rows (9 rotation entries,
    # 3 translation numerators mod 24); membership by exact row identity through
    # np.unique. Reads ``group.operations`` itself (not the cached ``arrays``),
    # so a hand-built or perturbed group is checked as given.
    operations = group.operations
    n = len(operations)
    rotations, translations = operations_as_arrays(operations)
    members = np.concatenate([rotations.reshape(n, 9), translations], axis=1)
    if len(np.unique(members, axis=0)) != n:
        raise CrystalFourierError(f"{group}: repeated operations")
    identity = Operation.identity()
    if identity not in set(operations):
        raise CrystalFourierError(f"{group}: the identity x,y,z is missing")

    # Inverses: R^-1 is an integer matrix for a unimodular R; t^-1 = -R^-1 t mod 24.
    inverse_rotations = np.rint(np.linalg.inv(rotations.astype(float))).astype(np.int64)
    inverse_translations = -np.einsum("nij,nj->ni", inverse_rotations, translations) % DEN
    inverses = np.concatenate([inverse_rotations.reshape(n, 9), inverse_translations], axis=1)
    # Products a @ b for every ordered pair, row index a * n + b.
    product_rotations = np.einsum("aij,bjk->abik", rotations, rotations).reshape(n * n, 9)
    product_translations = (np.einsum("aij,bj->abi", rotations, translations)
                            + translations[:, None, :]).reshape(n * n, 3) % DEN
    products = np.concatenate([product_rotations, product_translations], axis=1)

    rows = np.concatenate([members, inverses, products], axis=0)
    _, ids = np.unique(rows, axis=0, return_inverse=True)
    ids = ids.reshape(-1)
    member_ids = ids[:n]
    inverse_missing = ~np.isin(ids[n:2 * n], member_ids)
    product_missing = ~np.isin(ids[2 * n:], member_ids)

    # Report in the order of the pairwise loop: a's inverse, then a @ b for every b.
    first_inverse = int(np.argmax(inverse_missing)) if inverse_missing.any() else n
    first_product = int(np.argmax(product_missing)) if product_missing.any() else n * n
    if first_inverse < n and first_inverse <= first_product // n:
        a = operations[first_inverse]
        raise CrystalFourierError(f"{group}: the inverse of {a.xyz} ({a.inverse().xyz}) is missing")
    if first_product < n * n:
        a, b = operations[first_product // n], operations[first_product % n]
        raise CrystalFourierError(f"{group}: not closed: ({a.xyz}) @ ({b.xyz}) = {(a @ b).xyz} is missing")
