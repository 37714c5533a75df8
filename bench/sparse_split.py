"""The data and the splits of the sparse-data protocol (issue 25): EMT crystals over all 230 groups.

Data: ``make_dataset(groups=1..230, size=230 * per_group, seed=DATA_SEED, max_atoms=32)``, the package's
random symmetric crystals with EMT labels. Crystal i has material_id ``cf{seed}-{i:06d}-sg{group}`` and
belongs to group ``1 + i % 230``, so its *rank* within its group is ``i // 230``, and a data set of
``per_group`` crystals per group is a prefix of every larger one (rows are deterministic in (seed, i)).

Splits (all deterministic, none depends on the model):

* the **test set**: the crystals of rank 0-3 of every group (4 per group, 920 crystals), the same for every
  seed, arm and training size;
* the **pool**: the crystals of rank >= 4 of every group. At training size k, seed s draws its own
  permutation of the group's first ``POOL_FOR_K[k]`` pool crystals (``numpy.random.default_rng([SPLIT_SEED,
  s, group])``) and trains on the first k: at k = 1 and 4 from the same 8 (so the sets are nested, k = 1
  inside k = 4, and differ between seeds), at k = 16 on all 16 (every seed the same crystals; the seeds
  then differ only in initialisation and batch order). k <= 4 needs 12 crystals per group, k = 16 needs 20
  (a crystal the generator could not make leaves its group one short: the seeds draw from the rest);
* the **zero-shot groups**: 20% of the 230 groups (46), drawn once (``ZERO_SHOT_SEED``); in the zero-shot
  setting they contribute no training crystal (k = 0), the other groups k = ``ZERO_SHOT_K``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

N_GROUPS = 230
TEST_PER_GROUP = 4
DATA_SEED = 25
"""``make_dataset`` seed of the protocol's crystals."""
MAX_ATOMS = 32
"""Most atoms in a conventional cell (as the demo's data set)."""
SPLIT_SEED = 2525
"""Mixed into every seed's per-group draw of its training crystals."""
ZERO_SHOT_SEED = 2025
ZERO_SHOT_FRACTION = 0.2
ZERO_SHOT_K = 4
"""Training crystals per seen group in the zero-shot setting."""
POOL_FOR_K = {1: 8, 4: 8, 16: 16}
"""Training size k -> the pool crystals per group (the first ones, by rank) that seeds draw their k from."""
MAX_SHORT = 1
"""Pool crystals a group may lack (the generator could not make them) and still train, on fewer than k at most."""
SETTINGS = {"k1": 1, "k4": 4, "k16": 16, "zs4": ZERO_SHOT_K}
"""Setting name -> training crystals per (seen) group; ``zs4`` holds the zero-shot groups out (k = 0 there)."""
CRYSTAL_SYSTEMS = (("triclinic", 1, 2), ("monoclinic", 3, 15), ("orthorhombic", 16, 74), ("tetragonal", 75, 142),
                   ("trigonal", 143, 167), ("hexagonal", 168, 194), ("cubic", 195, 230))
"""(name, first group, last group) of the seven crystal systems."""
ORDER_BINS = ((1, 4), (5, 8), (9, 16), (17, 48), (49, 192))
"""Bins of the group order |G/Z^3| (centring translations included), inclusive."""

_MATERIAL_ID = re.compile(r"^cf(\d+)-(\d{6})-sg(\d+)$")


@dataclass(frozen=True)
class Split:
    """One seed's training records and the fixed test records of a setting."""

    train: list
    test: list
    heldout_groups: tuple[int, ...]


def dataset_path(cache: Path, per_group: int) -> Path:
    """The CSV of ``per_group`` crystals per group under ``cache``."""
    return Path(cache) / f"emt-seed{DATA_SEED}-{per_group}pg-max{MAX_ATOMS}.csv"


MAX_MISSING = 0.01
"""Largest fraction of crystals the generator may fail to make (a group whose orbits do not fit
``MAX_ATOMS`` atoms at the minimum distance in the tries allowed) for the data set still to be used."""


