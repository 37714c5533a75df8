"""The 230 space groups (530 settings) from spglib's database, as exact integers.

A setting is a Hall number (1-530). The default setting of each group number is
the ITA standard one of CONVENTIONS.md: the first Hall number whose ``choice``
is one of '', 'b', 'b1', '2', 'H'. spglib's float translations are converted to
24ths once, here, and the conversion is checked to be exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from crystal_fourier._spglib import spacegroup_type, symmetry_from_database
from crystal_fourier.derive._operations import DEN, Operation, _determinant, operations_as_arrays
from crystal_fourier._checks import check_int
from crystal_fourier.errors import CrystalFourierError

__all__ = [
    "SpaceGroup",
    "space_group",
    "standard_hall_number",
    "all_space_groups",
    "crystal_system",
    "parse_groups",
    "STANDARD_CHOICES",
]

STANDARD_CHOICES = ("", "b", "b1", "2", "H")
"""spglib ``choice`` values of the ITA standard setting (CONVENTIONS.md)."""

_TRANSLATION_TOLERANCE = 1e-9
"""Largest gap between 24 t (spglib's float translation) and its nearest integer that still counts as exact."""


@dataclass(frozen=True, slots=True)
class SpaceGroup:
    """One setting of one space group, with its coset representatives of G / Z^3.

    Attributes
    ----------
    number : int
        ITA number, 1-230.
    hall_number : int
        spglib Hall number, 1-530; it fixes the setting.
    symbol : str
        Short Hermann-Mauguin symbol, e.g. ``'Fd-3m'``.
    hall_symbol : str
        Hall symbol of the setting, e.g. ``'F 4d 2 3 -1d'``.
    choice : str
        spglib's setting choice ('' where the group has one setting).
    operations : tuple of Operation
        Coset representatives of G / Z^3, centring translations included, in
        spglib's order (identity first).

    Examples
    --------
    >>> g = space_group("Fd-3m")
    >>> (g.number, g.hall_number, len(g.operations))
    (227, 526, 192)
    >>> g == space_group(227) == space_group(hall_number=526)
    True
    """

    number: int
    hall_number: int
    symbol: str
    hall_symbol: str
    choice: str
    operations: tuple[Operation, ...]

    def __repr__(self) -> str:
        return f"SpaceGroup({self.number}, hall_number={self.hall_number}, symbol={self.symbol!r})"

    @property
    def hexagonal_axes(self) -> bool:
        """True for groups 143-194 in a hexagonal-axes setting (rhombohedral 'R' axes excluded)."""
        return 143 <= self.number <= 194 and self.choice != "R"

    @property
    def is_standard(self) -> bool:
        """True when this is the ITA standard setting of CONVENTIONS.md."""
        return self.hall_number == standard_hall_number(self.number)

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rotations, translations_24)``: shape=(n, 3, 3) and (n, 3), dtype=int64, read-only."""
        return _arrays(self.hall_number)

    @property
    def n_centring(self) -> int:
        """Number of centring translations (operations with R = identity)."""
        rotations, _ = self.arrays
        return int(np.all(rotations == np.eye(3, dtype=np.int64), axis=(1, 2)).sum())

    @property
    def point_group_order(self) -> int:
        """|P|, the number of distinct rotations."""
        return len(self.operations) // self.n_centring

    @property
    def crystal_system(self) -> str:
        """One of triclinic, monoclinic, orthorhombic, tetragonal, trigonal, hexagonal, cubic."""
        return crystal_system(self.number)

    @property
    def centring(self) -> str:
        """First letter of the Hall symbol's lattice part: P, A, B, C, I, F or R."""
        return self.hall_symbol.lstrip("-")[0]

    @property
    def rotations(self) -> tuple[tuple[tuple[int, ...], ...], ...]:
        """The distinct rotations R (the point group in this setting's basis), in order of first appearance.

        >>> len(space_group(225).rotations), space_group(225).point_group_order
        (48, 48)
        """
        return tuple(dict.fromkeys(op.rotation for op in self.operations))

    @property
    def centrosymmetric(self) -> bool:
        """True when the point group contains the inversion -1 (some operation x -> -x + t).

        >>> space_group(2).centrosymmetric, space_group(225).centrosymmetric, space_group(216).centrosymmetric
        (True, True, False)
        """
        return ((-1, 0, 0), (0, -1, 0), (0, 0, -1)) in self.rotations

    @property
    def sohncke(self) -> bool:
        """True when every rotation is proper (det R = +1): a Sohncke group, one that admits chiral crystals.

        >>> space_group(19).sohncke, space_group(14).sohncke
        (True, False)
        """
        return all(_determinant(r) == 1 for r in self.rotations)

    @property
    def origin_freedom(self) -> int:
        """Dimension (0-3) of the continuous origin freedom: the vectors v with R v = v for every rotation R.

        Nonzero exactly for the polar groups; computed by exact integer rank of the stacked (R - 1).

        >>> [space_group(n).origin_freedom for n in (1, 2, 3, 6, 76, 225)]
        [3, 0, 1, 2, 1, 0]
        """
        stacked = [tuple(r[i][j] - (i == j) for j in range(3)) for r in self.rotations for i in range(3)]
        return 3 - _integer_rank(stacked)

    @property
    def polar_axes(self) -> tuple[int, ...]:
        """Coordinate axes i (0 = a, 1 = b, 2 = c) that every rotation leaves alone: R e_i = e_i and e_i^T R = e_i^T.

        Along such an axis the group commutes with every translation, so the origin may slide
        freely. In the 230 standard settings these axes span the whole fixed space
        (``len(polar_axes) == origin_freedom``); in other settings (e.g. rhombohedral axes, where
        the polar direction is [111]) they may not.

        >>> [space_group(n).polar_axes for n in (1, 3, 6, 146)], space_group(hall_number=434).polar_axes
        ([(0, 1, 2), (1,), (0, 2), (2,)], ())
        """
        return tuple(i for i in range(3)
                     if all(r[i][j] == (i == j) and r[j][i] == (i == j) for r in self.rotations for j in range(3)))

    @property
    def polar(self) -> bool:
        """True when the origin is not fixed by the group (``origin_freedom > 0``).

        >>> space_group(4).polar, space_group(2).polar
        (True, False)
        """
        return self.origin_freedom > 0


