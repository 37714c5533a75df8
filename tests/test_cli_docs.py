"""The committed --help texts (docs/cli/*.txt) are exactly what the parser prints now."""

from pathlib import Path

from crystal_fourier.cli import COMMANDS, help_texts

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli"
FIX = "regenerate with: make help-docs"


def test_every_command_has_committed_help():
    texts = help_texts()
    # A module's name is its command's with '-' written '_' (structure_factor.py: structure-factor).
    assert set(texts) == {"crystal-fourier", *(name.replace("_", "-") for name in COMMANDS)}
    on_disk = {p.stem for p in DOCS.glob("*.txt")}
    assert on_disk == set(texts), f"docs/cli is out of date; {FIX}"


def test_committed_help_is_current():
    for name, text in help_texts().items():
        path = DOCS / f"{name}.txt"
        assert path.read_text(encoding="utf-8") == text, f"{path} differs from `crystal-fourier {name} --help`; {FIX}"


def test_each_command_text_is_written_once_in_its_docstring():
    # ASE's pattern: a command's help line and description are its docstring (add_command); no command
    # module passes help= or description= to argparse's add_parser itself.
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "crystal_fourier" / "_commands"
    written_twice = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_parser" and \
                    path.name != "_options.py":
                written_twice.append(f"{path.name}:{node.lineno}")
    assert not written_twice, f"add_parser called directly (use add_command and the docstring): {written_twice}"
