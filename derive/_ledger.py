"""The ledger generated/VERSIONS.txt: one hash of a fixed reference render per generator version.

The reference render covers both generators, the Fourier modules (:mod:`~crystal_fourier.derive._codegen`)
and the tensor tables (:mod:`~crystal_fourier.derive._tensor_tables`, which builds on the first), so this
module sits above both and neither imports it. If the output changes and the version does not,
:func:`check_ledger` fails and names the constant to bump (numpy's ``cversions.txt``).
"""

from __future__ import annotations

from crystal_fourier._version import GENERATOR_VERSION
from crystal_fourier.derive import _tensor_tables  # a module attribute: tests replace its renderer
from crystal_fourier.derive._bases import basis
from crystal_fourier.derive._codegen import render_group_module, render_index, render_package
from crystal_fourier.derive._stamps import sha256_text
from crystal_fourier.errors import CrystalFourierError

__all__ = ["REFERENCE_RENDER", "LEDGER", "reference_render_sha256", "read_ledger", "check_ledger"]

REFERENCE_RENDER = ("box", 2, (1, 2, 194, 225))
"""(shell, cutoff, groups) whose rendered modules, and their index, the ledger generated/VERSIONS.txt hashes
(with generated/__init__.py and the tensor tables generated/tensor_bases.py)."""

LEDGER = "VERSIONS.txt"
"""The ledger's file name in generated/."""


def reference_render_sha256(version: str = GENERATOR_VERSION) -> str:
    """SHA-256 of the reference render (:data:`REFERENCE_RENDER`), the ledger's entry for ``version``.

    Parameters
    ----------
    version : str, default GENERATOR_VERSION
        The generator version stamped into the rendered files.

    Returns
    -------
    str
        64 lowercase hex digits.

    Examples
    --------
    >>> len(reference_render_sha256())
    64
    """
    shell, cutoff, numbers = REFERENCE_RENDER
    texts = [render_group_module(basis(n, cutoff, shell), version) for n in numbers]
    return sha256_text("".join(texts) + render_index(shell, cutoff, version) + render_package(version)
                       + _tensor_tables.render_tensor_module(version))


def read_ledger(text: str) -> dict[str, str]:
    """Parse generated/VERSIONS.txt: ``<version> <sha256>`` per line, ``#`` comments.

    >>> read_ledger("# comment\\n0.1.0 abc\\n")
    {'0.1.0': 'abc'}
    """
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
    """Check that the ledger records ``version`` with the hash of today's reference render.

    Parameters
    ----------
    text : str
        The ledger file's text: one ``<version> <sha256>`` line per generator version.
    version : str, default GENERATOR_VERSION
        The generator version to look up.
    reference : str, optional
        The sha256 hex digest of the reference render; computed by :func:`reference_render_sha256`
        when omitted.

    Returns
    -------
    None

    Raises
    ------
    CrystalFourierError
        Naming the constant to bump (``crystal_fourier._version.GENERATOR_VERSION``) when the output
        changed under an unchanged version, or the line to add for a new version.

    Examples
    --------
    >>> check_ledger(f"0.0.1 {'0' * 64}", version="0.0.1", reference="1" * 64)
    Traceback (most recent call last):
    ...
    crystal_fourier.errors.CrystalFourierError: The generated code changed ...
    """
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

