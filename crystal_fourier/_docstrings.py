"""An interface's Parameters and Returns, written once for all its implementations.

An override of an interface method documents what it does in its own words (its summary, its notes,
a Returns section where it returns something more specific) and takes the interface's ``Parameters``
and ``Returns`` sections where it has none, so that the numpy-style sections (which the API reference
renders and tests/test_parameters_sections.py requires) are not copied into every subclass. pandas'
``@doc`` and matplotlib's ``_docstring`` do the same for their families.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["complete_docstrings"]

_HEADING = re.compile(r"^([A-Z][A-Za-z ]*)\n-{3,}\n", re.MULTILINE)
_ORDER = ("Parameters", "Returns", "Yields", "Raises", "Warns", "See Also", "Notes", "References", "Examples")
"""numpydoc's order of the sections."""
_INHERITED = ("Parameters", "Returns")


def _rank(heading: str) -> int:
    return _ORDER.index(heading) if heading in _ORDER else len(_ORDER)


def _split(doc: str) -> tuple[str, dict[str, str]]:
    """(the text before the first section, section heading -> body) of a numpy-style docstring."""
    parts = _HEADING.split(inspect.cleandoc(doc))
    return parts[0].rstrip(), {heading: body.rstrip() for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


def complete_docstrings(cls: type, interface: type) -> None:
    """Give each method of ``cls`` that overrides one of ``interface`` the interface's Parameters and Returns.

    A method whose docstring has a ``Parameters`` section of its own is left as it is; otherwise the
    interface method's ``Parameters`` and ``Returns`` are added, the method's own ``Returns`` (or any
    other section it has) taking precedence. Meant for ``__init_subclass__``.

    Parameters
    ----------
    cls : type
        The implementation, whose own methods are completed in place.
    interface : type
        The class whose methods document the parameters.
    """
    for name, member in vars(cls).items():
        documented = getattr(vars(interface).get(name), "__doc__", None)
        own = getattr(member, "__doc__", None)
        if not callable(member) or not documented or not own:
            continue
        summary, sections = _split(own)
        inherited = {heading: body for heading, body in _split(documented)[1].items() if heading in _INHERITED}
        if "Parameters" in sections or "Parameters" not in inherited:
            continue
        sections = {**inherited, **sections}
        member.__doc__ = summary + "".join(f"\n\n{heading}\n{'-' * len(heading)}\n{sections[heading]}"
                                           for heading in sorted(sections, key=_rank))
