"""The wide branch: a linear model over word and word-bigram counts, averaged with the GRU.

The GRU reads word order but memorises the training movies: on IMDB it loses about 1.5
points of accuracy from validation (same movies) to test (other movies), where a linear
bag-of-n-grams model loses less.  Averaging the two, as Mesnil et al. (2014) averaged an
RNN with NBSVM on IMDB, keeps most of each one's strengths.

The linear model is NBSVM-style logistic regression (Wang & Manning 2012): the count of
each word and hashed word bigram in the first ``max_length`` tokens, scaled by its
naive-Bayes log-count ratio on the training split, fitted by scikit-learn's L2-regularised
``LogisticRegression`` in seconds.  Its weights are then written into frozen stock Keras
layers, so the saved model still loads with plain ``keras.saving.load_model``::

    ids -> Embedding(V, 1)                                          one weight per word
    ids -> id[t] * V + id[t+1] -> Hashing(B) -> Embedding(B, 1)    one weight per bigram bucket
    each summed over the real tokens (Dot with a 0/1 mask) -> + intercept -> sigmoid

and the model's output is ``w * GRU + (1 - w) * linear``, a frozen ``Dense`` over the two
probabilities, set by :func:`set_blend_weight` (training fits ``w`` on the validation
split: see :func:`hfsent.blend.blend_weight`).  This module holds the layers and the
linear fit; blending and scoring live with training and metrics.

For more than two classes the linear model is a multinomial logistic regression on the
counts (the naive-Bayes ratio is a two-class quantity), one weight per feature and class, under a
softmax; the blend mixes the two rows of class probabilities with the same two weights.

Limits: bigrams that hash to one of the ``B`` buckets share a
weight; the branch is fitted once, after the GRU, and never fine-tuned with it.  A random
validation split shares movies with train, so it overrates the GRU and the fitted ``w``
errs towards it; ``w`` is one number fitted on the split that also stops training, so the
validation score of the blend is slightly optimistic.
"""

from __future__ import annotations

import logging
import time

import keras
import numpy as np
import scipy.sparse as sp
from datasets import Dataset
from keras import layers

from hfsent.batching import flat_ids

log = logging.getLogger(__name__)


