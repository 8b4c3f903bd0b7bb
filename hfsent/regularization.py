"""The linear half's regularisation strength, chosen by k-fold cross-validation on train.

A fixed ``C`` (0.1, chosen on whole IMDB reviews) is too strong or too weak elsewhere: the
right strength follows the number of examples and how many words each carries.  So
:func:`choose_strength` tries a small grid (:data:`C_GRID`; :data:`ALPHA_GRID` for the ridge
of the rating task) on ``FOLDS`` folds of the training split and keeps the best mean score.

It stays cheap: the folds share the training split's count matrix restricted to its seen columns
(:func:`hfsent.linear.compact`), and each fold's fits run from the strongest regularisation to
the weakest, each starting from the previous one's weights (``warm_start``), so the later fits
take few iterations.  The kind's column scaling (:mod:`hfsent.linear_kinds`: a naive-Bayes
ratio or spread) is computed from each fold's own training rows, since it reads their labels.

Folds keep a group on one side, as :mod:`hfsent.split` carves validation: the ``groups`` given
(a movie id per row: :attr:`hfsent.prepare.PreparedData.groups`, from ``--group-column``), else
rows with the same counts (duplicate texts) form a group, as they do where fewer groups are given
than folds.  The record says which (``"grouped"``).  They are stratified by label (ratings by
whole star).

Limits: the grid is coarse (a factor of about 3 between steps); a score tie keeps the stronger
regularisation.  Fold scores are noisy on small data, so the choice is a best guess, not a
significance claim.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from hfsent.linear_kinds import LinearKind

log = logging.getLogger(__name__)

C_GRID = (0.03, 0.1, 0.3, 1.0)  # strongest regularisation first: the warm starts follow this order
ALPHA_GRID = (1000.0, 300.0, 100.0, 30.0, 10.0)
FOLDS = 3
BY_GROUP, BY_DUPLICATES = "the group column", "duplicate text"  # the record's "grouped"


def nb_ratio(x: sp.csr_matrix, y: np.ndarray, unseen: int = 0) -> np.ndarray:
    """The naive-Bayes log-count ratio of each column of ``x`` (two classes, 0/1 in ``y``), from
    presence (not counts), add-one smoothed; ``unseen`` columns not in ``x`` add their one to
    each class's total, as when the ratio is taken over every column.

    Example:
        >>> nb_ratio(sp.csr_matrix(np.array([[1, 0], [0, 2]])), np.array([1, 0])).round(2)
        array([ 0.69, -0.69])
    """
    present = x.copy()
    present.data[:] = 1
    pos = 1 + np.asarray(present[y == 1].sum(axis=0)).ravel()
    neg = 1 + np.asarray(present[y == 0].sum(axis=0)).ravel()
    return np.log(pos / (pos.sum() + unseen)) - np.log(neg / (neg.sum() + unseen))


def nb_scale(x: sp.csr_matrix, y: np.ndarray, unseen: int = 0) -> np.ndarray:
    """The multi-class counterpart of :func:`nb_ratio`'s magnitude: for each column of ``x``,
    twice the standard deviation, over the classes present in ``y``, of its log presence rate
    in each class (add-one smoothed; ``unseen`` columns add their one to every class's total).
    For two classes it is ``abs(nb_ratio)``.  A column that every class uses alike (``the``)
    gets a scale near 0, a column of one class a large one.

    Example:
        >>> nb_scale(sp.csr_matrix(np.array([[1, 0], [0, 2]])), np.array([1, 0])).round(2)
        array([0.69, 0.69])
    """
    present = x.copy()
    present.data[:] = 1
    classes, rows = np.unique(y, return_inverse=True)
    onehot = sp.csr_matrix((np.ones(len(rows)), (rows.ravel(), np.arange(len(rows)))),
                           shape=(len(classes), x.shape[0]))
    counts = 1 + (onehot @ present).toarray()  # classes x columns
    rates = np.log(counts / (counts.sum(axis=1, keepdims=True) + unseen))
    return 2 * rates.std(axis=0)


def scale_columns(x: sp.spmatrix, scale: np.ndarray) -> sp.csc_matrix:
    """``x @ diag(scale)`` stored by column, the layout the multi-class solver works in
    (:mod:`hfsent.multinomial`): each column's counts times its scale, without a sparse product.

    Example:
        >>> scale_columns(sp.csr_matrix(np.array([[1.0, 2.0]])), np.array([3.0, 0.5])).toarray()
        array([[3., 1.]])
    """
    out = x.tocsc(copy=True)
    out.data *= np.repeat(scale.astype(out.dtype), np.diff(out.indptr))
    return out


def duplicate_groups(x: sp.csr_matrix) -> np.ndarray:
    """One integer per row of ``x``: rows with the same counts share one.

    Example:
        >>> duplicate_groups(sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 0]])))
        array([0, 1, 0])
    """
    keys = [hashlib.blake2b(x.indices[a:b].tobytes() + x.data[a:b].tobytes(), digest_size=16).digest()
            for a, b in zip(x.indptr[:-1], x.indptr[1:])]
    _, first, codes = np.unique(np.asarray(keys, dtype=object), return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[codes.reshape(-1)]


def folds(x: sp.csr_matrix, strata: np.ndarray, groups: np.ndarray | None, k: int = FOLDS, seed: int = 0
          ) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train rows, held-out rows) pairs, grouped (:func:`fold_groups`) and stratified by
    ``strata`` (one per row: the kind's ``strata`` of the labels); unstratified where a stratum is
    too small for it."""
    from sklearn.model_selection import StratifiedGroupKFold

    groups = fold_groups(x, groups, k)[0]
    strata = np.asarray(strata)
    if np.unique(strata, return_counts=True)[1].min() < k:
        strata = np.zeros(len(strata), int)
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(strata)), strata, groups))