def make_data(cache: Path, per_group: int, workers: int = 1, progress: bool = False) -> tuple[Path, list]:
    """Make (or resume) the data set of ``per_group`` crystals per group: (its path, the material_ids that
    could not be made). About 0.4 s a crystal a core.

    ``make_dataset`` refuses to write the CSV when any crystal fails; here, when at most ``MAX_MISSING`` of
    them failed, the CSV is written from the finished rows (its ``.partial`` file, whose rows are complete
    and deterministic) and the missing ones are returned, so that the protocol states them.
    """
    from crystal_fourier.errors import CrystalFourierError
    from crystal_fourier.runtime import make_dataset

    path = dataset_path(cache, per_group)
    size = N_GROUPS * per_group
    if not path.is_file():
        try:
            make_dataset(path, groups=list(range(1, N_GROUPS + 1)), size=size, seed=DATA_SEED,
                         workers=workers, max_atoms=MAX_ATOMS, progress=progress)
        except CrystalFourierError:
            partial = path.with_name(path.name + ".partial")
            if not partial.is_file():
                raise
            _, _, rows = partial.read_text().partition("\n")   # the stamp line, then a CDVAE CSV
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text(rows)
            made = {index_of(r)[0] for r in load_records(temporary) if index_of(r)[0] < size}
            if size - len(made) > MAX_MISSING * size:
                temporary.unlink()
                raise
            temporary.replace(path)
    made = {index_of(r)[0] for r in load_records(path)}
    return path, [f"cf{DATA_SEED}-{i:06d}-sg{1 + i % N_GROUPS}" for i in range(size) if i not in made]


def index_of(record) -> tuple[int, int]:
    """(row index i, space group) of a protocol record, from its material_id."""
    match = _MATERIAL_ID.match(str(record.id))
    if match is None or int(match.group(1)) != DATA_SEED:
        raise ValueError(f"{record.id!r} is not a crystal of the protocol's data set (seed {DATA_SEED})")
    return int(match.group(2)), int(match.group(3))


def load_records(path: Path, target: str = "energy_per_atom") -> list:
    """The records of ``path``, sorted by row index."""
    from crystal_fourier.runtime.data._datasets import load_cdvae_csv

    records = load_cdvae_csv(Path(path), targets=[target])
    return sorted(records, key=lambda r: index_of(r)[0])


def zero_shot_groups() -> tuple[int, ...]:
    """The 46 groups (20%) held out in the zero-shot setting, drawn once with ``ZERO_SHOT_SEED``."""
    rng = np.random.default_rng(ZERO_SHOT_SEED)
    count = int(round(ZERO_SHOT_FRACTION * N_GROUPS))
    return tuple(sorted(int(g) + 1 for g in rng.choice(N_GROUPS, size=count, replace=False)))


def test_records(records) -> list:
    """The fixed test set: rank 0-3 of every group, in row order."""
    return [r for r in records if index_of(r)[0] // N_GROUPS < TEST_PER_GROUP]


def pool_by_group(records) -> dict[int, list]:
    """group -> its pool records (rank >= 4), in row order."""
    pool: dict[int, list] = {}
    for record in records:
        index, group = index_of(record)
        if index // N_GROUPS >= TEST_PER_GROUP:
            pool.setdefault(group, []).append(record)
    return pool


def split(records, setting: str, seed: int) -> Split:
    """Seed ``seed``'s training records for ``setting`` (a key of ``SETTINGS``) and the fixed test records.

    Raises
    ------
    ValueError
        Unknown setting, or a group whose pool has fewer than k crystals.
    """
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; choose from {', '.join(SETTINGS)}")
    k = SETTINGS[setting]
    heldout = zero_shot_groups() if setting.startswith("zs") else ()
    pools = pool_by_group(records)
    train = []
    for group in range(1, N_GROUPS + 1):
        if group in heldout:
            continue
        members = [r for r in pools.get(group, []) if index_of(r)[0] // N_GROUPS < TEST_PER_GROUP + POOL_FOR_K[k]]
        if len(members) < min(k, POOL_FOR_K[k] - MAX_SHORT):   # one short (a crystal not made): train on the rest
            raise ValueError(f"group {group} has {len(members)} pool crystals, setting {setting} draws {k} from "
                             f"{POOL_FOR_K[k]}: make the data set with at least {TEST_PER_GROUP + POOL_FOR_K[k]} "
                             "crystals per group")
        order = np.random.default_rng([SPLIT_SEED, seed, group]).permutation(len(members))
        train += [members[i] for i in order[:k]]
    return Split(train=train, test=test_records(records), heldout_groups=heldout)


def crystal_system(group: int) -> str:
    """The crystal system of space group ``group``."""
    return next(name for name, first, last in CRYSTAL_SYSTEMS if first <= group <= last)


def group_order(group: int) -> int:
    """|G/Z^3| of the ITA standard setting of ``group`` (centring translations included)."""
    from crystal_fourier.derive import space_group

    return len(space_group(group).arrays[0])


def order_bin(group: int) -> str:
    """The label of the ``ORDER_BINS`` bin holding ``group``'s order."""
    order = group_order(group)
    low, high = next((a, b) for a, b in ORDER_BINS if a <= order <= b)
    return f"{low}-{high}"
