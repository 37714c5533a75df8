"""Frequency sets (the cutoff): the ``ball`` and ``box`` shells of CONVENTIONS.md.

Both shells are closed under the point group of every group they serve, so no
orbit is ever cut at the boundary; :func:`frequency_set` checks this.
Frequencies are ordered by their exact squared norm q, then by (h, k, l)
descending, so k = 0 comes first and orbit representatives read naturally
((1, 0, 0) rather than (-1, 0, 0)).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from crystal_fourier._checks import check_int
from crystal_fourier.errors import CrystalFourierError

if TYPE_CHECKING:
    from crystal_fourier.derive._space_groups import SpaceGroup

__all__ = ["SHELLS", "FrequencySet", "frequency_set", "shell_frequencies", "norm3", "check_shell_cutoff"]

SHELLS = ("ball", "box")


def norm3(hkl: np.ndarray, hexagonal: bool) -> np.ndarray:
    """Three times the squared norm q(k) of CONVENTIONS.md, exact integers.

    ``hkl`` has shape=(n, 3), dtype=int64. Cubic metric: 3(h^2 + k^2 + l^2);
    hexagonal axes (a = b = c = 1, gamma = 120 deg): 4(h^2 + hk + k^2) + 3 l^2.
    """
    h, k, l = hkl[:, 0], hkl[:, 1], hkl[:, 2]
    if hexagonal:
        return 4 * (h * h + h * k + k * k) + 3 * l * l
    return 3 * (h * h + k * k + l * l)


@lru_cache(maxsize=None, typed=True)  # typed: True must not hit the cache entry of 1
def check_shell_cutoff(shell: str, cutoff) -> int:
    """Validate that (``shell``, ``cutoff``) names a frequency set; return the cutoff as an int.

    The one check behind every function taking a shell and a cutoff (derive, the generator,
    the runtime modules and routing tables).

    Raises
    ------
    CrystalFourierError
        ``shell`` not one of :data:`SHELLS`, or ``cutoff`` not an integer >= 0 (bools refused).

    Examples
    --------
    >>> check_shell_cutoff("ball", np.int64(5))
    5
    >>> check_shell_cutoff("sphere", 5)
    Traceback (most recent call last):
    ...
    crystal_fourier.errors.CrystalFourierError: unknown shell 'sphere': expected one of ball, box
    """
    if shell not in SHELLS:
        raise CrystalFourierError(f"unknown shell {shell!r}: expected one of {', '.join(SHELLS)}")
    return check_int("cutoff", cutoff, 0, allow_numpy=True)


def shell_frequencies(shell: str, cutoff: int, hexagonal: bool, plane: bool = False) -> np.ndarray:
    """All k of one shell, shape=(n, 3), dtype=int64, read-only, canonically ordered.

    With ``plane`` only the frequencies with l = 0 (a plane group's (h, k), the shell's section
    by the plane: the same metric, the same order).

    Parameters
    ----------
    shell : {'ball', 'box'}
        ``ball``: q(k) <= cutoff^2; ``box``: max(|h|,|k|,|l|) <= cutoff (cubic
        axes) or max(|h|,|k|,|h+k|) <= cutoff and |l| <= cutoff (hexagonal axes).
    cutoff : int
        Radius R or size K, an integer >= 0.
    hexagonal : bool
        Use the hexagonal-axes metric (groups 143-194, not on rhombohedral axes).
    plane : bool, default False
        Keep only l = 0 (the frequencies of a plane group).

    Returns
    -------
    numpy.ndarray
        shape=(n, 3), dtype=int64.

    Examples
    --------
    >>> len(shell_frequencies("ball", 5, False)), len(shell_frequencies("ball", 5, True))
    (515, 419)
    >>> len(shell_frequencies("box", 2, False)), len(shell_frequencies("box", 2, True))
    (125, 95)
    """
    cutoff = check_shell_cutoff(shell, cutoff)
    # The hexagonal ball reaches |h| <= 2R/sqrt(3) along a*; 2*cutoff bounds every case.
    span = np.arange(-2 * cutoff, 2 * cutoff + 1, dtype=np.int64)
    grid = np.stack(np.meshgrid(span, span, span, indexing="ij"), axis=-1).reshape(-1, 3)
    q3 = norm3(grid, hexagonal)
    if shell == "ball":
        keep = q3 <= 3 * cutoff * cutoff
    else:
        h, k, l = grid[:, 0], grid[:, 1], grid[:, 2]
        if hexagonal:
            keep = (np.maximum(np.maximum(np.abs(h), np.abs(k)), np.abs(h + k)) <= cutoff) & (np.abs(l) <= cutoff)
        else:
            keep = np.max(np.abs(grid), axis=1) <= cutoff
    if plane:
        keep &= grid[:, 2] == 0
    grid, q3 = grid[keep], q3[keep]
    order = np.lexsort((-grid[:, 2], -grid[:, 1], -grid[:, 0], q3))
    result = np.ascontiguousarray(grid[order])
    result.setflags(write=False)
    return result


@dataclass(frozen=True, slots=True, eq=False)
class FrequencySet:
    """A shell of frequencies k (Miller indices), with an index for exact lookup.

    Attributes
    ----------
    shell : str
        'ball' or 'box'.
    cutoff : int
        Radius R or size K.
    hexagonal : bool
        Whether the hexagonal-axes metric was used.
    hkl : np.ndarray
        shape=(n, 3), dtype=int64, read-only, canonically ordered (k = 0 first).
    plane : bool
        Whether only l = 0 is kept (a plane group's frequencies (h, k, 0)).
    """

    shell: str
    cutoff: int
    hexagonal: bool
    hkl: np.ndarray
    plane: bool = False

    def __len__(self) -> int:
        return len(self.hkl)

    @property
    def span(self) -> int:
        """Largest |index| along any axis, max over k of max(|h|, |k|, |l|)."""
        return int(np.abs(self.hkl).max(initial=0))

    def index(self, hkl: np.ndarray) -> np.ndarray:
        """Positions of the rows of ``hkl`` (shape=(..., 3), int) in this set; -1 where absent.

        Exact integer lookup by a packed key and binary search.

        Parameters
        ----------
        hkl : numpy.ndarray
            shape=(..., 3), integer frequencies.

        Returns
        -------
        numpy.ndarray
            shape=(...), int64: the index of each row in ``self.hkl``, or -1.
        """
        hkl = np.asarray(hkl, dtype=np.int64)
        table_keys, order = _lookup_table(self)
        keys = _pack(hkl, self.span)
        position = np.searchsorted(table_keys, keys)
        position = np.clip(position, 0, len(table_keys) - 1)
        inside = np.all(np.abs(hkl) <= self.span, axis=-1)
        found = inside & (table_keys[position] == keys)
        return np.where(found, order[position], -1)


def _pack(hkl: np.ndarray, span: int) -> np.ndarray:
    base = 2 * span + 1
    shifted = hkl + span
    return (shifted[..., 0] * base + shifted[..., 1]) * base + shifted[..., 2]


@lru_cache(maxsize=64)
def _lookup_table_cached(shell: str, cutoff: int, hexagonal: bool, plane: bool):
    hkl = shell_frequencies(shell, cutoff, hexagonal, plane)
    span = int(np.abs(hkl).max(initial=0))
    keys = _pack(hkl, span)
    order = np.argsort(keys)
    return keys[order], order


def _lookup_table(fs: FrequencySet):
    return _lookup_table_cached(fs.shell, fs.cutoff, fs.hexagonal, fs.plane)


def frequency_set(group: SpaceGroup, cutoff: int, shell: str = "ball", *, plane: bool = False) -> FrequencySet:
    """The frequency set of CONVENTIONS.md serving ``group`` at ``cutoff``.

    The metric (cubic or hexagonal axes) follows the group's setting. The set
    is checked to be closed under the group's point group (k -> R^T k).

    Parameters
    ----------
    group : SpaceGroup
    cutoff : int
        Radius R of the ball or size K of the box, >= 0.
    shell : {'ball', 'box'}
    plane : bool, default False
        Only the frequencies with l = 0, for a plane group embedded in ``group``
        (:func:`~crystal_fourier.derive.plane_group`).

    Returns
    -------
    FrequencySet

    Raises
    ------
    CrystalFourierError
        Negative or non-integer cutoff, unknown shell, or a set not closed
        under the point group (which would cut orbits at the boundary).

    Examples
    --------
    >>> from crystal_fourier.derive import space_group
    >>> len(frequency_set(space_group(1), 2, "box")), len(frequency_set(space_group(1), 5))
    (125, 515)
    """
    fs = FrequencySet(shell, int(cutoff) if isinstance(cutoff, (int, np.integer)) and not isinstance(cutoff, bool)
                      else cutoff, group.hexagonal_axes,
                      shell_frequencies(shell, cutoff, group.hexagonal_axes, plane), plane)
    rotations, _ = group.arrays
    images = np.einsum("ni,gij->ngj", fs.hkl, rotations)
    if np.any(fs.index(images) < 0):
        raise CrystalFourierError(
            f"the {shell} shell at cutoff {cutoff} is not closed under the point group of {group}; "
            "use the standard setting or the other shell")
    return fs
