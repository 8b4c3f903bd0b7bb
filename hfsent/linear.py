"""The linear half's fit: scikit-learn on word and bigram counts, written into the frozen layers.

:mod:`hfsent.wide` builds the layers; this module fits the model they compute on the
training split's counts (:func:`hfsent.ngrams.count_matrix`) and sets their weights:

* two classes: NBSVM-style logistic regression (Wang & Manning 2012), each count scaled by
  its naive-Bayes log-count ratio, fitted by ``LogisticRegression`` (L2, ``C``);
* more classes: multinomial logistic regression on the counts;
* ratings: ridge regression on the counts (``Ridge``, ``alpha``; 100 won on IMDB's ratings,
  validation carved by movie: R² 0.542, 0.551, 0.566, 0.580, 0.578 at 3, 10, 30, 100, 300).

Limits: fitted once, after the GRU, and never fine-tuned with it; scikit-learn holds the
whole (sparse) count matrix of the training split in memory.
"""

from __future__ import annotations

import logging
import time

import keras
import numpy as np
import scipy.sparse as sp
from datasets import Dataset

from hfsent.ngrams import count_matrix
from hfsent.wide import is_rating

log = logging.getLogger(__name__)


def fit_wide_branch(model: keras.Model, train: Dataset, c: float, max_length: int, alpha: float = 100.0
                    ) -> dict:
    """Fit the NB-weighted logistic regression on ``train`` and write it into ``model``'s
    wide layers; for more than two classes, a multinomial logistic regression on the counts;
    for ratings, a ridge regression on the counts.

    Args:
        model: a model from :func:`with_wide_branch`; its GRU layers are not touched.
        train: the encoded training split (``input_ids``, ``label`` 0/1).
        c: inverse L2 strength of scikit-learn's ``LogisticRegression``.
        max_length: only the first ``max_length`` ids of a review count, as in the GRU.
        alpha: L2 strength of the ridge regression (ratings only).

    Returns:
        ``{"features": words and buckets seen in train, "seconds": fit time}``.

    Example:
        >>> model = with_wide_branch(build_model(ModelConfig(), len(vocab)), len(vocab), 1 << 20)
        >>> fit_wide_branch(model, encoded["train"], c=0.1, max_length=600)["features"]
        412345
    """
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    vocab_size = int(model.get_layer("wide_words").input_dim)
    num_bins = int(model.get_layer("wide_bigrams").input_dim)
    x, y = count_matrix(train, vocab_size, num_bins, max_length)
    width = int(model.get_layer("wide_output").units)
    if is_rating(model):
        return _fit_ridge(model, x, y, alpha, vocab_size, start)
    if width > 1:
        return _fit_multinomial(model, x, y, c, vocab_size, start)
    present = x.copy()
    present.data[:] = 1
    # Naive-Bayes log-count ratio with add-one smoothing, from presence (not counts).
    pos = 1 + np.asarray(present[y == 1].sum(axis=0)).ravel()
    neg = 1 + np.asarray(present[y == 0].sum(axis=0)).ravel()
    ratio = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
    fitted = LogisticRegression(C=c, max_iter=3000).fit(x @ sp.diags(ratio), y)
    weights = (fitted.coef_[0] * ratio).astype(np.float32)
    weights[0] = 0.0  # padding is masked anyway; keep its row inert
    _set_tables(model, weights[:, None], vocab_size)
    model.get_layer("wide_output").set_weights([np.ones((1, 1), np.float32),
                                                 fitted.intercept_.astype(np.float32)])
    seconds = round(time.perf_counter() - start, 1)
    summary = {"features": int((pos + neg > 2).sum()), "seconds": seconds}
    log.info("wide branch: %d words and bigram buckets seen, fitted in %.1f s",
             summary["features"], seconds)
    return summary


def _set_tables(model: keras.Model, weights: np.ndarray, vocab_size: int) -> None:
    """Rows of ``weights`` (the columns of :func:`hfsent.ngrams.count_matrix`) into the word
    and bigram tables."""
    model.get_layer("wide_words").set_weights([weights[:vocab_size]])
    model.get_layer("wide_bigrams").set_weights([weights[vocab_size:]])


def _fit_ridge(model: keras.Model, x: sp.csr_matrix, y: np.ndarray, alpha: float, vocab_size: int,
               start: float) -> dict:
    """Ridge regression of the ratings on the counts, into the wide layers; ``wide_output``
    adds the intercept and nothing else."""
    from sklearn.linear_model import Ridge

    fitted = Ridge(alpha=alpha, solver="sparse_cg").fit(x, np.asarray(y, np.float64))
    weights = fitted.coef_.astype(np.float32)
    weights[0] = 0.0
    _set_tables(model, weights[:, None], vocab_size)
    model.get_layer("wide_output").set_weights([np.ones((1, 1), np.float32),
                                                np.array([fitted.intercept_], np.float32)])
    seen = int((np.asarray(x.sum(axis=0)).ravel() > 0).sum())
    seconds = round(time.perf_counter() - start, 1)
    log.info("wide branch: ridge regression on %d words and bigram buckets, fitted in %.1f s", seen, seconds)
    return {"features": seen, "seconds": seconds}


def _fit_multinomial(model: keras.Model, x: sp.csr_matrix, y: np.ndarray, c: float, vocab_size: int,
                     start: float) -> dict:
    """One weight per feature and class (scikit-learn's multinomial logistic regression), into
    the wide layers; the softmax of ``wide_output`` takes the logits as they are."""
    from sklearn.linear_model import LogisticRegression

    classes = int(model.get_layer("wide_output").units)
    fitted = LogisticRegression(C=c, max_iter=3000).fit(x, y)
    weights = np.zeros((x.shape[1], classes), np.float32)
    weights[:, fitted.classes_] = fitted.coef_.T  # a class absent from train keeps zero weights
    weights[0] = 0.0
    bias = np.full(classes, -1e4, np.float32)
    bias[fitted.classes_] = fitted.intercept_
    _set_tables(model, weights, vocab_size)
    model.get_layer("wide_output").set_weights([np.eye(classes, dtype=np.float32), bias])
    seen = int((np.asarray(x.sum(axis=0)).ravel() > 0).sum())
    seconds = round(time.perf_counter() - start, 1)
    log.info("wide branch: %d words and bigram buckets seen, %d classes, fitted in %.1f s", seen, classes,
             seconds)
    return {"features": seen, "seconds": seconds}
