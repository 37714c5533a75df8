"""Root pytest configuration: modules generated on demand go to a private cache, never the user's.

Set before anything imports ``crystal_fourier.generated`` (whose ``__path__`` includes the cache),
so the box K = 2 set of the fast tests and every non-standard setting are rendered by the real
generator into a temporary directory per test process.
"""

import os
import tempfile

os.environ["CRYSTAL_FOURIER_CACHE"] = tempfile.mkdtemp(prefix="crystal-fourier-test-cache-")


# ----------------------------------------------------------------------------- doctests, once
# derive/, runtime/ and proofs/ are installed as crystal_fourier.derive etc. (pyproject package-dir).
# pytest's own --doctest-modules would import derive/_bases.py from its path under a second name
# (``derive.bases``), so module-level caches and classes would exist twice. Here each source file is
# collected once and its doctests run against the module imported by its installed name.

from importlib import import_module  # noqa: E402 - after the cache variable, which must come first
from pathlib import Path  # noqa: E402

from _pytest.doctest import DoctestModule  # noqa: E402 - the collector whose module lookup we replace

_ROOT = Path(__file__).resolve().parent
_PACKAGE_DIRS = {_ROOT / "crystal_fourier": "crystal_fourier", _ROOT / "derive": "crystal_fourier.derive",
                 _ROOT / "runtime": "crystal_fourier.runtime", _ROOT / "proofs": "crystal_fourier.proofs"}


def installed_name(path: Path) -> str | None:
    """``crystal_fourier.derive._bases`` for derive/_bases.py; None outside the package folders."""
    for folder, package in _PACKAGE_DIRS.items():
        if path.is_relative_to(folder):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__main__" or (parts[0] in ("templates",)):
                return None
            parts = parts[:-1] if parts[-1] == "__init__" else parts
            return ".".join((package, *parts))
    return None


class InstalledDoctestModule(DoctestModule):
    """pytest's doctest collector, reading the module imported under its installed name."""

    def _getobj(self):
        return import_module(self.name_installed)


def pytest_collect_file(file_path: Path, parent):
    if file_path.suffix != ".py":
        return None
    name = installed_name(file_path.resolve())
    if name is None:
        return None
    module = InstalledDoctestModule.from_parent(parent, path=file_path)
    module.name_installed = name
    return module
