"""Self-training: the trained model labels the unlabelled reviews and learns from its
confident calls.

IMDB's test reviews are about other movies than its train reviews, and its 50,000
unlabelled reviews reach beyond the train movies too.  After the first fit, the model
predicts every unlabelled review; those it scores at least ``pseudo_label_confidence``
sure of (p >= c or p <= 1 - c), as many positive as negative, join the training reviews
with the predicted label, and training goes on for ``self_training_epochs`` epochs, the
learning rate falling from ``self_training_lr`` to zero (pseudo-labelling, Lee 2013).
Validation loss keeps the best of those epochs, as in the first fit.

Scope and limits: binary sentiment only; cached (not ``--streaming``) data; one round.
The labels are the model's own, so its confident mistakes are learned as well; and the
log loss on validation usually rises (the model grows more confident) while accuracy
holds or improves, so the first fit's best epoch is not compared against.  Validation and
test reviews are never labelled or trained on.  Measured on IMDB, its validation gain was
within one standard error and did not carry over to test (BENCHMARKS.md).
"""

from __future__ import annotations

import logging
import time
import warnings

import keras
import numpy as np
from datasets import Dataset, concatenate_datasets

from hfsent.batching import make_dataset
from hfsent.config import Config
from hfsent.data import load_unlabeled
from hfsent.metrics import predict_split
from hfsent.model import compile_model
from hfsent.predict import SentimentClassifier
from hfsent.tokenize import tokenize_dataset
from hfsent.vocab import Vocabulary

log = logging.getLogger(__name__)


def unlabeled_ids(config: Config, vocab: Vocabulary) -> Dataset | None:
    """``config.unlabeled_split`` tokenized and encoded with ``vocab`` (cached), or ``None``."""
    unlabeled = load_unlabeled(config)
    if unlabeled is None:
        return None
    tokens = tokenize_dataset(unlabeled, config.spacy_model, config.lowercase, config.num_proc)
    return vocab.encode_dataset(tokens)


def pseudo_label(classifier: SentimentClassifier, unlabeled: Dataset, confidence: float
                 ) -> tuple[Dataset, dict]:
    """The reviews of ``unlabeled`` (``input_ids``) that ``classifier`` is at least
    ``confidence`` sure of, with its 0/1 call as ``label``; and a summary of the choice.

    The two classes are balanced: if more sure calls are positive than negative (or the
    other way), only the surest of the larger class are kept, as many as the smaller has.
    Unbalanced pseudo-labels shift the model's prior: on IMDB, keeping every call above 0.8
    gave validation recall 0.95 at precision 0.85 (accuracy 0.888, against 0.905 before
    self-training).
    """
    probs, _, rows = predict_split(classifier, unlabeled)
    certainty = np.maximum(probs, 1 - probs)
    positive = probs >= 0.5
    keep = []
    classes = [np.flatnonzero((certainty >= confidence) & (positive == side)) for side in (False, True)]
    per_class = min(len(c) for c in classes)
    for chosen in classes:
        keep.append(chosen[np.argsort(-certainty[chosen], kind="stable")[:per_class]])
    keep = np.sort(np.concatenate(keep))
    chosen = unlabeled.select_columns(["input_ids"]).select(rows[keep]).flatten_indices()
    chosen = chosen.add_column("label", positive[keep].astype(np.int64).tolist())
    summary = {"unlabeled_reviews": len(unlabeled), "sure": int(sum(len(c) for c in classes)),
               "pseudo_labeled": len(keep)}
    return chosen, summary


def self_train(
    model: keras.Model,
    vocab: Vocabulary,
    train_ids: Dataset,
    unlabeled: Dataset | None,
    val_ds,
    boundaries: list[int],
    config: Config,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
) -> tuple[dict, dict]:
    """Pseudo-label ``unlabeled`` (the encoded unlabelled split, see :func:`unlabeled_ids`)
    and train ``model`` further on train + those reviews.  Returns the Keras history of
    those epochs and a summary (counts, epochs, seconds).  Without an unlabelled split
    (``None``) both are empty; without a sure call the history is empty and the summary
    says 0 epochs."""
    start = time.perf_counter()
    if unlabeled is None:
        log.warning("%s has no %r split: no self-training", config.dataset, config.unlabeled_split)
        return {}, {}
    pseudo, summary = pseudo_label(SentimentClassifier(model, vocab, config), unlabeled,
                                   config.pseudo_label_confidence)
    log.info("self-training: %s", summary)
    if not len(pseudo):
        return {}, {**summary, "epochs": 0}
    train = train_ids.select_columns(["label", "input_ids"])
    pseudo = pseudo.cast(train.features)
    combined = concatenate_datasets([train, pseudo])
    data = make_dataset(combined, config.batch_size, config.max_length, boundaries, shuffle=True,
                        seed=config.seed + 1, shuffle_buffer=config.shuffle_buffer)
    # A fresh optimizer whose rate falls from self_training_lr to zero along a cosine: at a
    # constant rate the decision threshold drifted from run to run (validation recall 0.90
    # in one run, 0.93 in another) while ROC AUC stayed put.
    steps = config.self_training_epochs * -(-len(combined) // config.batch_size)
    compile_model(model, config, learning_rate=keras.optimizers.schedules.CosineDecay(
        config.self_training_lr, decay_steps=steps))
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                         restore_best_weights=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(data, validation_data=val_ds, epochs=config.self_training_epochs,
                            shuffle=False, callbacks=[stop, *(callbacks or [])], verbose=verbose)
    summary["epochs"] = len(history.history.get("loss", []))
    summary["seconds"] = round(time.perf_counter() - start, 1)
    return history.history, summary
