"""Chemical elements: symbols by atomic number, and the parsing of species names, CIF type symbols
and site labels into atomic numbers (one table for every reader)."""

from __future__ import annotations

import numpy as np

from crystal_fourier.errors import CrystalFourierError

__all__ = ["ELEMENTS", "atomic_number", "element_number", "element_symbol"]

ELEMENTS = (
    "X", "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S",
    "Cl", "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge",
    "As", "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd",
    "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd",
    "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg",
    "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm",
    "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn",
    "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
)
"""Element symbols indexed by atomic number (index 0 is a placeholder, never a valid species)."""

_NUMBER = {symbol: number for number, symbol in enumerate(ELEMENTS) if number}
_NUMBER.update({"D": 1, "T": 1})  # isotopes as written in some CIFs


def atomic_number(species: str | int) -> int:
    """Atomic number of an element symbol (``'Fe'``, ``'fe'``) or a number 1-118.

    Parameters
    ----------
    species : str or int
        An element symbol in any case, or an atomic number.

    Returns
    -------
    int
        The atomic number, 1-118.

    Raises
    ------
    CrystalFourierError
        For an unknown symbol or a number outside 1-118.

    Examples
    --------
    >>> atomic_number("Cu"), atomic_number("pt"), atomic_number(6)
    (29, 78, 6)
    """
    if isinstance(species, (int, np.integer)) and not isinstance(species, bool):
        if 1 <= int(species) < len(ELEMENTS):
            return int(species)
        raise CrystalFourierError(f"atomic number must be in 1-{len(ELEMENTS) - 1}, got {species}")
    text = str(species).strip()
    key = text[:1].upper() + text[1:].lower()
    if key not in _NUMBER:
        raise CrystalFourierError(f"unknown element symbol {species!r}: expected a symbol such as 'Fe' or 'Pt'")
    return _NUMBER[key]


def element_number(text, *, where: str = "") -> int:
    """Atomic number of the element a species name, CIF type symbol or site label starts with.

    The one rule of every reader (CIF, POSCAR, extxyz, JSON, data-set rows), case-insensitive:
    take the leading letters; if the first two spell an element (in any case), that element
    wins; otherwise the first letter must be one. So ``CU`` is Cu, ``PT`` Pt, ``NA1`` Na,
    ``SI2`` Si, ``Fe3+`` Fe, ``O2-`` and ``Ow1`` O, ``Fe_pv`` (a POTCAR name) Fe; ``D`` and
    ``T`` are hydrogen. A two-letter reading is never dropped for a one-letter one, so an
    upper-case label never silently becomes a lighter element (``NA`` is not N).

    Parameters
    ----------
    text : str or int
        The name; an integer 1-118 is taken as an atomic number.
    where : str
        Prefix of the error message (file and line).

    Raises
    ------
    CrystalFourierError
        When no element can be read, naming the text.

    Examples
    --------
    >>> [element_number(t) for t in ("CU", "PT", "NI", "NA1", "SI2", "O2-", "Ow1", "c", "Fe_pv")]
    [29, 78, 28, 11, 14, 8, 8, 6, 26]
    """
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        return atomic_number(int(text))
    letters = ""
    for char in str(text).strip():
        if not ("a" <= char.lower() <= "z"):
            break
        letters += char
    for length in (2, 1):
        if len(letters) >= length:
            key = letters[:1].upper() + letters[1:length].lower()
            if key in _NUMBER:
                return _NUMBER[key]
    prefix = f"{where}: " if where else ""
    raise CrystalFourierError(f"{prefix}{str(text)!r} does not start with an element symbol "
                              "(expected a species such as 'Fe', 'Fe3+' or a label such as 'Fe1')")


def element_symbol(text: str, *, where: str = "") -> str:
    """The element symbol of :func:`element_number` (``'NA1'`` -> ``'Na'``).

    Parameters
    ----------
    text : str
        A species name, CIF type symbol or site label.
    where : str, default ""
        Where ``text`` comes from, to prefix the error message.

    Returns
    -------
    str
        The element symbol, capitalized.

    Raises
    ------
    CrystalFourierError
        If ``text`` does not start with an element symbol.

    Examples
    --------
    >>> element_symbol("SI2"), element_symbol("cl")
    ('Si', 'Cl')
    """
    return ELEMENTS[element_number(text, where=where)]
