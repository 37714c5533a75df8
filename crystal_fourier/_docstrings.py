"""An interface's Parameters and Returns, written once for all its implementations.

An override of an interface method documents what it does in its own words (its summary, its notes)
and takes the interface's ``Parameters``, ``Returns``, ... sections, so that the numpy-style sections
(which the API reference renders and tests/test_parameters_sections.py requires) are not copied into
every subclass. pandas' ``@doc`` and matplotlib's ``_docstring`` do the same for their families.
"""

from __future__ import annotations

import inspect

__all__ = ["complete_docstrings"]

_HEADING = "\nParameters\n----------\n"


def complete_docstrings(cls: type, interface: type) -> None:
    """Append to each method of ``cls`` that overrides one of ``interface`` the interface method's sections.

    Only a docstring without a ``Parameters`` section of its own is completed; one that documents its
    parameters itself (because they differ) is left as it is. Meant for ``__init_subclass__``.

    Parameters
    ----------
    cls : type
        The implementation, whose own methods are completed in place.
    interface : type
        The class whose methods document the parameters.
    """
    for name, member in vars(cls).items():
        documented = vars(interface).get(name)
        own = getattr(member, "__doc__", None)
        if not callable(member) or documented is None or not own or _HEADING in "\n" + inspect.cleandoc(own):
            continue
        text = "\n" + inspect.cleandoc(documented.__doc__ or "")
        if _HEADING in text:
            member.__doc__ = inspect.cleandoc(own) + "\n\n" + text[text.index(_HEADING) + 1:]
