"""The committed --help texts (docs/cli/*.txt) are exactly what the parser prints now."""

from pathlib import Path

from crystal_fourier.cli import COMMANDS, help_texts

DOCS = Path(__file__).resolve().parent.parent / "docs" / "cli"
FIX = "regenerate with: make help-docs"


def test_every_command_has_committed_help():
    texts = help_texts()
    assert set(texts) == {"crystal-fourier", *COMMANDS}
    on_disk = {p.stem for p in DOCS.glob("*.txt")}
    assert on_disk == set(texts), f"docs/cli is out of date; {FIX}"


def test_committed_help_is_current():
    for name, text in help_texts().items():
        path = DOCS / f"{name}.txt"
        assert path.read_text(encoding="utf-8") == text, f"{path} differs from `crystal-fourier {name} --help`; {FIX}"
