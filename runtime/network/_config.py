"""The configuration of a model and of a training run, in one module that does not import torch.

* :class:`CutoffSpec`: the frequency set of the invariant encoding (shell and cutoff), validated once where an
  encoder is made and handed, as one argument, to the table functions below it;
* :class:`ModelConfig`: the transformer's sizes and encoding choices (its ``cutoff_spec`` is a CutoffSpec);
  :data:`MODEL_KINDS` are the model kinds;
* :class:`TrainConfig`: everything that determines a training run, the model's config and the one
  ``symprec`` (the standardization tolerance every sample of the run is made with) included;
* :class:`PretrainConfig`: the settings of the orbit-distance pretraining.

Both are saved as ``config.json`` (:meth:`TrainConfig.to_dict`) and read back by ``from_dict``. The
command line reads their defaults for ``--help`` from here, so no ``--help`` (``train``, ``pretrain``)
imports torch (tests/test_cli.py checks ``sys.modules``).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from crystal_fourier._checks import check_float, check_int
from crystal_fourier.derive._frequency_sets import check_shell_cutoff
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.symmetry._tolerances import DEFAULT_SYMPREC

__all__ = ["MODEL_KINDS", "SHELLS", "TENSOR_HEADS", "MAX_CUTOFF", "ENCODING_CUTOFF", "CutoffSpec", "ModelConfig",
           "TrainConfig", "PretrainConfig"]

MODEL_KINDS = ("cft", "sinusoidal", "augmented", "none")
"""``cft``: invariant routing encoding; ``sinusoidal``: the non-invariant baseline;
``augmented``: the baseline trained with random symmetry operations; ``none``: no positional
encoding at all (tokens are element + neighbourhood; the ablation's floor)."""

MAX_SIZES = {"d_model": 4096, "n_heads": 256, "n_layers": 64, "d_ff": 16384, "d_route": 4096, "d_position": 4096,
             "d_head": 4096, "sinusoidal_frequencies": 64}
"""Largest accepted value of each size: a config (or a config.json) beyond them is refused before anything is built."""
MAX_NEIGHBOUR_CUTOFF = 12.0
"""Largest neighbourhood cutoff, Angstrom (the neighbour lists grow with its cube)."""
_MIN_NEIGHBOUR_CUTOFF = 0.5
"""Smallest neighbourhood cutoff, Angstrom (shorter than any interatomic distance)."""
_MIN_FREQUENCY_DAMPING, _MAX_FREQUENCY_DAMPING = 0.1, 100.0
"""Accepted range of the Gaussian prior's sigma on the positional encoding's frequencies."""
MAX_N_RBF = 128
MAX_CUTOFF = 16
"""Largest frequency cutoff of a model's positional encoding (ball R = 16: about 17,000 frequencies)."""
ENCODING_CUTOFF = 6
"""The default cutoff of the invariant encoding (ball R = 6), written once: :class:`CutoffSpec`, ModelConfig,
RoutingEncoder and SpaceGroupEncoding take it. It is the smallest ball cutoff faithful for all 230 groups
(a sweep test proves it), the demo's and the trained models'. The derivation's default,
``crystal_fourier.derive.DEFAULT_CUTOFF`` (R = 5, the paper's, used by ``basis``, ``invariant_basis`` and the
``--cutoff`` of basis, summary, generate ...), is the other documented default: making them one would change
either the models' encoding or every printed basis."""
MAX_PARAMETERS = 200_000_000
"""Most transformer parameters (0.75 GiB of float32) a config may ask for."""


SHELLS = ("ball", "box")
"""The frequency shells of CONVENTIONS.md ("Frequency sets"): the ball of radius R, the box of size K."""

TENSOR_HEADS = ("symmetric", "free")
"""``ModelConfig.tensor_head``: ``symmetric`` (the output is projected onto the crystal's allowed tensors inside
the model) or ``free`` (the unconstrained 21-component head); :mod:`crystal_fourier.runtime.network._tensor_head`."""


@dataclass(frozen=True)
class CutoffSpec:
    """The frequency set of the invariant encoding: a shell and its cutoff (CONVENTIONS.md, "Frequency sets").

    Made once from the user's values where an encoder is built (``ModelConfig``, ``RoutingEncoder``,
    ``SpaceGroupEncoding``, ``invariant_basis``), with the one check of derive
    (``check_shell_cutoff``); the functions below them (``slot_frequencies``, ``setting_routing``,
    ``shell_index``, ``basis_class``) take the spec as one argument and check nothing again.

    Attributes
    ----------
    shell : str
        ``"ball"`` (radius R) or ``"box"`` (size K).
    cutoff : int
        R or K, an integer >= 0 (a model's is at most :data:`MAX_CUTOFF`, checked by ModelConfig);
        :data:`ENCODING_CUTOFF` by default.

    Examples
    --------
    >>> CutoffSpec("ball", 6)
    CutoffSpec(shell='ball', cutoff=6)
    >>> CutoffSpec("sphere", 6)
    Traceback (most recent call last):
    ...
    crystal_fourier.errors.CrystalFourierError: unknown shell 'sphere': expected one of ball, box
    """

    shell: str = "ball"
    cutoff: int = ENCODING_CUTOFF

    def __post_init__(self) -> None:
        # The one check of derive (same messages everywhere); a numpy integer becomes an int, so equal sets hash equal.
        object.__setattr__(self, "cutoff", check_shell_cutoff(self.shell, self.cutoff))


ADDED_FIELDS = {"neighbourhood": False, "atom_readout": False, "frequency_damping": None, "tensor_head": None,
                "pair_bias_radius": None}
"""Model options added after models were first saved, with the value an older config.json meant."""


@dataclass(frozen=True)
class ModelConfig:
    """Sizes and encoding choices of the crystal transformer (JSON-serialisable).

    The measurements behind the defaults of ``n_rbf`` and ``frequency_damping`` are in docs/results.md,
    "Measurements behind ModelConfig's defaults".

    Attributes
    ----------
    kind : str
        'cft' (invariant routing encoding) or 'sinusoidal' / 'augmented' (the
        non-invariant baseline encoding; 'augmented' differs only in training), or
        'none' (no positional encoding: element and neighbourhood only).
    d_model : int
        Token width (128 by default; the paper uses 128-256).
    n_heads : int
        Attention heads (8).
    n_layers : int
        Pre-LN transformer blocks (3; the paper uses 2-6).
    d_ff : int
        Feed-forward width of each block (256).
    d_route : int
        Output width of the routing (or sinusoidal) features, the first linear
        map of the positional encoder (64). The routing recomputes its
        group-specific weights W_G = W S_G for every group in a batch, at a cost
        proportional to this width, so 64 rather than 128 keeps the invariant
        encoding within 30% of the baseline's training cost (bench/bench_training.py).
    d_position : int
        Hidden width of the positional encoder's MLP (128).
    cutoff, shell, include_constant
        Frequency set of the routing encoder (ball R = 6, k = 0 dropped).
    sinusoidal_frequencies : int
        Baseline only: harmonics m = 1..M per fractional axis (6, matching R).
    d_head : int
        Hidden width of the MLP head (128).
    dropout : float
        Dropout in the transformer blocks (0.0).
    max_element : int
        Largest atomic number accepted (118).
    neighbourhood : bool
        Add the neighbourhood embedding to every token (True). A config.json written
        before this option existed has no such key and loads with False, as it was trained.
    neighbour_cutoff : float
        Angstrom; neighbours closer than this enter the neighbourhood embedding (6.0).
    n_rbf : int
        Gaussian radial basis functions on [0, neighbour_cutoff] (32: spacing and width 0.19
        Angstrom).
    frequency_damping : float or None
        sigma of a fixed Gaussian prior on the positional encoding's frequencies (1.5): the
        weights of frequency n (the routing's slot (h, k, l), or the baseline's harmonic m) are
        a trainable parameter times exp(-|n|^2 / (2 sigma^2)), so the optimiser reaches high
        frequencies only slowly and prefers smooth functions of the positions. The encoding
        keeps every frequency (R = 6 stays faithful) and its invariance; only the
        parametrisation changes. None: no prior (a config.json without the key).
    atom_readout : bool
        Add to the head's output the masked mean of a per-atom MLP of the final tokens (an
        additive, per-atom energy-like readout beside the pooled one). A config.json without
        the key loads with False.
    tensor_head : str or None
        None (the default): one scalar per crystal. ``"symmetric"``: an elastic tensor per crystal, shape
        (6, 6) Voigt, built from the crystal's allowed tensors so that it satisfies its symmetry exactly;
        ``"free"``: the unconstrained 21-component baseline
        (:mod:`crystal_fourier.runtime.network._tensor_head`). Both predict in the standardized frame.
    pair_bias_radius : int or None
        CFT only (3). An integer r in 1-``MAX_CUTOFF``: add to every attention logit between atoms i and j
        the orbit-pair bias sum_n w_h(n) Re(z_n(x_i) conj z_n(x_j)) over the encoder's slots 0 < |n| <= r
        (:mod:`crystal_fourier.runtime.network._pair_bias`): the exact encoding used pairwise, exactly
        invariant, zero at initialisation. None: no pair bias. The other kinds have no invariant slot
        features, so for them the field is stored as None. A config.json without the key loads with None,
        as it was trained. Measured in docs/results.md (issue 20): perov-5 test MAE 0.0776 -> 0.0714,
        carbon-24 and the EMT set within the seeds' spread.
    """

    kind: str = "cft"
    d_model: int = 128
    n_heads: int = 8
    n_layers: int = 3
    d_ff: int = 256
    d_route: int = 64
    d_position: int = 128
    cutoff: int = ENCODING_CUTOFF
    shell: str = "ball"
    include_constant: bool = False
    sinusoidal_frequencies: int = 6
    d_head: int = 128
    dropout: float = 0.0
    max_element: int = 118
    neighbourhood: bool = True
    neighbour_cutoff: float = 6.0
    n_rbf: int = 32
    atom_readout: bool = True
    frequency_damping: float | None = 1.5
    tensor_head: str | None = None
    pair_bias_radius: int | None = 3

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise CrystalFourierError(f"unknown model kind {self.kind!r}: expected one of {', '.join(MODEL_KINDS)}")
        for name, largest in MAX_SIZES.items():
            check_int(f"model size {name}", getattr(self, name), 1, largest)
        CutoffSpec(self.shell, self.cutoff)   # the one check of shell and cutoff; then a model's own bound
        check_int("model cutoff", self.cutoff, 0, MAX_CUTOFF)
        if not isinstance(self.include_constant, bool):
            raise CrystalFourierError(f"include_constant must be true or false, got {self.include_constant!r}")
        if isinstance(self.max_element, bool) or self.max_element != 118:
            raise CrystalFourierError(f"max_element must be 118, got {self.max_element!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)):
            raise CrystalFourierError(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        parameters = self.n_layers * (4 * self.d_model ** 2 + 2 * self.d_model * self.d_ff)
        if parameters > MAX_PARAMETERS:
            raise CrystalFourierError(
                f"the model would have about {parameters:.3g} transformer parameters "
                f"({4 * parameters / 2**30:.1f} GiB), more than the limit of {MAX_PARAMETERS:.0e}; "
                "use fewer layers or narrower blocks")
        if self.d_model % self.n_heads:
            raise CrystalFourierError(
                f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads}); e.g. d_model=128, n_heads=8")
        if not 0.0 <= self.dropout < 1.0:  # NaN fails this too
            raise CrystalFourierError(f"dropout must lie in [0, 1), got {self.dropout!r}")
        self._check_neighbourhood_options()
        if self.tensor_head not in (None, *TENSOR_HEADS):
            raise CrystalFourierError(f"tensor_head must be null, 'symmetric' or 'free', got {self.tensor_head!r}")
        self._check_pair_bias()

    def _check_pair_bias(self) -> None:
        """The check of ``__post_init__`` on ``pair_bias_radius`` (stored as None for kinds other than the CFT)."""
        if self.pair_bias_radius is None:
            return
        if isinstance(self.pair_bias_radius, bool) or not isinstance(self.pair_bias_radius, int) \
                or not 1 <= self.pair_bias_radius <= MAX_CUTOFF:
            raise CrystalFourierError(f"pair_bias_radius must be null or an integer in 1-{MAX_CUTOFF}, got "
                                      f"{self.pair_bias_radius!r}")
        if self.kind != "cft":   # only the CFT has exactly invariant slot features to pair
            object.__setattr__(self, "pair_bias_radius", None)

    def _check_neighbourhood_options(self) -> None:
        """The checks of ``__post_init__`` on the neighbourhood, readout and frequency-damping fields."""
        if not isinstance(self.neighbourhood, bool) or not isinstance(self.atom_readout, bool):
            raise CrystalFourierError(f"neighbourhood and atom_readout must be true or false, got "
                                      f"{self.neighbourhood!r} and {self.atom_readout!r}")
        if isinstance(self.neighbour_cutoff, bool) or not isinstance(self.neighbour_cutoff, (int, float)) \
                or not _MIN_NEIGHBOUR_CUTOFF <= self.neighbour_cutoff <= MAX_NEIGHBOUR_CUTOFF:  # NaN fails this too
            raise CrystalFourierError(f"neighbour_cutoff must be a number of Angstrom in "
                                      f"{_MIN_NEIGHBOUR_CUTOFF:g}-{MAX_NEIGHBOUR_CUTOFF:g}, "
                                      f"got {self.neighbour_cutoff!r}")
        check_int("n_rbf", self.n_rbf, 2, MAX_N_RBF)
        if self.frequency_damping is not None and (
                isinstance(self.frequency_damping, bool) or not isinstance(self.frequency_damping, (int, float))
                or not _MIN_FREQUENCY_DAMPING <= self.frequency_damping <= _MAX_FREQUENCY_DAMPING):  # NaN fails too
            raise CrystalFourierError(f"frequency_damping must be null or a number in "
                                      f"{_MIN_FREQUENCY_DAMPING:g}-{_MAX_FREQUENCY_DAMPING:g}, got "
                                      f"{self.frequency_damping!r}")

    @property
    def cutoff_spec(self) -> CutoffSpec:
        """The encoding's frequency set, :class:`CutoffSpec` (shell, cutoff)."""
        return CutoffSpec(self.shell, self.cutoff)

    @property
    def neighbour_spec(self) -> "tuple[float, int] | None":
        """(neighbour_cutoff, n_rbf) to pass to ``collate`` (None when the neighbourhood is off)."""
        return (float(self.neighbour_cutoff), int(self.n_rbf)) if self.neighbourhood else None

    def to_dict(self) -> dict:
        """The JSON-ready form (every field; read back by :meth:`from_dict`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        """The config of ``to_dict``; a key added since (:data:`ADDED_FIELDS`) that is missing takes the value
        that reproduces the model as it was trained (e.g. no ``neighbourhood``: False).

        Parameters
        ----------
        data : dict
            The dictionary of :meth:`to_dict` (read from a model's config.json).

        Returns
        -------
        ModelConfig

        Raises
        ------
        CrystalFourierError
            For an unknown key.
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise CrystalFourierError(f"unknown model config keys {sorted(unknown)}; known: {sorted(known)}")
        data = {**ADDED_FIELDS, **data}
        return cls(**data)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (saved as ``config.json``).

    Defaults: 100 epochs, batch 64, AdamW lr 5e-4, weight decay 0.01, 5% of the
    steps as linear warm-up then cosine decay to 0, gradient norm clipped at 1,
    no early stopping (``patience`` None: the best validation epoch is kept anyway),
    split 80/10/10 with seed 0, symprec ``DEFAULT_SYMPREC`` = 0.1 Angstrom
    (:mod:`crystal_fourier.runtime.symmetry._tolerances`), handedness "canonical" (a crystal and
    its mirror image get one prediction; "keep" for targets that are not mirror-invariant, see
    :func:`~crystal_fourier.runtime.symmetry._standardization.standardize`).
    """

    target: str = "target"
    model: ModelConfig = field(default_factory=ModelConfig)
    epochs: int = 100
    batch_size: int = 64
    lr: float = 5e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.05
    grad_clip: float | None = 1.0
    seed: int = 0
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    log_target: bool = False
    holdout_groups: tuple[int, ...] = ()
    symprec: float = DEFAULT_SYMPREC
    handedness: str = "canonical"
    device: str = "cpu"
    progress: bool = True
    patience: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model, ModelConfig):
            raise CrystalFourierError(f"model must be a ModelConfig, got {type(self.model).__name__}")
        if not isinstance(self.target, str) or not 0 < len(self.target) <= 200:
            raise CrystalFourierError(f"target must be a column name, got {self.target!r}")
        check_int("epochs", self.epochs, 1, 10**6)
        check_int("batch size", self.batch_size, 1, 10**6)
        check_float("learning rate", self.lr, 0.0, 10.0, open_low=True)
        check_float("weight decay", self.weight_decay, 0.0, 10.0)
        check_float("warm-up fraction", self.warmup_fraction, 0.0, 1.0)
        if self.grad_clip is not None:
            check_float("gradient clip", self.grad_clip, 0.0, 1e6)
        check_int("seed", self.seed, 0, 2**63 - 1)
        check_float("symprec", self.symprec, 0.0, 1.0, open_low=True)
        if self.handedness not in ("canonical", "keep"):
            raise CrystalFourierError(f"handedness must be canonical or keep, got {self.handedness!r}")
        if not isinstance(self.split, (tuple, list)) or len(self.split) != 3 \
                or any(isinstance(f, bool) or not isinstance(f, (int, float)) or not math.isfinite(f) or f < 0
                       for f in self.split) or not math.isclose(sum(self.split), 1.0):
            raise CrystalFourierError(f"split must be three fractions >= 0 summing to 1, got {self.split}")
        if not isinstance(self.log_target, bool) or not isinstance(self.progress, bool):
            raise CrystalFourierError("log_target and progress must be true or false")
        if not isinstance(self.holdout_groups, (tuple, list)):
            raise CrystalFourierError(f"holdout_groups must be a list of group numbers, got {self.holdout_groups!r}")
        for number in self.holdout_groups:
            check_int("held-out group", number, 1, 230)
        if self.patience is not None:
            check_int("patience", self.patience, 1, 10**6)
        if not isinstance(self.device, str) or len(self.device) > 32:
            raise CrystalFourierError(f"device must be a name such as 'cpu', got {self.device!r}")

    @property
    def augment(self) -> bool:
        """Whether training moves each atom by a random symmetry operation (model kind ``'augmented'``)."""
        return self.model.kind == "augmented"

    def to_dict(self) -> dict:
        """The JSON-ready form saved as ``config.json`` (the model config nested, tuples as lists)."""
        # asdict nests the model's own to_dict (asdict too); JSON has no tuples
        return {**dataclasses.asdict(self), "split": list(self.split), "holdout_groups": list(self.holdout_groups)}

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        """The config of :meth:`to_dict` (``config.json``); unknown keys or malformed values raise
        :class:`~crystal_fourier.errors.CrystalFourierError`.

        Parameters
        ----------
        data : dict
            The dictionary of :meth:`to_dict`, with the model's config under "model".

        Returns
        -------
        TrainConfig
        """
        known = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(data, dict) or set(data) - known or not isinstance(data.get("model"), dict):
            raise CrystalFourierError(f"a training configuration has the keys {sorted(known)} (model an object)")
        data = dict(data)
        data["model"] = ModelConfig.from_dict(data["model"])
        for key in ("split", "holdout_groups"):
            if key in data:
                if not isinstance(data[key], (list, tuple)) or len(data[key]) > 230:
                    raise CrystalFourierError(f"{key} must be a list, got {data[key]!r}")
                data[key] = tuple(data[key])
        return cls(**data)


@dataclass(frozen=True)
class PretrainConfig:
    """Settings of :func:`~crystal_fourier.runtime.learning._pretraining.pretrain` (the paper: about 100k pairs
    per group, 200 epochs).

    The defaults are sized for a CPU: 256 pairs per group over all 230 groups
    (58,880 pairs), 10 epochs, batch 256, AdamW lr 1e-3 with warm-up + cosine.
    ``block`` pairs of one group stay together in a batch (16 groups per batch of
    256): the routing builds one weight map W_G per group present in a batch,
    so a batch drawn from all 230 groups would cost about ten times more.
    """

    groups: tuple[int, ...] = tuple(range(1, 231))
    exclude: tuple[int, ...] = ()
    pairs_per_group: int = 256
    epochs: int = 10
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-2
    warmup_fraction: float = 0.05
    seed: int = 0
    block: int = 16
    progress: bool = True
    model: ModelConfig = field(default_factory=ModelConfig)

    def to_dict(self) -> dict:
        """The JSON-ready form saved in ``pretrain.json`` (the model config nested, tuples as lists)."""
        return {**dataclasses.asdict(self), "groups": list(self.groups), "exclude": list(self.exclude)}
