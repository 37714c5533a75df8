"""The unimodular matrices of the foundation (crystal_fourier/_unimodular.py): all of them, with exact inverses."""

import numpy as np

from crystal_fourier._unimodular import unimodular_matrices


def test_unimodular_matrices_are_all_of_them_with_exact_inverses():
    import itertools

    everything = np.array(list(itertools.product((-1, 0, 1), repeat=9))).reshape(-1, 3, 3)
    determinants = np.rint(np.linalg.det(everything)).astype(int)
    matrices, inverses = unimodular_matrices()
    proper, proper_inverses = unimodular_matrices(proper=True)
    assert (len(matrices), len(proper)) == (6960, 3480)
    np.testing.assert_array_equal(matrices, everything[np.abs(determinants) == 1])
    np.testing.assert_array_equal(proper, everything[determinants == 1])
    identity = np.eye(3, dtype=np.int64)
    assert (matrices @ inverses == identity).all()
    assert (inverses @ matrices == identity).all()
    assert (proper @ proper_inverses == identity).all()
    assert matrices.dtype == inverses.dtype == np.int64
    assert not matrices.flags.writeable
    # The inverse of a {-1, 0, 1} matrix is computed, not looked up: a shear chain and its inverse.
    index = next(i for i, m in enumerate(proper) if m.tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    assert proper_inverses[index].tolist() == [[1, -1, 1], [0, 1, -1], [0, 0, 1]]
