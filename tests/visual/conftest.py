"""Fixtures of the picture tests: matplotlib and Chromium are required in CI, optional on a laptop.

Both are outside the core dependencies (matplotlib is the extra ``plot``; Chromium is
Debian's ``chromium``). Where CI=true a missing one FAILS the test, so a CI image that
lost it cannot pass by skipping; elsewhere the test is skipped with the install line.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _missing(what: str, install: str):
    message = f"{what} is not installed ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must install it", pytrace=False)
    pytest.skip(f"{message}; required in CI")


@pytest.fixture(scope="session")
def matplotlib_required():
    """matplotlib, or skip (fail in CI)."""
    try:
        import matplotlib
    except ImportError:
        _missing("matplotlib", "pip install 'crystal-fourier[plot]'")
    return matplotlib


@pytest.fixture(scope="session")
def chromium():
    """Path of headless Chromium, or skip (fail in CI)."""
    from .browser import find_chromium

    path = find_chromium()
    if path is None:
        _missing("Chromium", "apt-get install chromium")
    return path


@pytest.fixture(scope="session")
def artifacts():
    """Directory ``$TEST_ARTIFACTS`` (created) for files worth keeping after the run, or None when unset."""
    directory = os.environ.get("TEST_ARTIFACTS")
    if not directory:
        return None
    os.makedirs(directory, exist_ok=True)
    return Path(directory)
