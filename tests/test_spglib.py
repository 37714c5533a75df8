"""crystal_fourier._spglib: the one door to spglib (warnings, both error styles, located messages)."""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import spglib

from crystal_fourier import _spglib
from crystal_fourier.errors import CrystalFourierError

ROOT = Path(__file__).resolve().parents[1]


def test_calls_are_quiet_and_exact():
    _spglib.spacegroup_type.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # spglib's DeprecationWarning would fail here
        kind = _spglib.spacegroup_type(526)
        database = _spglib.symmetry_from_database(526)
    assert (kind.number, kind.choice, kind.international_short) == (227, "2", "Fd-3m")
    assert np.asarray(database["rotations"]).shape == (192, 3, 3)


def test_a_failed_dataset_names_the_crystal_the_tolerance_and_the_fix():
    cell = (np.eye(3) * 4.0, [[0, 0, 0], [0.001, 0, 0]], [29, 29])
    with pytest.raises(CrystalFourierError,
                       match=r"spglib could not determine the symmetry of Cu2 at symprec=0.1 A \(.+\); "
                             r"check for overlapping atoms .*--symprec"):
        _spglib.symmetry_dataset(cell, symprec=0.1, subject="Cu2")


@pytest.mark.parametrize("symprec", [0.0, -1.0, float("nan"), float("inf"), "0.1", None])
def test_symprec_must_be_a_positive_number(symprec):
    with pytest.raises(CrystalFourierError, match=re.escape(f"symprec must be a positive tolerance in Angstrom, "
                                                            f"got {symprec!r}")):
        _spglib.symmetry_dataset((np.eye(3), [[0, 0, 0]], [1]), symprec=symprec)


def test_the_new_error_style_is_translated(monkeypatch):
    def raises(*args, **kwargs):
        raise spglib.error.SpglibError("too close distance between atoms")

    monkeypatch.setattr(spglib, "get_symmetry_dataset", raises)
    with pytest.raises(CrystalFourierError, match=r"^spglib could not do it \(too close distance between atoms\)$"):
        _spglib.call("get_symmetry_dataset", None, action="do it")


@pytest.mark.parametrize(("message", "reason"), [("too close distance between atoms", "too close distance between "
                                                  "atoms"), ("no error", "no result"), ("", "no result")])
def test_the_legacy_error_style_is_translated(monkeypatch, message, reason):
    monkeypatch.setattr(spglib, "niggli_reduce", lambda *args, **kwargs: None)
    monkeypatch.setattr(spglib, "get_error_message", lambda: message)
    with pytest.raises(CrystalFourierError, match=re.escape(f"spglib could not Niggli-reduce the lattice ({reason})")):
        _spglib.niggli_reduce(np.eye(3))


def test_spglib_is_imported_only_by_the_adapter():
    importers = []
    for folder in ("derive", "runtime", "proofs", "generated", "crystal_fourier"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(name == "spglib" or name.startswith("spglib.") for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert importers == ["crystal_fourier/_spglib.py"]
