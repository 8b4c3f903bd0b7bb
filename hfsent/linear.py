"""The linear half's fit: scikit-learn on word and bigram counts, written into the frozen layers.

:mod:`hfsent.wide` builds the layers; this module fits the model they compute on the
training split's counts (:func:`hfsent.ngrams.count_matrix`) and sets their weights:

* two classes: NBSVM-style logistic regression (Wang & Manning 2012), each count scaled by
  its naive-Bayes log-count ratio, fitted by ``LogisticRegression`` (L2, ``C``);
* more classes: multinomial logistic regression on the counts, each scaled by its naive-Bayes
  spread over the classes (:func:`hfsent.regularization.nb_scale`, the multi-class size of the
  binary ratio), fitted by Newton-CG (:mod:`hfsent.multinomial`).  On IMDB's stars as 8 classes
  (18,000 reviews, 630,446 seen columns, C=0.1) the scaling raised validation accuracy from 0.429
  to 0.461 and macro F1 from 0.350 to 0.385 and cut the fit from 331 s to 126 s under the same
  load; on raw counts Newton-CG had taken 210 s where L-BFGS took 828 s (``scripts/bench_linear.py``,
  BENCHMARKS.md);
* ratings: ridge regression on the counts (``Ridge``, ``alpha``; 100 won on IMDB's ratings,
  validation carved by movie: R² 0.542, 0.551, 0.566, 0.580, 0.578 at 3, 10, 30, 100, 300).

The strength (``C``, or ``alpha``) is chosen by cross-validation on the training split unless
given (:mod:`hfsent.regularization`).

Every fit sees only the columns that have a count in the training split (:func:`seen_columns`,
:func:`compact`): of the 1,078,576 word and bigram-bucket columns, 683,928 on IMDB's 22,500
training reviews, and fewer the smaller the corpus.  A column without a count gets no weight under L2
whatever the solver, so the fitted model is the one the full matrix gives; the solver just no
longer carries a weight per class for every empty column through each of its iterations.  The
weights are scattered back into the full-width tables that the Keras layers index.

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

from hfsent.names import WIDE_BIGRAMS, WIDE_OUTPUT, WIDE_WORDS
from hfsent.ngrams import count_matrix
from hfsent.regularization import choose_strength, classifier, nb_ratio, nb_scale, scale_columns
from hfsent.wide import is_rating

log = logging.getLogger(__name__)
# Multinomial CV costs folds x grid Newton-CG fits: on IMDB's 20,000 reviews as 4 classes it ran
# over 8 minutes unfinished (BENCHMARKS.md), so past this many texts x classes C stays DEFAULT_C.
MULTICLASS_CV_BUDGET = 50_000
DEFAULT_C = 0.1


def fit_wide_branch(model: keras.Model, train: Dataset, c: float | None, max_length: int,
                    alpha: float | None = 100.0, *, groups: np.ndarray | None = None,
                    kind: str | None = None, metric: str = "accuracy", class_weight: str | None = None
                    ) -> dict:
    """Fit the NB-weighted logistic regression on ``train`` and write it into ``model``'s
    wide layers; for more than two classes, a multinomial logistic regression on the counts;
    for ratings, a ridge regression on the counts.

    Args:
        model: a model from :func:`with_wide_branch`; its GRU layers are not touched.
        train: the encoded training split (``input_ids``, ``label`` 0/1).
        c: inverse L2 strength of scikit-learn's ``LogisticRegression``; ``None`` chooses it by
            cross-validation on ``train`` (:func:`hfsent.regularization.choose_strength`).
        max_length: only the first ``max_length`` ids of a review count, as in the GRU.
        alpha: L2 strength of the ridge regression (ratings only); ``None`` chooses it likewise.
        groups: one group id per row of ``train`` (a movie id) for the cross-validation's folds.
        kind: ``binary``, ``multiclass`` or ``rating``: the task's (``Task.linear_kind``); by
            default read from the wide layers the task built (their activation and units).
        metric: what the cross-validation scores (``accuracy``, ``macro_f1`` or ``log_loss``).
        class_weight: ``"balanced"`` weighs each class by the inverse of its share; ``None``.

    Returns:
        ``{"features": words and buckets seen in train, "seconds": fit time, "c"`` (or
        ``"alpha"``): the strength used, and ``"cross_validation"`` where it was chosen``}``.

    Example:
        >>> model = with_wide_branch(build_model(ModelConfig(), len(vocab)), len(vocab), 1 << 20)
        >>> fit_wide_branch(model, encoded["train"], c=0.1, max_length=600)["features"]
        412345
    """
    start = time.perf_counter()
    seen, y, columns, unseen = seen_counts(model, train, max_length)
    classes = int(model.get_layer(WIDE_OUTPUT).units)
    if kind is None:
        kind = "rating" if is_rating(model) else "multiclass" if classes > 1 else "binary"
    rating = kind == "rating"
    chosen = {}
    if c is None and kind == "multiclass" and len(y) * classes > MULTICLASS_CV_BUDGET:
        c, chosen = DEFAULT_C, {"cross_validation": "skipped: too large for a cheap multinomial CV"}
        log.info("wide branch: %d texts x %d classes: C=%g without cross-validation", len(y), classes, c)
    if (alpha if rating else c) is None:
        cv = choose_strength(seen, y, kind, groups, metric, class_weight, unseen)
        chosen = {"cross_validation": cv}
        alpha, c = (cv["chosen"], c) if rating else (alpha, cv["chosen"])
    if rating:
        return {**_fit_ridge(model, seen, y, alpha, columns, start), "alpha": alpha, **chosen}
    if kind == "multiclass":
        return {**_fit_multinomial(model, seen, y, c, columns, start, class_weight, unseen), "c": c, **chosen}
    # Naive-Bayes log-count ratio with add-one smoothing, from presence (not counts).  Each
    # unseen column adds its one to both totals, as when the ratio was taken over every column.
    ratio = nb_ratio(seen, y, unseen)
    fitted = classifier(c, 2, class_weight).fit(seen @ sp.diags(ratio), y)
    set_tables(model, (fitted.coef_[0] * ratio)[:, None], columns)
    model.get_layer(WIDE_OUTPUT).set_weights([np.ones((1, 1), np.float32),
                                                 fitted.intercept_.astype(np.float32)])
    seconds = round(time.perf_counter() - start, 1)
    summary = {"features": len(columns), "seconds": seconds, "c": c, **chosen}
    log.info("wide branch: %d words and bigram buckets seen, fitted in %.1f s",
             summary["features"], seconds)
    return summary


def seen_columns(x: sp.csr_matrix) -> np.ndarray:
    """The columns of ``x`` that hold a count, in order.

    Example:
        >>> seen_columns(sp.csr_matrix(np.array([[0, 2, 0, 1], [0, 1, 0, 0]])))
        array([1, 3])
    """
    return np.flatnonzero(np.bincount(x.indices, minlength=x.shape[1]))


def compact(x: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """``x[:, columns]`` for the sorted ``columns`` that hold all of ``x``'s entries
    (:func:`seen_columns`), made by renumbering the column indices: no copy of the counts.

    Example:
        >>> compact(sp.csr_matrix(np.array([[0, 2, 0, 1]])), np.array([1, 3])).toarray()
        array([[2, 1]])
    """
    position = np.zeros(x.shape[1], x.indices.dtype)
    position[columns] = np.arange(len(columns), dtype=x.indices.dtype)
    return sp.csr_matrix((x.data, position[x.indices], x.indptr), shape=(x.shape[0], len(columns)))


def seen_counts(model: keras.Model, train: Dataset, max_length: int
                ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, int]:
    """``(counts on the seen columns, labels, the seen columns, how many columns are unseen)`` of
    ``train``, for the word and bigram tables of ``model``'s wide layers (every linear fit's start).
    """
    vocab_size = int(model.get_layer(WIDE_WORDS).input_dim)
    num_bins = int(model.get_layer(WIDE_BIGRAMS).input_dim)
    x, y = count_matrix(train, vocab_size, num_bins, max_length)
    columns = seen_columns(x)
    return compact(x, columns), y, columns, x.shape[1] - len(columns)


def set_tables(model: keras.Model, weights: np.ndarray, columns: np.ndarray) -> None:
    """Rows of ``weights`` (one per seen column, one column per output unit) at their
    columns of the word and bigram tables, every other row zero; padding's row stays zero (it is
    masked anyway)."""
    words = model.get_layer(WIDE_WORDS)
    width = int(words.input_dim) + int(model.get_layer(WIDE_BIGRAMS).input_dim)
    full = np.zeros((width, weights.shape[1]), np.float32)
    full[columns] = weights
    full[0] = 0.0
    words.set_weights([full[: words.input_dim]])
    model.get_layer(WIDE_BIGRAMS).set_weights([full[words.input_dim:]])


def _fit_ridge(model: keras.Model, x: sp.csr_matrix, y: np.ndarray, alpha: float, columns: np.ndarray,
               start: float) -> dict:
    """Ridge regression of the ratings on the seen columns' counts ``x``, into the wide layers;
    ``wide_output`` adds the intercept and nothing else."""
    from sklearn.linear_model import Ridge

    fitted = Ridge(alpha=alpha, solver="sparse_cg").fit(x, np.asarray(y, np.float64))
    set_tables(model, fitted.coef_[:, None], columns)
    model.get_layer(WIDE_OUTPUT).set_weights([np.ones((1, 1), np.float32),
                                                np.array([fitted.intercept_], np.float32)])
    seconds = round(time.perf_counter() - start, 1)
    log.info("wide branch: ridge regression on %d words and bigram buckets, fitted in %.1f s", len(columns),
             seconds)
    return {"features": len(columns), "seconds": seconds}


def _fit_multinomial(model: keras.Model, x: sp.csr_matrix, y: np.ndarray, c: float, columns: np.ndarray,
                     start: float, class_weight: str | None = None, unseen: int = 0) -> dict:
    """One weight per seen column and class (scikit-learn's multinomial logistic regression on
    the seen columns' counts ``x``, each column scaled by its :func:`nb_scale`), into the wide
    layers; the softmax of ``wide_output`` takes the logits as they are."""
    classes = int(model.get_layer(WIDE_OUTPUT).units)
    scale = nb_scale(x, y, unseen)
    fitted = classifier(c, classes, class_weight).fit(scale_columns(x, scale), y)
    weights = np.zeros((x.shape[1], classes), np.float32)
    weights[:, fitted.classes_] = fitted.coef_.T * scale[:, None]  # a class absent from train keeps zeros
    bias = np.full(classes, -1e4, np.float32)
    bias[fitted.classes_] = fitted.intercept_
    set_tables(model, weights, columns)
    model.get_layer(WIDE_OUTPUT).set_weights([np.eye(classes, dtype=np.float32), bias])
    seconds = round(time.perf_counter() - start, 1)
    log.info("wide branch: %d words and bigram buckets seen, %d classes, fitted in %.1f s", len(columns),
             classes, seconds)
    return {"features": len(columns), "seconds": seconds}

