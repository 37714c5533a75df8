"""Every public callable is annotated and documented.

The public API is exactly the names in ``__all__`` of the packages below (every module inside a
package is private). For each name that is a function, and for each public class's own public
methods, class and static methods, properties and hand-written ``__init__``, every parameter but
``self``/``cls`` and ``*args``/``**kwargs`` carries an annotation and there is a return annotation
(not for ``__init__``, which the class docstring documents); every function, method, property and
class has a docstring of its own. Constants are skipped. A second test runs the same check on a
synthetic module to show that it reports exactly what is missing.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import types
from collections.abc import Callable, Iterator

PACKAGES = ("crystal_fourier", "crystal_fourier.derive", "crystal_fourier.runtime", "crystal_fourier.proofs",
            "crystal_fourier.visual", "crystal_fourier.testing", "crystal_fourier.kernel", "crystal_fourier.cache",
            "crystal_fourier.audit", "crystal_fourier.hosts", "crystal_fourier.errors")

_UNRESOLVED = object()


def _has_own_docstring(obj: object) -> bool:
    doc = vars(obj).get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str) or not doc.strip():
        return False
    # A dataclass without a docstring gets one generated from its signature, "Name(field: type, ...)".
    return not (inspect.isclass(obj) and dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("))


def _is_generated(function: Callable) -> bool:
    """True for code made at run time (the ``__init__`` that ``@dataclass`` writes), not written in a file."""
    return function.__code__.co_filename.startswith("<")


def _members(label: str, cls: type) -> Iterator[tuple[str, Callable, str]]:
    """(label, function, kind) of the class's own public methods, class/static methods, properties and __init__."""
    for attr, member in vars(cls).items():
        if attr.startswith("_") and attr != "__init__":
            continue
        if isinstance(member, property):
            if member.fget is not None:
                yield f"{label}.{attr}", member.fget, "property"
            continue
        kind = "init" if attr == "__init__" else "method"
        method = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
        function = inspect.unwrap(method)
        if not inspect.isfunction(function) or (kind == "init" and _is_generated(function)):
            continue
        yield f"{label}.{attr}", method, kind


def _callable_problems(label: str, obj: Callable, kind: str) -> list[str]:
    problems = []
    function = inspect.unwrap(obj)
    if kind != "init" and not _has_own_docstring(function):
        problems.append(f"{label}: no docstring")
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        if inspect.isfunction(function):
            problems.append(f"{label}: no signature")
        return problems  # a builtin without a signature: nothing to check
    parameters = list(signature.parameters.values())
    if kind != "function" and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    missing = [p.name for p in parameters if p.annotation is inspect.Parameter.empty
               and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if missing:
        problems.append(f"{label}: parameters without annotation: {', '.join(missing)}")
    if kind != "init" and signature.return_annotation is inspect.Signature.empty:
        problems.append(f"{label}: no return annotation")
    return problems


def api_problems(module: types.ModuleType) -> list[str]:
    """What the public API of ``module`` (its ``__all__``) lacks, one line per finding."""
    problems = []
    for name in module.__all__:
        label = f"{module.__name__}.{name}"
        obj = getattr(module, name, _UNRESOLVED)
        if obj is _UNRESOLVED:
            problems.append(f"{label}: does not resolve")
        elif inspect.isclass(obj):
            if not _has_own_docstring(obj):
                problems.append(f"{label}: no docstring")
            for member_label, member, kind in _members(label, obj):
                problems += _callable_problems(member_label, member, kind)
        elif callable(obj):
            problems += _callable_problems(label, obj, "function")
    return problems


def test_every_public_name_resolves():
    unresolved = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        assert module.__all__, package
        unresolved += [f"{package}.{name}" for name in module.__all__
                       if getattr(module, name, _UNRESOLVED) is _UNRESOLVED]
    assert not unresolved, "names in __all__ that do not resolve:\n" + "\n".join(unresolved)


def test_every_public_callable_is_annotated_and_documented():
    problems = []
    for package in PACKAGES:
        problems += api_problems(importlib.import_module(package))
    assert not problems, f"{len(problems)} gaps in the public API:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- the check can fail


def _synthetic_module() -> types.ModuleType:
    module = types.ModuleType("synthetic")

    def good(x: int, *args, **kwargs) -> int:
        """Annotated and documented."""
        return x

    def unannotated(x, y: int):
        """Documented, but x and the return are not annotated."""
        return x + y

    def undocumented(x: int) -> int:
        return x

    def decorator(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            return function(*args, **kwargs)
        return wrapper

    @decorator
    def wrapped(x) -> int:
        """The wrapper has no annotations; the wrapped function lacks one."""
        return x

    class Thing:
        """Documented class."""

        def __init__(self, size) -> None:  # no docstring needed: the class documents it
            self.size = size

        def grow(self, by: int):
            """Documented; no return annotation."""
            self.size += by

        def _private(self, x):
            return x

        @classmethod
        def make(cls, n) -> Thing:
            """Documented; n not annotated."""
            return cls(n)

        @staticmethod
        def fine(x: int) -> int:
            """All there."""
            return x

        @property
        def area(self) -> int:
            return self.size ** 2

    @dataclasses.dataclass
    class Record:
        """Documented dataclass: its generated __init__ is not checked."""

        a: int

    @dataclasses.dataclass
    class Bare:
        a: int

    for value in (good, unannotated, undocumented, wrapped, Thing, Record, Bare):
        setattr(module, value.__name__, value)
    module.maximum = max  # a builtin without a signature: skipped
    module.LIMIT = 3  # a constant: skipped
    module.__all__ = ["good", "unannotated", "undocumented", "wrapped", "Thing", "Record", "Bare", "maximum",
                      "LIMIT", "missing"]
    return module


def test_the_api_check_reports_exactly_what_is_missing():
    assert api_problems(_synthetic_module()) == [
        "synthetic.unannotated: parameters without annotation: x",
        "synthetic.unannotated: no return annotation",
        "synthetic.undocumented: no docstring",
        "synthetic.wrapped: parameters without annotation: x",
        "synthetic.Thing.__init__: parameters without annotation: size",
        "synthetic.Thing.grow: no return annotation",
        "synthetic.Thing.make: parameters without annotation: n",
        "synthetic.Thing.area: no docstring",
        "synthetic.Bare: no docstring",
        "synthetic.missing: does not resolve",
    ]