def _integer_rank(rows) -> int:
    """Exact rank of an integer matrix given as rows, by fraction-free Gaussian elimination.

    >>> _integer_rank([(1, 2, 3), (2, 4, 6), (0, 0, 0)]), _integer_rank([(0, 0, 0)])
    (1, 0)
    """
    rows = [list(r) for r in rows if any(r)]
    rank = 0
    n_columns = len(rows[0]) if rows else 0
    for column in range(n_columns):
        pivot = next((k for k in range(rank, len(rows)) if rows[k][column]), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        p = rows[rank]
        for k in range(rank + 1, len(rows)):
            factor = rows[k][column]
            if factor:
                rows[k] = [p[column] * x - factor * y for x, y in zip(rows[k], p, strict=True)]
        rank += 1
    return rank


def crystal_system(number: int) -> str:
    """Crystal system of group ``number`` (1-230), by the ITA number ranges.

    Parameters
    ----------
    number : int
        ITA space-group number, 1-230.

    Returns
    -------
    str
        One of ``'triclinic'``, ``'monoclinic'``, ``'orthorhombic'``, ``'tetragonal'``, ``'trigonal'``,
        ``'hexagonal'``, ``'cubic'``.

    Raises
    ------
    CrystalFourierError
        If ``number`` is outside 1-230.

    Examples
    --------
    >>> crystal_system(194)
    'hexagonal'
    """
    _check_number(number)
    bounds = ((2, "triclinic"), (15, "monoclinic"), (74, "orthorhombic"), (142, "tetragonal"),
              (167, "trigonal"), (194, "hexagonal"), (230, "cubic"))
    for upper, name in bounds:
        if number <= upper:
            return name
    raise CrystalFourierError(f"space-group number {number} is outside 1-230")


@lru_cache(maxsize=None)
def _setting_types() -> tuple:
    return tuple(spacegroup_type(hall) for hall in range(1, 531))


@lru_cache(maxsize=None)
def standard_hall_number(number: int) -> int:
    """Hall number of the ITA standard setting of group ``number`` (CONVENTIONS.md).

    Parameters
    ----------
    number : int
        ITA space-group number, 1-230.

    Returns
    -------
    int
        The spglib Hall number (1-530) of the standard setting.

    Raises
    ------
    CrystalFourierError
        If ``number`` is outside 1-230.

    Examples
    --------
    >>> standard_hall_number(227), standard_hall_number(14), standard_hall_number(166)
    (526, 81, 458)
    """
    _check_number(number)
    for hall, setting in enumerate(_setting_types(), start=1):
        if setting.number == number and setting.choice in STANDARD_CHOICES:
            return hall
    raise CrystalFourierError(f"spglib has no standard setting for group {number}")  # pragma: no cover


def _check_number(number) -> None:
    check_int("space-group number", number, 1, 230, allow_numpy=True)


def _normalize(symbol: str) -> str:
    return re.sub(r"[\s_]", "", symbol)


@lru_cache(maxsize=None)
def _symbol_table() -> dict[str, tuple[int, ...]]:
    """Normalized symbol -> Hall numbers, standard settings first."""
    table: dict[str, list[int]] = {}
    for hall, setting in enumerate(_setting_types(), start=1):
        names = {setting.international_short, setting.international, setting.international_full,
                 setting.hall_symbol, setting.schoenflies}
        if setting.choice:
            names |= {f"{name}:{setting.choice}" for name in list(names)}
        for name in names:
            table.setdefault(_normalize(name), []).append(hall)
    return {key: tuple(sorted(set(halls), key=lambda h: (h != standard_hall_number(_setting_types()[h - 1].number), h)))
            for key, halls in table.items()}


def _hall_from_symbol(symbol: str) -> int:
    table = _symbol_table()
    key = _normalize(symbol)
    candidates = table.get(key)
    if candidates is None:
        # Common informal spellings drop the bar ("Fd3m"); accept them only when unambiguous.
        stripped = {}
        for name, halls in table.items():
            stripped.setdefault(name.replace("-", ""), set()).update(
                _setting_types()[h - 1].number for h in halls)
        numbers = stripped.get(key.replace("-", ""), set())
        if len(numbers) == 1:
            candidates = (standard_hall_number(numbers.pop()),)
    if not candidates:
        raise CrystalFourierError(
            f"unknown space-group symbol {symbol!r}: expected a Hermann-Mauguin symbol such as "
            "'Fd-3m', 'P2_1/c' or 'P 1 21/c 1', a number 1-230, or hall_number=1-530"
        )
    return candidates[0]


@lru_cache(maxsize=None)
def _group_from_hall(hall_number: int) -> SpaceGroup:
    setting = _setting_types()[hall_number - 1]
    database = symmetry_from_database(hall_number)
    rotations = np.asarray(database["rotations"], dtype=np.int64)
    translations = np.asarray(database["translations"], dtype=float)
    scaled = translations * DEN
    translations_24 = np.rint(scaled).astype(np.int64)
    # Exact ingress: every ITA translation is a multiple of 1/24, so anything else is a database error.
    if np.max(np.abs(scaled - translations_24), initial=0.0) > _TRANSLATION_TOLERANCE:
        raise CrystalFourierError(f"Hall number {hall_number}: a translation is not a multiple of 1/{DEN}")
    operations = tuple(Operation.from_arrays(r, t % DEN) for r, t in zip(rotations, translations_24, strict=True))
    return SpaceGroup(
        number=int(setting.number),
        hall_number=hall_number,
        symbol=str(setting.international_short),
        hall_symbol=str(setting.hall_symbol),
        choice=str(setting.choice),
        operations=operations,
    )


@lru_cache(maxsize=None)
def _arrays(hall_number: int) -> tuple[np.ndarray, np.ndarray]:
    return operations_as_arrays(_group_from_hall(hall_number).operations)


def space_group(group: "int | str | SpaceGroup | None" = None, *, hall_number: int | None = None) -> SpaceGroup:
    """Look a space group up by number, symbol or Hall number.

    Parameters
    ----------
    group : int or str or SpaceGroup, optional
        ITA number 1-230 (as int or digit string), or a Hermann-Mauguin symbol in
        any usual spelling ("Fd-3m", "F d -3 m", "Fd3m", "P2_1/c", "P 1 21/c 1",
        "Fd-3m:1" for origin choice 1), a Hall symbol, or a Schoenflies symbol
        ("Oh^7"). A number or short symbol gives the ITA standard setting.
    hall_number : int, optional
        spglib Hall number 1-530, selecting any setting; if ``group`` is also
        given, both must name the same group.

    Raises
    ------
    CrystalFourierError
        Unknown symbol, number outside 1-230, Hall number outside 1-530, or a
        Hall number that belongs to another group than ``group``.

    Examples
    --------
    >>> space_group("P 1 21/c 1") == space_group("P2_1/c") == space_group(14)
    True
    >>> space_group("Fd3m").number
    227
    """
    if isinstance(group, SpaceGroup):
        group, hall_number = (None, group.hall_number) if hall_number is None else (group.number, hall_number)
    if hall_number is not None:
        check_int("Hall number", hall_number, 1, 530, allow_numpy=True)
        result = _group_from_hall(int(hall_number))
        if group is not None and space_group(group).number != result.number:
            raise CrystalFourierError(
                f"Hall number {hall_number} is a setting of group {result.number} ({result.symbol}), "
                f"not of {group!r}")
        return result
    if group is None:
        raise CrystalFourierError("give a space group: a number 1-230, a symbol, or hall_number=1-530")
    if isinstance(group, str) and group.strip().lstrip("+-").isdigit():
        group = int(group.strip())
    if isinstance(group, str):
        return _group_from_hall(_hall_from_symbol(group))
    _check_number(group)
    return _group_from_hall(standard_hall_number(int(group)))


def parse_groups(text: str | None) -> list[int]:
    """'1-230', '225,227', '1-10,194' or symbols ('Fd-3m,P6_3/mmc') -> sorted group numbers.

    None, '' and 'all' mean all 230. Used by the CLI's ``--groups`` options and by
    :func:`crystal_fourier.runtime.learning._zero_shot.holdout_groups`.

    Parameters
    ----------
    text : str or None
        Comma-separated items, each a number, a range ``LOW-HIGH`` or a Hermann-Mauguin symbol.

    Returns
    -------
    list of int
        The distinct group numbers, sorted.

    Raises
    ------
    CrystalFourierError
        A range that is not LOW-HIGH within 1-230, an unknown symbol, or no group at all.

    >>> parse_groups("1-3,225,Fd-3m")
    [1, 2, 3, 225, 227]
    """
    if text is None or text.strip() in ("", "all"):
        return list(range(1, 231))
    numbers = set()
    for raw_item in text.split(","):
        item = raw_item.strip()
        if not item:
            continue
        if "-" in item and item.replace("-", "").isdigit():
            if item.count("-") != 1 or item.startswith("-") or item.endswith("-"):
                raise CrystalFourierError(f"group range {item!r} must be LOW-HIGH, e.g. 1-230")
            low, high = (int(v) for v in item.split("-", 1))
            if not (1 <= low <= high <= 230):
                raise CrystalFourierError(f"group range {item!r} must lie within 1-230, low to high")
            numbers.update(range(low, high + 1))
        else:
            numbers.add(space_group(item).number)
    if not numbers:
        raise CrystalFourierError(f"no groups in {text!r}")
    return sorted(numbers)


def all_space_groups() -> tuple[SpaceGroup, ...]:
    """The 230 groups in their ITA standard settings, ordered by number."""
    return tuple(space_group(number) for number in range(1, 231))
