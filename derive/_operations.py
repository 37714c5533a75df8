"""Space-group operations as exact integers: x -> R x + t with t in 24ths.

An :class:`Operation` acts on fractional coordinates of the conventional cell
(CONVENTIONS.md, "Groups and settings"); translations are stored as integer
numerators over ``DEN = 24`` and reduced into [0, 24), so two operations that
differ by a lattice translation compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from numpy.typing import ArrayLike

__all__ = ["DEN", "Operation", "operations_as_arrays"]

DEN = 24
"""Common denominator of every translation in the ITA settings (gemmi's ``Op.DEN``)."""

_AXES = "xyz"


def _determinant(m) -> int:
    """Exact determinant of a square matrix of integers (or fractions) given as rows: the closed form for 3x3
    (the rotations, checked for every operation built), else cofactor expansion along the first row."""
    if len(m) == 3:
        (a, b, c), (d, e, f), (g, h, i) = m
        return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    if len(m) == 1:
        return m[0][0]
    return sum((-1) ** j * m[0][j] * _determinant([row[:j] + row[j + 1:] for row in m[1:]]) for j in range(len(m)))


@dataclass(frozen=True, slots=True)
class Operation:
    """One coset representative (R, t) of G / Z^3.

    Parameters
    ----------
    rotation : tuple of 3 tuples of 3 ints
        The integer matrix R acting on fractional coordinates (column vectors).
    translation_24 : tuple of 3 ints
        24 t, each reduced into [0, 24).

    Examples
    --------
    >>> op = Operation.parse("-y,x-y,z+1/3")
    >>> op
    Operation.parse('-y,x-y,z+1/3')
    >>> Operation.parse(op.xyz) == op
    True
    >>> op.apply((0.1, 0.2, 0.3))
    (-0.2, -0.1, 0.6333333333333333)
    """

    rotation: tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]
    translation_24: tuple[int, int, int]

    def __post_init__(self) -> None:
        rotation = tuple(tuple(map(int, row)) for row in self.rotation)
        if len(rotation) != 3 or any(len(row) != 3 for row in rotation):
            raise CrystalFourierError(f"rotation must be 3x3 integers, got {self.rotation!r}")
        if abs(_determinant(rotation)) != 1:
            raise CrystalFourierError(f"rotation {rotation} is not unimodular (det must be +-1)")
        if len(self.translation_24) != 3:
            raise CrystalFourierError(f"translation_24 must hold 3 integers, got {self.translation_24!r}")
        translation = tuple(int(v) % DEN for v in self.translation_24)
        object.__setattr__(self, "rotation", rotation)
        object.__setattr__(self, "translation_24", translation)

    @classmethod
    def from_arrays(cls, rotation: ArrayLike, translation_24: ArrayLike) -> "Operation":
        """Build from array-likes ``rotation`` (3, 3) int and ``translation_24`` (3,) int.

        Parameters
        ----------
        rotation : array_like
            shape=(3, 3), integers: R.
        translation_24 : array_like
            shape=(3,), integers: t in 24ths.

        Returns
        -------
        Operation
        """
        # tolist: Python numbers in one call (__post_init__ makes them ints and checks the shapes)
        return cls(tuple(map(tuple, np.asarray(rotation).tolist())), tuple(np.asarray(translation_24).tolist()))

    @classmethod
    def identity(cls) -> "Operation":
        """The identity operation x -> x."""
        return cls(((1, 0, 0), (0, 1, 0), (0, 0, 1)), (0, 0, 0))

    @classmethod
    def parse(cls, xyz: str) -> "Operation":
        """Parse crystallographic notation such as ``'-y,x-y,z+1/3'`` (gemmi/ITA style).

        Parameters
        ----------
        xyz : str
            Three comma-separated affine forms, such as ``'-x,y+1/2,-z'``.

        Returns
        -------
        Operation
            Its translation in 24ths, as written (not reduced modulo 1).

        Raises
        ------
        CrystalFourierError
            If the text is not three comma-separated affine forms in x, y, z
            with rational translations whose denominators divide 24.
        """
        rotation, shifts = _affine_form(xyz)
        translation = []
        for shift in shifts:
            if (shift * DEN).denominator != 1:
                raise CrystalFourierError(f"translation {shift} in {xyz!r} is not a multiple of 1/{DEN}")
            translation.append(int(shift * DEN))
        return cls(tuple(rotation), tuple(translation))

    @property
    def xyz(self) -> str:
        """Crystallographic notation, e.g. ``'-y,x-y,z+1/3'``; round-trips through :meth:`parse`."""
        parts = []
        for row, t24 in zip(self.rotation, self.translation_24, strict=True):
            text = ""
            for coefficient, axis in zip(row, _AXES, strict=True):
                if coefficient == 0:
                    continue
                sign = "-" if coefficient < 0 else ("+" if text else "")
                magnitude = "" if abs(coefficient) == 1 else str(abs(coefficient))
                text += f"{sign}{magnitude}{axis}"
            if t24:
                text += f"+{Fraction(t24, DEN)}"
            parts.append(text or "0")
        return ",".join(parts)

    def __repr__(self) -> str:
        return f"Operation.parse({self.xyz!r})"

    def __matmul__(self, other: "Operation") -> "Operation":
        """Composition ``self @ other``: x -> R1 (R2 x + t2) + t1, reduced mod Z^3."""
        r1, r2 = np.array(self.rotation), np.array(other.rotation)
        t = r1 @ np.array(other.translation_24) + np.array(self.translation_24)
        return Operation.from_arrays(r1 @ r2, t % DEN)

    def inverse(self) -> "Operation":
        """The inverse x -> R^-1 (x - t), reduced mod Z^3."""
        r = np.array(self.rotation)
        r_inv = np.rint(np.linalg.inv(r)).astype(np.int64)
        return Operation.from_arrays(r_inv, (-(r_inv @ np.array(self.translation_24))) % DEN)

    def apply(self, position: ArrayLike) -> tuple[float, float, float]:
        """Image R x + t of a fractional position (floats; not wrapped into the cell).

        Parameters
        ----------
        position : array_like
            shape=(3,), fractional coordinates.

        Returns
        -------
        tuple of float
        """
        r = np.array(self.rotation, dtype=float)
        image = r @ np.asarray(position, dtype=float) + np.array(self.translation_24) / DEN
        return tuple(float(v) for v in image)


