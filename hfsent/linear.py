"""The linear half's fit: scikit-learn on word and bigram counts, written into the frozen layers.

:mod:`hfsent.wide` builds the layers; this module fits the model they compute on the
training split's counts (:func:`hfsent.ngrams.count_matrix`) and sets their weights:

* two classes: NBSVM-style logistic regression (Wang & Manning 2012), each count scaled by
  its naive-Bayes log-count ratio, fitted by ``LogisticRegression`` (L2, ``C``);
* more classes: multinomial logistic regression on the counts, each scaled by its naive-Bayes
  spread over the classes, fitted by Newton-CG (:mod:`hfsent.multinomial`);
* ratings: ridge regression on the counts (``Ridge``, ``alpha``).

Each is a class of :mod:`hfsent.linear_kinds`, which the task picks (``Task.linear_kind``); this
module runs any of them alike.

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

from hfsent.linear_kinds import LinearKind
from hfsent.names import WIDE_BIGRAMS, WIDE_OUTPUT, WIDE_WORDS
from hfsent.ngrams import count_matrix
from hfsent.regularization import choose_strength

log = logging.getLogger(__name__)


def fit_wide_branch(model: keras.Model, train: Dataset, kind: LinearKind, strength: float | None,
                    max_length: int, *, groups: np.ndarray | None = None, metric: str = "accuracy",
                    class_weight: str | None = None) -> dict:
    """Fit the linear half of ``kind`` on ``train`` and write it into ``model``'s frozen wide
    layers.

    Args:
        model: a model from :func:`hfsent.wide.with_wide_branch`; its GRU layers are not touched.
        train: the encoded training split (``input_ids``, ``label``).
        kind: the task's :class:`hfsent.linear_kinds.LinearKind` (``Task.linear_kind``).
        strength: ``C`` (or the ridge's ``alpha``); ``None`` chooses it by cross-validation on
            ``train`` (:func:`hfsent.regularization.choose_strength`), unless the kind finds that
            too dear for ``train``'s size (then the kind's ``default_strength``).
        max_length: only the first ``max_length`` ids of a review count, as in the GRU.
        groups: one group id per row of ``train`` (a movie id) for the cross-validation's folds.
        metric: what the cross-validation scores (``accuracy``, ``macro_f1`` or ``log_loss``).
        class_weight: ``"balanced"`` weighs each class by the inverse of its share; ``None``.

    Returns:
        ``{"features": words and buckets seen in train, "seconds": fit time, "c"`` (or
        ``"alpha"``): the strength used, and ``"cross_validation"`` where it was chosen or
        skipped``}``.

    Example:
        >>> model = with_wide_branch(build_model(ModelConfig(), len(vocab)), len(vocab), 1 << 20)
        >>> fit_wide_branch(model, encoded["train"], NaiveBayesLogistic(), 0.1, max_length=600)["features"]
        412345
    """
    start = time.perf_counter()
    seen, y, columns, unseen = seen_counts(model, train, max_length)
    chosen = {}
    skipped = kind.cv_skipped(len(y)) if strength is None else None
    if skipped:
        strength, chosen = kind.default_strength, {"cross_validation": skipped}
        log.info("wide branch: %d texts, %s: %s=%g without cross-validation", len(y), kind.name, kind.param,
                 strength)
    if strength is None:
        cv = choose_strength(seen, y, kind, groups, metric, class_weight, unseen)
        strength, chosen = cv["chosen"], {"cross_validation": cv}
    tables, kernel, bias = kind.fit_layers(seen, y, strength, unseen, class_weight)
    set_tables(model, tables, columns)
    model.get_layer(WIDE_OUTPUT).set_weights([kernel, bias])
    seconds = round(time.perf_counter() - start, 1)
    log.info("wide branch: %s on %d words and bigram buckets seen, %d output(s), fitted in %.1f s",
             kind.name, len(columns), tables.shape[1], seconds)
    return {"features": len(columns), "seconds": seconds, kind.strength_name: strength, **chosen}


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
