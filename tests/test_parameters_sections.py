"""Every public function that takes parameters documents them in a numpy-style ``Parameters`` section.

The public functions are computed, not listed: every function (hypothesis strategies included) named in
``__all__`` of the packages below whose signature has a parameter. Its docstring must hold a
``Parameters`` heading underlined with dashes, the section the API reference renders as a parameter
list. Classes are left to ``test_public_api.py`` (their attributes are documented in the class
docstring). A second test runs the same check on a synthetic module to show that it reports exactly the
functions without the section.
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


def functions_without_parameters_section(module: types.ModuleType) -> list[str]:
    """``module.name`` of each function in ``module.__all__`` that takes parameters but has no section."""
    missing = []
    for name in module.__all__:
        obj = getattr(module, name, None)
        if inspect.isclass(obj) or not callable(obj) or not inspect.isfunction(inspect.unwrap(obj)):
            continue
        if not _takes_parameters(obj):
            continue
        if not _PARAMETERS_HEADING.search(inspect.getdoc(obj) or ""):
            missing.append(f"{module.__name__}.{name}")
    return missing


def test_every_public_function_with_parameters_has_a_parameters_section():
    checked, missing = 0, []
    for package in PACKAGES:
        module = importlib.import_module(package)
        checked += sum(1 for name in module.__all__ if inspect.isfunction(inspect.unwrap(getattr(module, name))))
        missing += functions_without_parameters_section(module)
    assert checked > 150, f"only {checked} public functions found: the enumeration is broken"
    assert not missing, (f"{len(missing)} public functions take parameters but have no numpy-style "
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
        """A class: left to the other API test."""

        def __init__(self, size: int) -> None:
            self.size = size

    for value in (documented, prose_only, returns_only, no_parameters, undocumented, Thing):
        setattr(module, value.__name__, value)
    module.maximum = max  # a builtin: skipped
    module.LIMIT = 3  # a constant: skipped
    module.__all__ = ["documented", "prose_only", "returns_only", "no_parameters", "undocumented", "Thing",
                      "maximum", "LIMIT"]
    return module


def test_the_check_reports_exactly_the_functions_without_the_section():
    assert functions_without_parameters_section(_synthetic_module()) == [
        "synthetic.prose_only", "synthetic.returns_only", "synthetic.undocumented"]
