"""The augmentation baseline: independent random operations per atom, each an operation of the group."""

import numpy as np

from crystal_fourier.derive import space_group
from crystal_fourier.runtime.network._baselines import SymmetryAugmentation
from crystal_fourier.runtime.network._batching import sample_from_arrays


def _orbit(hall_number, position):
    rotations, translations = space_group(hall_number=hall_number).arrays
    return (np.einsum("gij,j->gi", rotations, position) + translations / 24.0) % 1.0


def test_each_atom_moves_within_its_own_orbit_independently():
    group = space_group(91)  # P4_122: 8 operations, screw translations in quarters
    positions = np.array([[0.11, 0.23, 0.37], [0.41, 0.07, 0.19], [0.29, 0.31, 0.05]])
    sample = sample_from_arrays(np.diag([4.0, 4.0, 7.0]), positions, [6, 6, 8], group.hall_number, 91)
    outputs = SymmetryAugmentation()([sample] * 40, np.random.default_rng(1))
    offsets = set()
    for out in outputs:
        for number, position in zip(out.numbers, out.positions, strict=True):
            source = [i for i, n in enumerate(sample.numbers) if n == number]
            distances = [np.abs(((_orbit(group.hall_number, positions[i]) - position + 0.5) % 1.0) - 0.5)
                         .max(axis=1).min() for i in source]
            np.testing.assert_allclose(min(distances), 0.0, atol=1e-12)
        # Which operation each carbon atom received, as its orbit index: independent draws differ.
        first = np.abs(((_orbit(group.hall_number, positions[0]) - out.positions[out.numbers == 6][0] + 0.5) % 1) - 0.5)
        offsets.add(int(first.max(axis=1).argmin()))
    assert len(offsets) > 3


def test_not_a_single_global_operation():
    group = space_group(4)  # P2_1: -x, y+1/2, -z
    positions = np.array([[0.1, 0.2, 0.3], [0.35, 0.15, 0.45]])
    sample = sample_from_arrays(np.diag([4.0, 5.0, 6.0]), positions, [29, 79], group.hall_number, 4)
    outputs = SymmetryAugmentation()([sample] * 64, np.random.default_rng(0))
    moved = []
    for out in outputs:
        by_species = {int(n): p for n, p in zip(out.numbers, out.positions, strict=True)}
        moved.append((not np.allclose(by_species[29] % 1, positions[0]),
                      not np.allclose(by_species[79] % 1, positions[1])))
    # Mixed cases (one atom moved, the other not) occur only with per-atom operations.
    assert (True, False) in moved
    assert (False, True) in moved