def _real(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    """1.0 where the id is a token, 0.0 where it is padding (id 0)."""
    return layers.ReLU(max_value=1.0, name=name)(layers.Rescaling(1.0, name=f"{name}_float")(x))


def _masked_sum(weights: keras.KerasTensor, real: keras.KerasTensor, name: str) -> keras.KerasTensor:
    # Dot over the time axis sums the weights of real tokens only, so the logit does not
    # depend on how far a batch was padded.
    return layers.Dot(axes=1, name=name)([weights, real])


def wide_probability(inputs: keras.KerasTensor, vocab_size: int, num_bins: int,
                     classes: int = 2) -> keras.KerasTensor:
    """The frozen linear branch on ``inputs`` (right-padded ids), as a probability (binary), or
    a row of class probabilities (softmax over ``classes`` logits).

    Args:
        inputs: the model's ``input_ids`` tensor.
        vocab_size: rows of the word weights (``len(vocab)``).
        num_bins: hash buckets for the bigrams.
        classes: the number of classes; 2 keeps one logit and a sigmoid.

    Example:
        >>> inputs = keras.Input((None,), dtype="int32")
        >>> keras.Model(inputs, wide_probability(inputs, 30000, 1 << 20)).output_shape
        (None, 1)
    """
    ids = layers.Reshape((-1, 1), name="wide_ids")(inputs)
    # One padding id at the end, so that a one-token review still has a (masked) pair and
    # Cropping1D never crops a sequence to nothing.
    padded = layers.ZeroPadding1D((0, 1), name="wide_pad")(ids)
    left = layers.Cropping1D((0, 1), name="wide_left")(padded)
    right = layers.Cropping1D((1, 0), name="wide_right")(padded)
    # float64 holds id * V + id exactly (float32 would not above 2**24); Hashing casts it
    # back to int64 before hashing, as bigram_buckets does.
    key = layers.Add(dtype="float64", name="wide_bigram_key")([
        layers.Rescaling(float(vocab_size), dtype="float64", name="wide_left_scaled")(left),
        layers.Rescaling(1.0, dtype="float64", name="wide_right_float")(right)])
    buckets = layers.Reshape((-1,), name="wide_buckets")(layers.Hashing(num_bins, name="wide_hash")(key))
    width = 1 if classes == 2 else classes  # one logit per class, or one for binary
    word_sum = _masked_sum(layers.Embedding(vocab_size, width, trainable=False, name="wide_words")(inputs),
                           _real(ids, "wide_real"), "wide_word_sum")
    bigram_sum = _masked_sum(layers.Embedding(num_bins, width, trainable=False, name="wide_bigrams")(buckets),
                             _real(right, "wide_real_right"), "wide_bigram_sum")
    logit = layers.Reshape((width,), name="wide_logit")(layers.Add(name="wide_sum")([word_sum, bigram_sum]))
    return layers.Dense(width, activation="sigmoid" if width == 1 else "softmax", trainable=False,
                        name="wide_output")(logit)


def with_wide_branch(model: keras.Model, vocab_size: int, num_bins: int) -> keras.Model:
    """``model`` (ids -> probability) with the wide branch beside it, outputs averaged
    (equal weights until :func:`set_blend_weight`).  The GRU layers are shared, not copied;
    the wide weights are random until :func:`fit_wide_branch` sets them.

    Example:
        >>> blended = with_wide_branch(build_model(ModelConfig(), len(vocab)), len(vocab), 1 << 20)
        >>> has_wide_branch(blended)
        True
    """
    width = int(model.output_shape[-1])
    wide = wide_probability(model.input, vocab_size, num_bins, classes=2 if width == 1 else width)
    if width == 1:
        both = layers.Concatenate(name="wide_and_deep_inputs")([model.output, wide])
        outputs = layers.Dense(1, use_bias=False, trainable=False, name="wide_and_deep")(both)
    else:  # (classes, 2): each class's two probabilities, mixed by the same two weights
        columns = [layers.Reshape((width, 1), name=f"{name}_column")(t)
                   for name, t in (("gru", model.output), ("wide", wide))]
        pairs = layers.Concatenate(name="wide_and_deep_inputs")(columns)
        mixed = layers.Dense(1, use_bias=False, trainable=False, name="wide_and_deep")(pairs)
        outputs = layers.Reshape((width,), name="wide_and_deep_classes")(mixed)
    combined = keras.Model(model.input, outputs, name=model.name)
    set_blend_weight(combined, 0.5)
    return combined


def set_blend_weight(model: keras.Model, gru_weight: float) -> None:
    """Make the output ``gru_weight * GRU + (1 - gru_weight) * linear``.

    Example:
        >>> set_blend_weight(blended, 0.37)
    """
    model.get_layer("wide_and_deep").set_weights([np.array([[gru_weight], [1 - gru_weight]], np.float32)])


def has_wide_branch(model: keras.Model) -> bool:
    """Whether ``model`` was built by :func:`with_wide_branch`.

    Example:
        >>> has_wide_branch(build_model(ModelConfig(), 100))
        False
    """
    return any(layer.name == "wide_output" for layer in model.layers)


def deep_part(model: keras.Model) -> keras.Model:
    """The GRU alone (its own probability), sharing the weights of ``model``.

    Example:
        >>> gru_only = SentimentClassifier(deep_part(clf.model), clf.vocab, clf.config)
    """
    return keras.Model(model.input, model.get_layer("output").output, name="gru_part")


def wide_part(model: keras.Model) -> keras.Model:
    """The linear branch alone (its own probability), sharing the weights of ``model``.

    Example:
        >>> linear_only = SentimentClassifier(wide_part(clf.model), clf.vocab, clf.config)
    """
    return keras.Model(model.input, model.get_layer("wide_output").output, name="wide_part")


def bigram_buckets(values: np.ndarray, splits: np.ndarray, vocab_size: int, num_bins: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Hash bucket of every bigram of the flat ids (``values`` cut at ``splits``), and the
    review each belongs to; the same hash as the model's ``wide_hash`` layer.

    Example:
        >>> buckets, rows = bigram_buckets(np.array([3, 4, 5]), np.array([0, 2, 3]), 10, 1 << 20)
        >>> rows  # one bigram, (3, 4), in review 0; review 1 has one token
        array([0])
    """
    values = values.astype(np.int64)
    second = np.ones(len(values), dtype=bool)
    # The first token of a review makes no bigram with the previous review's last token;
    # an empty review has no first token (its offset may equal len(values)).
    second[splits[:-1][np.diff(splits) > 0]] = False
    starts = np.flatnonzero(second)
    keys = values[starts - 1] * vocab_size + values[starts]
    buckets = np.asarray(layers.Hashing(num_bins)(keys)).reshape(-1) if len(keys) else np.zeros(0, np.int64)
    rows = np.repeat(np.arange(len(splits) - 1), np.diff(splits))[starts]
    return buckets, rows


def count_matrix(ds: Dataset, vocab_size: int, num_bins: int, max_length: int
                 ) -> tuple[sp.csr_matrix, np.ndarray]:
    """Reviews x (words, bigram buckets) token counts of ``ds``'s first ``max_length`` ids, and labels.

    Example:
        >>> x, y = count_matrix(encoded["train"], len(vocab), 1 << 20, 600)
        >>> x.shape
        (22500, 1078576)
    """
    values, splits, labels = flat_ids(ds.with_format("arrow")[:])
    review = np.repeat(np.arange(len(splits) - 1), np.diff(splits))
    keep = np.arange(len(values)) - splits[review] < max_length  # position within its review
    values, review = values[keep], review[keep]
    lengths = np.minimum(np.diff(splits), max_length)
    buckets, bigram_rows = bigram_buckets(values, np.concatenate([[0], np.cumsum(lengths)]),
                                          vocab_size, num_bins)
    rows = np.concatenate([review, bigram_rows])
    cols = np.concatenate([values.astype(np.int64), vocab_size + buckets])
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                           shape=(len(lengths), vocab_size + num_bins))
    matrix.sum_duplicates()
    return matrix, labels


def fit_wide_branch(model: keras.Model, train: Dataset, c: float, max_length: int) -> dict:
    """Fit the NB-weighted logistic regression on ``train`` and write it into ``model``'s
    wide layers; for more than two classes, a multinomial logistic regression on the counts.

    Args:
        model: a model from :func:`with_wide_branch`; its GRU layers are not touched.
        train: the encoded training split (``input_ids``, ``label`` 0/1).
        c: inverse L2 strength of scikit-learn's ``LogisticRegression``.
        max_length: only the first ``max_length`` ids of a review count, as in the GRU.

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
    model.get_layer("wide_words").set_weights([weights[:vocab_size, None]])
    model.get_layer("wide_bigrams").set_weights([weights[vocab_size:, None]])
    model.get_layer("wide_output").set_weights([np.ones((1, 1), np.float32),
                                                 fitted.intercept_.astype(np.float32)])
    seconds = round(time.perf_counter() - start, 1)
    summary = {"features": int((pos + neg > 2).sum()), "seconds": seconds}
    log.info("wide branch: %d words and bigram buckets seen, fitted in %.1f s",
             summary["features"], seconds)
    return summary


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
    model.get_layer("wide_words").set_weights([weights[:vocab_size]])
    model.get_layer("wide_bigrams").set_weights([weights[vocab_size:]])
    model.get_layer("wide_output").set_weights([np.eye(classes, dtype=np.float32), bias])
    seen = int((np.asarray(x.sum(axis=0)).ravel() > 0).sum())
    seconds = round(time.perf_counter() - start, 1)
    log.info("wide branch: %d words and bigram buckets seen, %d classes, fitted in %.1f s", seen, classes,
             seconds)
    return {"features": seen, "seconds": seconds}
