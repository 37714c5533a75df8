"""Imports flow one way (docs/design.md): derive -> generated -> runtime -> the CLI on top.

Two checks: every import statement in the source, at any depth (lazy imports inside
functions included, which an import-time check cannot see), and, in a fresh interpreter,
what importing every module of a layer actually loads.

Inside runtime/ the sub-packages are layers of their own, in the order of ``RUNTIME_ORDER``:
a sub-package imports only from those before it (no cycles), checked the same two ways.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"derive": "derive", "runtime": "runtime", "proofs": "proofs", "generated": "generated",
          "audit": "crystal_fourier/audit"}

# layer -> import prefixes it must never reach
FORBIDDEN = {
    "derive": ("crystal_fourier._commands", "crystal_fourier.cli", "crystal_fourier.runtime", "torch"),
    "proofs": ("crystal_fourier._commands", "crystal_fourier.cli", "crystal_fourier.runtime", "torch"),
    "runtime": ("crystal_fourier._commands", "crystal_fourier.cli", "crystal_fourier.audit"),
    # the audit sits above runtime (it may import it) and below the command line
    "audit": ("crystal_fourier._commands", "crystal_fourier.cli"),
    "generated": ("crystal_fourier._commands", "crystal_fourier.cli", "crystal_fourier.derive", "sympy"),
}


RUNTIME_ORDER = ("structure_io", "symmetry", "data", "network", "learning")
"""runtime's sub-packages, lowest first: each may import only from those before it."""


def _imported_names(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``; relative imports resolved against ``package``."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.append((node.lineno, module))
            names.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return names


def _violations(layer: str, names) -> list[str]:
    return [name for name in names if any(name == p or name.startswith(p + ".") for p in FORBIDDEN[layer])]


def _modules(layer: str) -> list[tuple[Path, str]]:
    """(path, dotted package name of the file's package) of every Python file in the layer."""
    folder = ROOT / LAYERS[layer]
    found = []
    for path in sorted(folder.rglob("*.py")):
        relative = path.relative_to(folder).with_suffix("").parts
        package_parts = relative if relative[-1] == "__init__" else relative[:-1]
        package = ".".join(("crystal_fourier", layer, *(p for p in package_parts if p != "__init__")))
        found.append((path, package))
    return found


@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_no_import_statement_crosses_a_layer_upwards(layer):
    bad = []
    for path, package in _modules(layer):
        for line, name in _imported_names(path, package):
            if _violations(layer, [name]):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not bad, "imports against the layering (derive -> generated -> runtime -> CLI):\n" + "\n".join(bad)


def test_the_scanner_sees_lazy_and_relative_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from crystal_fourier._commands._options import parse_groups\n"
                      "from . import CUBIC as C\nimport torch.nn\n")
    names = [name for _, name in _imported_names(source, "crystal_fourier.generated.ball_5")]
    assert _violations("runtime", names) == ["crystal_fourier._commands._options",
                                             "crystal_fourier._commands._options.parse_groups"]
    assert "crystal_fourier.generated.ball_5.CUBIC" in names
    assert "torch.nn" in _violations("derive", names)


