"""Columns that one row alone uses, folded into one column per row: an exact reduction of an
L2-penalised linear model.

Where the loss depends on the weights ``W`` (columns x outputs) only through the logits ``X @ W``
(plus unpenalised intercepts), and every column has the same penalty ``(l2 / 2) ||W||²``, take the
columns with one count each in row ``i``, ``x_ij``, and ``n_i = sqrt(sum_j x_ij²)``.  They add
``sum_j x_ij w_j`` to row ``i``'s logits and nothing to any other row's.  Among the weights that add
a given ``n_i u_i``, the smallest penalty is at ``w_j = (x_ij / n_i) u_i``, where it is
``||u_i||²``: the penalty of one column of value ``n_i`` with weights ``u_i``.  So the problem with
those columns replaced by that one column has the same optimum, and :meth:`PrivateColumns.expand`
maps its weights back (:meth:`PrivateColumns.reduce` is that minimal-penalty projection, for a
warm start).  Its gradient bounds the full one's: each folded column's gradient is ``x_ij / n_i``
(at most 1 in size) times its row column's, up to the rounding of ``n_i`` to float32.

On IMDB's stars as 8 classes (17,999 reviews) 252,373 of 628,078 seen columns are used by one
review (most bigrams and rare words): folded, 393,336 columns remain, and the multi-class half's
fits on three carves took 12.4 to 14.2 s instead of 16.1 to 22.2 (``scripts/bench_solver.py``,
BENCHMARKS.md).  Columns that several rows share in the same proportions could be folded the same
way; there they would remove only 2,400 more.

Scope: exact only for a penalty equal on every column and a loss of ``X @ W``.  Folding is by
stored entries: a column whose one stored entry is zero, or with a duplicate or a stored zero
beside its count, is kept as it is.  The matrix is read by column (converted if it is not).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class PrivateColumns:
    """The folding of ``x``'s one-count columns.

    Attributes: ``reduced`` (float32 counts by column: the kept columns, in order, then one column
    per row that had a one-count column), ``kept`` (their indices in ``x``), ``folded`` (the
    indices of the folded columns) and ``fold`` (rows' new columns x folded columns: ``x_ij / n_i``).

    Example:
        >>> x = sp.csc_matrix(np.array([[3.0, 4.0, 1.0], [0.0, 0.0, 2.0]]))
        >>> PrivateColumns(x).reduced.toarray()
        array([[1., 5.],
               [2., 0.]], dtype=float32)
    """

    def __init__(self, x: sp.spmatrix):
        xc = sp.csc_matrix(x)
        rows = xc.shape[0]
        one = np.flatnonzero(np.diff(xc.indptr) == 1)
        one = one[xc.data[xc.indptr[one]] != 0]  # a stored zero is no count
        start = xc.indptr[one]
        value, row = xc.data[start].astype(np.float64), xc.indices[start]
        # Each row's norm, scaled by its largest count so that tiny or huge counts neither
        # vanish nor overflow when squared
        top = np.zeros(rows)
        np.maximum.at(top, row, np.abs(value))
        unit = value / top[row]
        norm = top * np.sqrt(np.bincount(row, weights=unit ** 2, minlength=rows))
        owners = np.flatnonzero(top > 0)
        position = np.zeros(rows, dtype=np.int64)
        position[owners] = np.arange(len(owners))
        keep = np.ones(xc.shape[1], dtype=bool)
        keep[one] = False
        self.kept, self.folded = np.flatnonzero(keep), one
        self.fold = sp.csr_matrix((value / norm[row], (position[row], np.arange(len(one)))),
                                  shape=(len(owners), len(one)))
        private = sp.csc_matrix((norm[owners], (owners, np.arange(len(owners)))), shape=(rows, len(owners)))
        with np.errstate(over="ignore"):  # a norm beyond float32 becomes inf, for the caller to refuse
            self.reduced = sp.hstack([xc[:, self.kept], private], format="csc", dtype=np.float32)

    def reduce(self, w: np.ndarray) -> np.ndarray:
        """Weights of ``x``'s columns (columns x outputs) in the reduced layout: the kept columns'
        as they are, each row column's the projection of its folded columns' onto their ray."""
        return np.vstack([w[self.kept], self.fold @ w[self.folded]])

    def expand(self, reduced: np.ndarray) -> np.ndarray:
        """The weights of ``x``'s columns that the reduced layout's ``reduced`` stand for."""
        w = np.empty((len(self.kept) + len(self.folded), reduced.shape[1]), dtype=reduced.dtype)
        w[self.kept] = reduced[:len(self.kept)]
        w[self.folded] = self.fold.T @ reduced[len(self.kept):]
        return w
