"""The registry of targets: which :class:`~crystal_fourier.runtime.learning._target.Target` a target name means.

``TrainConfig.target`` (``train --target``) is a name: :data:`TARGETS` maps the names of the targets
that are not one data-set column (``elastic_tensor``) to their class; every other name is the column of
a :class:`~crystal_fourier.runtime.learning._scalar_target.ScalarTarget`. One table, like ASE's
``ase/io/formats.py``: the targets' modules import only the interface, never each other or this registry.
"""

from __future__ import annotations

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.learning._elastic_target import ELASTIC_TARGET, ElasticTarget
from crystal_fourier.runtime.learning._scalar_target import ScalarTarget
from crystal_fourier.runtime.learning._target import Target

__all__ = ["TARGETS", "target_for"]

TARGETS: dict[str, type[Target]] = {ELASTIC_TARGET: ElasticTarget}
"""Target names that are not a single column, with their class (constructed with its defaults)."""


def target_for(name: str, log_target: bool = False) -> Target:
    """The target that ``TrainConfig(target=name, log_target=...)`` trains.

    Parameters
    ----------
    name : str
        The target's name: a tensor target (``'elastic_tensor'``) or any scalar column.
    log_target : bool, default False
        Train on the logarithm of a positive scalar.

    Returns
    -------
    Target

    Raises
    ------
    CrystalFourierError
        ``log_target`` with a target that has no log scale (the elastic tensor).

    Examples
    --------
    >>> target_for("formation_energy", log_target=True)
    ScalarTarget(name='formation_energy', log_target=True)
    >>> target_for("elastic_tensor")
    ElasticTarget(loss_kind='mse', auxiliary=False)
    """
    if name in TARGETS:
        if log_target:
            raise CrystalFourierError(f"--log-target is not supported with --target {name} (log_target applies to "
                                      "one positive number per crystal)")
        return TARGETS[name]()
    return ScalarTarget(name, log_target)
