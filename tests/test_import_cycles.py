"""No function-level import hides an import cycle inside the package.

A function-level (lazy) import is fine for cost (torch, SymPy, matplotlib only when needed); it must not
be the way a cycle is kept from failing at import time. The rule checked here: a function in module C
may not import a module M of the package from which C is reachable through top-level imports (M, or a
module M imports at load time, and so on, imports C). Such a pair is a cycle that only the laziness keeps
working; ASE's ``ase/io/formats.py`` shows the fix (one registry module, readers that import only the
structure type), and so do ``runtime/structure_io/_structure_files.py``, ``runtime/data/_emt.py`` and
``runtime/network/_cell_features.py``.

Top-level imports are those that run when a module loads (``if TYPE_CHECKING:`` blocks excluded); the
packages above a module are already loaded when its functions run, so they do not count as a way back.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"crystal_fourier": "crystal_fourier", "derive": "crystal_fourier.derive",
           "runtime": "crystal_fourier.runtime", "proofs": "crystal_fourier.proofs"}
"""Repository folder -> package (pyproject's package-dir); generated/ is flat output and imports nothing lazily."""


def package_modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file of every hand-written module of the package."""
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(source: str, module: str, is_package: bool) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(top-level, function-level) imports of a module's source: (line, imported dotted name) pairs.

    ``from a.b import c`` gives both ``a.b`` and ``a.b.c`` (c may be a module); relative imports are resolved.
    """
    package = module if is_package else module.rpartition(".")[0]
    top: list[tuple[int, str]] = []
    lazy: list[tuple[int, str]] = []

    def names(node) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            anchor = ".".join(parts[:len(parts) - node.level + 1])
            base = f"{anchor}.{node.module}" if node.module else anchor
        return [base, *(f"{base}.{alias.name}" for alias in node.names)]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                for statement in child.orelse:
                    visit(ast.Module(body=[statement], type_ignores=[]), in_function)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                (lazy if in_function else top).extend((child.lineno, name) for name in names(child))
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(source), False)
    return top, lazy


def hidden_cycles(modules: dict[str, Path], root: Path = ROOT) -> list[str]:
    """``file:line imports M`` for each function-level import of M from which the importing module is reachable
    through top-level imports."""
    def resolve(name: str) -> set[str]:
        parts = name.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & set(modules)

    top_edges: dict[str, set[str]] = {}
    lazy_edges: dict[str, set[tuple[int, str]]] = {}
    for module, path in modules.items():
        top, lazy = imports(path.read_text(), module, path.name == "__init__.py")
        top_edges[module] = {m for _, name in top for m in resolve(name)} - {module}
        lazy_edges[module] = {(line, m) for line, name in lazy for m in resolve(name)} - {(0, module)}

    def ancestors(module: str) -> set[str]:
        parts = module.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts))}

    def reaches(start: str, goal: str) -> bool:
        loaded, seen, stack = ancestors(goal), set(), [start]
        while stack:
            module = stack.pop()
            if module == goal:
                return True
            if module in seen or module in loaded:
                continue
            seen.add(module)
            stack.extend(top_edges.get(module, ()))
        return False

    found = set()
    for module, edges in lazy_edges.items():
        for line, target in edges:
            if target != module and target not in ancestors(module) and reaches(target, module):
                found.add(f"{modules[module].relative_to(root)}:{line} imports {target}")
    return sorted(found)


def test_no_function_level_import_hides_a_cycle():
    cycles = hidden_cycles(package_modules())
    assert not cycles, ("a function-level import of a module that imports this one back at load time (a cycle the "
                        "laziness hides; move the shared part into a module both import):\n" + "\n".join(cycles))


def test_the_check_finds_a_hidden_cycle(tmp_path):
    # readers.py imports formats.py at load time; formats.read imports readers lazily: a hidden cycle.
    package = tmp_path / "crystal_fourier"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "formats.py").write_text("def read():\n    from crystal_fourier.readers import cif\n    return cif\n")
    (package / "readers.py").write_text("from crystal_fourier.formats import read\n\ncif = read\n")
    modules = {"crystal_fourier": package / "__init__.py", "crystal_fourier.formats": package / "formats.py",
               "crystal_fourier.readers": package / "readers.py"}
    assert hidden_cycles(modules, tmp_path) == ["crystal_fourier/formats.py:2 imports crystal_fourier.readers"]
    (package / "readers.py").write_text("cif = 1\n")   # readers no longer imports formats: no cycle
    assert hidden_cycles(modules, tmp_path) == []
