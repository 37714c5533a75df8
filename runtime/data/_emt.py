"""ASE's EMT potential, the labeller of the package's own data sets: its elements and a calculator.

Used by the EOS labels (:mod:`~crystal_fourier.runtime.data._labels`) and the elastic tensors
(:mod:`~crystal_fourier.runtime.data._elastic`); it imports neither, so they form no cycle. ASE is
imported when a calculator is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.structure_io._elements import ELEMENTS
from crystal_fourier.runtime.symmetry._random_crystals import EMT_SPECIES

if TYPE_CHECKING:
    from crystal_fourier.runtime.structure_io._structures import Crystal

__all__ = ["EMT_ELEMENTS", "emt_calculator", "check_emt_elements"]

EMT_ELEMENTS = EMT_SPECIES
"""Elements ASE's EMT potential is parametrized for (its H, C, N, O are for testing only)."""


def emt_calculator():
    """A new ASE EMT calculator; a missing ASE gives one clear error."""
    try:
        from ase.calculators.emt import EMT
    except ImportError:  # pragma: no cover - depends on the environment
        raise CrystalFourierError("EMT labels need ASE: pip install ase (or 'crystal-fourier[data]')") from None
    return EMT()


def check_emt_elements(crystal: Crystal) -> None:
    """Raise :class:`CrystalFourierError` naming the elements of ``crystal`` EMT has no parameters for."""
    bad = sorted({ELEMENTS[z] for z in crystal.numbers.tolist()} - set(EMT_ELEMENTS))
    if bad:
        raise CrystalFourierError(f"EMT has no parameters for {', '.join(bad)}; it covers {', '.join(EMT_ELEMENTS)}")
