"""Per-label decision thresholds of a multi-label model: fitted for F1 on validation, and checked
when read back from a saved config.

:func:`fit_thresholds` picks, for each label on its own, the threshold that maximises that label's
F1 on the examples given (the validation split, never test).  A score at or above a label's
threshold predicts the label.  Scores are probabilities in [0, 1], so the thresholds are too.
:func:`bagged_thresholds`, what a multi-label model saves, averages that pick over bootstrap
resamples of the examples: a rare label has a few dozen validation positives, so its F1-best cut
jumps with a handful of them and fits their noise.  On SemEval-2018 E-c (fitted on one half of
validation, scored on the other, 5 halvings x 3 seeds; BENCHMARKS.md) the mean of 30 resamples'
picks raised macro F1 from 0.520 to 0.527, micro F1 from 0.613 to 0.625 and Jaccard from 0.487
to 0.499 (paired bootstrap p 0.04, 0.01, 0.01).
:func:`check_thresholds` refuses whatever a hostile or damaged config could hold instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfsent.errors import InputError

DEFAULT_THRESHOLD = 0.5
MIN_POSITIVES = 5  # fewer positives than this: F1 on them is noise, so the label keeps 0.5
BAGS = 30  # bootstrap resamples averaged by bagged_thresholds
BAG_SEED = 0  # the resamples are seeded: the same outputs always give the same thresholds


def fit_thresholds(y_true: np.ndarray, scores: np.ndarray, min_positives: int = MIN_POSITIVES) -> np.ndarray:
    """Per label, the threshold that maximises F1 on these examples.

    The candidates of a label are the midpoints between its consecutive distinct scores, plus its
    lowest score (every example positive); one sort per label makes it O(n log n), n examples.
    Ties: of the thresholds with the highest F1, the highest wins (fewest positive predictions).
    A label with fewer than ``min_positives`` positive examples gets :data:`DEFAULT_THRESHOLD`.

    Args:
        y_true: ``(n, K)`` 0/1 (or bool) true labels.
        scores: ``(n, K)`` probabilities in [0, 1].
        min_positives: the fewest positives a label needs to have its threshold fitted (>= 1).

    Returns:
        ``(K,)`` float64 thresholds in [0, 1].

    Example:
        >>> fit_thresholds(np.array([[1], [1], [0], [0]]), np.array([[0.9], [0.6], [0.4], [0.2]]), 1)
        array([0.5])
    """
    truth, probs = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    if truth.ndim != 2 or truth.shape != probs.shape:
        raise InputError(f"y_true and scores must be two (n, K) arrays of one shape, got {truth.shape} "
                         f"and {probs.shape}")
    if not np.isin(truth, (0, 1)).all():
        raise InputError("y_true must hold only 0 and 1")
    if not (np.isfinite(probs).all() and (probs >= 0).all() and (probs <= 1).all()):
        raise InputError("scores must be probabilities in [0, 1]")
    if isinstance(min_positives, bool) or not isinstance(min_positives, int) or min_positives < 1:
        raise InputError(f"min_positives must be a positive integer, got {min_positives!r}")
    truth = truth.astype(np.int64)
    return np.array([_best_threshold(truth[:, j], probs[:, j]) if truth[:, j].sum() >= min_positives
                     else DEFAULT_THRESHOLD for j in range(truth.shape[1])], dtype=np.float64)


def bagged_thresholds(y_true: np.ndarray, scores: np.ndarray, min_positives: int = MIN_POSITIVES,
                      bags: int = BAGS) -> np.ndarray:
    """Per label, the mean of :func:`fit_thresholds`' picks over ``bags`` bootstrap resamples of
    the examples (seeded: :data:`BAG_SEED`), a steadier estimate of the F1-best threshold than one
    pick on all of them.  A label with fewer than ``min_positives`` positives among all the
    examples keeps :data:`DEFAULT_THRESHOLD`; a resample without a positive (or without a negative)
    of a label leaves that label's mean.  Same arguments, checks and result as :func:`fit_thresholds`.

    Example:
        >>> bagged_thresholds(np.array([[1], [1], [0], [0]]), np.array([[0.9], [0.6], [0.4], [0.2]]), 1)
        array([0.518])
    """
    full = fit_thresholds(y_true, scores, min_positives)  # checks the inputs once
    if isinstance(bags, bool) or not isinstance(bags, int) or bags < 1:
        raise InputError(f"bags must be a positive integer, got {bags!r}")
    truth, probs = np.asarray(y_true).astype(np.int64), np.asarray(scores, dtype=np.float64)
    rng = np.random.default_rng(BAG_SEED)
    totals, counts = np.zeros(truth.shape[1]), np.zeros(truth.shape[1])
    for _ in range(bags):
        rows = rng.integers(0, len(truth), len(truth))
        positives = truth[rows].sum(axis=0)
        both = (positives > 0) & (positives < len(rows))  # one class only: no cut to pick
        picked = fit_thresholds(truth[rows], probs[rows], 1)
        totals[both] += picked[both]
        counts[both] += 1
    fitted = truth.sum(axis=0) >= min_positives
    out = np.where(counts > 0, totals / np.maximum(counts, 1), full)
    return np.where(fitted, out, DEFAULT_THRESHOLD)


def _best_threshold(truth: np.ndarray, probs: np.ndarray) -> float:
    """The F1-best threshold of one label with at least one positive example."""
    order = np.argsort(-probs, kind="stable")
    ranked, hits = probs[order], truth[order]
    true_pos = np.cumsum(hits)  # cutting after position i predicts the top i + 1 positive
    # a cut is only possible where the score changes (and after the last example)
    cuts = np.flatnonzero(np.append(ranked[:-1] != ranked[1:], True))
    f1 = 2.0 * true_pos[cuts] / (hits.sum() + cuts + 1.0)  # 2TP / (2TP + FP + FN)
    best = int(cuts[np.argmax(f1)])  # argmax takes the first: the highest threshold
    # IEEE division rounds exactly, so equal fractions give equal floats and ties are real ties
    if best == len(ranked) - 1:
        return float(ranked[-1])
    return float((ranked[best] + ranked[best + 1]) / 2.0)


def check_thresholds(values: Any, k: int, where: str = "thresholds") -> list[float]:
    """``values`` as ``k`` floats, if it is a list of exactly ``k`` finite numbers in [0, 1]
    (JSON ints pass, booleans do not); else a one-line :class:`~hfsent.errors.InputError` that
    names ``where`` and the position, never the value.

    Example:
        >>> check_thresholds([0.5, 1, 0.25], 3)
        [0.5, 1.0, 0.25]
    """
    if not isinstance(values, list):
        raise InputError(f"{where} must be a list of {k} numbers in [0, 1], got {type(values).__name__}")
    if len(values) != k:
        raise InputError(f"{where} must hold {k} numbers in [0, 1], one per label, got {len(values):,}")
    for i, value in enumerate(values):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not 0 <= value <= 1:  # NaN fails the comparison; no float() of a huge int
            raise InputError(f"{where}[{i}] must be a number in [0, 1], got "
                             f"{type(value).__name__ if not number else 'a number outside it'}")
    return [float(v) for v in values]
