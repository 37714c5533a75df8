"""The committed generated/ is exactly what the generator produces now (a stamped, byte-compared output).

Regenerates every shipped set with the real command into ``tmp_path`` and compares bytes;
re-checks every file's ``output_sha256`` (hand edits) and the VERSIONS.txt ledger (its check lives here: only the
tests read the ledger).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crystal_fourier import __version__, GENERATOR_VERSION
from crystal_fourier.cli import main
from crystal_fourier.derive._codegen import SHIPPED
from crystal_fourier.derive._codegen import directory_name, render_group_module, render_index, render_package
from crystal_fourier.derive import basis
from crystal_fourier.derive._stamps import read_stamp, sha256_text, verify_stamp
from crystal_fourier.derive._tensor_tables import TENSOR_MODULE, render_tensor_module
from crystal_fourier.errors import CrystalFourierError

GENERATED = Path(__file__).resolve().parents[2] / "generated"
SETS = [directory_name(shell, cutoff) for shell, cutoff in SHIPPED]

REFERENCE_RENDER = ("box", 2, (1, 2, 194, 225))
"""(shell, cutoff, groups) whose modules and index the ledger generated/VERSIONS.txt hashes, with
generated/__init__.py and the tensor tables: one hash per generator version. If the output changes and
the version does not, :func:`check_ledger` fails and names the constant to bump (numpy's ``cversions.txt``)."""

LEDGER = "VERSIONS.txt"


def reference_render_sha256(version: str = GENERATOR_VERSION, tensor_module=render_tensor_module) -> str:
    """SHA-256 of the reference render (:data:`REFERENCE_RENDER`) stamped with ``version``: the ledger's entry."""
    shell, cutoff, numbers = REFERENCE_RENDER
    texts = [render_group_module(basis(n, cutoff, shell), version) for n in numbers]
    return sha256_text("".join(texts) + render_index(shell, cutoff, version) + render_package(version)
                       + tensor_module(version))


def read_ledger(text: str) -> dict[str, str]:
    """The ledger's ``<version> <sha256>`` lines (``#`` comments), one per version."""
    ledger = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or parts[0] in ledger:
            raise CrystalFourierError(
                f"{LEDGER} line {number}: expected '<version> <sha256>' once per version, got {line!r}")
        ledger[parts[0]] = parts[1]
    return ledger


def check_ledger(text: str, version: str = GENERATOR_VERSION, reference: str | None = None) -> None:
    """Raise CrystalFourierError unless the ledger records ``version`` with the hash of today's reference
    render, naming the constant to bump (the output changed, the version did not) or the line to add."""
    reference = reference_render_sha256(version) if reference is None else reference
    ledger = read_ledger(text)
    if version not in ledger:
        raise CrystalFourierError(
            f"generated/{LEDGER} has no entry for generator version {version}: add the line "
            f"'{version} {reference}' (and regenerate: crystal-fourier generate --shipped --out generated/)")
    if ledger[version] != reference:
        raise CrystalFourierError(
            f"The generated code changed but the generator version did not: the reference render "
            f"{REFERENCE_RENDER} hashes to {reference}, generated/{LEDGER} records {ledger[version]} for "
            f"{version}. Bump crystal_fourier._version.GENERATOR_VERSION (crystal_fourier/_version.py), add "
            f"'<new version> <hash>' to generated/{LEDGER}, and run "
            "`crystal-fourier generate --shipped --out generated/`.")


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.glob("*.py"))}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    assert main(["generate", "--shipped", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("name", SETS)
def test_committed_files_equal_generator_output(regenerated, name):
    committed, fresh = _files(GENERATED / name), _files(regenerated / name)
    assert sorted(committed) == sorted(fresh), "file sets differ: run `crystal-fourier generate --shipped`"
    assert len(fresh) == 231  # 230 groups and the index
    stale = [file for file in fresh if committed[file] != fresh[file]]
    assert stale == [], f"{name}: {len(stale)} stale files, e.g. {stale[:3]}; run `crystal-fourier generate --shipped`"


@pytest.mark.parametrize("name", SETS)
def test_committed_output_hashes(name):
    for path in sorted((GENERATED / name).glob("*.py")):
        stamp = verify_stamp(path.read_bytes().decode("utf-8"), path)
        assert stamp.version
        assert len(stamp.inputs_sha256) == 64


def test_header_of_one_module():
    lines = (GENERATED / "ball_5" / "sg225.py").read_text().splitlines()
    assert lines[0] == f"# GENERATED by crystal_fourier generator {GENERATOR_VERSION} (crystal-fourier generate). DO NOT EDIT."
    assert lines[1] == "# template=crystal_fourier/derive/templates/group.py.j2"
    assert lines[2] == "# sg=225 hall_number=523 shell=ball cutoff=5"
    assert lines[3].startswith("# inputs_sha256=")
    assert lines[4].startswith("# output_sha256=")
    index = (GENERATED / "ball_5" / "__init__.py").read_text().splitlines()
    assert index[1] == "# template=crystal_fourier/derive/templates/index.py.j2"
    assert index[2] == "# index shell=ball cutoff=5"


def test_committed_tensor_tables_equal_generator_output(regenerated):
    assert (GENERATED / TENSOR_MODULE).read_bytes() == (regenerated / TENSOR_MODULE).read_bytes(), (
        "generated/tensor_bases.py is stale: run `crystal-fourier generate --shipped --out generated/`")
    stamp = verify_stamp((GENERATED / TENSOR_MODULE).read_bytes().decode("utf-8"), TENSOR_MODULE)
    assert stamp.fields == "tensors kinds=symmetric2,piezoelectric,elastic,axial2 hall_numbers=1-530"
    assert stamp.version == GENERATOR_VERSION


def test_tensor_tables_are_part_of_the_reference_render():
    # a change of the tensor tables alone must move the ledger's hash, and so ask for a version bump
    assert reference_render_sha256(tensor_module=lambda version: "# changed\n") != reference_render_sha256()


def test_package_marker_is_generated():
    assert (GENERATED / "__init__.py").read_bytes().decode("utf-8") == render_package()


def test_stamps_carry_the_generator_version_not_the_package_version():
    # A release that changes no generated byte must not rewrite 462 headers or invalidate caches.
    assert reference_render_sha256(GENERATOR_VERSION) == reference_render_sha256()
    lines = (GENERATED / "ball_6" / "sg001.py").read_text().splitlines()
    assert f"generator {GENERATOR_VERSION} " in lines[0]
    assert __version__ not in lines[0] or __version__ == GENERATOR_VERSION


def test_hand_edit_is_detected_with_fix_it():
    text = (GENERATED / "ball_5" / "sg014.py").read_text()
    edited = text.replace('shell = "ball"', 'shell = "box"')
    assert edited != text
    with pytest.raises(CrystalFourierError, match=r"Checksum mismatch!.*edited by hand.*--force"):
        verify_stamp(edited, "sg014.py")
    # The inputs hash of an edited header is not what protects the body; the output hash is.
    assert read_stamp(edited).output_sha256 == read_stamp(text).output_sha256


def test_versions_ledger_records_current_reference_render():
    check_ledger((GENERATED / LEDGER).read_text())


def test_ledger_names_the_constant_to_bump_when_output_changes():
    text = (GENERATED / LEDGER).read_text()
    with pytest.raises(CrystalFourierError, match=r"Bump crystal_fourier\._version\.GENERATOR_VERSION"):
        check_ledger(text, reference="0" * 64)


def test_ledger_asks_for_a_line_for_a_new_version():
    with pytest.raises(CrystalFourierError, match=r"no entry for generator version 9\.9\.9: add the line '9\.9\.9 "):
        check_ledger((GENERATED / LEDGER).read_text(), version="9.9.9", reference=reference_render_sha256())


def test_reference_render_depends_on_version():
    assert reference_render_sha256("0.0.0") != reference_render_sha256()