def _runtime_exports() -> dict[str, str]:
    """runtime's public names -> private module relative to crystal_fourier.runtime, read from the source of its
    re-exports (the ``from crystal_fourier.runtime.<module> import <name>`` statements of its ``__init__``)."""
    exports = {}
    for node in ast.walk(ast.parse((ROOT / "runtime" / "__init__.py").read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("crystal_fourier.runtime."):
            for alias in node.names:
                exports[alias.asname or alias.name] = node.module.removeprefix("crystal_fourier.runtime.")
    assert exports, "runtime/__init__.py re-exports nothing"
    return exports


def _runtime_layer(name: str, exports: dict[str, str]) -> str | None:
    """The sub-package that importing ``name`` reaches: its own, that of a public name of
    ``crystal_fourier.runtime`` (through its re-exports), or "runtime" for the whole package; None outside."""
    parts = name.split(".")
    if parts[:2] != ["crystal_fourier", "runtime"]:
        return None
    if len(parts) == 2:
        return "runtime"
    if parts[2] in RUNTIME_ORDER:
        return parts[2]
    if parts[2] in exports:
        return exports[parts[2]].split(".")[0]
    return "runtime"


def _upward_runtime_imports(own: str, names, exports: dict[str, str]) -> list[str]:
    """The names among ``names`` that a module of runtime sub-package ``own`` must not import: a later
    sub-package, or the top-level package (whose re-exports reach every sub-package)."""
    bad = []
    for name in names:
        layer = _runtime_layer(name, exports)
        if layer == "runtime" or layer is not None and RUNTIME_ORDER.index(layer) > RUNTIME_ORDER.index(own):
            bad.append(name)
    return bad


def _runtime_modules(sub_package: str) -> list[tuple[Path, str]]:
    return [(path, package) for path, package in _modules("runtime")
            if package.split(".")[2:3] == [sub_package]]


def test_runtime_sub_packages_cover_the_folder():
    folders = {path.name for path in (ROOT / "runtime").iterdir() if (path / "__init__.py").is_file()}
    assert folders == set(RUNTIME_ORDER)


@pytest.mark.parametrize("sub_package", RUNTIME_ORDER)
def test_runtime_sub_package_imports_only_from_earlier_ones(sub_package):
    exports = _runtime_exports()
    bad = []
    for path, package in _runtime_modules(sub_package):
        for line, name in _imported_names(path, package):
            if _upward_runtime_imports(sub_package, [name], exports):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not bad, (f"imports against runtime's order ({' -> '.join(RUNTIME_ORDER)}):\n" + "\n".join(bad))


def test_the_runtime_order_check_finds_upward_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "from crystal_fourier.runtime.structure_io._structures import Crystal\n"  # earlier layer: allowed
        "from crystal_fourier.runtime.network._model import ModelConfig\n"  # its own layer: allowed
        "from . import _routing\n"  # its own layer, relative: allowed
        "def f():\n    from crystal_fourier.runtime.learning._training import fit\n"  # later, inside a function
        "from ..learning import _zero_shot\n"  # later, relative
        "from crystal_fourier.runtime import fit_classical, neighbour_list\n"  # public table: learning; network
        "import crystal_fourier.runtime\n")  # the whole package
    exports = _runtime_exports()
    lines = _imported_names(source, "crystal_fourier.runtime.network")
    bad = sorted((line, name) for line, name in lines if _upward_runtime_imports("network", [name], exports))
    assert bad == [(5, "crystal_fourier.runtime.learning._training"),
                   (5, "crystal_fourier.runtime.learning._training.fit"),
                   (6, "crystal_fourier.runtime.learning"), (6, "crystal_fourier.runtime.learning._zero_shot"),
                   (7, "crystal_fourier.runtime"), (7, "crystal_fourier.runtime.fit_classical"),
                   (8, "crystal_fourier.runtime")]
    # Seen from the top layer only the whole package is refused; from the lowest, the network too.
    assert {name for _, name in lines if _upward_runtime_imports("learning", [name], exports)} == {
        "crystal_fourier.runtime"}
    assert "crystal_fourier.runtime.network._model" in _upward_runtime_imports(
        "structure_io", [name for _, name in lines], exports)
    assert "crystal_fourier.runtime.structure_io._structures" not in _upward_runtime_imports(
        "structure_io", [name for _, name in lines], exports)


def _loaded_after_importing(modules: list[str]) -> list[str]:
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}:\n    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _dotted(layer: str) -> list[str]:
    names = []
    for path, package in _modules(layer):
        names.append(package if path.name == "__init__.py" else f"{package}.{path.stem}")
    return names


@pytest.mark.parametrize("layer", ["derive", "proofs", "runtime", "audit"])
def test_importing_every_module_of_a_layer_loads_nothing_above_it(layer):
    loaded = _loaded_after_importing(_dotted(layer))
    assert f"crystal_fourier.{layer}" in loaded
    assert not _violations(layer, loaded), _violations(layer, loaded)


def test_generated_modules_load_neither_derive_nor_sympy():
    modules = [name for name in _dotted("generated") if name.count(".") <= 3 and name.endswith(("__init__", "sg001",
               "sg225", "generated", "ball_5", "ball_6"))]
    loaded = _loaded_after_importing(modules)
    assert "crystal_fourier.generated.ball_6.sg225" in loaded
    assert not _violations("generated", loaded), _violations("generated", loaded)


@pytest.mark.parametrize("sub_package", RUNTIME_ORDER[:-1])
def test_importing_a_runtime_sub_package_loads_no_later_one(sub_package):
    modules = [package if path.name == "__init__.py" else f"{package}.{path.stem}"
               for path, package in _runtime_modules(sub_package)]
    loaded = _loaded_after_importing(modules)
    later = RUNTIME_ORDER[RUNTIME_ORDER.index(sub_package) + 1:]
    assert f"crystal_fourier.runtime.{sub_package}" in loaded
    reached = [name for name in loaded if name.split(".")[:3] in (["crystal_fourier", "runtime", s] for s in later)]
    assert not reached, reached
