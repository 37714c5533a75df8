"""The 17 plane groups, as Volume A writes them (p4gm, c2mm, p31m), and their structure-factor forms.

Each plane group is the action on (x, y) of a space-group setting whose operations all have the
block form R = [[R2, 0], [0, 1]] and no translation along z (p4gm is P4bm, Hall number 377, on the
plane z = const; p2 is P112, Hall number 4). Its structure factor is the space group's at l = 0,
where every factor in z becomes 1: the forms are those of
:mod:`~crystal_fourier.derive._structure_factors` with l = 0 put in, in h, k and x, y only, and
the classes whose condition becomes False at l = 0 are dropped. The embedding is checked when a
group is built, and the forms are certified by
:func:`crystal_fourier.proofs.structure_factor_certificate` with ``plane=True`` (residues with
l = 0, the l row of each bilinear form set to zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from crystal_fourier.derive._space_groups import SpaceGroup, space_group
from crystal_fourier.errors import CrystalFourierError

__all__ = ["PLANE_GROUPS", "PlaneGroup", "PlaneStructureFactorForm", "plane_group", "plane_group_document",
           "plane_reflection_conditions", "as_plane_group", "plane_zone_conditions"]

PLANE_GROUPS = {
    "p1": 1, "p2": 4, "pm": 20, "pg": 27, "cm": 37, "p2mm": 125, "p2mg": 137, "p2gg": 161, "c2mm": 173,
    "p4": 349, "p4mm": 376, "p4gm": 377, "p3": 430, "p3m1": 446, "p31m": 447, "p6": 462, "p6mm": 477,
}
"""Volume A's symbol -> the Hall number of the space-group setting that embeds it (numbered 1-17 in this order)."""


@dataclass(frozen=True, slots=True)
class PlaneGroup:
    """A plane group: its number (1-17), Volume A's symbol and the embedding space-group setting."""

    number: int
    symbol: str
    embedding: SpaceGroup

    @property
    def operations(self) -> tuple[str, ...]:
        """The operations on (x, y), e.g. ``'-x+1/2,y+1/2'``."""
        return tuple(",".join(op.xyz.split(",")[:2]) for op in self.embedding.operations)

    @property
    def hall_number(self) -> int:
        """The Hall number of the embedding space-group setting."""
        return self.embedding.hall_number

    def __str__(self) -> str:
        return f"plane group {self.symbol} (No. {self.number})"


@dataclass(frozen=True, slots=True)
class PlaneStructureFactorForm:
    """The structure-factor forms of a plane group, as ``structure_factor_form("p4gm")`` gives them to ``render``.

    Attributes
    ----------
    group : PlaneGroup
    shifts : {'auto', 'always', 'never'}
        The rule the forms are derived with (see :func:`~crystal_fourier.derive.structure_factor_form`).
    """

    group: PlaneGroup
    shifts: str = "auto"

    def document(self) -> dict:
        """The forms in h, k and x, y: :func:`plane_group_document` of the group."""
        return plane_group_document(self.group, shifts=self.shifts)


def _check_embedding(group: SpaceGroup) -> None:
    for op in group.operations:
        r, t = op.rotation, op.translation_24
        if r[2] != (0, 0, 1) or r[0][2] or r[1][2] or t[2]:
            raise CrystalFourierError(f"{group} does not act on the plane alone: {op.xyz}")  # pragma: no cover


def plane_group(group: "int | str") -> PlaneGroup:
    """Look a plane group up by number 1-17 or Volume A symbol (``'p4gm'``, ``'c2mm'``, ``'p31m'``).

    Parameters
    ----------
    group : int, str or PlaneGroup
        Plane-group number 1-17 (an int or a string of digits) or symbol; spaces and underscores are
        ignored (a PlaneGroup is returned as it is).

    Returns
    -------
    PlaneGroup
        Number, symbol and the space group (setting) that embeds it.

    Raises
    ------
    CrystalFourierError
        For a number outside 1-17 or an unknown symbol.

    Examples
    --------
    >>> g = plane_group("p4gm")
    >>> g.number, g.embedding.symbol, g.operations[:3]
    (12, 'P4bm', ('x,y', '-y,x', '-x,-y'))
    """
    if isinstance(group, PlaneGroup):
        return group
    symbols = list(PLANE_GROUPS)
    if isinstance(group, int) or (isinstance(group, str) and group.strip().isdigit()):
        number = int(group)
        if not 1 <= number <= 17:
            raise CrystalFourierError(f"plane-group number must be 1-17, got {number}")
        symbol = symbols[number - 1]
    else:
        symbol = str(group).strip().replace(" ", "").replace("_", "")
        if symbol not in PLANE_GROUPS:
            raise CrystalFourierError(f"unknown plane group {group!r}: expected one of {', '.join(symbols)}")
    embedding = space_group(hall_number=PLANE_GROUPS[symbol])
    _check_embedding(embedding)
    return PlaneGroup(symbols.index(symbol) + 1, symbol, embedding)