def fold_groups(x: sp.csr_matrix, groups: np.ndarray | None, k: int = FOLDS) -> tuple[np.ndarray, str]:
    """One group code per row of ``x`` and what grouped them (:data:`BY_GROUP` or
    :data:`BY_DUPLICATES`): the ``groups`` given, unless they are fewer than ``k`` (no ``k`` grouped
    folds then), else duplicate rows.

    Example:
        >>> fold_groups(sp.csr_matrix(np.eye(4)), np.array(["a", "a", "b", "c"]))
        (array([0, 0, 1, 2]), 'the group column')
    """
    if groups is not None:
        codes = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
        if codes.max(initial=-1) + 1 >= k:
            return codes, BY_GROUP
        log.warning("linear half: %d groups, fewer than %d folds: folds grouped by duplicate text instead",
                    codes.max(initial=-1) + 1, k)
    return duplicate_groups(x), BY_DUPLICATES


def score(metric: str, y: np.ndarray, probs: np.ndarray, classes: np.ndarray) -> float:
    """A fold's score of class probabilities ``probs`` (columns: ``classes``): higher is better
    (the log loss is negated)."""
    from sklearn.metrics import f1_score, log_loss

    predicted = classes[probs.argmax(axis=1)]
    if metric == "accuracy":
        return float(np.mean(predicted == y))
    if metric == "macro_f1":
        return float(f1_score(y, predicted, average="macro", zero_division=0))
    return -float(log_loss(y, probs, labels=classes))


def choose_strength(x: sp.csr_matrix, y: np.ndarray, kind: LinearKind, groups: np.ndarray | None = None,
                    metric: str = "accuracy", class_weight: str | None = None, unseen: int = 0) -> dict:
    """The regularisation strength with the best mean score over the folds.

    Args:
        x: the training split's counts on its seen columns.
        y: labels (0/1, class ids) or ratings.
        kind: the linear half's :class:`hfsent.linear_kinds.LinearKind`: its grid, scaling,
            estimator and fold score.
        groups: one group id per row (a movie id), or ``None`` (duplicates are grouped).
        metric: one of :data:`hfsent.config.SELECTION_METRICS` (classifiers only; higher is better,
            log loss negated).
        class_weight: ``"balanced"`` or ``None``, as the final fit will use.
        unseen: columns outside ``x`` (the naive-Bayes scalings' smoothing counts them).

    Returns:
        ``{"chosen": value, "scores": {value: mean fold score}, "folds": k, "grouped": what kept
        each group in one fold`` (:func:`fold_groups`)``}``.

    Example:
        >>> choose_strength(x, y, NaiveBayesLogistic())["chosen"]
        0.3
    """
    codes, grouped = fold_groups(x, groups)
    pairs = folds(x, kind.strata(y), codes)
    totals = np.zeros(len(kind.grid))
    for train, held in pairs:
        totals += _fold_scores(x, y, train, held, kind, metric, class_weight, unseen)
    means = totals / len(pairs)
    best = int(np.argmax(means))  # the first of a tie: the strongest regularisation
    scores = {float(v): round(float(s), 5) for v, s in zip(kind.grid, means)}
    log.info("linear half, %d-fold cross-validation (folds grouped by %s) by %s: %s; chosen %g", len(pairs),
             grouped, kind.scored_by(metric), scores, kind.grid[best])
    return {"chosen": float(kind.grid[best]), "scores": scores, "folds": len(pairs), "grouped": grouped}


def _fold_scores(x, y, train, held, kind, metric, class_weight, unseen) -> np.ndarray:
    """One fold's score for each value of ``kind.grid``, fitted in grid order with warm starts;
    the columns scaled from this fold's training rows (a column empty here keeps its scale)."""
    xt, xh, yt, yh = x[train], x[held], y[train], y[held]
    scale = kind.scale(xt, yt, unseen)
    xt, xh = kind.scale_train(xt, scale), kind.scale_held(xh, scale)
    model = kind.estimator(kind.grid[0], class_weight, warm_start=True)
    out = []
    for value in kind.grid:
        model.set_params(**{kind.param: value}).fit(xt, yt)
        out.append(kind.fold_score(metric, model, xh, yh))
    return np.array(out)
