"""Clients use the public API: no client file imports a private module or a private name of another package.

The rule, checked on every import statement (lazy imports inside functions included):

* A name that starts with one underscore (``_training``, ``_distributed``; dunders such as
  ``__version__`` are not private) is private to the package that contains it. Modules inside
  that package, at any depth, may import it; nothing else may. So ``crystal_fourier.visual._report``
  may import ``crystal_fourier.visual._sections`` and the package-wide helper
  ``crystal_fourier._atomic``, but not ``crystal_fourier.derive._symbolic_forms``.
* Clients are the command line (``crystal_fourier/cli.py`` and ``crystal_fourier/_commands/``),
  the ``crystal_fourier.visual`` and ``crystal_fourier.audit`` packages, the modules
  ``crystal_fourier.testing`` and ``crystal_fourier.hosts``, the scripts in ``bench/`` and every file under
  ``tests/``. The foundation helpers at the top of the package (``crystal_fourier._atomic``, ``_spglib``,
  ``_figures``, ``_unimodular``, ...) are inside ``crystal_fourier``, so every client within it may use them.
  They import public names from the packages: ``crystal_fourier.derive``, ``crystal_fourier.proofs``,
  ``crystal_fourier.runtime``, ``crystal_fourier.audit``, ``crystal_fourier.visual``, ``crystal_fourier``.
* **The package's own command line and benchmarks** (``crystal_fourier/cli.py``, ``crystal_fourier/_commands/``,
  ``bench/``) serve the package, not a user: what they need beyond the public API (``check_device``,
  ``write_files``, ``feature_matrix``) they import from the private module that defines it, so the public API
  stays the short list a user reads (issue 27). They import only names without a leading underscore:
  ``from crystal_fourier.runtime.learning._model_files import check_device`` is allowed,
  ``from crystal_fourier.runtime.learning._training import _distributed`` is not.
* **A package's own tests** may do the same with that package's private modules: a file under
  ``tests/<package>/`` (``tests/runtime/``, ``tests/derive/``, ...) may import the names without a leading
  underscore of any private module of that package; ``tests/generated/`` (the generated files against derive's
  generator) and ``tests/proofs/`` (the certificates of derive's output) may import derive's too.
* **A module's own unit tests** are the next exception. The test file
  ``tests/<package path>/test_<name>.py`` is the unit test of the module ``<package>._<name>``
  whose path it mirrors, and may import that one private module and its private names, nothing
  else private. ``tests/runtime/learning/test_training.py`` may import
  ``crystal_fourier.runtime.learning._training``; ``tests/test_atomic.py`` may import
  ``crystal_fourier._atomic``; ``tests/derive/test_bases.py`` may import ``crystal_fourier.derive._bases``.
* **Fault injection.** A test may import a private *module* as a whole when every use of it in the
  file is the object of ``monkeypatch.setattr``/``monkeypatch.delattr`` (lowering a limit such as
  ``_prediction.CHUNK_STRUCTURES``, making one step fail): it changes the module's behaviour for
  one test and reads nothing from it.

Attribute access on a public module (``module._name``) is not an import and is not checked here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# repository folder -> installed package (pyproject's package-dir)
PACKAGE_DIRS = {
    "crystal_fourier": "crystal_fourier",
    "derive": "crystal_fourier.derive",
    "runtime": "crystal_fourier.runtime",
    "proofs": "crystal_fourier.proofs",
    "generated": "crystal_fourier.generated",
}
# command-line and benchmark folders: internal clients (see the module docstring)
INTERNAL_CLIENTS = ("crystal_fourier/cli.py", "crystal_fourier/_commands/", "bench/")
# test folder -> packages whose private modules its files may import (see the module docstring)
TEST_PACKAGES = {
    "derive": ("crystal_fourier.derive",),
    "runtime": ("crystal_fourier.runtime",),
    "proofs": ("crystal_fourier.proofs", "crystal_fourier.derive"),
    "generated": ("crystal_fourier.generated", "crystal_fourier.derive"),
    "audit": ("crystal_fourier.audit",),
    "visual": ("crystal_fourier.visual",),
}
# test folder -> package whose modules its files test
TEST_DIRS = {
    "": "crystal_fourier",
    "derive": "crystal_fourier.derive",
    "runtime": "crystal_fourier.runtime",
    "proofs": "crystal_fourier.proofs",
    "generated": "crystal_fourier.generated",
    "audit": "crystal_fourier.audit",
    "visual": "crystal_fourier.visual",
}


def client_files(root: Path = ROOT) -> list[Path]:
    """Every client file of the repository (see the module docstring), sorted."""
    files = [root / "crystal_fourier" / "cli.py", root / "conftest.py", root / "crystal_fourier" / "testing.py",
             root / "crystal_fourier" / "hosts.py"]
    for folder in ("crystal_fourier/_commands", "crystal_fourier/visual", "crystal_fourier/audit", "bench", "tests"):
        files.extend((root / folder).rglob("*.py"))
    return sorted(files)


def module_name(relative: Path) -> str | None:
    """Installed dotted name of a repository file inside a package, else None (bench/, tests/)."""
    parts = relative.with_suffix("").parts
    package = PACKAGE_DIRS.get(parts[0])
    if package is None:
        return None
    parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((package, *parts))


def unit_test_target(relative: Path) -> str | None:
    """The private module that ``tests/<path>/test_<name>.py`` is the unit test of, else None."""
    if relative.parts[0] != "tests" or not relative.name.startswith("test_"):
        return None
    folders = relative.parts[1:-1]
    package = TEST_DIRS.get(folders[0] if folders else "")
    if package is None:
        return None
    return ".".join((package, *folders[1:], "_" + relative.stem.removeprefix("test_")))


def _is_module(dotted: str) -> bool:
    """True when ``dotted`` names an importable module (not a function or constant inside one)."""
    import importlib.util

    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError):
        return False


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _private_owner(dotted: str) -> str | None:
    """The package that owns the first private component of ``dotted``, or None if all is public."""
    parts = dotted.split(".")
    for index, part in enumerate(parts):
        if _is_private(part):
            return ".".join(parts[:index])
    return None


def _monkeypatched_only(tree: ast.AST, bound: str) -> bool:
    """True when every use of the name ``bound`` is the first argument of ``monkeypatch.setattr/delattr``."""
    patched, uses = set(), 0
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("setattr", "delattr") and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "monkeypatch" and node.args and isinstance(node.args[0], ast.Name)
                and node.args[0].id == bound):
            patched.add(id(node.args[0]))
        if isinstance(node, ast.Name) and node.id == bound:
            uses += 1
    return uses > 0 and uses == len(patched)


def _white_box_packages(relative: Path) -> tuple[str, ...]:
    """The packages whose private modules' public names the file may import: every package for the command line
    and bench/, the tested package for a file under tests/<package>/, none otherwise."""
    posix = relative.as_posix()
    if any(posix == prefix or (prefix.endswith("/") and posix.startswith(prefix)) for prefix in INTERNAL_CLIENTS):
        return ("crystal_fourier",)
    if relative.parts[0] == "tests" and len(relative.parts) > 2:
        return TEST_PACKAGES.get(relative.parts[1], ())
    return ()


def _allowed(target: str, owner: str, own: str | None, unit_target: str | None, white_box: tuple[str, ...]) -> bool:
    """True when importing ``target`` (first private component owned by ``owner``) is one of the exceptions."""
    if own is not None and (own == owner or own.startswith(owner + ".")):
        return True  # inside the package that owns the private name
    if unit_target is not None and (target == unit_target or target.startswith(unit_target + ".")):
        return True  # the module's own unit test
    # a public name of a private module, for the command line, bench/ or the package's own tests
    return (any(owner == p or owner.startswith(p + ".") for p in white_box)
            and sum(map(_is_private, target.split("."))) == 1 and not _is_private(target.rsplit(".", 1)[1]))


def private_imports(source: str, relative: Path) -> list[str]:
    """``"path:line: name"`` for every import in ``source`` that breaks the rule above.

    Parameters
    ----------
    source : str
        Python source of the client file.
    relative : Path
        Its path relative to the repository root (decides its package and whether it is a unit test).
    """
    own = module_name(relative)
    unit_target = unit_test_target(relative)
    white_box = _white_box_packages(relative)
    found = []
    tree = ast.parse(source, filename=str(relative))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                if own is None:
                    continue  # a relative import outside the package cannot reach it
                base = own.split(".")[: len(own.split(".")) - node.level + (relative.stem == "__init__")]
                module = ".".join([*base, module] if module else base)
            targets = [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for alias, target in zip(node.names, targets, strict=True):
            if not target.startswith("crystal_fourier"):
                continue
            owner = _private_owner(target)
            if owner is None:
                continue
            if _allowed(target, owner, own, unit_target, white_box):
                continue
            bound = alias.asname or (alias.name if isinstance(node, ast.ImportFrom) else None)
            if (relative.parts[0] == "tests" and bound is not None and _is_module(target)
                    and _monkeypatched_only(tree, bound)):
                continue  # fault injection into a private module
            found.append(f"{relative}:{node.lineno}: {target}")
    return found


def test_clients_import_only_public_names():
    offending = []
    for path in client_files():
        offending.extend(private_imports(path.read_text(), path.relative_to(ROOT)))
    assert not offending, (
        "clients must import public names from the packages (crystal_fourier.derive, .runtime, .proofs, "
        ".audit, .visual), or, for the command line, bench/ and a package's own tests, a name without a leading "
        "underscore from the private module that defines it:\n" + "\n".join(offending))


def test_client_files_cover_the_command_line_bench_and_tests():
    names = {str(path.relative_to(ROOT)) for path in client_files()}
    assert {"crystal_fourier/cli.py", "crystal_fourier/_commands/predict.py", "crystal_fourier/visual/_report.py",
            "crystal_fourier/audit/_adapters.py", "crystal_fourier/testing.py", "crystal_fourier/hosts.py",
            "bench/bench_training.py", "tests/test_cli.py"} <= names
    assert "runtime/learning/_training.py" not in names


@pytest.mark.parametrize(("relative", "source"), [
    ("bench/bench_x.py", "from crystal_fourier.runtime.learning._training import _distributed\n"),
    ("bench/bench_x.py", "from crystal_fourier.runtime.learning._training._inner import fit\n"),
    ("bench/bench_x.py", "def f():\n    import crystal_fourier.derive._bases as b\n"),
    ("bench/bench_x.py", "from crystal_fourier.runtime.learning import _training\n"),
    ("bench/bench_x.py", "from crystal_fourier.derive import _private_helper\n"),
    ("tests/test_cli.py", "from crystal_fourier._commands.train import check_device\n"),
    ("crystal_fourier/_commands/train.py", "from crystal_fourier.runtime.learning._training import _distributed\n"),
    ("crystal_fourier/visual/_report.py", "from crystal_fourier.derive._operations import DEN\n"),
    ("crystal_fourier/visual/_report.py", "from ..derive._operations import DEN\n"),
    # a unit test may import its own module, and only that one
    ("tests/runtime/learning/test_training.py", "from crystal_fourier.derive._bases import basis\n"),
    ("tests/derive/test_bases.py", "from crystal_fourier.derive._bases_extra import _x\n"),
    ("tests/derive/test_bases.py", "from crystal_fourier.runtime.network._routing import RoutingEncoder\n"),
    ("tests/test_predict.py", "from crystal_fourier.runtime.data._datasets import write_extxyz\n"),
    ("crystal_fourier/visual/_report.py", "from crystal_fourier.derive._symbolic_forms import X\n"),
    # the audit and the testing module are clients too (issue 27)
    ("crystal_fourier/audit/_adapters.py", "from crystal_fourier.runtime.learning._samples import prepare_samples\n"),
    ("crystal_fourier/testing.py", "from crystal_fourier.derive._real_bases import PHASE_DEN\n"),
    # fault injection: only as the object of monkeypatch.setattr, never read from
    ("tests/test_x.py", "from crystal_fourier.runtime.learning import _prediction\n"
                        "def test(monkeypatch):\n    monkeypatch.setattr(_prediction, 'CHUNK_STRUCTURES', 2)\n"
                        "    assert _prediction.CHUNK_ATOMS\n"),
    ("tests/test_x.py", "from crystal_fourier.runtime.learning._prediction import CHUNK_STRUCTURES\n"
                        "def test(monkeypatch):\n    monkeypatch.setattr(CHUNK_STRUCTURES, 'x', 2)\n"),
    ("bench/bench_x.py", "from crystal_fourier.runtime.learning import _prediction\n"
                         "def f(monkeypatch):\n    monkeypatch.setattr(_prediction, 'CHUNK_STRUCTURES', 2)\n"),
])
def test_the_check_finds_a_private_import(relative, source):
    assert len(private_imports(source, Path(relative))) == 1


@pytest.mark.parametrize(("relative", "source"), [
    ("bench/bench_x.py", "from crystal_fourier.runtime import fit, TrainConfig\nimport numpy._core\n"),
    # the command line and bench/ import what the public API leaves out from the private module defining it
    ("bench/bench_x.py", "from crystal_fourier.runtime.learning._training import fit\n"),
    ("crystal_fourier/_commands/train.py", "from crystal_fourier.runtime.learning._model_files import check_device\n"),
    ("crystal_fourier/cli.py", "from crystal_fourier.derive._writer import write_files\n"),
    # a package's own tests may do the same with that package's private modules
    ("tests/runtime/learning/test_training.py", "from crystal_fourier.runtime.network._batching import collate\n"),
    ("tests/generated/test_x.py", "from crystal_fourier.derive._codegen import SHIPPED\n"),
    ("tests/proofs/test_x.py", "from crystal_fourier.derive._operations import DEN\n"),
    ("bench/bench_x.py", "from crystal_fourier import __version__\n"),
    ("crystal_fourier/_commands/train.py", "from crystal_fourier._commands._options import positive_int\n"),
    ("crystal_fourier/_commands/demo.py", "from crystal_fourier._atomic import atomic_write_text\n"),
    ("crystal_fourier/visual/_report.py", "from crystal_fourier.visual._sections import Section\n"),
    ("crystal_fourier/visual/_report.py", "from ._sections import Section\n"),
    ("crystal_fourier/audit/_adapters.py", "from crystal_fourier.audit._calls import ModelError\n"),
    ("crystal_fourier/audit/_report_files.py", "from crystal_fourier._figures import render_figure\n"),
    ("tests/runtime/learning/test_training.py",
     "from crystal_fourier.runtime.learning._training import _distributed\n"),
    ("tests/test_atomic.py", "from crystal_fourier._atomic import atomic_write_text\n"),
    ("tests/visual/test_report.py", "import crystal_fourier.visual._report as report\n"),
    ("tests/test_x.py", "from crystal_fourier.runtime.learning import _prediction\n"
                        "def test(monkeypatch):\n    monkeypatch.setattr(_prediction, 'CHUNK_STRUCTURES', 2)\n"),
])
def test_the_check_allows_public_own_package_and_own_unit_test_imports(relative, source):
    assert private_imports(source, Path(relative)) == []

