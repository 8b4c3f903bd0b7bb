"""The multi-label linear half: one NB-weighted logistic regression per label (one-vs-rest).

Each label is a two-class problem (the label, or not), fitted as the binary linear half is
(:mod:`hfsent.linear`: counts scaled by the label's naive-Bayes log-count ratio, L2 logistic
regression), on the columns seen in training only (:func:`hfsent.linear.seen_columns`), and
written as that label's column of the frozen word and bigram tables.  A label without a positive
(or without a negative) training row keeps zero weights and the bias of its training rate,
clipped away from 0 and 1.

Limits: K fits one after another, each over the whole training matrix.
"""

from __future__ import annotations

import logging
import time

import keras
import numpy as np
from datasets import Dataset

from hfsent.linear import seen_counts, set_tables
from hfsent.linear_kinds import DEFAULT_C, NaiveBayesLogistic
from hfsent.names import WIDE_OUTPUT
from hfsent.regularization import choose_strength

log = logging.getLogger(__name__)
MIN_CV_POSITIVES = 10  # a label rarer than this keeps DEFAULT_C: too few positives per fold to choose


def fit_one_vs_rest(model: keras.Model, train: Dataset, c: float | None, max_length: int,
                    groups: np.ndarray | None = None) -> dict:
    """Fit one NB-weighted logistic regression per label on ``train`` (``label``: K 0/1 values)
    and write them into ``model``'s wide layers (built with K sigmoid units).  ``c`` is the
    inverse L2 strength of every label's fit; ``None`` chooses it per label by cross-validation
    on train, scored by log loss (:func:`hfsent.regularization.choose_strength`), since the
    thresholds that turn the scores into labels are fitted afterwards.  The folds keep each of
    ``groups`` (one per row of ``train``) on one side.

    Returns:
        ``{"features": words and buckets seen in train, "seconds": fit time, "c": the value, or
        each label's where they were chosen, "cross_validation": the folds' record (how many, what
        grouped them), if any}``.

    Example:
        >>> fit_one_vs_rest(model, encoded["train"], c=1.0, max_length=64)["features"]
        41234
    """
    start = time.perf_counter()
    seen, y, columns, unseen = seen_counts(model, train, max_length)
    y = np.asarray(y).reshape(seen.shape[0], -1).astype(int)
    weights = np.zeros((len(columns), y.shape[1]), np.float32)
    bias = np.zeros(y.shape[1], np.float32)
    strengths, folds, grouped = [DEFAULT_C if c is None else c] * y.shape[1], None, None
    kind = NaiveBayesLogistic()  # per label
    for k in range(y.shape[1]):
        target = y[:, k]
        if target.min() == target.max():  # one class only: its training rate, no weights
            rate = np.clip(target.mean(), 1e-3, 1 - 1e-3)
            bias[k] = np.log(rate / (1 - rate))
            continue
        if c is None and min(target.sum(), len(target) - target.sum()) >= MIN_CV_POSITIVES:
            cv = choose_strength(seen, target, kind, groups, metric="log_loss", unseen=unseen)
            strengths[k], folds, grouped = cv["chosen"], cv["folds"], cv["grouped"]
        tables, _, intercept = kind.fit_layers(seen, target, strengths[k], unseen)
        weights[:, k], bias[k] = tables[:, 0], intercept[0]
    set_tables(model, weights, columns)
    model.get_layer(WIDE_OUTPUT).set_weights([np.eye(y.shape[1], dtype=np.float32), bias])
    seconds = round(time.perf_counter() - start, 1)
    log.info("wide branch: %d words and bigram buckets seen, %d labels one-vs-rest, fitted in %.1f s",
             len(columns), y.shape[1], seconds)
    chosen = {"cross_validation": {"folds": folds, "grouped": grouped}} if folds else {}
    return {"features": len(columns), "seconds": seconds, "c": c if c is not None else strengths, **chosen}
