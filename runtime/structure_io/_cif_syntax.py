"""CIF syntax through gemmi: data blocks, tags (case-insensitive) with their line numbers, CIF numbers.

gemmi's parser reads the syntax (``gemmi.cif.read_string``: blocks, loops, quoted strings, text
fields, comments, a UTF-8 byte-order mark); :class:`CifBlock` gives the reader of
:mod:`~crystal_fourier.runtime.structure_io._cif` plain strings and the line of each tag for its
messages, and a syntax error becomes one :class:`~crystal_fourier.errors.CrystalFourierError`
naming the source and the line. What the values mean is decided in ``_cif`` and ``_cif_symmetry``.
"""

from __future__ import annotations

import re

import numpy as np

from crystal_fourier.errors import CrystalFourierError

__all__ = ["CifBlock", "data_blocks", "cif_number", "cif_numbers"]

_SITE_TAGS = ("_atom_site_fract_x", "_atom_site_cartn_x")
"""A block with one of these columns holds a structure."""


def _document(text: str, source: str):
    from gemmi import cif

    text = text.lstrip("\ufeff")  # a UTF-8 byte-order mark
    try:
        return cif.read_string(text)
    except (RuntimeError, ValueError) as error:
        message = str(error)
        located = re.match(r"string:(\d+)(?::\d+)?(?:\(\d+\))?:?\s*(.*)", message, re.S)
        if located:
            message = f"line {located.group(1)}: {located.group(2)}"
        else:
            message = message[len("string:"):].strip() if message.startswith("string:") else message
        if "wrong number of values in loop" in message.lower():
            message += " (a row is incomplete, or a value with spaces is not quoted)"
        if "expected block header" in message:
            message += " (text appears before any 'data_' block header; is this a CIF file?)"
        raise CrystalFourierError(f"{source}, {message}") from None


class CifBlock:
    """Read access to one gemmi block: values as plain strings, with line numbers for messages."""

    def __init__(self, block, source: str):
        self.block = block
        self.name = block.name
        self.source = source

    def where(self, tag: str | None = None) -> str:
        line = self.line(tag) if tag else None
        at = f", line {line}" if line else ""
        return f"{self.source}, block '{self.name}'{at}"

    def line(self, tag: str) -> int | None:
        for finder in (self.block.find_pair_item, self.block.find_loop_item):
            item = finder(tag)
            if item is not None:
                return item.line_number
        return None

    def column(self, tag: str) -> list[str] | None:
        values = self.block.find_values(tag)
        if not values:
            return None
        return [values.str(i) for i in range(len(values))]

    def first_column(self, tags) -> tuple[str, list[str]] | tuple[None, None]:
        for tag in tags:
            values = self.column(tag)
            if values is not None:
                return tag, values
        return None, None

    def value(self, tags) -> tuple[str, str] | tuple[None, None]:
        """(tag as spelled in the file, text) of the first of ``tags`` present with a non-null value."""
        for tag in tags:
            values = self.column(tag)
            if values and values[0] not in ("?", "."):
                return self.spelled(tag), values[0]
        return None, None

    def spelled(self, tag: str) -> str:
        """The tag as the file writes it (tags are case-insensitive)."""
        item = self.block.find_pair_item(tag)
        if item is not None:
            return item.pair[0]
        item = self.block.find_loop_item(tag)
        if item is not None:
            return next((t for t in item.loop.tags if t.lower() == tag.lower()), tag)
        return tag

    def tags(self) -> list[str]:
        """Every tag of the block, lower case, in file order."""
        found = []
        for item in self.block:
            if item.pair is not None:
                found.append(item.pair[0].lower())
            elif item.loop is not None:
                found.extend(tag.lower() for tag in item.loop.tags)
        return found

    def has_sites(self) -> bool:
        return any(self.block.find_values(tag) for tag in _SITE_TAGS)


def cif_number(text: str, where: str, what: str) -> float | None:
    """A CIF number: '1.234(5)' -> 1.234; '?' or '.' -> None."""
    from gemmi import cif

    if text in ("?", "."):
        return None
    value = cif.as_number(text)
    if not np.isfinite(value):
        raise CrystalFourierError(f"{where}: {what} = {text!r} is not a number")
    return float(value)


def cif_numbers(column: list[str]) -> np.ndarray:
    """CIF numbers of a whole column, NaN where :func:`cif_number` would refuse or find nothing (checked there)."""
    from gemmi import cif

    return np.array([cif.as_number(text) for text in column], dtype=np.float64)


def data_blocks(text: str, source: str) -> list[CifBlock]:
    """Every data block of CIF ``text``, in file order; ``source`` names the text in error messages."""
    return [CifBlock(block, source) for block in _document(text, source)]
