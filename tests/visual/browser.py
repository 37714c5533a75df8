"""Open a page in headless Chromium: a screenshot and the page's console messages (test harness).

Used by the report tests (and by anyone checking a report by eye) to prove the
page renders offline: Chromium runs with networking features off and its own
throw-away profile, and every ``console`` message of the page (a script error
shows as ``Uncaught ...``) is parsed out of Chromium's log on stderr. The
report has no script, so any console message at all is a failure.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from crystal_fourier.errors import CrystalFourierError

__all__ = ["CHROMIUM_NAMES", "PageRender", "find_chromium", "console_messages", "render_page"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
"""Executables tried in order (Debian's package ``chromium`` installs /usr/bin/chromium)."""

_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--hide-scrollbars", "--enable-logging=stderr", "--v=0")
# Chromium logs a page's console as '[...:INFO:CONSOLE:12] "text", source: URL (12)' (older: 'CONSOLE(12)').
_CONSOLE = re.compile(r':CONSOLE[:(]\d*\)?\]\s*"(.*)", source: (.*)$')


@dataclass(frozen=True, slots=True)
class PageRender:
    """What Chromium made of a page.

    Attributes
    ----------
    screenshot : Path
        The PNG screenshot.
    console : tuple of str
        Every console message of the page, as 'text (source)'.
    stderr : str
        Chromium's whole log, for diagnosis.
    """

    screenshot: Path
    console: tuple[str, ...]
    stderr: str


def find_chromium() -> str | None:
    """Path of the first of :data:`CHROMIUM_NAMES` on PATH, or None."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def console_messages(log: str) -> tuple[str, ...]:
    """The page's console messages in a Chromium stderr log.

    >>> log = '[1:1:INFO:CONSOLE:3] "Uncaught Error: x", source: file:///a.html (3)\\n[1:1:ERROR:bus.cc:4] dbus'
    >>> console_messages(log)
    ('Uncaught Error: x (file:///a.html (3))',)
    """
    found = []
    for line in log.splitlines():
        match = _CONSOLE.search(line)
        if match:
            found.append(f"{match.group(1)} ({match.group(2)})")
    return tuple(found)


def render_page(html_path, screenshot_path, *, window: tuple[int, int] = (1200, 1600), chromium: str | None = None,
                timeout: float = 90.0) -> PageRender:
    """Screenshot ``html_path`` with headless Chromium into ``screenshot_path`` and collect its console.

    Raises
    ------
    CrystalFourierError
        No Chromium (install Debian's ``chromium``), a time-out, or no screenshot written.
    """
    executable = chromium or find_chromium()
    if executable is None:
        raise CrystalFourierError(f"no Chromium found (tried {', '.join(CHROMIUM_NAMES)}): apt-get install chromium")
    html_path = Path(html_path).resolve()
    screenshot_path = Path(screenshot_path).resolve()
    with tempfile.TemporaryDirectory(prefix="crystal-fourier-chromium-") as profile:
        command = [executable, *_FLAGS, f"--user-data-dir={profile}", f"--screenshot={screenshot_path}",
                   f"--window-size={window[0]},{window[1]}", html_path.as_uri()]
        try:
            process = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False,
                                     stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise CrystalFourierError(f"Chromium did not finish {html_path.name} within {timeout} s") from None
        except OSError as error:
            raise CrystalFourierError(f"cannot run Chromium {executable!r}: {error}") from None
    if not screenshot_path.is_file():
        raise CrystalFourierError(f"Chromium wrote no screenshot of {html_path.name} (exit {process.returncode}):\n"
                                  + process.stderr[-2000:])
    return PageRender(screenshot_path, console_messages(process.stderr), process.stderr)
