"""Self-supervised pretraining of the positional encoder on exact orbit distances.

The paper's task: for each group, pairs of random positions x1, x2 in random
lattices that obey the group's metric constraints; the target is the orbit
distance

    d(x1, x2) = min over (R, t) in G/Z^3 and n in Z^3 of |(R x1 + t + n - x2) L|,

the smallest Cartesian distance between the two points' orbits (L has the cell
vectors as rows). Because every operation of G is an isometry of a lattice that
obeys the metric constraints, this is also the distance between the two orbits
as sets. The encoder learns embeddings e whose distances match it:
loss = (d(x1, x2) - |e(x1) - e(x2)|)^2.

:func:`orbit_distance` is exact for any cell, however skewed: it reduces the
lattice (Niggli), wraps each difference into the reduced cell, and then
searches every lattice image that could be closer, with a range bounded by the
cell's reciprocal lengths (no fixed 3x3x3 guess).

Groups can be excluded, so a zero-shot study never shows its held-out groups to
the encoder; the excluded groups are recorded with the saved encoder and
checked by :func:`crystal_fourier.runtime.learning._training.fit`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from crystal_fourier._version import __version__
from crystal_fourier._atomic import atomic_torch_save, atomic_write_json, json_safe
from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime.network._cell_features import lattice_features
from crystal_fourier.runtime.network._config import ModelConfig, PretrainConfig
from crystal_fourier.runtime.network._model import (
    PositionalEncoding,
    build_model,
    check_cutoff_faithful,
    group_descriptor_table,
)
from crystal_fourier.runtime.symmetry._periodic import minimum_image_norms

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = [
    "orbit_distance",
    "random_metric_lattice",
    "PairDataset",
    "pair_dataset",
    "pretrain",
    "save_pretrained",
    "load_pretrained",
    "ENCODER_FILE",
    "PRETRAIN_FILE",
]

ENCODER_FILE = "encoder.pt"
PRETRAIN_FILE = "pretrain.json"


# --------------------------------------------------------------------------- orbit distance


def orbit_distance(group: SpaceGroup, lattice: ArrayLike, positions1: ArrayLike, positions2: ArrayLike) -> np.ndarray:
    """Exact orbit distance between x1 and x2 under ``group`` and the lattice, in Angstrom.

    Parameters
    ----------
    group : SpaceGroup
        The operations act on fractional coordinates of the conventional cell.
    lattice : array_like
        shape=(3, 3) or (P, 3, 3), rows a, b, c in Angstrom; must obey the
        group's metric constraints for the result to be a distance between orbits.
    positions1, positions2 : array_like
        shape=(P, 3) or (3,), fractional.

    Returns
    -------
    np.ndarray
        shape=(P,), dtype=float64: min over (R, t) and n in Z^3 of |(R x1 + t + n - x2) L|.

    Examples
    --------
    >>> from crystal_fourier.derive import space_group
    >>> cell = np.diag([4.0, 5.0, 6.0])
    >>> orbit_distance(space_group(2), cell, [0.1, 0.2, 0.3], [-0.1, -0.2, -0.3]).round(12).tolist()
    [0.0]
    >>> orbit_distance(space_group(1), cell, [0.1, 0, 0], [0.9, 0, 0]).round(12).tolist()
    [0.8]
    """
    rotations, translations_24 = group.arrays
    rotations = rotations.astype(np.float64)
    translations = translations_24.astype(np.float64) / 24.0
    x1 = np.atleast_2d(np.asarray(positions1, dtype=np.float64))
    x2 = np.atleast_2d(np.asarray(positions2, dtype=np.float64))
    if x1.shape != x2.shape or x1.shape[-1] != 3:
        raise CrystalFourierError(f"positions must have equal shapes (P, 3), got {x1.shape} and {x2.shape}")
    lattice = np.asarray(lattice, dtype=np.float64)
    if lattice.ndim == 2:
        lattice = np.broadcast_to(lattice, (len(x1), 3, 3))
    if lattice.shape != (len(x1), 3, 3):
        raise CrystalFourierError(f"lattice must have shape (3, 3) or ({len(x1)}, 3, 3), got {lattice.shape}")
    images = np.einsum("gij,pj->pgi", rotations, x1) + translations  # (P, G, 3)
    return minimum_image_norms(lattice, images - x2[:, None, :], over_images=True)


def random_metric_lattice(number: int, rng: np.random.Generator,
                          volume: tuple[float, float] = (40.0, 400.0)) -> np.ndarray:
    """A random conventional cell obeying the metric constraints of group ``number`` (standard setting).

    The shape comes from :func:`crystal_fourier.runtime.symmetry._random_crystals.random_lattice`;
    the volume is drawn uniformly from ``volume`` (Angstrom^3), so cell lengths
    span roughly 3-9 Angstrom, the range of real conventional cells.

    Examples
    --------
    >>> cell = random_metric_lattice(194, np.random.default_rng(0))
    >>> bool(np.isclose(cell[0] @ cell[1], -0.5 * (cell[0] @ cell[0])))
    True
    """
    from crystal_fourier.runtime.symmetry._random_crystals import random_lattice

    return random_lattice(number, rng, volume=float(rng.uniform(*volume)))


# --------------------------------------------------------------------------- the pair data set


@dataclass(frozen=True, eq=False)
class PairDataset:
    """Pairs of positions with exact orbit distances.

    Attributes (P pairs)
    --------------------
    positions1, positions2 : np.ndarray, shape=(P, 3), fractional
    hall_numbers : np.ndarray, shape=(P,), int64 (standard settings)
    lattice : np.ndarray, shape=(P, 6), :func:`lattice_features`
    distance : np.ndarray, shape=(P,), Angstrom
    """

    positions1: np.ndarray
    positions2: np.ndarray
    hall_numbers: np.ndarray
    lattice: np.ndarray
    distance: np.ndarray

    def __len__(self) -> int:
        return len(self.distance)


def pair_dataset(groups, pairs_per_group: int, seed: int = 0, exclude=(), pairs_per_lattice: int = 4) -> PairDataset:
    """Random pairs for each group in ``groups`` minus ``exclude``, with exact orbit distances.

    Each group gets ``pairs_per_group`` pairs; every ``pairs_per_lattice`` of them
    share one random metric-obeying lattice. Seeded and reproducible.

    Raises
    ------
    CrystalFourierError
        No group left after the exclusion.
    """
    from crystal_fourier.derive import space_group

    excluded = {int(n) for n in exclude}
    numbers = [int(n) for n in groups if int(n) not in excluded]
    if not numbers:
        raise CrystalFourierError("no groups left to pretrain on after the exclusion; check --groups/--exclude-groups")
    parts = {"positions1": [], "positions2": [], "hall_numbers": [], "lattice": [], "distance": []}
    for number in numbers:
        group = space_group(number)
        rng = np.random.default_rng([seed, number])
        n_lattices = -(-pairs_per_group // pairs_per_lattice)
        cells = np.stack([random_metric_lattice(number, rng) for _ in range(n_lattices)])
        cells = np.repeat(cells, pairs_per_lattice, axis=0)[:pairs_per_group]
        x1 = rng.random((pairs_per_group, 3))
        x2 = rng.random((pairs_per_group, 3))
        parts["positions1"].append(x1)
        parts["positions2"].append(x2)
        parts["hall_numbers"].append(np.full(pairs_per_group, group.hall_number, dtype=np.int64))
        parts["lattice"].append(np.stack([lattice_features(cell) for cell in cells]))
        parts["distance"].append(orbit_distance(group, cells, x1, x2))
    return PairDataset(**{name: np.concatenate(values) for name, values in parts.items()})


# --------------------------------------------------------------------------- training


def _context(lattice: torch.Tensor, hall_numbers: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    return torch.cat([lattice, table[hall_numbers]], dim=-1)


def _numbers_of(hall_numbers) -> list[int]:
    from crystal_fourier.derive import space_group

    return [space_group(hall_number=int(h)).number for h in hall_numbers]


def block_order(hall_numbers: torch.Tensor, block: int, generator: torch.Generator) -> torch.Tensor:
    """A random order of the pairs in which runs of ``block`` pairs share a group.

    Pairs are shuffled within each group, cut into blocks of ``block``, and the
    blocks are shuffled; every pair appears exactly once.

    >>> order = block_order(torch.tensor([5, 5, 5, 5, 9, 9, 9, 9]), 2, torch.Generator().manual_seed(0))
    >>> sorted(order.tolist()), [len(set(torch.tensor([5, 5, 5, 5, 9, 9, 9, 9])[order[i:i + 2]].tolist()))
    ...                          for i in range(0, 8, 2)]
    ([0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 1])
    """
    blocks = []
    for hall in torch.unique(hall_numbers).tolist():
        members = torch.nonzero(hall_numbers == hall).reshape(-1)
        members = members[torch.randperm(len(members), generator=generator)]
        blocks.extend(members.split(max(1, block)))
    shuffled = torch.randperm(len(blocks), generator=generator).tolist()
    return torch.cat([blocks[i] for i in shuffled])


def pair_loss(encoder: PositionalEncoding, pairs: dict, table: torch.Tensor) -> torch.Tensor:
    """Mean of (d_orbit - |e1 - e2|)^2 over a batch of pairs (tensors keyed like :class:`PairDataset`)."""
    hall = pairs["hall_numbers"]
    context = _context(pairs["lattice"], hall, table)
    encoded = encoder(torch.cat([pairs["positions1"], pairs["positions2"]]), torch.cat([hall, hall]),
                      torch.cat([context, context]))
    e1, e2 = encoded.chunk(2)
    # eps keeps the gradient finite where the two encodings coincide (equivalent positions).
    predicted = torch.sqrt(((e1 - e2) ** 2).sum(dim=-1) + 1e-12)
    return ((pairs["distance"] - predicted) ** 2).mean()


def pretrain(config: PretrainConfig, out_dir: str | os.PathLike[str] | None = None,
             encoder: PositionalEncoding | None = None) -> tuple[PositionalEncoding, dict]:
    """Pretrain the positional encoder of ``config.model`` on exact orbit distances.

    Parameters
    ----------
    config : PretrainConfig
        The model, groups, pairs per group, optimizer settings, epochs and seed.
    out_dir : str or os.PathLike, optional
        Directory to save the encoder and summary in; nothing is saved by default.
    encoder : PositionalEncoding, optional
        The encoder to train further; by default a new one from ``config.model``.

    Returns
    -------
    (PositionalEncoding, dict)
        The trained encoder and a summary (groups used, losses per epoch).
        With ``out_dir``, both are saved there (:func:`save_pretrained`).
    """
    from crystal_fourier._progress import progress_bar
    from crystal_fourier.runtime.learning._training import warmup_cosine

    used = sorted(set(int(n) for n in config.groups) - set(int(n) for n in config.exclude))
    if config.model.kind == "cft":
        check_cutoff_faithful(config.model.cutoff, config.model.shell, used)
    torch.manual_seed(config.seed)
    if encoder is None:
        encoder = build_model(config.model).positional
    data = pair_dataset(config.groups, config.pairs_per_group, seed=config.seed, exclude=config.exclude)
    leaked = sorted(set(_numbers_of(np.unique(data.hall_numbers))) & {int(n) for n in config.exclude})
    if leaked:  # a real check, not an assert: it must survive python -O
        raise CrystalFourierError(f"excluded groups {leaked} reached the pretraining pairs")
    tensors = {name: torch.as_tensor(getattr(data, name)) for name in
               ("positions1", "positions2", "hall_numbers", "lattice", "distance")}
    for name in ("positions1", "positions2", "lattice", "distance"):
        tensors[name] = tensors[name].float()
    table = torch.tensor(np.array(group_descriptor_table()), dtype=torch.float32)
    optimizer = torch.optim.AdamW(encoder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = max(1, -(-len(data) // config.batch_size))
    scheduler = warmup_cosine(optimizer, config.epochs * steps_per_epoch, config.warmup_fraction)
    generator = torch.Generator().manual_seed(config.seed)
    losses = []
    encoder.train()
    for epoch in range(config.epochs):
        order = block_order(tensors["hall_numbers"], config.block, generator)
        total, count = 0.0, 0
        bar = progress_bar(range(steps_per_epoch), f"pretrain {epoch + 1}/{config.epochs}", config.progress)
        for step in bar:
            index = order[step * config.batch_size:(step + 1) * config.batch_size]
            loss = pair_loss(encoder, {name: value[index] for name, value in tensors.items()}, table)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += float(loss.detach()) * len(index)
            count += len(index)
        losses.append(total / max(count, 1))
    encoder.eval()
    summary = {"version": __version__, "config": config.to_dict(), "groups_used": used,
               "n_pairs": len(data), "loss_history": losses}
    if out_dir is not None:
        save_pretrained(out_dir, encoder, summary)
    return encoder, summary


def save_pretrained(out_dir, encoder: PositionalEncoding, summary: dict) -> None:
    """Write ``encoder.pt`` (state dict) and ``pretrain.json`` (config, groups used, losses) into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atomic_torch_save(encoder.state_dict(), out / ENCODER_FILE)
    atomic_write_json(out / PRETRAIN_FILE, json_safe(summary))


