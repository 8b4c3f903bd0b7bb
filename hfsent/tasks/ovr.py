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
import scipy.sparse as sp
from datasets import Dataset

from hfsent.linear import _full_width, _set_tables, compact, seen_columns
from hfsent.names import WIDE_BIGRAMS, WIDE_OUTPUT, WIDE_WORDS
from hfsent.ngrams import count_matrix

log = logging.getLogger(__name__)


def nb_ratio(present: sp.csr_matrix, y: np.ndarray, unseen: int) -> np.ndarray:
    """The naive-Bayes log-count ratio of each column for the 0/1 targets ``y``, with add-one
    smoothing over every column (``unseen`` columns without a count add their ones)."""
    pos = 1 + np.asarray(present[y == 1].sum(axis=0)).ravel()
    neg = 1 + np.asarray(present[y == 0].sum(axis=0)).ravel()
    return np.log(pos / (pos.sum() + unseen)) - np.log(neg / (neg.sum() + unseen))


def fit_one_vs_rest(model: keras.Model, train: Dataset, c: float, max_length: int) -> dict:
    """Fit one NB-weighted logistic regression per label on ``train`` (``label``: K 0/1 values)
    and write them into ``model``'s wide layers (built with K sigmoid units).

    Returns:
        ``{"features": words and buckets seen in train, "seconds": fit time}``.

    Example:
        >>> fit_one_vs_rest(model, encoded["train"], c=1.0, max_length=64)["features"]
        41234
    """
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    vocab_size = int(model.get_layer(WIDE_WORDS).input_dim)
    num_bins = int(model.get_layer(WIDE_BIGRAMS).input_dim)
    x, y = count_matrix(train, vocab_size, num_bins, max_length)
    y = np.asarray(y).reshape(x.shape[0], -1).astype(int)
    columns = seen_columns(x)
    seen = compact(x, columns)
    present = seen.copy()
    present.data[:] = 1
    unseen = x.shape[1] - len(columns)
    weights = np.zeros((len(columns), y.shape[1]), np.float32)
    bias = np.zeros(y.shape[1], np.float32)
    for k in range(y.shape[1]):
        target = y[:, k]
        if target.min() == target.max():  # one class only: its training rate, no weights
            rate = np.clip(target.mean(), 1e-3, 1 - 1e-3)
            bias[k] = np.log(rate / (1 - rate))
            continue
        ratio = nb_ratio(present, target, unseen)
        fitted = LogisticRegression(C=c, max_iter=3000).fit(seen @ sp.diags(ratio), target)
        weights[:, k] = fitted.coef_[0] * ratio
        bias[k] = fitted.intercept_[0]
    _set_tables(model, _full_width(weights, columns, x.shape[1]), vocab_size)
    model.get_layer(WIDE_OUTPUT).set_weights([np.eye(y.shape[1], dtype=np.float32), bias])
    seconds = round(time.perf_counter() - start, 1)
    log.info("wide branch: %d words and bigram buckets seen, %d labels one-vs-rest, fitted in %.1f s",
             len(columns), y.shape[1], seconds)
    return {"features": len(columns), "seconds": seconds}
