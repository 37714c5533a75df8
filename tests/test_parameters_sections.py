"""Every public function that takes parameters documents them in a numpy-style ``Parameters`` section.

The public callables are computed, not listed: every function (hypothesis strategies included) named in
``__all__`` of the packages below, and every public class's own public methods, class and static methods
(not properties, not ``__init__``: the class docstring documents the constructor's fields), whose
signature has a parameter besides ``self``/``cls``. Its docstring must hold a ``Parameters`` heading
underlined with dashes, the section the API reference renders as a parameter list. A second test runs
the same check on a synthetic module to show that it reports exactly the callables without the section.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types

PACKAGES = ("crystal_fourier", "crystal_fourier.derive", "crystal_fourier.runtime", "crystal_fourier.proofs",
            "crystal_fourier.visual", "crystal_fourier.testing", "crystal_fourier.kernel", "crystal_fourier.cache",
            "crystal_fourier.audit", "crystal_fourier.hosts")

_PARAMETERS_HEADING = re.compile(r"^Parameters\n-{3,}$", re.MULTILINE)


def _takes_parameters(function: object) -> bool:
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return False  # a builtin without a signature
    return bool([name for name in parameters if name not in ("self", "cls")])


def _public_callables(module: types.ModuleType):
    """(label, function) of the functions in ``module.__all__`` and of its classes' own public methods."""
    for name in module.__all__:
        obj = getattr(module, name, None)
        label = f"{module.__name__}.{name}"
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                function = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                if not attr.startswith("_") and inspect.isfunction(inspect.unwrap(function)):
                    yield f"{label}.{attr}", function
        elif callable(obj) and inspect.isfunction(inspect.unwrap(obj)):
            yield label, obj


def functions_without_parameters_section(module: types.ModuleType) -> list[str]:
    """The label of each public callable of ``module`` that takes parameters but has no section."""
    return [label for label, function in _public_callables(module)
            if _takes_parameters(function) and not _PARAMETERS_HEADING.search(inspect.getdoc(function) or "")]


def test_every_public_function_with_parameters_has_a_parameters_section():
    checked, missing = 0, []
    for package in PACKAGES:
        module = importlib.import_module(package)
        checked += len(list(_public_callables(module)))
        missing += functions_without_parameters_section(module)
    # 189 when the public API was cut to the names users call (issue 27); far fewer means a broken enumeration.
    assert checked > 150, f"only {checked} public functions and methods found: the enumeration is broken"
    assert not missing, (f"{len(missing)} public functions or methods take parameters but have no numpy-style "
                         "'Parameters' section:\n" + "\n".join(missing))


def _synthetic_module() -> types.ModuleType:
    module = types.ModuleType("synthetic")

    def documented(x: int, *, scale: float = 1.0) -> float:
        """Documented.

        Parameters
        ----------
        x : int
            A number.
        scale : float, default 1.0
            A factor.
        """
        return x * scale

    def prose_only(x: int) -> int:
        """Parameters are described in prose only: x is a number."""
        return x

    def returns_only(x: int) -> int:
        """Only a Returns section.

        Returns
        -------
        int
        """
        return x

    def no_parameters() -> int:
        """Nothing to document."""
        return 1

    def undocumented(x):
        return x

    class Thing:
        """A class: its constructor is documented here; its methods are checked."""

        def __init__(self, size: int) -> None:
            self.size = size

        def grow(self, by: int) -> None:
            """Grow by ``by``, without a section."""
            self.size += by

        @classmethod
        def make(cls, size: int) -> Thing:
            """Make one.

            Parameters
            ----------
            size : int
                The size.
            """
            return cls(size)

        @staticmethod
        def unit(x: int) -> int:
            """No section."""
            return x

        def area(self) -> int:
            """Only self: nothing to document."""
            return self.size ** 2

        def _private(self, x: int) -> int:
            return x

        @property
        def double(self) -> int:
            """A property: skipped."""
            return 2 * self.size

    for value in (documented, prose_only, returns_only, no_parameters, undocumented, Thing):
        setattr(module, value.__name__, value)
    module.maximum = max  # a builtin: skipped
    module.LIMIT = 3  # a constant: skipped
    module.__all__ = ["documented", "prose_only", "returns_only", "no_parameters", "undocumented", "Thing",
                      "maximum", "LIMIT"]
    return module


def test_the_check_reports_exactly_the_callables_without_the_section():
    assert functions_without_parameters_section(_synthetic_module()) == [
        "synthetic.prose_only", "synthetic.returns_only", "synthetic.undocumented", "synthetic.Thing.grow",
        "synthetic.Thing.unit"]
