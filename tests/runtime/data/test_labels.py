"""EMT labels of one crystal: known values, independence of the description, refused elements."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ase", reason="EMT labels need ASE (the data extra)")

from crystal_fourier.errors import CrystalFourierError  # noqa: E402
from crystal_fourier.runtime.data._labels import emt_labels  # noqa: E402
from crystal_fourier.runtime import Crystal

FCC = np.array([[0, 0, 0], [0, .5, .5], [.5, 0, .5], [.5, .5, 0]])


def test_emt_copper_matches_its_known_values():
    labels = emt_labels(Crystal(3.6 * np.eye(3), FCC, [29] * 4))
    # ASE's EMT copper: a0 = 3.59 A (V = 11.57 A^3/atom), B = 134 GPa, E about -0.007 eV/atom
    assert labels.volume_per_atom == pytest.approx(11.57, abs=0.02)
    assert labels.bulk_modulus == pytest.approx(134.0, abs=2.0)
    assert labels.energy_per_atom == pytest.approx(-0.0071, abs=1e-3)
    assert labels.scale == pytest.approx((4 * 11.57) ** (1 / 3) / 3.6, abs=1e-3)


def test_labels_do_not_depend_on_the_description_or_the_starting_volume():
    conventional = emt_labels(Crystal(3.6 * np.eye(3), FCC, [29] * 4))
    primitive = emt_labels(Crystal(1.8 * np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]), [[0, 0, 0]], [29]))
    squeezed = emt_labels(Crystal(3.3 * np.eye(3), FCC, [29] * 4))
    assert primitive.energy_per_atom == pytest.approx(conventional.energy_per_atom, abs=1e-9)
    assert primitive.bulk_modulus == pytest.approx(conventional.bulk_modulus, abs=1e-6)
    assert squeezed.energy_per_atom == pytest.approx(conventional.energy_per_atom, abs=1e-5)
    assert squeezed.bulk_modulus == pytest.approx(conventional.bulk_modulus, abs=0.5)


def test_gold_is_softer_than_nickel():
    gold = emt_labels(Crystal(4.08 * np.eye(3), FCC, [79] * 4))
    nickel = emt_labels(Crystal(3.52 * np.eye(3), FCC, [28] * 4))
    assert gold.bulk_modulus < nickel.bulk_modulus


def test_non_emt_elements_are_refused():
    with pytest.raises(CrystalFourierError, match="EMT has no parameters for Fe"):
        emt_labels(Crystal(2.87 * np.eye(3), [[0, 0, 0], [0.5, 0.5, 0.5]], [26, 26]))
