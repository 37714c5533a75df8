"""Where a bench run's numbers came from (the code commit, the machine), and its runs read back."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE_FOLDERS = ("bench", "runtime", "crystal_fourier", "derive", "generated", "proofs")
"""Folders whose uncommitted changes mark a commit '+dirty' (the code a result depends on)."""


def commit(root: Path = ROOT) -> str:
    """The checkout's commit, with '+dirty' when the code folders differ from it; 'unknown' outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *CODE_FOLDERS], cwd=root, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def machine() -> str:
    """The machine in a few words (architecture, cores visible, processor when known)."""
    return f"{platform.machine()}, {os.cpu_count()} CPU cores" + (f" ({platform.processor()})"
                                                                  if platform.processor() else "")


def read_runs(paths) -> dict:
    """key -> run, from every runs.jsonl under ``paths`` (a later line replaces an earlier one)."""
    runs = {}
    for path in paths:
        file = Path(path) / "runs.jsonl"
        if file.is_file():
            for line in file.read_text().splitlines():
                if line.strip():
                    run = json.loads(line)
                    runs[run["key"]] = run
    return runs
