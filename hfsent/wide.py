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
split: see :func:`hfsent.blend.blend_weight`).  This module holds the layers;
blending and scoring live with training and metrics.

For more than two classes the linear model is a multinomial logistic regression on the
counts (the naive-Bayes ratio is a two-class quantity), one weight per feature and class, under a
softmax; the blend mixes the two rows of class probabilities with the same two weights.  For
the rating task it is a ridge regression on the counts (scikit-learn's ``Ridge``), its output a
rating with no activation, and the blend mixes the two ratings.

The fit lives in :mod:`hfsent.linear`, on counts from :mod:`hfsent.ngrams`, which hashes as
these layers do.

Limits: bigrams that hash to one of the ``B`` buckets share a
weight; the branch is fitted once, after the GRU, and never fine-tuned with it.  A random
validation split shares movies with train, so it overrates the GRU and the fitted ``w``
errs towards it; ``w`` is one number fitted on the split that also stops training, so the
validation score of the blend is slightly optimistic.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from hfsent.names import OUTPUT, TO_RATING, WIDE_AND_DEEP, WIDE_BIGRAMS, WIDE_OUTPUT, WIDE_WORDS


def _real(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    """1.0 where the id is a token, 0.0 where it is padding (id 0)."""
    return layers.ReLU(max_value=1.0, name=name)(layers.Rescaling(1.0, name=f"{name}_float")(x))


def _masked_sum(weights: keras.KerasTensor, real: keras.KerasTensor, name: str) -> keras.KerasTensor:
    # Dot over the time axis sums the weights of real tokens only, so the logit does not
    # depend on how far a batch was padded.
    return layers.Dot(axes=1, name=name)([weights, real])


def wide_probability(inputs: keras.KerasTensor, vocab_size: int, num_bins: int,
                     width: int = 1, activation: str | None = "sigmoid") -> keras.KerasTensor:
    """The frozen linear branch on ``inputs`` (right-padded ids): ``width`` logits under
    ``activation``, the GRU head's own: a probability (one sigmoid unit), a row of class
    probabilities (softmax), of label probabilities (sigmoids), or a rating (``None``: the sum
    plus an intercept).

    Args:
        inputs: the model's ``input_ids`` tensor.
        vocab_size: rows of the word weights (``len(vocab)``).
        num_bins: hash buckets for the bigrams.
        width: output units, those of the GRU head.
        activation: the GRU head's activation.

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
    # back to int64 before hashing, as hfsent.ngrams.bigram_buckets does.
    key = layers.Add(dtype="float64", name="wide_bigram_key")([
        layers.Rescaling(float(vocab_size), dtype="float64", name="wide_left_scaled")(left),
        layers.Rescaling(1.0, dtype="float64", name="wide_right_float")(right)])
    buckets = layers.Reshape((-1,), name="wide_buckets")(layers.Hashing(num_bins, name="wide_hash")(key))
    word_sum = _masked_sum(layers.Embedding(vocab_size, width, trainable=False, name=WIDE_WORDS)(inputs),
                           _real(ids, "wide_real"), "wide_word_sum")
    bigram_sum = _masked_sum(layers.Embedding(num_bins, width, trainable=False, name=WIDE_BIGRAMS)(buckets),
                             _real(right, "wide_real_right"), "wide_bigram_sum")
    logit = layers.Reshape((width,), name="wide_logit")(layers.Add(name="wide_sum")([word_sum, bigram_sum]))
    return layers.Dense(width, activation=activation, trainable=False, name=WIDE_OUTPUT)(logit)


def with_wide_branch(model: keras.Model, vocab_size: int, num_bins: int, per_label: bool = False
                     ) -> keras.Model:
    """``model`` (ids -> probability, or rating) with the wide branch beside it, outputs
    averaged (equal weights until :func:`set_blend_weight`).  The linear half ends as the GRU's
    head does (its ``output`` layer's units and activation: the task's, :mod:`hfsent.tasks`).  The
    GRU layers are shared, not copied; the wide weights are random until the task fits them
    (:meth:`hfsent.tasks.base.Task.fit_linear`).  ``per_label`` gives each output unit its own
    pair of weights (independent labels, :mod:`hfsent.tasks.multilabel`); otherwise all units share
    one pair.

    Example:
        >>> blended = with_wide_branch(build_model(ModelConfig(), len(vocab)), len(vocab), 1 << 20)
        >>> has_wide_branch(blended)
        True
    """
    head = model.get_layer(OUTPUT)
    width = int(head.units)
    wide = wide_probability(model.input, vocab_size, num_bins, width, head.get_config()["activation"])
    if per_label:  # Dense(K) over [gru, wide], its kernel two diagonals: diag(w) over diag(1 - w)
        both = layers.Concatenate(name="wide_and_deep_inputs")([model.output, wide])
        outputs = layers.Dense(width, use_bias=False, trainable=False, name=WIDE_AND_DEEP)(both)
    elif width == 1:
        both = layers.Concatenate(name="wide_and_deep_inputs")([model.output, wide])
        outputs = layers.Dense(1, use_bias=False, trainable=False, name=WIDE_AND_DEEP)(both)
    else:  # (classes, 2): each class's two probabilities, mixed by the same two weights
        columns = [layers.Reshape((width, 1), name=f"{name}_column")(t)
                   for name, t in (("gru", model.output), ("wide", wide))]
        pairs = layers.Concatenate(name="wide_and_deep_inputs")(columns)
        mixed = layers.Dense(1, use_bias=False, trainable=False, name=WIDE_AND_DEEP)(pairs)
        outputs = layers.Reshape((width,), name="wide_and_deep_classes")(mixed)
    combined = keras.Model(model.input, outputs, name=model.name)
    set_blend_weight(combined, 0.5)
    return combined


def set_blend_weight(model: keras.Model, gru_weight: float | Sequence[float]) -> None:
    """Make the output ``gru_weight * GRU + (1 - gru_weight) * linear`` (probabilities or ratings);
    a model blended per label takes one weight per label (or one for all).

    Example:
        >>> set_blend_weight(blended, 0.37)
    """
    layer = model.get_layer(WIDE_AND_DEEP)
    inputs, units = (int(n) for n in layer.kernel.shape)
    if inputs == 2 * units:  # per label (see with_wide_branch)
        w = np.broadcast_to(np.asarray(gru_weight, np.float32), (units,))
        layer.set_weights([np.concatenate([np.diag(w), np.diag(1 - w)]).astype(np.float32)])
    else:
        layer.set_weights([np.array([[gru_weight], [1 - gru_weight]], np.float32)])


def has_wide_branch(model: keras.Model) -> bool:
    """Whether ``model`` was built by :func:`with_wide_branch`.

    Example:
        >>> has_wide_branch(build_model(ModelConfig(), 100))
        False
    """
    return any(layer.name == WIDE_OUTPUT for layer in model.layers)


def deep_part(model: keras.Model) -> keras.Model:
    """The GRU alone (its own probability, or rating), sharing the weights of ``model``.

    Example:
        >>> gru_only = SentimentClassifier(deep_part(clf.model), clf.vocab, clf.config)
    """
    names = {layer.name for layer in model.layers}
    last = TO_RATING if TO_RATING in names else OUTPUT  # the rating head's scale layer
    return keras.Model(model.input, model.get_layer(last).output, name="gru_part")


def wide_part(model: keras.Model) -> keras.Model:
    """The linear branch alone (its own probability), sharing the weights of ``model``.

    Example:
        >>> linear_only = SentimentClassifier(wide_part(clf.model), clf.vocab, clf.config)
    """
    return keras.Model(model.input, model.get_layer(WIDE_OUTPUT).output, name="wide_part")
