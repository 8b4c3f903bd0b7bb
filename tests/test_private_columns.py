"""Folding one-count columns: the same logits and penalty, and the fit's optimum unchanged."""

import numpy as np
import scipy.sparse as sp

from hfsent.private_columns import PrivateColumns


def matrix():
    """Row 0 has two one-count columns (3 and 4), row 2 one (2); column 2 is shared, column 4 has
    no count and column 5 one stored zero (both kept as they are)."""
    dense = np.array([[3.0, 4.0, 1.0, 0.0, 0.0, 0.0],
                      [0.0, 0.0, 2.0, 0.0, 0.0, 0.0],
                      [0.0, 0.0, 0.0, 2.0, 0.0, 0.0]])
    rows, columns = np.nonzero(dense)
    x = sp.csc_matrix((np.r_[dense[rows, columns], 0.0], (np.r_[rows, 1], np.r_[columns, 5])),
                      shape=dense.shape)
    assert x.nnz == 6  # the zero is stored
    return x, dense


def test_known_answer():
    x, _ = matrix()
    folding = PrivateColumns(x)
    assert list(folding.kept) == [2, 4, 5] and list(folding.folded) == [0, 1, 3]
    np.testing.assert_allclose(folding.reduced.toarray(), [[1, 0, 0, 5, 0], [2, 0, 0, 0, 0], [0, 0, 0, 0, 2]])
    np.testing.assert_allclose(folding.fold.toarray(), [[0.6, 0.8, 0], [0, 0, 1]])


def test_the_expanded_weights_give_the_same_logits_and_penalty():
    x, dense = matrix()
    folding = PrivateColumns(x)
    reduced = np.random.default_rng(0).normal(size=(folding.reduced.shape[1], 3))
    w = folding.expand(reduced)
    np.testing.assert_allclose(dense @ w, folding.reduced.toarray() @ reduced, rtol=1e-6)
    assert np.sum(w ** 2) == np.sum(reduced ** 2)  # the penalty
    np.testing.assert_allclose(folding.reduce(w), reduced)  # and back


def test_weights_off_the_rays_are_projected_onto_them():
    """A warm start from weights that no reduced weights stand for: the nearest that some do."""
    x, _ = matrix()
    folding = PrivateColumns(x)
    w = np.zeros((6, 1))
    w[0] = 1.0  # column 0 alone, where the ray of row 0 is (0.6, 0.8)
    np.testing.assert_allclose(folding.expand(folding.reduce(w))[[0, 1]].ravel(), [0.36, 0.48])


def test_nothing_to_fold_keeps_every_column():
    x = sp.csc_matrix(np.array([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0]]))
    folding = PrivateColumns(x)
    assert folding.reduced.shape == x.shape and folding.fold.shape == (0, 0)
    assert (folding.reduced != x).nnz == 0
    assert PrivateColumns(sp.csc_matrix((2, 3))).reduced.shape == (2, 3)


def test_rows_stored_by_row_and_counts_of_any_size_fold_alike():
    """CSR input is read by column; a row of tiny counts keeps its own column (its squares would
    vanish in float64), and huge ones do not overflow."""
    x, dense = matrix()
    by_row = PrivateColumns(sp.csr_matrix(x))
    np.testing.assert_allclose(by_row.reduced.toarray(), PrivateColumns(x).reduced.toarray())
    for size in (1e-200, 1e200):
        folding = PrivateColumns(sp.csc_matrix(np.array([[5.0, 0.0, 0.0, 1.0],
                                                         [0.0, 3 * size, 4 * size, 1.0]])))
        np.testing.assert_allclose(folding.fold.toarray(), [[1, 0, 0], [0, 0.6, 0.8]])
        with np.errstate(over="ignore"):
            assert folding.reduced[1, 2] == np.float32(5 * size)  # 0 and inf: float32's rounding
