"""Shared fixtures: space groups named after their Hermann-Mauguin symbols (``fm3m``, ``p6_3mmc``, ...).

The representative group numbers of the default suite live in
``crystal_fourier.testing.REPRESENTATIVE_GROUPS`` (importable from every test
module, which a conftest constant is not under ``--import-mode=importlib``).
"""

from __future__ import annotations

import pytest

from crystal_fourier.derive import space_group


@pytest.fixture(scope="session")
def p1():
    """P1 (1): the identity only."""
    return space_group(1)


@pytest.fixture(scope="session")
def p_1():
    """P-1 (2): the inversion pairs k with -k."""
    return space_group(2)


@pytest.fixture(scope="session")
def p2_1():
    """P2_1 (4), unique axis b: -x, y+1/2, -z makes (0 k 0) with k odd absent."""
    return space_group(4)


@pytest.fixture(scope="session")
def p4_1():
    """P4_1 (76): the 4_1 screw -y, x, z+1/4."""
    return space_group(76)


@pytest.fixture(scope="session")
def p6_3mmc():
    """P6_3/mmc (194), hexagonal axes."""
    return space_group(194)


@pytest.fixture(scope="session")
def fm3m():
    """Fm-3m (225): symmorphic, F-centred."""
    return space_group(225)


@pytest.fixture(scope="session")
def fd3m():
    """Fd-3m (227), origin choice 2 (Hall 526): d-glides and 4_1 screws."""
    return space_group(227)
