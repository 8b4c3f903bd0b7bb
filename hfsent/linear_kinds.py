"""The kinds of linear half: one class per model that :func:`hfsent.linear.fit_wide_branch` fits.

A kind says everything that differs between the linear halves: the strengths that
cross-validation tries and the configured one, how the columns are scaled from the training
rows, the scikit-learn estimator, how a held-out fold is scored, and the weights it writes into
the wide layers.  A task picks its kind (``Task.linear_kind``); :func:`hfsent.linear.fit_wide_branch`
and :func:`hfsent.regularization.choose_strength` run every kind the same way, so a new linear
model is a new class here, not a branch there.

* :class:`NaiveBayesLogistic`: two classes, NBSVM-style logistic regression (Wang & Manning
  2012), each count scaled by its naive-Bayes log-count ratio;
* :class:`ScaledMultinomial`: more classes, multinomial logistic regression on the counts scaled
  by their naive-Bayes spread over the classes, fitted by :mod:`hfsent.multinomial`;
* :class:`RidgeRating`: ratings, ridge regression on the counts.

Scope: the kinds fit rows of counts on the seen columns (:func:`hfsent.linear.seen_counts`); the
multi-label task fits one :class:`NaiveBayesLogistic` per label (:mod:`hfsent.tasks.ovr`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import scipy.sparse as sp

from hfsent.regularization import ALPHA_GRID, C_GRID, nb_ratio, nb_scale, scale_columns, score

if TYPE_CHECKING:
    from hfsent.components import TrainingConfig

DEFAULT_C = 0.1  # the configured C (0.1, chosen on whole IMDB reviews), where CV is skipped
# Multinomial CV costs folds x grid Newton-CG fits: on IMDB's 20,000 reviews as 4 classes
# scikit-learn's solver ran over 8 minutes unfinished (BENCHMARKS.md), so past this many
# texts x classes C stays DEFAULT_C
MULTICLASS_CV_BUDGET = 50_000
# Newton-CG's stopping tolerance (on the gradient's largest entry), looser than scikit-learn's
# 1e-4: with scikit-learn's solver on IMDB's 8 star classes it stopped after 9 steps instead of
# 12 (85 s against 126 s), with probabilities within 0.06 and the same validation log loss
# (1.4938 against 1.4941; accuracy 0.4638 against 0.4608, McNemar p 0.07).  The package's own
# solver (hfsent.multinomial) stops by the same rule
MULTICLASS_TOL = 1e-3


class LinearKind(ABC):
    """What one kind of linear half is; the defaults are a logistic regression's."""

    name: ClassVar[str]  # for the log
    grid: ClassVar[tuple[float, ...]] = C_GRID  # strongest regularisation first (warm starts)
    default_strength: ClassVar[float] = DEFAULT_C  # where cross-validation is skipped
    strength_name: ClassVar[str] = "c"  # the fit record's key for the strength
    param: ClassVar[str] = "C"  # the estimator's parameter for it

    def configured(self, training: TrainingConfig) -> float | None:
        """The strength in the training config (``None``: choose it by cross-validation)."""
        return training.wide_c

    def cv_skipped(self, rows: int) -> str | None:
        """Why cross-validation on ``rows`` texts is too dear to run (``None``: it is not)."""
        return None

    def strata(self, y: np.ndarray) -> np.ndarray:
        """What the cross-validation's folds are stratified by: the labels themselves."""
        return np.asarray(y)

    def scale(self, x: sp.csr_matrix, y: np.ndarray, unseen: int) -> np.ndarray | None:
        """Each column's scale, learned from the training rows ``x``, ``y`` (``unseen``: how many
        columns have no count there, which the smoothing counts); ``None``: counts as they are."""
        return None

    def scale_train(self, x: sp.csr_matrix, scale: np.ndarray | None):
        """The training counts scaled, in the layout the estimator fits fastest."""
        return x if scale is None else x @ sp.diags(scale)

    def scale_held(self, x: sp.csr_matrix, scale: np.ndarray | None) -> sp.csr_matrix:
        """Held-out counts scaled as the training counts were, for prediction."""
        return x if scale is None else x @ sp.diags(scale)

    @abstractmethod
    def estimator(self, strength: float, class_weight: str | None = None, warm_start: bool = False):
        """The unfitted scikit-learn estimator at ``strength``."""

    def fold_score(self, metric: str, fitted, x: sp.csr_matrix, y: np.ndarray) -> float:
        """A held-out fold's score under the selection ``metric`` (higher is better)."""
        return score(metric, y, fitted.predict_proba(x), fitted.classes_)

    def scored_by(self, metric: str) -> str:
        """What :meth:`fold_score` measures, for the log."""
        return metric

    @abstractmethod
    def layers(self, fitted, scale: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(a table of seen columns x output units, the output layer's kernel, its bias)``: the
        weights that make the wide layers compute the fitted model."""

    def fit_layers(self, x: sp.csr_matrix, y: np.ndarray, strength: float, unseen: int,
                   class_weight: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scale the training counts ``x``, fit the estimator at ``strength`` on them and ``y``,
        and return its :meth:`layers`."""
        scale = self.scale(x, y, unseen)
        fitted = self.estimator(strength, class_weight).fit(self.scale_train(x, scale), y)
        return self.layers(fitted, scale)


class NaiveBayesLogistic(LinearKind):
    """Two classes: L2 logistic regression (scikit-learn's L-BFGS) on counts scaled by their
    naive-Bayes log-count ratio (:func:`hfsent.regularization.nb_ratio`), one output unit."""

    name = "NB-weighted logistic regression"

    def scale(self, x, y, unseen):
        return nb_ratio(x, y, unseen)

    def estimator(self, strength, class_weight=None, warm_start=False):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=strength, tol=1e-4, max_iter=3000, class_weight=class_weight,
                                  warm_start=warm_start)

    def layers(self, fitted, scale):
        return ((fitted.coef_[0] * scale)[:, None], np.ones((1, 1), np.float32),
                fitted.intercept_.astype(np.float32))


class ScaledMultinomial(LinearKind):
    """``classes`` classes: multinomial logistic regression on counts scaled by their naive-Bayes
    spread (:func:`hfsent.regularization.nb_scale`, the multi-class size of the binary ratio),
    fitted by Newton-CG on counts by column (:class:`hfsent.multinomial.MultinomialLogistic`,
    stopped at :data:`MULTICLASS_TOL`).  ``classes`` is the output layer's width; a class absent
    from the training rows gets no weights and a bias of -1e4: it is never predicted.

    On IMDB's stars as 8 classes (18,000 reviews, 630,446 seen columns, C=0.1) the scaling raised
    validation accuracy from 0.429 to 0.461 and macro F1 from 0.350 to 0.385 and cut the fit from
    331 s to 126 s under the same load (scikit-learn's solver then); on raw counts Newton-CG had
    taken 210 s where L-BFGS took 828 s (``scripts/bench_linear.py``, BENCHMARKS.md)."""

    name = "multinomial logistic regression"

    def __init__(self, classes: int):
        self.classes = classes

    def cv_skipped(self, rows):
        if rows * self.classes > MULTICLASS_CV_BUDGET:
            return "skipped: too large for a cheap multinomial CV"
        return None

    def scale(self, x, y, unseen):
        return nb_scale(x, y, unseen)

    def scale_train(self, x, scale):
        return scale_columns(x, scale)  # by column, the solver's layout, without a sparse product

    def scale_held(self, x, scale):
        return x @ sp.diags(scale.astype(x.dtype))

    def estimator(self, strength, class_weight=None, warm_start=False):
        from hfsent.multinomial import MultinomialLogistic

        return MultinomialLogistic(C=strength, tol=MULTICLASS_TOL, class_weight=class_weight,
                                   warm_start=warm_start)

    def layers(self, fitted, scale):
        weights = np.zeros((len(scale), self.classes), np.float32)
        weights[:, fitted.classes_] = fitted.coef_.T * scale[:, None]
        bias = np.full(self.classes, -1e4, np.float32)
        bias[fitted.classes_] = fitted.intercept_
        return weights, np.eye(self.classes, dtype=np.float32), bias


class RidgeRating(LinearKind):
    """Ratings: ridge regression on the counts (``Ridge``, ``alpha``; 100 won on IMDB's ratings,
    validation carved by movie: R² 0.542, 0.551, 0.566, 0.580, 0.578 at 3, 10, 30, 100, 300),
    scored in cross-validation by negated squared error whatever the selection metric, its folds
    stratified by whole star.  It has no class weights or warm start: those arguments are ignored."""

    name = "ridge regression"
    grid = ALPHA_GRID
    strength_name = param = "alpha"

    def configured(self, training):
        return training.wide_alpha

    def strata(self, y):
        return np.rint(y).astype(int)

    def estimator(self, strength, class_weight=None, warm_start=False):
        from sklearn.linear_model import Ridge

        return Ridge(alpha=strength, solver="sparse_cg")

    def fold_score(self, metric, fitted, x, y):
        return -float(np.mean((fitted.predict(x) - y) ** 2))

    def scored_by(self, metric):
        return "squared error"

    def layers(self, fitted, scale):
        return fitted.coef_[:, None], np.ones((1, 1), np.float32), np.array([fitted.intercept_], np.float32)
