"""Candidate stages that ``bench.py --tune`` measures on the movie-grouped validation split.

They are not part of the package: a candidate enters it only if the grouped validation split
prefers it, and each is a :class:`hfsent.train.Stage` inserted into the default's stage list,
so the default's code is not touched to measure one.

* :func:`distil` (after the wide stage): the blend labels IMDB's unlabelled reviews; its most
  confident ones (probability ≥ ``CONFIDENCE`` or ≤ 1 − ``CONFIDENCE``, balanced per class,
  at most ``MAX_PER_CLASS`` each) join the training reviews, and the GRU half trains on them
  for up to ``EPOCHS`` more epochs, the learning rate annealed to zero along a cosine.  With
  ``soft=True`` the targets are the blend's probabilities (distillation); with ``soft=False``
  they are rounded to 0 or 1 (self-training, as hfsent 0.1 had it).  If the GRU's validation
  loss does not fall, its weights are put back.  The blend weight is then fitted again.
* :data:`PRETRAIN_LM` (before the fit): the Embedding and the BiGRU learn to predict the next
  word (forward GRU) and the previous word (backward GRU) over the training and unlabelled
  reviews for one epoch, with a ``LM_WORDS``-word softmax; the classifier starts from them.

Limits: binary sentiment only, cached (not streamed) data, a source with an unlabelled split.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from datasets import Dataset, Value, concatenate_datasets
from keras import layers

from hfsent import stages
from hfsent.batching import fit_batches, make_dataset
from hfsent.blend import weigh_halves
from hfsent.data import load_unlabeled
from hfsent.distribute import get_strategy
from hfsent.errors import InputError
from hfsent.metrics import predict_split
from hfsent.predict import SentimentClassifier
from hfsent.schedule import schedule_for
from hfsent.tokenize import tokenize_dataset
from hfsent.train import Stage, TrainResult, train
from hfsent.vocab import PAD_ID, UNK_ID
from hfsent.wide import deep_part

CONFIDENCE, MAX_PER_CLASS, EPOCHS = 0.9, 12_500, 2
LM_WORDS = 2_000


def unlabeled_ids(run: stages.Run) -> Dataset:
    """The unlabelled split, tokenized and encoded as training was (both steps cached)."""
    cfg = run.config
    raw = load_unlabeled(cfg)
    if raw is None:
        raise InputError(f"{cfg.data.dataset} has no {cfg.data.unlabeled_split!r} split")
    tokens = tokenize_dataset(raw, cfg.preprocessing.spacy_model, cfg.preprocessing.lowercase,
                              cfg.runtime.num_proc)
    return run.data.vocab.encode_dataset(tokens).select_columns(["input_ids"])


def pseudo_labels(probs: np.ndarray, soft: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(positions, targets)``: the ``k`` most confident reviews of each class, ``k`` being
    the smaller class's count of confident ones (at most ``MAX_PER_CLASS``).

    Example:
        >>> pseudo_labels(np.array([0.95, 0.5, 0.02, 0.99, 0.97]), soft=False)
        (array([3, 2]), array([1., 0.], dtype=float32))
    """
    positive = np.flatnonzero(probs >= CONFIDENCE)
    negative = np.flatnonzero(probs <= 1 - CONFIDENCE)
    k = min(len(positive), len(negative), MAX_PER_CLASS)
    chosen = np.concatenate([positive[np.argsort(-probs[positive], kind="stable")[:k]],
                             negative[np.argsort(probs[negative], kind="stable")[:k]]])
    targets = probs[chosen] if soft else (probs[chosen] >= 0.5)
    return chosen, targets.astype(np.float32)


def distil(soft: bool) -> Stage:
    """The distillation (``soft``) or self-training stage; see the module's docstring."""
    def run_stage(run: stages.Run) -> tuple[str, dict]:
        cfg, data = run.config, run.data
        unlabeled = unlabeled_ids(run)
        probs, _, rows = predict_split(run.classifier, unlabeled)
        chosen, targets = pseudo_labels(probs, soft)
        extra = unlabeled.select(rows[chosen]).add_column("label", targets.tolist())
        train_part = data.splits["train"].select_columns(["input_ids", "label"])
        mixed = concatenate_datasets([train_part.cast_column("label", Value("float32")),
                                      extra.cast_column("label", Value("float32"))])
        batch, length = cfg.training.batch_size, cfg.preprocessing.max_length
        train_ds = make_dataset(mixed, batch, length, data.boundaries, shuffle=True,
                                seed=cfg.training.seed + 1)
        val_ds = make_dataset(data.splits["validation"], batch * 4, length, data.boundaries)
        gru = deep_part(run.model)
        # The rate after the fit's first epoch.  after_default's chain has no fit stage to fill
        # the schedule, so it is filled here as the fit would have filled it.
        training = schedule_for(cfg.training, run.steps_per_epoch)
        rate = training.learning_rate * training.lr_decay
        steps = EPOCHS * -(-len(mixed) // batch)
        gru.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(rate, steps),
                                                    clipnorm=1.0),
                    loss="binary_crossentropy", metrics=["accuracy"])
        before, weights = float(gru.evaluate(val_ds, verbose=0)[0]), gru.get_weights()
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, restore_best_weights=True)
        history = fit_batches(gru, train_ds, validation_data=val_ds, epochs=EPOCHS, callbacks=[stop],
                              verbose=run.verbose)
        after = min(history.history["val_loss"])
        kept = after < before
        if not kept:  # validation says no: the GRU stays as the fit left it
            gru.set_weights(weights)
        figures = {"pseudo_labelled": len(chosen), "soft": soft, "gru_val_loss_before": before,
                   "gru_val_loss_after": after, "kept": kept, **weigh_halves(run)}
        kind = "the blend's probabilities" if soft else "the blend's rounded labels"
        return (f"{len(chosen):,} unlabelled reviews (of {len(probs):,}; confidence ≥ {CONFIDENCE}, "
                f"balanced) with {kind} as targets joined the training reviews for "
                f"{len(history.history['val_loss'])} more GRU epochs; GRU validation loss {before:.4f} → "
                f"{after:.4f} ({'kept' if kept else 'undone'}); GRU weight "
                f"{figures['gru_weight']:.2f}", figures)

    return Stage("distil" if soft else "self-training", run_stage)


