"""Imports flow one way (docs/design.md): derive -> generated -> runtime -> the CLI on top.

Two checks: every import statement in the source, at any depth (lazy imports inside
functions included, which an import-time check cannot see), and, in a fresh interpreter,
what importing every module of a layer actually loads.
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
