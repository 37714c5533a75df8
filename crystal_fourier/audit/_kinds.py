"""The kinds of re-description an audit draws, and one sampler over them."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from crystal_fourier.audit import _basis_changes as bc
from crystal_fourier.audit import _redescriptions as r
from crystal_fourier.audit import _symmetry_redescriptions as sr
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal

__all__ = ["KINDS", "parse_kinds", "redescriptions", "random_groups"]

KINDS = ("permutation", "translation", "origin", "rotation", "reflection", "supercell", "niggli", "unimodular",
         "primitive", "group", "normalizer", "near_degenerate", "derivatives", "continuity", "batch")
"""Every kind, in report order. ``unimodular`` draws det +1 and det -1 (left-handed) bases alternately;
``primitive`` is conventional -> primitive and back; ``reflection`` gives the mirror image.
``derivatives``, ``continuity`` and ``batch`` are no re-descriptions (:func:`redescriptions` gives
nothing for them): forces and stress against central differences of the energy
(:mod:`~crystal_fourier.audit._derivatives`), outputs along a small random path of displacements
and strains (:mod:`~crystal_fourier.audit._continuity`), and a batch against single calls
(:mod:`~crystal_fourier.audit._batch`)."""

_SUPERCELLS = ((2, 1, 1), (1, 2, 1), (1, 1, 2), (2, 2, 1), (1, 2, 2), (2, 1, 2), (2, 2, 2), (3, 1, 1))


def parse_kinds(text: str | None) -> tuple[str, ...]:
    """``'all'`` / None or a comma list of :data:`KINDS` -> a tuple in report order.

    Parameters
    ----------
    text : str or None
        ``'all'``, empty, None, or kinds separated by commas.

    Returns
    -------
    tuple of str
        The chosen kinds in the order of :data:`KINDS`.

    Raises
    ------
    CrystalFourierError
        For an unknown kind.

    Examples
    --------
    >>> parse_kinds("supercell,rotation")
    ('rotation', 'supercell')
    """
    if text is None or text.strip() in ("", "all"):
        return KINDS
    wanted = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise CrystalFourierError(f"unknown kind(s) {', '.join(unknown)}: choose from all, {', '.join(KINDS)}")
    return tuple(k for k in KINDS if k in wanted)


def redescriptions(crystal: Crystal, kinds: "Iterable[str] | str" = KINDS, *, rng: np.random.Generator | int | None = 0,
                   per_kind: int | None = 2, symprec: float | None = None) -> list[r.Redescription]:
    """Up to ``per_kind`` random re-descriptions of ``crystal`` of each kind (all of them when None).

    Deterministic for a given ``rng`` seed. Kinds with finitely many members (group operations,
    normalizer cosets, near-degenerate bases, primitive <-> conventional) are sampled without
    replacement; a kind with no member for this crystal (a P lattice has no primitive kind)
    contributes nothing.

    Parameters
    ----------
    crystal : Crystal
        The crystal to re-describe.
    kinds : iterable of str or str
        Names from :data:`KINDS`, or a comma-separated string of them.
    rng : numpy.random.Generator or int, optional
        The random source or its seed.
    per_kind : int or None
        The most re-descriptions of each kind; None for every member of the finite kinds.
    symprec : float, optional
        Tolerance of the symmetry search of the kinds that need the group (``group``, ``primitive`` ...).

    Returns
    -------
    list of Redescription
        Each with its kind, the new crystal, its exact atom map and frame change.

    Examples
    --------
    >>> c = Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]], ["Cu"] * 4)
    >>> sorted({d.kind for d in redescriptions(c, ("group", "supercell", "primitive"))})
    ['group', 'primitive', 'supercell']
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    count = 10 ** 6 if per_kind is None else int(per_kind)
    found: list[r.Redescription] = []
    for kind in parse_kinds(",".join(kinds)) if not isinstance(kinds, str) else parse_kinds(kinds):
        found.extend(_draw(kind, crystal, rng, count, symprec, exhaustive=per_kind is None))
    return found


def _sample(items, rng, count):
    if len(items) <= count:
        return list(items)
    return [items[i] for i in sorted(rng.choice(len(items), size=count, replace=False).tolist())]


def _draw(kind, crystal, rng, count, symprec, *, exhaustive):  # noqa: PLR0911, PLR0912 - one branch per kind
    n = crystal.n_atoms
    if kind == "permutation":
        return [r.permuted(crystal, rng.permutation(n)) for _ in range(min(count, 8))]
    if kind == "translation":
        return [r.translated_atoms(crystal, rng.integers(-2, 3, size=(n, 3))) for _ in range(min(count, 8))]
    if kind == "origin":
        return [r.origin_shifted(crystal, rng.random(3)) for _ in range(min(count, 8))]
    if kind == "rotation":
        return [r.rotated(crystal, r.random_rotation(rng)) for _ in range(min(count, 8))]
    if kind == "reflection":
        return [r.reflected(crystal, r.random_rotation(rng, proper=False)) for _ in range(min(count, 8))]
    if kind == "supercell":
        chosen = _SUPERCELLS if exhaustive else _sample(_SUPERCELLS[:6], rng, count)
        return [bc.supercell(crystal, repeats) for repeats in chosen]
    if kind == "niggli":
        return [bc.niggli_basis(crystal)]
    if kind == "unimodular":
        return [bc.random_unimodular_basis(crystal, rng, determinant=(-1) ** (i + 1)) for i in range(min(count, 8))]
    if kind == "primitive":
        return list(sr.primitive_and_conventional(crystal, symprec=symprec))[:max(count, 2)]
    if kind == "group":
        if exhaustive:
            return list(sr.group_operations(crystal, symprec=symprec))
        from crystal_fourier.derive import space_group

        size = len(space_group(sr._standard(crystal, symprec).number).operations)
        indices = rng.choice(np.arange(1, size), size=min(count, size - 1), replace=False) if size > 1 else [0]
        return list(sr.group_operations(crystal, symprec=symprec, indices=sorted(int(i) for i in indices)))
    if kind == "normalizer":
        if exhaustive:
            return list(sr.normalizer_cosets(crystal, symprec=symprec))
        return list(sr.normalizer_cosets(crystal, symprec=symprec, limit=count, rng=rng))
    if kind in ("derivatives", "continuity", "batch"):
        return []
    if kind == "near_degenerate":
        return list(sr.near_degenerate_bases(crystal, symprec=symprec, limit=count))
    raise CrystalFourierError(f"unknown kind {kind!r}")  # pragma: no cover - parse_kinds guards it


def random_groups(groups: Iterable[int], count: int, seed: int) -> list[int]:
    """``count`` groups spread over ``groups`` by ``seed``: each group once (random order) per full pass.

    Parameters
    ----------
    groups : iterable of int
        Space-group numbers to draw from (the command's ``--groups``).
    count : int
        How many to draw (``--random N``); more than ``len(groups)`` repeats them, pass by pass.
    seed : int
        The audit's seed; the stream is (seed, 230), apart from the draws of re-descriptions.

    Returns
    -------
    list of int

    >>> sorted(random_groups(range(1, 231), 3, 0)) != [1, 2, 3]
    True
    """
    groups = [int(g) for g in groups]
    if count > 0 and not groups:
        raise CrystalFourierError("no groups to draw random crystals from")
    rng = np.random.default_rng([seed, 230])
    chosen: list[int] = []
    while len(chosen) < count:
        chosen += [groups[i] for i in rng.permutation(len(groups))][:count - len(chosen)]
    return chosen
