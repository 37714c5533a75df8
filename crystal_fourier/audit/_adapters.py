"""Models an audit can call: a Python callable, an ASE calculator, a saved model of this package.

Every adapter maps one :class:`~crystal_fourier.runtime.Crystal` to a dict of outputs in the
crystal's own Cartesian frame: ``energy`` (float, eV for a potential), optionally ``forces``
(shape=(n_atoms, 3)) and ``stress`` (shape=(3, 3), full tensor). ``dtype`` is the precision the
model computes in; ``in_float64()`` returns the same model in float64 where that is possible
(None otherwise), so an audit can tell float32 round-off from a bug. ``spec`` is the text
that :func:`~crystal_fourier.audit.model_from_spec` turns back into the model (reproducer scripts
use it), None when there is none.
Outputs may be numbers, numpy arrays or torch tensors (detached, moved to the CPU and read as float64).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from crystal_fourier._docstrings import complete_docstrings
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal

__all__ = ["ModelAdapter", "CallableModel", "ASEModel", "SavedModel", "torch_dtype"]


class ModelAdapter:
    """Base class: ``adapter(crystal) -> dict``; subclasses implement :meth:`evaluate`.

    ``outputs`` declares outputs beyond energy, forces and stress, name -> how they transform
    (``'vectors'``, ``'tensor'``, ``'pseudovectors'``, ``'pseudotensor'``: see
    :meth:`~crystal_fourier.audit.Redescription.expected`). ``batches`` says that
    :meth:`evaluate_many` is a real batch (the ``batch`` kind checks it against single calls).
    ``symmetry`` is what the model is built to respect (``'E3'``, ``'SE3'``; None: not declared),
    the command's default ``--claim``; ``note`` says why, for the report.
    """

    name: str = "model"
    spec: "str | None" = None
    dtype: np.dtype = np.dtype(np.float64)
    outputs: "Mapping[str, str]" = MappingProxyType({})
    batches: bool = False
    symmetry: "str | None" = None
    note: "str | None" = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        complete_docstrings(cls, ModelAdapter)  # a subclass's methods take their Parameters from here

    def evaluate(self, crystal: Crystal) -> dict:  # pragma: no cover - abstract
        """The outputs for one crystal (see the module docstring).

        Parameters
        ----------
        crystal : Crystal
            The crystal.

        Returns
        -------
        dict
            Quantity name -> value.
        """
        raise NotImplementedError

    def evaluate_many(self, crystals: list[Crystal]) -> list[dict]:
        """Outputs for several crystals (one call each unless a subclass batches).

        Parameters
        ----------
        crystals : list of Crystal
            The crystals.

        Returns
        -------
        list of dict
            One :meth:`evaluate` result per crystal, in order.
        """
        return [self.evaluate(c) for c in crystals]

    def in_float64(self) -> "ModelAdapter | None":
        """The same model computing in float64, or None when the adapter cannot."""
        return self if self.dtype == np.float64 else None

    def __call__(self, crystal: Crystal) -> dict:
        return _checked(self.evaluate(crystal), crystal, self.name)


def _checked(outputs, crystal: Crystal, name: str) -> dict:
    """Outputs as float64 arrays with checked shapes; a bare number is the energy."""
    if not isinstance(outputs, dict):
        outputs = {"energy": outputs}
    result = {}
    shapes = {"energy": (), "forces": (crystal.n_atoms, 3), "stress": (3, 3)}
    for key, raw in outputs.items():
        value = raw.detach().cpu().numpy() if hasattr(raw, "detach") else raw   # torch: grad, GPU
        array = np.asarray(value, dtype=np.float64)
        if key == "stress" and array.shape == (6,):   # Voigt xx yy zz yz xz xy (ASE)
            xx, yy, zz, yz, xz, xy = array
            array = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        if key in shapes and array.shape != shapes[key]:
            raise CrystalFourierError(f"{name}: {key} has shape {array.shape}, expected {shapes[key]}")
        if not np.all(np.isfinite(array)):
            raise CrystalFourierError(f"{name}: {key} is not finite for a crystal of {crystal.n_atoms} atoms")
        result[key] = array
    if "energy" not in result:
        raise CrystalFourierError(f"{name}: outputs must include 'energy', got {sorted(outputs)}")
    return result


class CallableModel(ModelAdapter):
    """Any ``fn(crystal) -> float | dict`` (keys energy, forces, stress).

    >>> m = CallableModel(lambda c: float(c.n_atoms))
    >>> m(Crystal.from_arrays(np.eye(3) * 3, [[0, 0, 0]], ["Cu"]))["energy"].item()
    1.0
    """

    def __init__(self, fn: Callable[[Crystal], "float | dict"], *, name: str | None = None,
                 spec: str | None = None, dtype: "np.typing.DTypeLike" = np.float64,
                 float64: "Callable | None" = None, outputs: "Mapping[str, str] | None" = None) -> None:
        self.fn = fn
        self.outputs = MappingProxyType(dict(outputs or {}))
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.spec = spec
        self.dtype = np.dtype(dtype)
        self._float64 = float64

    def evaluate(self, crystal: Crystal) -> dict:
        """``fn(crystal)``.

        Returns
        -------
        dict or float
            What the callable returns.
        """
        return self.fn(crystal)

    def in_float64(self) -> "ModelAdapter | None":
        """The float64 twin given as ``float64=``, or self when already float64."""
        if self.dtype == np.float64:
            return self
        if self._float64 is None:
            return None
        return CallableModel(self._float64, name=f"{self.name} (float64)", spec=self.spec, outputs=self.outputs)


class ASEModel(ModelAdapter):
    """An ASE calculator: energy, forces, stress. One calculator serves every call (never copied).

    ``calculator`` is a calculator instance, or a class / factory called once here. Before each
    crystal the calculator is ``reset()`` so that no result of another crystal is reused.

    >>> from ase.calculators.emt import EMT
    >>> out = ASEModel(EMT, name="EMT")(Crystal.from_arrays(np.eye(3) * 3.6, [[0, 0, 0]], ["Cu"]))
    >>> sorted(out), out["forces"].shape
    (['energy', 'forces', 'stress'], (1, 3))
    """

    def __init__(self, calculator: object, *, name: str | None = None, spec: str | None = None,
                 properties: "tuple[str, ...]" = ("energy", "forces", "stress"),
                 dtype: "np.typing.DTypeLike | None" = None) -> None:
        if not _is_ase_calculator(calculator):
            label = getattr(calculator, "__name__", type(calculator).__name__)
            try:
                calculator = calculator()
            except Exception as error:   # noqa: BLE001 - a user's class may raise anything
                raise CrystalFourierError(f"cannot create the ASE calculator {label}: "
                                          f"{type(error).__name__}: {error}") from None
            if not _is_ase_calculator(calculator):
                raise CrystalFourierError(f"{label}() gave a {type(calculator).__name__}, not an ASE calculator")
        self.calculator = calculator
        self.name = name or type(calculator).__name__
        self.spec = spec
        self.properties = tuple(properties)
        found = torch_dtype(calculator)
        self.dtype = np.dtype(dtype if dtype is not None else (found or np.float64))

    def evaluate(self, crystal: Crystal) -> dict:
        """Energy (eV), forces (eV/A) and stress (eV/A^3, full 3x3) from the calculator.

        Returns
        -------
        dict
            ``"energy"`` and, when the calculator provides them, ``"forces"`` (shape=(n, 3)) and
            ``"stress"`` (shape=(3, 3)).
        """
        atoms = crystal.to_ase()
        if hasattr(self.calculator, "reset"):
            self.calculator.reset()
        atoms.calc = self.calculator
        outputs = {"energy": atoms.get_potential_energy()}
        if "forces" in self.properties:
            outputs["forces"] = atoms.get_forces()
        if "stress" in self.properties:
            outputs["stress"] = atoms.get_stress(voigt=False)
        return outputs


def _is_ase_calculator(obj: object) -> bool:
    """An instance (not a class) with ASE's calculator methods."""
    return not isinstance(obj, type) and hasattr(obj, "get_potential_energy") and hasattr(obj, "calculate")


