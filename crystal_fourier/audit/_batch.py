"""The ``batch`` kind: a batch of crystals gives what single calls give (for adapters that batch).

A batched model pads, concatenates graphs or shares a neighbour list across crystals; an index
that leaks between crystals changes one crystal's outputs only in company. For each audited
crystal the model is called on it alone (:meth:`evaluate`) and in one batch
(:meth:`evaluate_many`) with up to ``count`` partners drawn from the (crystal, kind) stream:
other audited crystals, and the crystal's own 2x1x1 supercell (another size, the same species),
the crystal at a random place in the batch. Each quantity is compared with the identity map,
at the audit tolerance of the model's dtype (:func:`~crystal_fourier.audit.audit_tolerance`).
Adapters that do not batch (``batches`` False) give no checks.
"""

from __future__ import annotations

import numpy as np

from crystal_fourier.runtime import Crystal

__all__ = ["batch_partners", "batch_checks"]

KIND = "batch"


def batch_partners(n_crystals: int, index: int, rng: np.random.Generator, *, count: int) -> list[int]:
    """Indices of the other audited crystals that join crystal ``index`` in its batch (``count - 1`` at most).

    Parameters
    ----------
    n_crystals : int
        How many crystals the audit has.
    index : int
        The crystal checked.
    rng : numpy.random.Generator
        The (crystal, kind) stream of the draw.
    count : int
        Partners in the batch at most (with the crystal's own 2x1x1 supercell).

    Returns
    -------
    list of int
    """
    others = [i for i in range(n_crystals) if i != index]
    return [int(i) for i in rng.permutation(others)[:max(0, count - 1)]] if others else []


def batch_checks(adapter, crystal: Crystal, partners: list[Crystal], claim, *, name: str,  # noqa: PLR0913
                 group: int, rng: np.random.Generator,
                 timeout: "float | None" = None) -> tuple[list, list, float]:
    """The ``batch`` checks of one crystal: (checks, model errors, seconds in the model).

    Parameters
    ----------
    adapter : ModelAdapter
        The model; nothing is checked unless ``adapter.batches``.
    crystal : Crystal
        The crystal checked.
    partners : list of Crystal
        The other crystals of its batch (:func:`batch_partners`).
    claim : Claim
        Which quantities are checked.
    name : str
        The crystal's name in the report.
    group : int
        Its space-group number.
    rng : numpy.random.Generator
        The stream that places the crystal in the batch.
    timeout : float, optional
        Seconds each of the two calls may take.

    Returns
    -------
    (list of Check, list of ModelError, float)
    """
    import time

    from crystal_fourier.audit._adapters import _checked
    from crystal_fourier.audit._audit import Check, _compare
    from crystal_fourier.audit._calls import ModelError, _message, _time_limit
    from crystal_fourier.audit._claims import audit_tolerance
    from crystal_fourier.audit._redescriptions import permuted
    from crystal_fourier.audit._basis_changes import supercell

    if not adapter.batches:
        return [], [], 0.0
    batch = [*partners, supercell(crystal, (2, 1, 1)).crystal]
    place = int(rng.integers(len(batch) + 1))
    batch.insert(place, crystal)
    label = f"at {place} in a batch of {len(batch)} ({', '.join(str(c.n_atoms) for c in batch)} atoms)"
    start = time.perf_counter()
    try:
        with _time_limit(timeout):
            alone = _checked(adapter.evaluate(crystal), crystal, adapter.name)
        with _time_limit(timeout):
            together = _checked(adapter.evaluate_many(batch)[place], crystal, adapter.name)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as error:   # noqa: BLE001 - a user's model may raise anything: it is reported
        return [], [ModelError(name, KIND, label, _message(error))], time.perf_counter() - start
    seconds = time.perf_counter() - start
    same = permuted(crystal, np.arange(crystal.n_atoms))   # the identity map
    checks = [Check(name, group, KIND, label, quantity, error, scale, audit_tolerance(adapter.dtype, scale))
              for quantity, error, scale in _compare(same, alone, together, claim, adapter.outputs)]
    return checks, [], seconds