def load_pretrained(directory: str | os.PathLike[str]) -> tuple[dict, dict]:
    """(state_dict, summary) of a pretrained encoder directory.

    Parameters
    ----------
    directory : str or os.PathLike
        A directory written by :func:`pretrain` (``crystal-fourier pretrain --out DIR``).

    Returns
    -------
    tuple of (dict, dict)
        The encoder's state dict and the summary read from ``pretrain.json``.

    Raises
    ------
    CrystalFourierError
        The directory lacks ``encoder.pt`` or ``pretrain.json``.
    """
    directory = Path(directory)
    if not (directory / ENCODER_FILE).is_file() or not (directory / PRETRAIN_FILE).is_file():
        raise CrystalFourierError(
            f"{directory} is not a pretrained encoder: expected {ENCODER_FILE} and {PRETRAIN_FILE} "
            "(made by `crystal-fourier pretrain --out DIR`)")
    from crystal_fourier.runtime.learning._model_files import (
        WEIGHTS_SIZE_FACTOR,
        WEIGHTS_SIZE_SLACK,
        check_int,
        check_version,
        expected_tensor_bytes,
        load_torch_file,
        read_json,
    )

    source = directory / PRETRAIN_FILE
    summary = read_json(source)
    if not isinstance(summary, dict) or not isinstance(summary.get("groups_used"), list) \
            or not isinstance(summary.get("config"), dict) or not isinstance(summary["config"].get("model"), dict):
        raise CrystalFourierError(f"{source}: expected an object with 'version', 'groups_used' and 'config' "
                                  "(made by `crystal-fourier pretrain`)")
    check_version(summary.get("version"), source)
    try:
        for number in summary["groups_used"]:
            check_int("a group used", number, 1, 230)
        model_config = ModelConfig.from_dict(summary["config"]["model"])
    except (CrystalFourierError, TypeError) as error:
        raise CrystalFourierError(f"{source}: {error}") from None
    # bounded like weights.pt: by the tensors of the encoder its configuration builds
    encoder_bytes = expected_tensor_bytes(build_model(model_config).positional)
    state = load_torch_file(directory / ENCODER_FILE, map_location="cpu",
                            max_bytes=WEIGHTS_SIZE_FACTOR * encoder_bytes + WEIGHTS_SIZE_SLACK)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CrystalFourierError(f"{directory / ENCODER_FILE}: not a state dict of tensors")
    return state, summary



