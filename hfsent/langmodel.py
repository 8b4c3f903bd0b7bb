"""Language-model pretraining of the GRU on train + unlabelled reviews (``--pretrain-lm``).

Before the classifier sees a label, the Embedding and the GRU learn to predict words:
the forward GRU the next word, the backward GRU of a bidirectional model the previous
one (two softmax heads on one pass, as in ELMo).  The classifier then starts from those
weights; only its Dense head starts from scratch.  This is the second route of Dai & Le
(2015), who pretrain a sequence autoencoder or LM on IMDB's 50,000 unlabelled reviews.

Scope and limits: sentiment and rating tasks, cached (not ``--streaming``) data.  The
softmax covers the ``lm_vocab_size`` most frequent words; rarer ones are predicted as
``[UNK]`` (the inputs keep the full vocabulary).  Validation and test reviews are never
part of the corpus.  With ``freeze_embeddings`` the Embedding stays as it was here too.
The LM heads are discarded; the saved model is the classifier alone.
"""

from __future__ import annotations

import logging
import time
import warnings

import keras
import tensorflow as tf
from datasets import Dataset, concatenate_datasets
from keras import layers

from hfsent.batching import make_dataset
from hfsent.config import Config
from hfsent.model import embed_tokens
from hfsent.vocab import PAD_ID, UNK_ID, Vocabulary

log = logging.getLogger(__name__)

# The classifier's layers that the language model trains; their names match build_model's.
SHARED_LAYERS = ("embedding", "bidirectional_gru", "gru")


def build_language_model(config: Config, vocab_size: int) -> keras.Model:
    """Embedding -> GRU (all states) -> softmax over ``config.lm_vocab_size`` words, for the
    next word (and, bidirectional, a second head for the previous word)."""
    inputs = keras.Input(shape=(None,), dtype="int32", name="input_ids")
    x = embed_tokens(inputs, config, vocab_size)
    gru = layers.GRU(config.gru_units, return_sequences=True, name="gru")
    if config.bidirectional:
        # merge_mode=None keeps the directions apart: each may only predict the word it has
        # not read yet.  The backward states come re-aligned with the input positions.
        states = layers.Bidirectional(gru, merge_mode=None, name="bidirectional_gru")(x)
    else:
        states = [gru(x)]
    outputs = [layers.Dense(min(config.lm_vocab_size, vocab_size), name=name)(
                   layers.Dropout(config.dropout)(s))
               for name, s in zip(("next_word", "previous_word"), states)]
    return keras.Model(inputs, outputs, name="hfsent_gru_lm")


def lm_targets(ids: tf.Tensor, lm_vocab_size: int, bidirectional: bool):
    """``(targets, weights)`` for a right-padded id batch: the next id (and the previous
    id), ids outside the softmax as ``[UNK]``, weight 0 where there is no word to predict."""
    ids = tf.cast(ids, tf.int32)
    words = tf.where(ids >= lm_vocab_size, UNK_ID, ids)
    shifted = [tf.pad(words[:, 1:], [[0, 0], [0, 1]])]
    if bidirectional:
        shifted.append(tf.pad(words[:, :-1], [[0, 0], [1, 0]]))
    weights = [tf.cast(t != PAD_ID, tf.float32) for t in shifted]
    return tuple(shifted), tuple(weights)


def pretrain_language_model(
    model: keras.Model, vocab: Vocabulary, train_ids: Dataset, unlabeled_ids: Dataset | None,
    boundaries: list[int], config: Config, verbose: int | str = "auto",
) -> dict:
    """Train a language model on ``train_ids`` (+ ``unlabeled_ids``) for ``config.lm_epochs``
    epochs, then copy its Embedding and GRU weights into the classifier ``model``.

    The classifier's Embedding (e.g. word2vec) is the LM's starting point.  Returns a
    summary: reviews, epochs, the loss per head after each epoch (nats) and seconds.
    """
    start = time.perf_counter()
    parts = [train_ids.select_columns(["input_ids"])]
    if unlabeled_ids is not None:
        parts.append(unlabeled_ids.select_columns(["input_ids"]))
    else:
        log.warning("%s has no %r split: the language model reads the training reviews only",
                    config.dataset, config.unlabeled_split)
    corpus = concatenate_datasets(parts)
    lm = build_language_model(config, len(vocab))
    lm.get_layer("embedding").set_weights(model.get_layer("embedding").get_weights())

    def to_lm(ids, _):
        targets, weights = lm_targets(ids, config.lm_vocab_size, config.bidirectional)
        return ids, targets, weights

    data = make_dataset(corpus, config.batch_size, config.max_length, boundaries, shuffle=True,
                        seed=config.seed + 2, shuffle_buffer=config.shuffle_buffer)
    data = data.map(to_lm, num_parallel_calls=tf.data.AUTOTUNE)
    steps = config.lm_epochs * -(-len(corpus) // config.batch_size)
    lm.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps),
            clipnorm=1.0),
        # averaged over the words predicted, not over every padded position
        loss=[keras.losses.SparseCategoricalCrossentropy(from_logits=True,
                                                         reduction="mean_with_sample_weight")
              ] * len(lm.outputs),
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = lm.fit(data, epochs=config.lm_epochs, shuffle=False, verbose=verbose)
    for layer in model.layers:
        if layer.name in SHARED_LAYERS:
            layer.set_weights(lm.get_layer(layer.name).get_weights())
    # Keras sums the heads' losses; per head is the figure comparable across model shapes.
    summary = {"reviews": len(corpus), "epochs": config.lm_epochs,
               "loss_per_epoch": [round(float(v) / len(lm.outputs), 3) for v in history.history["loss"]],
               "seconds": round(time.perf_counter() - start, 1)}
    log.info("language-model pretraining: %s", summary)
    return summary
