"""crystal-fourier: exact space-group-invariant Fourier bases and the Crystal Fourier Transformer.

Subpackages follow the data flow derive -> generated -> runtime, with proofs
reading derive's output. Conventions: CONVENTIONS.md (summarised in README.md).
"""

from crystal_fourier._version import __version__
from crystal_fourier.errors import CrystalFourierError

__all__ = ["__version__", "CrystalFourierError", "space_group", "basis", "invariant_basis"]


def __getattr__(name):
    # Lazy so that `import crystal_fourier` stays cheap and never imports torch or spglib.
    if name in ("space_group", "basis"):
        from crystal_fourier import derive

        return getattr(derive, name)
    if name == "invariant_basis":
        from crystal_fourier.runtime.network._invariant_bases import invariant_basis

        return invariant_basis
    raise AttributeError(f"module 'crystal_fourier' has no attribute {name!r}")