def _affine_form(xyz: str) -> tuple[tuple[tuple[int, int, int], ...], tuple[Fraction, Fraction, Fraction]]:
    """Rows of R and exact translations t of ``'-y,x-y,z+1/3'``: any rational t (no 1/24 rule).

    :meth:`Operation.parse` adds the 1/24 rule; a magnetic CIF's supercell settings can need
    finer translations (1/8), which the CIF reader keeps exact here.
    """
    parts = xyz.replace(" ", "").lower().split(",")
    if len(parts) != 3:
        raise CrystalFourierError(f"cannot parse operation {xyz!r}: expected three comma-separated parts")
    rotation = []
    translation = []
    for part in parts:
        row = [0, 0, 0]
        shift = Fraction(0)
        tokens = re.findall(r"[+-]?[^+-]+", part)
        if not tokens or "".join(tokens) != part:
            raise CrystalFourierError(f"cannot parse operation {xyz!r}: bad part {part!r}")
        for token in tokens:
            sign = -1 if token.startswith("-") else 1
            body = token.lstrip("+-")
            if body in _AXES:
                row[_AXES.index(body)] += sign
                continue
            try:
                shift += sign * Fraction(body)
            except (ValueError, ZeroDivisionError):
                raise CrystalFourierError(
                    f"cannot parse operation {xyz!r}: {token!r} is neither x, y, z nor a fraction"
                ) from None
        rotation.append(tuple(row))
        translation.append(shift)
    return tuple(rotation), tuple(translation)


def operations_as_arrays(operations: Iterable[Operation]) -> tuple[np.ndarray, np.ndarray]:
    """Stack operations into ``rotations`` shape=(n, 3, 3), dtype=int64 and
    ``translations_24`` shape=(n, 3), dtype=int64 (read-only).

    Parameters
    ----------
    operations : iterable of Operation
        The operations to stack.

    Returns
    -------
    rotations : numpy.ndarray
        shape=(n, 3, 3), int64, read-only.
    translations_24 : numpy.ndarray
        shape=(n, 3), int64, read-only: translations in 24ths.
    """
    rotations = np.array([op.rotation for op in operations], dtype=np.int64).reshape(-1, 3, 3)
    translations = np.array([op.translation_24 for op in operations], dtype=np.int64).reshape(-1, 3)
    rotations.setflags(write=False)
    translations.setflags(write=False)
    return rotations, translations

