"""The wide branch: a linear model over word and word n-gram counts, averaged with the GRU.

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
    (with ``trigrams``: (id[t] * V + id[t+1]) * V + id[t+2] -> Hashing(B) -> a table of its own)
    each summed over the real tokens (Dot with a 0/1 mask) -> + intercept -> sigmoid

and the model's output is ``w * GRU + (1 - w) * linear``, a frozen ``Dense`` over the two
probabilities, set by :func:`set_blend_weight` (training fits ``w`` on the validation
split: see :func:`hfsent.blend.blend_weight`).  This module holds the layers and the
linear fit; blending and scoring live with training and metrics.

For more than two classes the linear model is a multinomial logistic regression on the
counts (the naive-Bayes ratio is a two-class quantity), one weight per feature and class, under a
softmax; the blend mixes the two rows of class probabilities with the same two weights.  For
the rating task it is a ridge regression on the counts (scikit-learn's ``Ridge``), its output a
rating with no activation, and the blend mixes the two ratings.

The fit lives in :mod:`hfsent.linear`, on counts from :mod:`hfsent.ngrams`, which hashes as
these layers do.

Limits: n-grams that hash to one of the ``B`` buckets share a weight (bigrams and trigrams
have a table each); the branch is fitted once, after the GRU, and never fine-tuned with it.  A random
validation split shares movies with train, so it overrates the GRU and the fitted ``w``
errs towards it; ``w`` is one number fitted on the split that also stops training, so the
validation score of the blend is slightly optimistic.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

from hfsent.errors import InputError
from hfsent.ngrams import MAX_TRIGRAM_VOCAB


def _real(x: keras.KerasTensor, name: str) -> keras.KerasTensor:
    """1.0 where the id is a token, 0.0 where it is padding (id 0)."""
    return layers.ReLU(max_value=1.0, name=name)(layers.Rescaling(1.0, name=f"{name}_float")(x))


def _masked_sum(weights: keras.KerasTensor, real: keras.KerasTensor, name: str) -> keras.KerasTensor:
    # Dot over the time axis sums the weights of real tokens only, so the logit does not
    # depend on how far a batch was padded.
    return layers.Dot(axes=1, name=name)([weights, real])


def _ngram_buckets(ids: keras.KerasTensor, vocab_size: int, num_bins: int, n: int, name: str
                   ) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """The hash bucket of the ``n``-gram that starts at every position of ``ids`` (batch, time,
    1), and the ids it ends on (padding there: no n-gram, masked)."""
    # n - 1 padding ids at the end, so that a short review still has a (masked) n-gram and
    # Cropping1D never crops a sequence to nothing.
    padded = layers.ZeroPadding1D((0, n - 1), name=f"{name}_pad")(ids)
    shifted = [layers.Cropping1D((k, n - 1 - k), name=f"{name}_at_{k}")(padded) for k in range(n)]
    # float64 holds ((id * V) + id) * V + id exactly (float32 would not above 2**24); Hashing
    # casts it back to int64 before hashing, as hfsent.ngrams does.
    key = layers.Rescaling(1.0, dtype="float64", name=f"{name}_key_0")(shifted[0])
    for k in range(1, n):
        key = layers.Add(dtype="float64", name=f"{name}_key_{k}")([
            layers.Rescaling(float(vocab_size), dtype="float64", name=f"{name}_scaled_{k}")(key),
            layers.Rescaling(1.0, dtype="float64", name=f"{name}_float_{k}")(shifted[k])])
    hash_name = "wide_hash" if n == 2 else "wide_trigram_hash"
    buckets = layers.Reshape((-1,), name=f"{name}_buckets")(layers.Hashing(num_bins, name=hash_name)(key))
    return buckets, shifted[-1]


def wide_probability(inputs: keras.KerasTensor, vocab_size: int, num_bins: int,
                     classes: int = 2, trigrams: bool = False, rating: bool = False) -> keras.KerasTensor:
    """The frozen linear branch on ``inputs`` (right-padded ids), as a probability (binary), a
    row of class probabilities (softmax over ``classes`` logits), or (``rating``) a rating.

    Args:
        inputs: the model's ``input_ids`` tensor.
        vocab_size: rows of the word weights (``len(vocab)``).
        num_bins: hash buckets for the bigrams (and as many again for the trigrams).
        classes: the number of classes; 2 keeps one logit and a sigmoid.
        trigrams: add hashed word trigrams, in a table of their own.
        rating: a regression: the sum plus an intercept, with no activation.

    Example:
        >>> inputs = keras.Input((None,), dtype="int32")
        >>> keras.Model(inputs, wide_probability(inputs, 30000, 1 << 20)).output_shape
        (None, 1)
    """
    if trigrams and vocab_size > MAX_TRIGRAM_VOCAB:
        raise InputError(f"wide_trigrams needs a vocabulary of at most {MAX_TRIGRAM_VOCAB:,} ids (its hash "
                         f"keys must stay exact in float64), got {vocab_size:,}")
    ids = layers.Reshape((-1, 1), name="wide_ids")(inputs)
    width = 1 if classes == 2 else classes  # one logit per class, or one for binary
    sums = [_masked_sum(layers.Embedding(vocab_size, width, trainable=False, name="wide_words")(inputs),
                        _real(ids, "wide_real"), "wide_word_sum")]
    for n, table in ((2, "wide_bigrams"), (3, "wide_trigrams"))[:2 if trigrams else 1]:
        name = "wide" if n == 2 else "wide_trigram"
        buckets, last = _ngram_buckets(ids, vocab_size, num_bins, n, name)
        sums.append(_masked_sum(layers.Embedding(num_bins, width, trainable=False, name=table)(buckets),
                                _real(last, f"{name}_real_last"), f"{table}_sum"))
    logit = layers.Reshape((width,), name="wide_logit")(layers.Add(name="wide_sum")(sums))
    activation = None if rating else "sigmoid" if width == 1 else "softmax"
    return layers.Dense(width, activation=activation, trainable=False, name="wide_output")(logit)


def with_wide_branch(model: keras.Model, vocab_size: int, num_bins: int, trigrams: bool = False,
                     rating: bool = False) -> keras.Model:
    """``model`` (ids -> probability) with :func:`wide_probability` beside it, outputs averaged
    (equal weights until :func:`set_blend_weight`).  The GRU layers are shared, not copied;
    the wide weights are random until :func:`hfsent.linear.fit_wide_branch` sets them.

    Example:
        >>> blended = with_wide_branch(build_model(ModelConfig(), len(vocab)), len(vocab), 1 << 20)
        >>> has_wide_branch(blended)
        True
    """
    width = int(model.output_shape[-1])
    wide = wide_probability(model.input, vocab_size, num_bins, classes=2 if width == 1 else width,
                            trigrams=trigrams, rating=rating)
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
    """Make the output ``gru_weight * GRU + (1 - gru_weight) * linear`` (probabilities or ratings).

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


def is_rating(model: keras.Model) -> bool:
    """Whether the wide branch of ``model`` outputs a rating (no activation)."""
    return model.get_layer("wide_output").get_config()["activation"] == "linear"


def has_trigrams(model: keras.Model) -> bool:
    """Whether the wide branch of ``model`` counts hashed word trigrams too."""
    return any(layer.name == "wide_trigrams" for layer in model.layers)


def deep_part(model: keras.Model) -> keras.Model:
    """The GRU alone (its own probability, or rating), sharing the weights of ``model``.

    Example:
        >>> gru_only = SentimentClassifier(deep_part(clf.model), clf.vocab, clf.config)
    """
    names = {layer.name for layer in model.layers}
    last = "to_rating" if "to_rating" in names else "output"  # the rating head's scale layer
    return keras.Model(model.input, model.get_layer(last).output, name="gru_part")


def wide_part(model: keras.Model) -> keras.Model:
    """The linear branch alone (its own probability), sharing the weights of ``model``.

    Example:
        >>> linear_only = SentimentClassifier(wide_part(clf.model), clf.vocab, clf.config)
    """
    return keras.Model(model.input, model.get_layer("wide_output").output, name="wide_part")
