"""Pretrained potentials of other packages, each an optional extra whose wheel ships the weights.

``CHGNetModel`` (extra ``chgnet``: float32, with a float64 twin, batched) and ``SevenNetModel``
(extra ``sevenn``: an ASE calculator whose checkpoint says whether it was built with parity,
which sets the claim the command checks by default).
"""

from __future__ import annotations

import numpy as np

from crystal_fourier.audit._adapters import ASEModel, ModelAdapter
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal

__all__ = ["CHGNetModel", "SevenNetModel", "pretrained_model"]

GPA_TO_EV_PER_A3 = 1.0 / 160.21766208
CHGNET_BATCH_ATOMS = 48
"""Atoms per CHGNet batch at most: its graphs (bonds and angles) grow fast with the batch; one call
with every description of a 24-atom crystal (supercells included) used over 20 GB."""


def pretrained_model(spec: str) -> ModelAdapter:
    """The adapter of ``chgnet``, ``sevennet`` or ``sevennet:NAME``.

    Parameters
    ----------
    spec : str
        ``'chgnet'``, ``'sevennet'`` (SevenNet-0) or ``'sevennet:NAME'`` (a name SevenNet knows,
        e.g. ``7net-0``, ``7net-l3i5``).

    Returns
    -------
    ModelAdapter
    """
    if spec == "chgnet":
        return CHGNetModel()
    name = spec.partition(":")[2] or "7net-0"
    return SevenNetModel(name)


class CHGNetModel(ModelAdapter):
    """CHGNet's pretrained potential (``pip install 'crystal-fourier[chgnet]'``; weights ship in its wheel)."""

    def __init__(self) -> None:
        try:
            from chgnet.model import CHGNet
        except ImportError:
            raise CrystalFourierError("the chgnet model needs CHGNet: pip install 'crystal-fourier[chgnet]'") from None
        self.model = CHGNet.load(verbose=False)
        self.name = "CHGNet"
        self.spec = "chgnet"
        self.dtype = np.dtype(np.float32)
        self.batches = True

    def evaluate(self, crystal: Crystal) -> dict:
        """Energy (eV, total), forces (eV/A) and stress (GPa -> eV/A^3) of CHGNet.

        Returns
        -------
        dict
            ``"energy"`` (float), ``"forces"`` (shape=(n, 3)), ``"stress"`` (shape=(3, 3)).
        """
        return self.evaluate_many([crystal])[0]

    def evaluate_many(self, crystals: list[Crystal]) -> list[dict]:
        """Batched ``predict_structure`` calls (CHGNet's own batching), :data:`CHGNET_BATCH_ATOMS` atoms at most each.

        Returns
        -------
        list of dict
            One per crystal, as :meth:`evaluate`.
        """
        predictions, chunk, atoms = [], [], 0
        for crystal in [*crystals, None]:
            if chunk and (crystal is None or atoms + crystal.n_atoms > CHGNET_BATCH_ATOMS):
                found = self._predict(chunk[0] if len(chunk) == 1 else chunk)
                predictions += [found] if isinstance(found, dict) else list(found)
                chunk, atoms = [], 0
            if crystal is not None:
                chunk.append(crystal.to_pymatgen())
                atoms += crystal.n_atoms
        return [{"energy": float(p["e"]) * c.n_atoms, "forces": p["f"],
                 "stress": np.asarray(p["s"]) * GPA_TO_EV_PER_A3} for p, c in zip(predictions, crystals, strict=True)]

    def in_float64(self) -> "ModelAdapter | None":
        """The same weights in float64: a double copy of the network, run with CHGNet's module-level
        dtype (``TORCH_DTYPE``, float32) and torch's default dtype set to float64 during each call only."""
        import copy

        twin = copy.copy(self)
        twin.model = copy.deepcopy(self.model).double()
        assemble = twin.model.composition_model._assemble_graphs   # AtomRef casts its features to float32
        twin.model.composition_model._assemble_graphs = lambda graphs: assemble(graphs).double()
        twin.name = f"{self.name} (float64)"
        twin.dtype = np.dtype(np.float64)
        twin.computes_float64 = True
        return twin

    computes_float64 = False

    def _predict(self, structure):
        size = len(structure) if isinstance(structure, list) else 1
        if not self.computes_float64:
            return self.model.predict_structure(structure, batch_size=size)
        with _chgnet_float64():
            return self.model.predict_structure(structure, batch_size=size)


def _chgnet_float64():
    """Context: CHGNet's graph tensors and torch's default dtype in float64, restored on exit."""
    import contextlib
    import importlib

    import torch

    @contextlib.contextmanager
    def switched():
        modules = [importlib.import_module(f"chgnet.{name}") for name in
                   ("graph.converter", "graph.crystalgraph", "model.model", "data.dataset")]
        previous = [m.TORCH_DTYPE for m in modules], torch.get_default_dtype()
        try:
            for module in modules:
                module.TORCH_DTYPE = torch.float64
            torch.set_default_dtype(torch.float64)
            yield
        finally:
            for module, dtype in zip(modules, previous[0], strict=True):
                module.TORCH_DTYPE = dtype
            torch.set_default_dtype(previous[1])

    return switched()


class SevenNetModel(ASEModel):
    """A SevenNet checkpoint (``pip install 'crystal-fourier[sevenn]'``) through its ASE calculator, on the CPU.

    SevenNet builds its equivariant layers with or without parity (the checkpoint's ``is_parity``).
    Without parity (SevenNet-0) the model distinguishes a crystal from its mirror image, so it
    declares ``symmetry='SE3'``: the command's default claim; ``--claim E3`` checks reflections
    (which such a checkpoint fails). With parity it declares E3.

    Parameters
    ----------
    model : str, default '7net-0'
        A pretrained name SevenNet knows, or a checkpoint path.
    """

    def __init__(self, model: str = "7net-0") -> None:
        import warnings

        try:
            from sevenn.calculator import SevenNetCalculator
        except ImportError:
            raise CrystalFourierError("the sevennet model needs SevenNet: "
                                      "pip install 'crystal-fourier[sevenn]'") from None
        with warnings.catch_warnings():   # "no accelerator" and torch load warnings: nothing to act on here
            warnings.simplefilter("ignore")
            try:
                calculator = SevenNetCalculator(model, device="cpu")
            except (ValueError, FileNotFoundError, KeyError) as error:
                raise CrystalFourierError(f"SevenNet model {model!r}: {error}") from None
        spec = "sevennet" if model == "7net-0" else f"sevennet:{model}"
        super().__init__(calculator, name=f"SevenNet {model}", spec=spec)
        self.parity = bool((calculator.sevennet_config or {}).get("is_parity", True))
        self.symmetry = "E3" if self.parity else "SE3"
        self.note = (f"SevenNet {model} is built with parity: claim E3" if self.parity else
                     f"SevenNet {model} is built without parity (is_parity False), so it need not give a mirror "
                     "image the same energy: claim SE3 by default (--claim E3 checks reflections too)")
