"""crystal-fourier: exact space-group-invariant Fourier bases and the Crystal Fourier Transformer.

Subpackages follow the data flow derive -> generated -> runtime, with proofs
reading derive's output. Conventions: docs/CONVENTIONS.md (summarised in docs/guide/basis.md).
"""

from crystal_fourier._lazy import lazy_attributes
from crystal_fourier._version import GENERATOR_VERSION, __version__
from crystal_fourier.errors import CrystalFourierError

__all__ = ["__version__", "GENERATOR_VERSION", "CrystalFourierError", "space_group", "basis", "invariant_basis"]


# Lazy so that `import crystal_fourier` stays cheap and never imports torch or spglib.
__getattr__ = lazy_attributes(__name__, {"space_group": "derive", "basis": "derive",
                                         "invariant_basis": "runtime.network._invariant_bases"})
