"""No public name resolves to a module, before or after the submodules are imported.

A lazy re-export named like its submodule (``crystal_fourier.runtime.symmetry._standardization`` was one)
is the function on first access and the module once anything imports the submodule; this
checks every name in ``__all__`` of the packages in a fresh interpreter, first access and
after importing every module of derive, runtime, proofs and the top-level package.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("crystal_fourier", "crystal_fourier.runtime", "crystal_fourier.derive", "crystal_fourier.proofs",
            "crystal_fourier.visual", "crystal_fourier.audit")

_SCRIPT = r"""
import importlib, json, sys, types
packages, modules = json.loads(sys.argv[1])

def describe():
    out = {}
    for package in packages:
        module = importlib.import_module(package)
        for name in module.__all__:
            value = getattr(module, name)
            out[f"{package}.{name}"] = [id(value), isinstance(value, types.ModuleType), type(value).__name__]
    return out

first = describe()
for name in modules:
    importlib.import_module(name)
print(json.dumps([first, describe()]))
"""


def _modules() -> list[str]:
    names = [f"crystal_fourier.{path.stem}" for path in sorted((ROOT / "crystal_fourier").glob("*.py"))
             if path.stem not in ("__init__", "__main__")]
    for layer in ("derive", "runtime", "proofs"):  # sub-packages (runtime/network/...) included
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT / layer).with_suffix("").parts
            if "templates" in parts:
                continue
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            if parts:
                names.append(".".join(("crystal_fourier", layer, *parts)))
    return names


def _describe(packages, modules) -> tuple[dict, dict]:
    result = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps([packages, modules])], capture_output=True,
                            text=True, check=True, cwd=ROOT)
    first, after = json.loads(result.stdout.strip().splitlines()[-1])
    return first, after


def test_no_public_name_is_a_module_and_none_changes_when_submodules_load():
    modules = _modules()
    assert "crystal_fourier.runtime.symmetry._standardization" in modules
    assert "crystal_fourier.derive._bases" in modules
    first, after = _describe(list(PACKAGES), modules)
    assert len(first) > 70
    assert first.keys() == after.keys()
    assert not [name for name, (_, is_module, _) in after.items() if is_module], "public names that are modules"
    changed = [f"{name}: {first[name][2]} -> {after[name][2]}" for name in first if first[name][0] != after[name][0]]
    assert not changed, "public names that change when their submodule is imported:\n" + "\n".join(changed)
    assert after["crystal_fourier.runtime.StandardizedCrystal"][2] == "type"
    for name in ("derive.basis", "derive.dual_graph", "derive.real_basis", "runtime.standardize", "runtime.pretrain",
                 "runtime.invariant_basis", "invariant_basis"):
        assert after[f"crystal_fourier.{name}"][2] == "function", name


def test_the_check_sees_a_lazy_name_that_collides_with_its_submodule(tmp_path):
    package = tmp_path / "collides"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from importlib import import_module\n__all__ = ['thing']\n"
        "def __getattr__(name):\n    return getattr(import_module(f'collides.{name}'), name)\n")
    (package / "thing.py").write_text("def thing():\n    pass\n")
    result = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps([["collides"], ["collides.thing"]])],
                            capture_output=True, text=True, check=True, cwd=tmp_path)
    first, after = json.loads(result.stdout.strip().splitlines()[-1])
    assert (first["collides.thing"][1:], after["collides.thing"][1:]) == ([False, "function"], [True, "module"])


def test_no_lazy_runtime_export_is_named_like_a_submodule():
    from crystal_fourier import runtime

    submodules = {path.stem for path in (ROOT / "runtime").rglob("*.py")}
    submodules |= {path.name for path in (ROOT / "runtime").iterdir() if path.is_dir()}
    assert len(runtime.__all__) > 20
    assert not set(runtime.__all__) & submodules


def test_no_module_is_named_like_a_name_it_defines():
    """e3nn's rule: a module never shares its name with a function or class it holds, so
    ``import pkg.name as m`` and ``from pkg import name`` cannot disagree."""
    import importlib

    offenders = []
    for name in _modules():
        module = importlib.import_module(name)
        leaf = name.rsplit(".", 1)[1]
        value = getattr(module, leaf, None)
        if value is not None and not isinstance(value, types.ModuleType):
            offenders.append(f"{name}.{leaf} ({type(value).__name__})")
    assert not offenders, "modules named like what they define:\n" + "\n".join(offenders)


def test_the_module_name_check_can_fail(tmp_path, monkeypatch):
    package = tmp_path / "clash"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "thing.py").write_text("def thing():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys.modules[__name__], "_modules", lambda: ["clash.thing"])
    with pytest.raises(AssertionError, match=r"clash\.thing\.thing \(function\)"):
        test_no_module_is_named_like_a_name_it_defines()