def torch_dtype(model: object) -> "np.dtype | None":
    """The floating dtype of the first torch parameter of ``model`` (or of its ``model`` / ``net``
    attribute, as ASE calculators of torch potentials hold them), as numpy's; None when there is none.

    Parameters
    ----------
    model : object
        Any model or calculator.

    Returns
    -------
    numpy.dtype or None

    Examples
    --------
    >>> torch_dtype(lambda crystal: 0.0) is None
    True
    """
    for candidate in (model, getattr(model, "model", None), getattr(model, "net", None),
                      getattr(model, "potential", None)):
        parameters = getattr(candidate, "parameters", None)
        if candidate is None or not callable(parameters):
            continue
        try:
            for parameter in parameters():
                if getattr(parameter, "is_floating_point", lambda: False)():
                    return np.dtype(str(parameter.dtype).removeprefix("torch."))
        except TypeError:   # a parameters() that needs arguments is not torch's
            continue
    return None


class SavedModel(ModelAdapter):
    """A model directory written by ``crystal-fourier train --out DIR``: its scalar target as ``energy``.

    The target is what the model was trained on (often a per-atom quantity): state
    ``Claim(energy="intensive")`` for it. A tensor target (``elastic_tensor``) gives ``elastic``, the rank-4
    stiffness C_ijkl (3, 3, 3, 3) in the crystal's own frame, checked as an equivariant, intensive cell
    tensor (Q on every index), and its Voigt bulk modulus (a rotation invariant, intensive) as ``energy``.
    """

    def __init__(self, directory: "str | Path", *, device: str | None = None) -> None:
        from crystal_fourier.runtime import load_trained

        self.trained = load_trained(directory, device=device)
        self.name = f"saved model {Path(directory).name}"
        self.spec = str(directory)
        self.dtype = np.dtype(np.float32)
        self.batches = True

    def evaluate(self, crystal: Crystal) -> dict:
        """The model's prediction for one crystal.

        Returns
        -------
        dict
            ``{"energy": value}`` for a scalar target; the elastic outputs for the elastic tensor.
        """
        return self.evaluate_many([crystal])[0]

    def evaluate_many(self, crystals: list[Crystal]) -> list[dict]:
        """One batched prediction for all crystals.

        Returns
        -------
        list of dict
            One per crystal, as :meth:`evaluate`.
        """
        if getattr(self, "network64", None) is not None:
            values = self._predict64(list(crystals))
        else:
            values = self.trained.predict_crystals(crystals)
        if self.trained.target.label_shape:
            return [_elastic_outputs(v) for v in values]
        return [{"energy": float(v)} for v in values]

    def in_float64(self) -> "ModelAdapter | None":
        """The same weights run in float64 (a copy of the network, batches collated in float64)."""
        import copy

        twin = copy.copy(self)
        twin.network64 = copy.deepcopy(self.trained.model).double().eval()
        twin.name = f"{self.name} (float64)"
        twin.dtype = np.dtype(np.float64)
        return twin

    def _predict64(self, crystals: list[Crystal]) -> np.ndarray:
        import torch

        from crystal_fourier.runtime import collate, prepare_samples

        target = self.trained.target
        if target.label_shape:
            return self._predict64_in_frames(crystals)
        samples = prepare_samples([(c, {}, str(i)) for i, c in enumerate(crystals)], None, self.trained.config.symprec)
        neighbours = self.trained.config.model.neighbour_spec   # the spec the network was built with
        with torch.no_grad():
            raw = self.network64(collate(samples, dtype=torch.float64, neighbours=neighbours))
        outputs = self.trained.normalizer.denormalize(raw.double().cpu().numpy())
        return 10.0 ** outputs if self.trained.normalizer.log_target else outputs

    def _predict64_in_frames(self, crystals: list[Crystal]) -> np.ndarray:
        """A tensor target's float64 predictions, each rotated back into its crystal's frame."""
        import torch

        from crystal_fourier.runtime import collate, sample_from_standardized, standardize

        target, config, normalizer = self.trained.target, self.trained.config, self.trained.normalizer
        standardized = [standardize(c, symprec=config.symprec, handedness=config.handedness) for c in crystals]
        samples = [sample_from_standardized(s) for s in standardized]
        with torch.no_grad():
            raw = self.network64(collate(samples, dtype=torch.float64, neighbours=config.model.neighbour_spec))
        values = target.to_units(target.denormalize(raw.double().cpu().numpy(), normalizer), normalizer)
        return np.array([target.to_input_frame(v, target.frame(c, s))
                         for v, c, s in zip(values, crystals, standardized, strict=True)])


def _elastic_outputs(voigt: np.ndarray) -> dict:
    """``elastic`` (C_ijkl, shape (3, 3, 3, 3)) and ``energy`` (the Voigt bulk modulus, an invariant) of a Voigt
    matrix (6, 6)."""
    pairs = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
    index = np.empty((3, 3), dtype=np.int64)
    for n, (i, j) in enumerate(pairs):
        index[i, j] = index[j, i] = n
    full = np.asarray(voigt, dtype=np.float64)[index[:, :, None, None], index[None, None, :, :]]
    bulk = float(np.einsum("iijj->", full)) / 9.0
    return {"energy": bulk, "elastic": full}
