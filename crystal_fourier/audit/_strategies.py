"""Hypothesis strategies for users' own test suites: crystals of any group, re-descriptions, group operations.

Built on :func:`~crystal_fourier.runtime.random_crystal`: a crystal is drawn as (group, atom
bound, seed), so Hypothesis shrinks a failing case towards group 1, fewer atoms and seed 0, i.e.
towards a minimal failing crystal. Needs ``hypothesis`` (in the ``test`` extra).

Examples
--------
>>> from hypothesis import given, settings
>>> @settings(max_examples=3, deadline=None)
... @given(redescribed(kinds=("supercell", "rotation")))
... def test_volume_per_atom(d):
...     assert abs(d.crystal.volume / d.crystal.n_atoms - d.original.volume / d.original.n_atoms) < 1e-9
>>> test_volume_per_atom()
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import assume
from hypothesis import strategies as st

from crystal_fourier.audit._kinds import KINDS, parse_kinds, redescriptions
from crystal_fourier.errors import CrystalFourierError

__all__ = ["crystals", "redescribed", "operations"]


@st.composite
def crystals(draw: st.DrawFn, groups: Iterable[int] = range(1, 231), max_atoms: int = 16):
    """A :class:`~crystal_fourier.runtime.Crystal` of one of ``groups`` with at most ``max_atoms`` atoms.

    Groups whose smallest orbit does not fit are rejected (``assume``), not silently replaced.

    Parameters
    ----------
    groups : iterable of int, default range(1, 231)
        Space-group numbers to draw from.
    max_atoms : int, default 16
        The most atoms in the crystal.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Of :class:`~crystal_fourier.runtime.Crystal`.
    """
    from crystal_fourier.runtime import random_crystal

    group = draw(st.sampled_from(sorted(set(groups))))
    bound = draw(st.integers(min_value=1, max_value=max_atoms))
    seed = draw(st.integers(min_value=0, max_value=2 ** 16))
    try:
        made = random_crystal(group, seed=seed, max_atoms=bound)
    except CrystalFourierError:
        assume(False)
    return made.crystal


@st.composite
def redescribed(draw: st.DrawFn, crystal_strategy: "st.SearchStrategy | None" = None,
                kinds: "Iterable[str] | str" = KINDS):
    """A :class:`~crystal_fourier.audit.Redescription` of a drawn crystal, of one of ``kinds``.

    Kinds without a member for the crystal (a P lattice has no primitive kind) are rejected.

    Parameters
    ----------
    crystal_strategy : hypothesis.strategies.SearchStrategy, optional
        Draws the crystal; :func:`crystals` by default.
    kinds : iterable of str or str, default KINDS
        The kinds to draw from (a comma list as for :func:`parse_kinds`).

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Of :class:`~crystal_fourier.audit.Redescription`.
    """
    crystal = draw(crystals() if crystal_strategy is None else crystal_strategy)
    chosen = parse_kinds(kinds) if isinstance(kinds, str) else parse_kinds(",".join(kinds))
    kind = draw(st.sampled_from(chosen))
    seed = draw(st.integers(min_value=0, max_value=2 ** 16))
    found = redescriptions(crystal, (kind,), rng=seed, per_kind=1)
    assume(found)
    return found[0]


@st.composite
def operations(draw: st.DrawFn, crystal_strategy: "st.SearchStrategy | None" = None):
    """One operation of a drawn crystal's own space group applied to all its atoms (kind ``group``).

    Parameters
    ----------
    crystal_strategy : hypothesis.strategies.SearchStrategy, optional
        Draws the crystal; :func:`crystals` by default.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Of :class:`~crystal_fourier.audit.Redescription`.
    """
    from crystal_fourier.audit._symmetry_redescriptions import _standard, group_operations
    from crystal_fourier.derive import space_group

    crystal = draw(crystals() if crystal_strategy is None else crystal_strategy)
    size = len(space_group(_standard(crystal, None).number).operations)
    index = draw(st.integers(min_value=0, max_value=size - 1))
    return group_operations(crystal, indices=[index])[0]