def as_plane_group(group: object) -> PlaneGroup | None:
    """``group`` as a :class:`PlaneGroup` when it names one (a PlaneGroup or a Volume A symbol), else None.

    Plane-group symbols are written in lower case (``p4gm``) and never collide with a space-group
    symbol (``P4gm`` is refused, not read as ``p4gm``); numbers always mean space groups.

    Parameters
    ----------
    group : object
        What a caller passed as a group: a :class:`PlaneGroup`, a string, a number, a SpaceGroup.

    Returns
    -------
    PlaneGroup or None

    Examples
    --------
    >>> as_plane_group("p31m").number, as_plane_group("P31m"), as_plane_group(12)
    (15, None, None)
    """
    if isinstance(group, PlaneGroup):
        return group
    if isinstance(group, str) and group.strip().replace(" ", "").replace("_", "") in PLANE_GROUPS:
        return plane_group(group)
    return None


def plane_reflection_conditions(group: "int | str") -> tuple[str, ...]:
    """Volume A's reflection conditions of a plane group ("hk: h+k=2n", "h0: h=2n").

    The embedding's zones that lie in the plane l = 0 (hk0, h00, 0k0, hh0, ...), written with two
    indices; the conditions on every other zone do not reach l = 0 (an operation fixing a vector
    of the plane fixes the plane's zone through it, which is listed).

    Parameters
    ----------
    group : int or str
        Plane-group number 1-17 or symbol, as for :func:`plane_group`.

    Returns
    -------
    tuple of str
        One ``"zone: condition"`` text per zone with a condition, in Volume A's order.

    Examples
    --------
    >>> plane_reflection_conditions("p4gm"), plane_reflection_conditions("c2mm")[:1]
    (('h0: h=2n',), ('hk: h+k=2n',))
    """
    result = []
    for zone in plane_zone_conditions(group):
        label, rest = zone.text.split(":", 1)
        result.append(f"{label[:-1]}:{rest}")
    return tuple(result)


def plane_zone_conditions(group: "int | str | PlaneGroup") -> tuple:
    """The zones of :func:`plane_reflection_conditions` as objects (three indices, l = 0).

    For :func:`~crystal_fourier.derive.allowed_mask` on frequencies (h, k, 0): the plane group's
    reflection conditions, checked against the absences by :func:`crystal_fourier.proofs.certificate`.

    Parameters
    ----------
    group : int, str or PlaneGroup
        Plane-group number 1-17 or symbol, as for :func:`plane_group`.

    Returns
    -------
    tuple of ZoneCondition
        The embedding's zones that lie in the plane l = 0, with their conditions.
    """
    from crystal_fourier.derive._reflection_conditions import reflection_conditions

    embedding = plane_group(group).embedding
    return tuple(zone for zone in reflection_conditions(embedding) if all(vector[2] == 0 for vector in zone.basis))


@lru_cache(maxsize=None)
def _document(symbol: str, shifts: str) -> dict:
    import sympy as sp  # only here: importing the plane groups (as derive._bases does) stays light

    from crystal_fourier.derive._structure_factor_export import structure_factor_document

    group = plane_group(symbol)
    document = structure_factor_document(None, hall_number=group.embedding.hall_number, shifts=shifts)
    l_symbol = sp.Symbol("l")
    symbols = {name: sp.Symbol(name) for name in "hklxyz"}
    classes = []
    for item in document["classes"]:
        condition = sp.sympify(item["condition"], locals=symbols)
        condition = condition.subs(l_symbol, 0) if not isinstance(condition, bool) else condition
        if condition is sp.false or condition is False:
            continue
        a = sp.sympify(item["A"], locals=symbols).subs(l_symbol, 0)
        b = sp.sympify(item["B"], locals=symbols).subs(l_symbol, 0)
        classes.append({"condition": str(condition), "A": str(a), "B": str(b)})
    return {"plane_group": group.number, "symbol": group.symbol, "embedding_hall_number": group.embedding.hall_number,
            "reflection_conditions": list(plane_reflection_conditions(symbol)),
            "n_operations": len(group.embedding.operations), "operations": list(group.operations),
            "convention": "A + iB = sum over the operations (R, t) of the plane group, centring included, of "
                          "exp(2 pi i (h, k).(R (x, y) + t))", "shifts": shifts, "classes": classes}


def plane_group_document(group: "int | str", *, shifts: str = "auto") -> dict:
    """The structure-factor forms of a plane group (the JSON of ``structure-factor p4gm``), in h, k, x, y.

    Parameters
    ----------
    group : int or str
        Plane-group number 1-17 or symbol, as for :func:`plane_group`.
    shifts : {'auto', 'always', 'never'}, default 'auto'
        When phases move into the arguments as shifts linear in h (see :func:`structure_factor_form`).

    Returns
    -------
    dict
        JSON-ready; its ``"classes"`` hold one condition with its A and B expressions each.

    Examples
    --------
    >>> [(c["condition"], c["A"]) for c in plane_group_document("p2")["classes"]]
    [('True', '2*cos(pi*(2*h*x + 2*k*y))')]
    """
    return dict(_document(plane_group(group).symbol, shifts))
