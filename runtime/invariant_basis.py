"""``invariant_basis``: the flat torch module of one group, shipped or generated on demand.

The shipped sets (generated/ball_5, ball_6, box_2) are imported directly. Any other shell,
cutoff or setting (Hall number) is rendered by the same generator
(:mod:`crystal_fourier.derive.codegen`) into a user cache directory and imported from there;
the cache file is rewritten only when the generator would produce different bytes.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path

import torch

from crystal_fourier._version import __version__
from crystal_fourier.errors import CrystalFourierError

__all__ = ["invariant_basis", "cache_directory"]

_SHELLS = ("ball", "box")


def cache_directory() -> Path:
    """Where modules generated on demand live.

    ``$CRYSTAL_FOURIER_CACHE`` if set, else ``$XDG_CACHE_HOME/crystal-fourier``, else
    ``~/.cache/crystal-fourier``; one subdirectory per generator version.

    >>> cache_directory().name.startswith("generated-")
    True
    """
    root = os.environ.get("CRYSTAL_FOURIER_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) / "crystal-fourier" if xdg else Path.home() / ".cache" / "crystal-fourier"
    return Path(root) / f"generated-{__version__}"


def _shipped_class(shell: str, cutoff: int, number: int):
    """The shipped class of a standard setting, or None if that set is not shipped."""
    package = f"crystal_fourier.generated.{shell}_{cutoff}"
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        return None
    if spec is None:
        return None
    return importlib.import_module(package).basis_class(number)


@lru_cache(maxsize=None)
def _cached_class(shell: str, cutoff: int, hall_number: int):
    """Render (if needed) and import the module of one setting from the cache directory."""
    from crystal_fourier.derive import basis
    from crystal_fourier.derive.codegen import class_name, directory_name, module_name, render_group_module
    from crystal_fourier.derive.writer import write_files

    derived = basis(None, cutoff, shell, hall_number=hall_number)
    path = cache_directory() / directory_name(shell, cutoff) / f"{module_name(derived.group)}.py"
    try:
        write_files({path: render_group_module(derived)})
    except OSError as error:
        raise CrystalFourierError(
            f"cannot write the generated module to {path} ({error}); set CRYSTAL_FOURIER_CACHE to a "
            "writable directory") from None
    name = f"crystal_fourier_cache.{directory_name(shell, cutoff)}.{module_name(derived.group)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return getattr(module, class_name(derived.group))


def invariant_basis(group, cutoff: int = 5, shell: str = "ball", dtype: torch.dtype = torch.float64, *,
                    hall_number: int | None = None) -> torch.nn.Module:
    """The symmetry-adapted real Fourier basis of one space group as a torch module.

    The module maps fractional positions shape=(..., 3) to the ``dim`` real basis functions
    shape=(..., dim) of CONVENTIONS.md, each invariant: f(R x + t) = f(x) for every operation
    of the group; it is differentiable, batched, and works on any device.

    Parameters
    ----------
    group : int or str or SpaceGroup
        Number 1-230 or symbol (standard setting), or a SpaceGroup.
    cutoff : int
        Ball radius R or box size K (default 5, the paper's R).
    shell : {'ball', 'box'}
    dtype : torch.dtype
        Floating dtype the module computes in.
    hall_number : int, optional
        Another setting (1-530); generated on demand.

    Returns
    -------
    torch.nn.Module
        With attributes ``dim``, ``group`` (number), ``hall_number``, ``cutoff``, ``shell``.

    Raises
    ------
    CrystalFourierError
        Unknown group or setting, bad cutoff, shell or dtype, or an unwritable cache.

    Examples
    --------
    >>> import torch
    >>> module = invariant_basis(1, cutoff=2, shell="box")
    >>> module.dim, module(torch.rand(4, 3)).shape
    (125, torch.Size([4, 125]))
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise CrystalFourierError(f"dtype must be a floating torch dtype such as torch.float64, got {dtype!r}")
    if shell not in _SHELLS:
        raise CrystalFourierError(f"unknown shell {shell!r}: expected one of {', '.join(_SHELLS)}")
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 0:
        raise CrystalFourierError(f"cutoff must be an integer >= 0, got {cutoff!r}")
    number = group if isinstance(group, int) and not isinstance(group, bool) and hall_number is None else None
    cls = None
    if number is not None and 1 <= number <= 230:
        cls = _shipped_class(shell, cutoff, number)
    if cls is None:
        from crystal_fourier.derive import space_group

        resolved = space_group(group, hall_number=hall_number)
        if resolved.is_standard:
            cls = _shipped_class(shell, cutoff, resolved.number)
        if cls is None:
            cls = _cached_class(shell, cutoff, resolved.hall_number)
    return cls(dtype=dtype)
