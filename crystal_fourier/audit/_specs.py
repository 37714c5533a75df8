"""A model given as an object or as text: :func:`as_model` and :func:`model_from_spec` pick the adapter.

The adapters live in :mod:`~crystal_fourier.audit._adapters` (callables, ASE, saved models) and
:mod:`~crystal_fourier.audit._pretrained` (CHGNet, SevenNet); this module only dispatches to them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from crystal_fourier.audit._adapters import (
    ASEModel, CallableModel, ModelAdapter, SavedModel, _is_ase_calculator, torch_dtype)
from crystal_fourier.audit._pretrained import pretrained_model
from crystal_fourier.errors import CrystalFourierError

__all__ = ["as_model", "model_from_spec"]


def as_model(model: object) -> ModelAdapter:
    """An adapter for ``model``: an adapter as is, a spec string or path via :func:`model_from_spec`,
    an ASE calculator instance (reused for every call) or class (instantiated once), or any callable
    ``Crystal -> float | dict`` (its dtype read from its torch parameters when it has some).

    Parameters
    ----------
    model : object
        A :class:`ModelAdapter`; a spec string or path (``'ase:EMT'``, a saved model directory); an
        ASE calculator instance or class; or a callable ``Crystal -> float | dict``.

    Returns
    -------
    ModelAdapter

    Raises
    ------
    CrystalFourierError
        For anything else.
    """
    if isinstance(model, ModelAdapter):
        return model
    if isinstance(model, (str, Path)):
        return model_from_spec(str(model))
    if _is_ase_calculator(model) or (isinstance(model, type) and hasattr(model, "get_potential_energy")):
        return ASEModel(model)
    if callable(model):
        return CallableModel(model, dtype=torch_dtype(model) or np.float64)
    raise CrystalFourierError(f"cannot audit a {type(model).__name__}: give a callable Crystal -> float | dict, "
                              "an ASE calculator, a saved model directory, or a spec such as 'ase:EMT'")


def model_from_spec(spec: str) -> ModelAdapter:
    """``DIR`` (saved model), ``ase:NAME`` (ase.calculators.<name lower>.NAME), ``chgnet``, ``sevennet[:NAME]``,
    ``module:callable`` or ``module:Class`` (an ASE calculator class, e.g. ``ase.calculators.emt:EMT``,
    instantiated once).

    Parameters
    ----------
    spec : str
        A directory written by ``crystal-fourier train``; ``ase:NAME`` for an ASE calculator class;
        ``chgnet`` for CHGNet with the weights in its wheel; ``sevennet`` or ``sevennet:NAME`` for a
        SevenNet checkpoint in its wheel (default ``7net-0``); or ``module:callable`` for a function
        ``Crystal -> float | dict`` (``energy``, optionally ``forces`` and ``stress``).

    Returns
    -------
    ModelAdapter
        The model behind one interface: called on a crystal, it returns its energy, forces and
        stress as float arrays (what the model provides).

    Examples
    --------
    >>> model_from_spec("ase:EMT").name
    'EMT'
    """
    if spec in ("chgnet", "sevennet") or spec.startswith("sevennet:"):
        return pretrained_model(spec)
    if spec.startswith("ase:"):
        name = spec[4:]
        try:
            module = importlib.import_module(f"ase.calculators.{name.lower()}")
            factory = getattr(module, name)
        except (ImportError, AttributeError):
            raise CrystalFourierError(f"no ASE calculator {name!r} (expected ase.calculators.{name.lower()}.{name}; "
                                      "is ASE installed?)") from None
        return ASEModel(factory, name=name, spec=spec)
    if Path(spec).is_dir():
        return SavedModel(spec)
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise CrystalFourierError(f"model {spec!r}: expected a saved model directory, ase:NAME, chgnet "
                                  "or module:callable")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise CrystalFourierError(f"model {spec!r}: cannot import {attribute} from {module_name} ({error})") from None
    adapter = as_model(target)
    adapter.spec = spec
    if adapter.name in ("model", "<lambda>"):
        adapter.name = spec
    return adapter
