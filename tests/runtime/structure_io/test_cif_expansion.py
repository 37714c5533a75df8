"""Every input is bounded before it is read or expanded (issue 31).

A 48 KB CIF listing 'x,y,z' 6,000 times was read at 3.4 GB (the images of a site are compared
pairwise); operations are now deduplicated and bounded before any site is expanded.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from crystal_fourier.errors import CrystalFourierError
from crystal_fourier.runtime import Crystal, write_cif
from crystal_fourier.runtime.structure_io._cif import parse_cif
from crystal_fourier.runtime.structure_io._cif_expansion import MAX_CIF_OPERATIONS


def _with_operations(operations: list[str]) -> str:
    text = write_cif(Crystal(5.64 * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], ["Na", "Cl"]))
    loop = "loop_\n _symmetry_equiv_pos_as_xyz\n" + "".join(f"  '{op}'\n" for op in operations)
    start = text.index("loop_\n _symmetry_equiv_pos_site_id")
    end = text.index("loop_", start + 5)
    return text[:start] + loop + text[end:]


def test_six_thousand_copies_of_the_identity_read_fast_and_small():
    text = _with_operations(["x,y,z"] * 3000 + ["x, y, z"] * 2000 + ["x+1,y,z-1"] * 1000)
    assert len(text) > 40_000
    tracemalloc.start()
    start = time.perf_counter()
    try:
        crystal = parse_cif(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    assert crystal.n_atoms == 2
    assert peak < 20 << 20, f"peak {peak / 2**20:.0f} MiB"
    assert elapsed < 5.0, f"{elapsed:.1f} s"


def test_more_distinct_operations_than_the_bound_are_refused_before_expansion():
    many = [f"x+{k % 24}/24,y+{k // 24 % 24}/24,z+{k // 576}/24" for k in range(MAX_CIF_OPERATIONS + 1)]
    with pytest.raises(CrystalFourierError, match=f"more than MAX_CIF_OPERATIONS = {MAX_CIF_OPERATIONS:,} distinct"):
        parse_cif(_with_operations(many))
