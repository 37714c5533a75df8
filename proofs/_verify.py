"""Re-derive and re-check certificates for many groups (the ``verify`` path)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crystal_fourier._atomic import atomic_write_text
from crystal_fourier.derive import basis
from crystal_fourier.proofs._certificates import CHECKS, PLANE_CHECKS, certificate, certificate_json

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crystal_fourier.derive import SpaceGroup
    from crystal_fourier.derive._plane_groups import PlaneGroup

__all__ = ["GroupResult", "verify_group", "verify_groups"]


@dataclass(frozen=True, slots=True)
class GroupResult:
    """Outcome of verifying one group: counts and the names of failed checks."""

    sg: int
    hall_number: int
    symbol: str
    n_operations: int
    dim: int
    character_formula: int
    n_absent_frequencies: int
    terms_checked: int
    failed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True iff every check passed."""
        return not self.failed


def verify_group(group: SpaceGroup | PlaneGroup | int | str | None, cutoff: int, shell: str = "ball", *,
                 hall_number: int | None = None, sympy: bool = False, out: Path | None = None) -> GroupResult:
    """Derive, certify and (optionally) write the certificate of one group.

    The certificate file ``sg{number:03d}_h{hall:03d}_{shell}{cutoff}.json`` (a plane group's:
    ``plane{number:02d}_{symbol}_{shell}{cutoff}.json``) is written atomically, so an interrupted
    run never leaves a partial file.

    Parameters
    ----------
    group : SpaceGroup, PlaneGroup, int, str or None
        Number, symbol or :class:`~crystal_fourier.derive.SpaceGroup` (None with ``hall_number``),
        or a plane group (``'p4gm'`` or a :class:`~crystal_fourier.derive.PlaneGroup`): its
        certificate adds the reflection conditions and the structure-factor forms.
    cutoff : int
        Ball radius or box size.
    shell : {'ball', 'box'}
        The frequency shell.
    hall_number : int, optional
        Any of the 530 settings instead of ``group``.
    sympy : bool
        Also prove the closed forms with SymPy.
    out : Path, optional
        Directory for the certificate file (none is written when None).

    Returns
    -------
    GroupResult
        ``ok``, the group (number, Hall number, symbol; a plane group's number 1-17 and symbol with
        the Hall number of its embedding), its dimension against the character
        formula, the number of terms checked and the failed checks.

    Examples
    --------
    >>> verify_group(227, 2, "box").ok
    True
    """
    derived = basis(group, cutoff, shell, hall_number=hall_number)
    document = certificate(derived, sympy=sympy)
    plane = derived.plane_group
    if out is not None:
        name = (f"sg{derived.group.number:03d}_h{derived.group.hall_number:03d}_{shell}{cutoff}.json" if plane is None
                else f"plane{plane.number:02d}_{plane.symbol}_{shell}{cutoff}.json")
        atomic_write_text(Path(out) / name, certificate_json(document))
    checks = CHECKS + (("sympy",) if sympy else ()) + (PLANE_CHECKS if plane is not None else ())
    return GroupResult(
        sg=derived.group.number if plane is None else plane.number,
        hall_number=derived.group.hall_number,
        symbol=derived.group.symbol if plane is None else plane.symbol,
        n_operations=len(derived.group.operations),
        dim=derived.dim,
        character_formula=document["completeness"]["character_formula"],
        n_absent_frequencies=document["absences"]["n_absent_frequencies"],
        terms_checked=document["invariance"]["terms_checked"],
        failed=tuple(name for name in checks if not document[name]["ok"]),
    )


def verify_groups(groups: Iterable[int], cutoff: int, shell: str = "ball", *, sympy: bool = False,
                  out: Path | None = None, progress: bool = True) -> list[GroupResult]:
    """:func:`verify_group` for each group number, with a progress bar on stderr.

    Parameters
    ----------
    groups : iterable of int or PlaneGroup
        Group numbers (1-230), each in its ITA standard setting, or plane groups.
    cutoff : int
        Ball radius or box size.
    shell : {'ball', 'box'}
        The frequency shell.
    sympy : bool
        Also prove the closed forms with SymPy.
    out : Path, optional
        Directory for the certificate files (none written when None).
    progress : bool
        Show the progress bar.

    Returns
    -------
    list of GroupResult
        One per group, in order; ``crystal-fourier verify`` exits 1 when any is not ``ok``.

    Examples
    --------
    >>> [result.dim for result in verify_groups([1, 2], 1, "box", progress=False)]
    [27, 14]"""
    from crystal_fourier._progress import progress_bar

    results = []
    for number in progress_bar(list(groups), f"verify {shell} {cutoff}", progress, unit="group"):
        results.append(verify_group(number, cutoff, shell, sympy=sympy, out=out))
    return results