def lm_targets(ids: tf.Tensor) -> tuple[tuple[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
    """``(targets, weights)`` for a right-padded id batch: the next and the previous id, ids
    outside the softmax as ``[UNK]``, weight 0 where there is no word to predict."""
    ids = tf.cast(ids, tf.int32)
    words = tf.where(ids >= LM_WORDS, UNK_ID, ids)
    shifted = (tf.pad(words[:, 1:], [[0, 0], [0, 1]]), tf.pad(words[:, :-1], [[0, 0], [1, 0]]))
    return shifted, tuple(tf.cast(t != PAD_ID, tf.float32) for t in shifted)


def _pretrain_lm(run: stages.Run) -> tuple[str, dict]:
    cfg, data = run.config, run.data
    embedding = run.model.get_layer("embedding")
    inputs = keras.Input(shape=(None,), dtype="int32", name="input_ids")
    mask = keras.ops.not_equal(inputs, 0)
    x = layers.Embedding(embedding.input_dim, embedding.output_dim, name="embedding")(inputs)
    gru = layers.GRU(cfg.model.gru_units, return_sequences=True, name="gru")
    # merge_mode=None keeps the directions apart: each predicts the word it has not read yet
    states = layers.Bidirectional(gru, merge_mode=None, name="bidirectional_gru")(x, mask=mask)
    heads = [layers.Dense(LM_WORDS, name=n)(layers.Dropout(cfg.model.dropout)(s))
             for n, s in zip(("next_word", "previous_word"), states)]
    lm = keras.Model(inputs, heads)
    lm.get_layer("embedding").set_weights(embedding.get_weights())
    corpus = concatenate_datasets([data.splits["train"].select_columns(["input_ids"]), unlabeled_ids(run)])
    batch = cfg.training.batch_size
    batches = make_dataset(corpus, batch, cfg.preprocessing.max_length, data.boundaries, shuffle=True,
                           seed=cfg.training.seed + 2).map(lambda ids, _: (ids, *lm_targets(ids)))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="mean_with_sample_weight")
    lm.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
        cfg.training.learning_rate, -(-len(corpus) // batch)), clipnorm=1.0), loss=[loss, loss])
    history = fit_batches(lm, batches, epochs=1, verbose=run.verbose)
    for name in ("embedding", "bidirectional_gru"):
        run.model.get_layer(name).set_weights(lm.get_layer(name).get_weights())
    per_word = float(history.history["loss"][-1]) / 2  # Keras sums the two heads' losses
    return (f"Embedding and BiGRU pretrained as a next- and previous-word model ({LM_WORDS:,}-word softmax) "
            f"for one epoch over {len(corpus):,} training and unlabelled reviews: {per_word:.3f} nats a word",
            {"lm_reviews": len(corpus), "lm_loss_per_word": per_word})


PRETRAIN_LM = Stage("lm-pretraining", _pretrain_lm)


def with_lm_pretraining(config, verbose: int | str = 0) -> TrainResult:
    """The default with :data:`PRETRAIN_LM` between word2vec and the fit."""
    from hfsent.train import STAGES

    at = [s.name for s in STAGES].index("fit")
    return train(config, None, verbose=verbose, stages=(*STAGES[:at], PRETRAIN_LM, *STAGES[at:]))


def after_default(config, folder: str, stage: Stage, verbose: int | str = 0) -> TrainResult:
    """``stage`` run on the default's saved blend (from ``folder``), then scored.

    The candidate's earlier stages are the default's own run, not a second training of it: the
    rows compare one trained default with and without ``stage``, and cost only ``stage``.
    """
    def load(run: stages.Run) -> tuple[str, dict]:
        run.model = SentimentClassifier.from_pretrained(folder).model
        run.strategy = get_strategy(run.config.runtime.strategy)
        return "the default's trained blend, loaded from its folder", {}

    chain = (Stage("data", stages.prepare), Stage("load", load), stage, Stage("evaluate", stages.evaluate))
    return train(config, None, verbose=verbose, stages=chain)
