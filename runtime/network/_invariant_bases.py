"""``invariant_basis``: the torch module of one group, shipped or generated on demand.

The shipped sets (generated/ball_5, ball_6) are imported directly. Any other shell, cutoff or
setting (Hall number) is rendered by the same generator (:mod:`crystal_fourier.derive._codegen`)
into the user cache (:func:`crystal_fourier.cache.cache_directory`) and imported from there under
its real package name (``crystal_fourier.generated.<shell>_<cutoff>.<module>``), so it behaves
like a shipped module: same class layout, picklable. A cache file is rewritten only when the
generator would produce different bytes.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from crystal_fourier.cache import cache_directory, _sync_package_paths
from crystal_fourier.derive._bases import DEFAULT_CUTOFF, DEFAULT_SHELL
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._config import CutoffSpec

if TYPE_CHECKING:
    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["invariant_basis", "cache_directory", "basis_class", "shell_index"]


def _module_path(spec: CutoffSpec, module: str) -> str:
    return f"crystal_fourier.generated.{spec.shell}_{spec.cutoff}.{module}"


def _import_class(spec: CutoffSpec, module: str, name: str):
    """The class if its module is shipped or in the current cache directory, else None.

    A module imported earlier in this process from another cache directory (``$CRYSTAL_FOURIER_CACHE``
    changed) is forgotten, so that the current cache is complete on its own (other processes and
    unpickling read it).
    """
    import sys

    import crystal_fourier.generated as package
    from crystal_fourier.cache import _is_shipped

    full = _module_path(spec, module)
    shipped = Path(package.__file__).resolve().parent
    current = cache_directory()

    def acceptable(origin) -> bool:
        if origin is None:
            return False
        path = Path(origin).resolve()
        return _is_shipped(path, shipped) or path.is_relative_to(current.resolve())

    loaded = sys.modules.get(full)
    if loaded is not None and not acceptable(getattr(loaded, "__file__", None)):
        del sys.modules[full]
    try:
        spec = importlib.util.find_spec(full)
    except ModuleNotFoundError:
        return None
    if spec is None or not acceptable(spec.origin):
        return None
    return getattr(importlib.import_module(full), name)


def _write(files: dict, directory) -> None:
    from crystal_fourier.derive._writer import write_files

    try:
        write_files(files)
    except OSError as error:
        raise CrystalFourierError(
            f"cannot write the generated module to {directory} ({error}); set CRYSTAL_FOURIER_CACHE to a "
            "writable directory") from None
    importlib.invalidate_caches()


@lru_cache(maxsize=None)
def shell_index(spec: CutoffSpec):
    """The generated index package of one set (its shell tables), shipped or rendered into the cache.

    Parameters
    ----------
    spec : CutoffSpec
        The frequency set, validated when it was made.

    Returns
    -------
    module
        ``crystal_fourier.generated.<shell>_<cutoff>``.
    """
    import crystal_fourier.generated  # noqa: F401 - its __path__ holds the cache

    shell, cutoff = spec.shell, spec.cutoff
    _sync_package_paths()
    name = f"crystal_fourier.generated.{shell}_{cutoff}"
    try:
        found = importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        from crystal_fourier.derive._codegen import directory_name, render_index

        directory = cache_directory() / directory_name(shell, cutoff)
        _write({directory / "__init__.py": render_index(shell, cutoff)}, directory)
    return importlib.import_module(name)


@lru_cache(maxsize=None)
def basis_class(spec: CutoffSpec, hall_number: int) -> type:
    """The generated class of one setting: shipped, in the cache, or rendered into the cache now.

    Parameters
    ----------
    spec : CutoffSpec
        The frequency set, validated when it was made.
    hall_number : int
        spglib Hall number, 1-530.

    Returns
    -------
    type
        The generated :class:`~crystal_fourier.kernel.GeneratedBasis` subclass.

    Raises
    ------
    CrystalFourierError
        If the cache directory cannot be written.
    """
    from crystal_fourier.derive import space_group
    from crystal_fourier.derive._codegen import class_name, directory_name, module_name

    group = space_group(None, hall_number=hall_number)
    module, name = module_name(group), class_name(group)
    shell_index(spec)
    shell, cutoff = spec.shell, spec.cutoff
    cls = _import_class(spec, module, name)
    if cls is not None:
        return cls
    from crystal_fourier.derive import basis
    from crystal_fourier.derive._codegen import render_group_module, render_index

    directory = cache_directory() / directory_name(shell, cutoff)
    derived = basis(None, cutoff, shell, hall_number=hall_number)
    _sync_package_paths()
    # The index too: a cache directory is a complete package wherever the set was first imported from.
    _write({directory / "__init__.py": render_index(shell, cutoff),
            directory / f"{module}.py": render_group_module(derived)}, directory)
    cls = _import_class(spec, module, name)
    if cls is None:
        raise CrystalFourierError(
            f"the module generated into {directory} does not import as {_module_path(spec, module)}: "
            "was CRYSTAL_FOURIER_CACHE changed after crystal_fourier.generated was imported?")
    return cls


def invariant_basis(group: SpaceGroup | int | str | None, cutoff: int = DEFAULT_CUTOFF, shell: str = DEFAULT_SHELL,
                    dtype: torch.dtype = torch.float64, *, hall_number: int | None = None) -> torch.nn.Module:
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
    spec = CutoffSpec(shell, cutoff)   # the one check of shell and cutoff
    from crystal_fourier.derive import space_group

    resolved = space_group(group, hall_number=hall_number)
    return basis_class(spec, resolved.hall_number)(dtype=dtype)
