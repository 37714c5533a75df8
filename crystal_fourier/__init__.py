"""crystal-fourier: exact space-group-invariant Fourier bases and the Crystal Fourier Transformer.

Subpackages follow the data flow derive -> generated -> runtime, with proofs
reading derive's output. Conventions: docs/CONVENTIONS.md (summarised in docs/guide/basis.md).
"""

from typing import TYPE_CHECKING

from crystal_fourier._lazy import lazy_imports
from crystal_fourier._version import GENERATOR_VERSION, __version__
from crystal_fourier.errors import CrystalFourierError

# Loaded on first use from the block below, so that `import crystal_fourier` stays cheap and never
# imports torch or spglib.
if TYPE_CHECKING:
    from crystal_fourier.derive._bases import basis
    from crystal_fourier.derive._space_groups import space_group
    from crystal_fourier.runtime.network._invariant_bases import invariant_basis

__all__ = ["__version__", "GENERATOR_VERSION", "CrystalFourierError", "space_group", "basis", "invariant_basis"]

__getattr__ = lazy_imports(__name__, __file__)
