"""Multinomial logistic regression by preconditioned Newton-CG, on counts stored by column.

The multi-class linear half fits scikit-learn's model: softmax over the classes present, an L2
penalty ``||coef||² / (2 C n)`` on the mean (sample-weighted) log loss, an unpenalised intercept,
stopped when no entry of the gradient exceeds ``tol``.  On IMDB's stars as 8 classes (17,999
reviews, 628,078 seen columns, three carves; ``scripts/bench_solver.py``, BENCHMARKS.md) it took
12 to 14 s where ``LogisticRegression(solver="newton-cg")`` took 38 to 64 s at the same ``tol``,
and its blend with the GRU scored as well on validation and test.  Three changes make it faster:

* **Counts by column.**  Newton-CG's time goes to products of the counts with a matrix of one
  column per class, ``X @ V`` and ``X.T @ M``.  scikit-learn converts ``X`` to CSR, so
  ``X @ V`` gathers a row of ``V`` for every count, from a table of (columns x classes) far larger
  than the cache: 96 to 110 ms there.  Stored by column (CSC), the same product reads ``V`` in
  order and scatters into the small (rows x classes) result, 25 to 26 ms, and ``X.T @ M`` is a
  CSR product that gathers from the small ``M``: 32 to 34 ms against 73 to 140.
* **A preconditioner.**  The conjugate-gradient steps that solve each Newton step are scaled by
  the Hessian's diagonal (one extra product per Newton step).  Without it (at a forcing term of
  0.1) the fits took 49 to 64 s, as long as scikit-learn's.
* **Fewer columns, the same optimum.**  The columns that one row alone uses are folded into one
  column per row (:mod:`hfsent.private_columns`): 628,078 columns become 393,336, and the tables
  the solve updates shrink with them (the same carves' fits: 12.4 to 14.2 s).

The vectors of the conjugate-gradient solve stay float64 (in float32 the solve lost conjugacy
and took more Newton steps); the counts and the products are float32, as before.

Limits: the counts are held twice (as given, and squared for the diagonal), with dense class
probabilities (rows x classes) and a few weight tables (columns x classes).  A ``tol`` below what
float32 products resolve (about 1e-7 on small problems) stops with a ``ConvergenceWarning``.
One thread: the products split over two threads by blocks of columns were 1.5 times faster alone
but not inside the fit on 2 cores.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.linalg import blas
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_class_weight

from hfsent.private_columns import PrivateColumns

# Each Newton step's solve stops at this fraction of the gradient's L1 norm, as scikit-learn's.
# On three carves of IMDB's 8 star classes, 0.5 took 16 to 22 s, 0.3 took 23 to 29 and 0.1 took 23
# to 27, and their blends scored the same (BENCHMARKS.md).  0.1 ends nearer the optimum (on one
# carve, validation probabilities within 0.042 of it against 0.178), but both meet the rule of
# ``tol``, as scikit-learn's fit does from 0.052 away
FORCING = 0.5
ARMIJO = 1e-4  # sufficient decrease for the backtracking line search
MIN_STEP = 1e-10  # its shortest step
MAX_INNER = 200  # conjugate-gradient steps per Newton step, as scikit-learn's newton-cg


class MultinomialLogistic(ClassifierMixin, BaseEstimator):
    """L2-penalised multinomial logistic regression (scikit-learn's estimator interface).

    Args:
        C: inverse strength of the L2 penalty, as ``LogisticRegression``'s.
        tol: stop when no entry of the gradient exceeds it.
        max_iter: Newton steps at most (a ``ConvergenceWarning`` if reached).
        class_weight: ``"balanced"`` weighs each class by the inverse of its share, or ``None``.
        warm_start: start from the last fit's weights when they have the same shape.

    Fitted attributes: ``classes_``, ``coef_`` (classes x features), ``intercept_``, ``n_iter_``
    (Newton steps) and ``cg_iter_`` (their conjugate-gradient steps in all).

    Example:
        >>> MultinomialLogistic(C=1.0).fit(sp.csr_matrix(np.eye(3)), [0, 1, 2]).predict([[0, 1, 0]])
        array([1])
    """

    def __init__(self, C: float = 1.0, tol: float = 1e-4, max_iter: int = 100,
                 class_weight: str | None = None, warm_start: bool = False):
        self.C, self.tol, self.max_iter = C, tol, max_iter
        self.class_weight, self.warm_start = class_weight, warm_start

    def fit(self, x, y) -> MultinomialLogistic:
        """Fit on ``x`` (rows x features: sparse, an array or nested lists) and the labels ``y``.

        Raises:
            ValueError: ``C`` not positive and finite, ``class_weight`` neither ``None`` nor
                ``"balanced"``, or a count that is not finite (or, folded, beyond float32).
        """
        if not 0 < self.C < np.inf or self.class_weight not in (None, "balanced"):
            raise ValueError(f"C={self.C!r}, class_weight={self.class_weight!r}: C must be positive and "
                             "finite, class_weight None or 'balanced'")
        xc = sp.csc_matrix(x, dtype=np.float32)
        if not np.isfinite(xc.data).all():
            raise ValueError("x holds a count that is not finite")
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        codes = codes.reshape(-1)
        rows, classes = len(codes), len(self.classes_)
        weight = np.ones(rows)
        if self.class_weight is not None:
            weight = compute_class_weight(self.class_weight, classes=np.arange(classes), y=codes)[codes]
        folding = PrivateColumns(xc)  # the same optimum on fewer columns
        if not np.isfinite(folding.reduced.data).all():
            raise ValueError("x holds counts too large for float32 once a row's rare columns are folded")
        objective = _Objective(folding.reduced, codes, classes, weight, 1.0 / (self.C * weight.sum()))
        w = np.zeros((folding.reduced.shape[1] + 1, classes))
        if self.warm_start and getattr(self, "coef_", np.empty(0)).shape == (classes, xc.shape[1]):
            w[:-1], w[-1] = folding.reduce(self.coef_.T), self.intercept_
        del xc
        w, self.n_iter_, self.cg_iter_, stopped = _newton_cg(objective, w, self.tol, self.max_iter)
        if stopped:
            warnings.warn(f"Newton-CG stopped before tol={self.tol}: {stopped}", ConvergenceWarning,
                          stacklevel=2)
        # The softmax ignores a constant added to every intercept, which the penalty leaves free:
        # centred, as scikit-learn's
        self.coef_, self.intercept_ = np.ascontiguousarray(folding.expand(w[:-1]).T), w[-1] - w[-1].mean()
        return self

    def decision_function(self, x) -> np.ndarray:
        """The logits, one column per class of ``classes_``."""
        return np.asarray(sp.csr_matrix(x, dtype=np.float64) @ self.coef_.T) + self.intercept_

    def predict_proba(self, x) -> np.ndarray:
        return _softmax(self.decision_function(x))

    def predict(self, x) -> np.ndarray:
        return self.classes_[self.decision_function(x).argmax(axis=1)]


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class _Objective:
    """The penalised loss at weights ``w`` of shape (features + 1, classes), the last row the
    intercept; its gradient, Hessian products and the Hessian's diagonal."""

    def __init__(self, xc: sp.csc_matrix, codes: np.ndarray, classes: int, weight: np.ndarray, l2: float):
        # The transposes are CSR views of the same arrays; made once, as each costs a check
        self.xc, self.xt, self.squares_t, self.l2 = xc, xc.T, xc.power(2).T, l2
        self.onehot = np.zeros((len(codes), classes))
        self.onehot[np.arange(len(codes)), codes] = 1.0
        self.weight = (weight / weight.sum())[:, None]

    def logits(self, w: np.ndarray) -> np.ndarray:
        return (self.xc @ w[:-1].astype(np.float32)).astype(np.float64) + w[-1]

    def transpose_product(self, m: np.ndarray, out: np.ndarray, squares: bool = False) -> np.ndarray:
        """``out[:-1] = X.T @ m`` (of the squared counts if ``squares``) and the intercept's row
        ``out[-1]`` = the column sums of ``m``."""
        out[:-1] = (self.squares_t if squares else self.xt) @ m.astype(np.float32)
        out[-1] = m.sum(axis=0)
        return out

    def loss(self, w: np.ndarray, z: np.ndarray | None = None) -> tuple[float, np.ndarray]:
        """The loss at ``w``, and its logits (``z`` if given) for :meth:`at` to reuse."""
        z = self.logits(w) if z is None else z
        top = z.max(axis=1, keepdims=True)
        log_sum = top + np.log(np.exp(z - top).sum(axis=1, keepdims=True))
        data = float(np.sum(self.weight * (log_sum - z) * self.onehot))
        return data + 0.5 * self.l2 * float(blas.ddot(w[:-1].ravel(), w[:-1].ravel())), z

    def at(self, w: np.ndarray, z: np.ndarray | None = None):
        """``(loss, gradient, hessp, inverse diagonal)`` at ``w`` (whose logits are ``z`` if
        given); ``hessp(v, out)`` writes H v."""
        z = self.logits(w) if z is None else z
        p = _softmax(z)
        grad = self.transpose_product(self.weight * (p - self.onehot), np.empty_like(w))
        grad[:-1] += self.l2 * w[:-1]
        wp = self.weight * p
        diagonal = self.transpose_product(wp * (1 - p), np.empty_like(w), squares=True)
        diagonal[:-1] += self.l2

        def hessp(v: np.ndarray, out: np.ndarray) -> np.ndarray:
            t = self.logits(v)  # the same product as the logits, intercept included
            self.transpose_product(wp * (t - (p * t).sum(axis=1, keepdims=True)), out)
            blas.daxpy(v[:-1].ravel(), out[:-1].ravel(), a=self.l2)
            return out

        # A column without counts has no curvature but the penalty's, none at all if C is huge
        return self.loss(w, z)[0], grad, hessp, np.divide(1.0, diagonal, out=np.ones_like(diagonal),
                                                       where=diagonal > 0)


def _newton_cg(objective: _Objective, w: np.ndarray, tol: float, max_iter: int
               ) -> tuple[np.ndarray, int, int, str]:
    """Newton steps, each solved inexactly by :func:`_pcg` (to a residual of
    ``min(FORCING, sqrt(|g|_1)) |g|_1``), with a backtracking (Armijo) line search; the weights,
    the Newton and conjugate-gradient steps, and why it stopped short of ``tol`` (or ``""``).

    The line search gives up, as scikit-learn's does, when no step of at least
    :data:`MIN_STEP` lowers the loss enough: near the optimum the float32 products cannot show a
    smaller decrease, so a ``tol`` below what they resolve ends there, not at ``max_iter``.
    """
    inner, z = 0, None
    for step in range(max_iter):
        value, grad, hessp, inverse_diagonal = objective.at(w, z)
        if np.abs(grad).max() <= tol:
            return w, step, inner, ""
        size = float(blas.dasum(grad.ravel()))
        direction, used = _pcg(hessp, grad, inverse_diagonal, min(FORCING, np.sqrt(size)) * size)
        inner += used
        slope, alpha = float(blas.ddot(grad.ravel(), direction.ravel())), 1.0
        trial, z = objective.loss(w + alpha * direction)
        while not trial <= value + ARMIJO * alpha * slope:  # "not <=" also turns a NaN loss away
            alpha /= 2
            if alpha < MIN_STEP:
                return w, step, inner, f"the line search failed at max|gradient| {np.abs(grad).max():.2g}"
            trial, z = objective.loss(w + alpha * direction)
        w = w + alpha * direction  # its logits are z, the accepted trial's
    return w, max_iter, inner, f"max_iter={max_iter} reached"


def _pcg(hessp, grad: np.ndarray, inverse_diagonal: np.ndarray, tol: float) -> tuple[np.ndarray, int]:
    """An approximate solution of ``H d = -grad`` by conjugate gradients preconditioned by the
    Hessian's diagonal, stopped when the residual's L1 norm is under ``tol`` (or at a direction of
    no curvature), and the steps it took.  The vectors are updated in place (BLAS), as the
    weight tables are large."""
    d, r = np.zeros_like(grad), grad.copy()
    z = r * inverse_diagonal
    p, hp = -z, np.empty_like(grad)
    flat_d, flat_r, flat_p, flat_hp, flat_z = d.ravel(), r.ravel(), p.ravel(), hp.ravel(), z.ravel()
    rz = float(blas.ddot(flat_r, flat_z))
    for step in range(MAX_INNER):
        if blas.dasum(flat_r) <= tol:
            return d, step
        hessp(p, hp)
        curvature = float(blas.ddot(flat_p, flat_hp))
        if curvature <= 0:  # none under an L2 penalty, short of rounding: the first step's direction
            return (d if step else p.copy()), step
        alpha = rz / curvature
        blas.daxpy(flat_p, flat_d, a=alpha)
        blas.daxpy(flat_hp, flat_r, a=alpha)
        np.multiply(r, inverse_diagonal, out=z)
        rz, previous = float(blas.ddot(flat_r, flat_z)), rz
        p *= rz / previous
        p -= z
    return d, MAX_INNER
