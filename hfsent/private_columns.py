"""Columns that one row alone uses, folded into one column per row: an exact reduction of an
L2-penalised linear model.

Where the loss depends on the weights ``W`` (columns x outputs) only through the logits
``X @ W``, and every column has the same L2 penalty ``(l2 / 2) ||W||²``, a zero gradient makes each
column's weights its counts times the rows' residuals: ``w_j = -(1 / l2) sum_i x_ij r_i``.  A column
with one count, ``x_ij`` in row ``i``, thus has ``w_j = x_ij g_i``, on one ray per row.  All such
columns of row ``i`` can be replaced by one column of value ``n_i = sqrt(sum_j x_ij²)`` with weights
``u_i``: at ``w_j = (x_ij / n_i) u_i`` the logits (``sum_j x_ij w_j = n_i u_i``) and the penalty
(``sum_j ||w_j||² = ||u_i||²``) are the same, so the reduced problem has the same optimum, and
:meth:`PrivateColumns.expand` maps its weights back.  Its gradient bounds the full one's: each
folded column's gradient is ``x_ij / n_i`` (at most 1 in size) times its row column's.

On IMDB's stars as 8 classes (17,999 reviews) 252,373 of 628,078 seen columns are used by one
review (most bigrams and rare words): folded, 393,336 columns remain, and the multi-class half's
fit took 10.0 s instead of 13.8 (the same Newton and conjugate-gradient steps on smaller weight
tables; BENCHMARKS.md).  Columns that several rows share in the same proportions could be folded
the same way; here they would remove only 2,400 more.

Scope: exact only for a penalty equal on every column and a loss of ``X @ W`` (plus unpenalised
intercepts); a column whose one stored count is zero is kept as it is.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class PrivateColumns:
    """The folding of ``xc``'s one-count columns (counts by column, CSC).

    Attributes: ``reduced`` (the kept columns, in order, then one column per row that had a
    one-count column), ``kept`` (their indices in ``xc``), ``folded`` (the indices of the folded
    columns) and ``fold`` (rows' new columns x folded columns: ``x_ij / n_i``).

    Example:
        >>> x = sp.csc_matrix(np.array([[3.0, 4.0, 1.0], [0.0, 0.0, 2.0]]))
        >>> PrivateColumns(x).reduced.toarray()
        array([[1., 5.],
               [2., 0.]], dtype=float32)
    """

    def __init__(self, xc: sp.csc_matrix):
        rows = xc.shape[0]
        one = np.flatnonzero(np.diff(xc.indptr) == 1)
        one = one[xc.data[xc.indptr[one]] != 0]  # a stored zero is no count
        start = xc.indptr[one]
        value, row = xc.data[start].astype(np.float64), xc.indices[start]
        norm = np.sqrt(np.bincount(row, weights=value ** 2, minlength=rows))
        owners = np.flatnonzero(norm > 0)
        position = np.zeros(rows, dtype=np.int64)
        position[owners] = np.arange(len(owners))
        keep = np.ones(xc.shape[1], dtype=bool)
        keep[one] = False
        self.kept, self.folded = np.flatnonzero(keep), one
        self.fold = sp.csr_matrix((value / norm[row], (position[row], np.arange(len(one)))),
                                  shape=(len(owners), len(one)))
        private = sp.csc_matrix((norm[owners], (owners, np.arange(len(owners)))), shape=(rows, len(owners)))
        self.reduced = sp.hstack([xc[:, self.kept], private], format="csc", dtype=np.float32)

    def reduce(self, w: np.ndarray) -> np.ndarray:
        """Weights of ``xc``'s columns (columns x outputs) in the reduced layout: the kept columns'
        as they are, each row column's the projection of its folded columns' onto their ray."""
        return np.vstack([w[self.kept], self.fold @ w[self.folded]])

    def expand(self, reduced: np.ndarray) -> np.ndarray:
        """The weights of ``xc``'s columns that the reduced layout's ``reduced`` stand for."""
        w = np.empty((len(self.kept) + len(self.folded), reduced.shape[1]), dtype=reduced.dtype)
        w[self.kept] = reduced[:len(self.kept)]
        w[self.folded] = self.fold.T @ reduced[len(self.kept):]
        return w
