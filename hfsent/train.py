"""Training: data -> tokens -> vocabulary -> bucketed batches -> GRU -> self-training on
the unlabelled split -> wide linear branch -> scores -> folder.

``train(config, output_dir)`` is the whole pipeline; ``prepare_data`` is its data half,
reused by the benchmark and scoring code.  Model selection uses the validation split only
(early stopping on validation loss, best weights restored); the test split is scored once,
at the end, with the model that validation chose.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
from datasets import DatasetDict, IterableDatasetDict

from hfsent.batching import bucket_boundaries, lengths_of, make_dataset
from hfsent.card import CURVES_NAME, write_card
from hfsent.config import Config
from hfsent.data import load_splits
from hfsent.distribute import get_strategy
from hfsent.explain import training_curves_png
from hfsent.langmodel import pretrain_language_model
from hfsent.metrics import score_split
from hfsent.model import build_model, compile_model
from hfsent.predict import SentimentClassifier
from hfsent.pretrain import pretrained_embeddings
from hfsent.selftrain import self_train, unlabeled_ids
from hfsent.streaming import load_stream_splits, scan_vocabulary
from hfsent.tokenize import tokenize_dataset
from hfsent.vocab import Vocabulary
from hfsent.wide import blend_halves, fit_wide_branch, with_wide_branch

log = logging.getLogger(__name__)


@dataclass
class PreparedData:
    splits: DatasetDict | IterableDatasetDict  # label + input_ids per split
    tokens: DatasetDict | IterableDatasetDict  # label + tokens per split
    vocab: Vocabulary
    boundaries: list[int]
    train_rows: int
    seconds: float = 0.0


@dataclass
class TrainResult:
    classifier: SentimentClassifier
    metrics: dict
    history: dict = field(default_factory=dict)
    output_dir: Path | None = None


def prepare_data(config: Config) -> PreparedData:
    """Splits, tokens, the train-only vocabulary and bucket boundaries: cached Arrow
    datasets, or lazy streams with ``config.streaming`` (see :mod:`hfsent.streaming`)."""
    if config.streaming:
        return _prepare_stream(config)
    start = time.perf_counter()
    splits = load_splits(config)
    tokenized = DatasetDict({
        name: tokenize_dataset(ds, config.spacy_model, config.lowercase, config.num_proc)
        for name, ds in splits.items()
    })
    vocab = Vocabulary.build(tokenized["train"], config.min_freq, config.max_vocab_size)
    encoded = DatasetDict({name: vocab.encode_dataset(ds) for name, ds in tokenized.items()})
    for name, ds in encoded.items():
        if int(lengths_of(ds).max(initial=0)) == 0:
            raise ValueError(f"the {name} split tokenizes to nothing: every review has zero tokens")
    boundaries = bucket_boundaries(lengths_of(encoded["train"], config.max_length), config.num_buckets)
    return PreparedData(encoded, tokenized, vocab, boundaries, len(encoded["train"]),
                        time.perf_counter() - start)


def _prepare_stream(config: Config) -> PreparedData:
    start = time.perf_counter()
    splits = load_stream_splits(config)
    tokenized = IterableDatasetDict({name: tokenize_dataset(ds, config.spacy_model, config.lowercase)
                                     for name, ds in splits.items()})
    vocab, rows, lengths = scan_vocabulary(tokenized["train"], config)
    if int(lengths.max(initial=0)) == 0:
        raise ValueError("the train split tokenizes to nothing: every review has zero tokens")
    encoded = IterableDatasetDict({name: vocab.encode_dataset(ds) for name, ds in tokenized.items()})
    boundaries = bucket_boundaries(np.minimum(lengths, config.max_length), config.num_buckets)
    return PreparedData(encoded, tokenized, vocab, boundaries, rows, time.perf_counter() - start)


def _backup_callback(output_dir: Path, resume: bool) -> keras.callbacks.BackupAndRestore:
    backup = output_dir.with_name(f".{output_dir.name}.backup")
    if backup.exists() and not resume:
        log.warning("discarding the backup of an interrupted run in %s (pass --resume to continue it)",
                    backup)
        shutil.rmtree(backup)
    elif resume:
        log.info("resuming from %s" if backup.exists() else "no backup in %s: starting afresh", backup)
    # double_checkpoint keeps the previous epoch's copy, so a kill during a save is survivable
    return keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True)


def _write_report(folder: Path, config: Config, metrics: dict, repo_id: str | None) -> None:
    training_curves_png(metrics["history"], str(folder / CURVES_NAME))
    write_card(folder, config, metrics, repo_id or "USER/REPO")


def train(
    config: Config,
    output_dir: str | Path | None = None,
    overwrite: bool = False,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    score_test: bool = True,
    repo_id: str | None = None,
    resume: bool = False,
) -> TrainResult:
    """Train, score validation and test, and (with ``output_dir``) save the model folder.

    ``score_test=False`` leaves the test split alone: use it when comparing settings, so
    that only validation scores inform the choice.  ``repo_id`` is named in the model
    card's usage snippets.

    With ``output_dir``, the weights are backed up after every epoch to a hidden sibling
    folder (``.NAME.backup``).  If the process dies, ``resume=True`` continues from the
    last completed epoch; without it a stale backup is discarded and training starts over.
    The backup is deleted when training finishes.
    """
    if output_dir is not None and Path(output_dir).exists() and any(Path(output_dir).iterdir()) \
            and not overwrite:
        # Checked up front so that a long training run does not end in this error.
        raise FileExistsError(f"{output_dir} exists and is not empty; pass --overwrite to replace it")
    keras.utils.set_random_seed(config.seed)
    data = prepare_data(config)
    config = dataclasses.replace(config, vocab_size=len(data.vocab))  # the caller's stays as it was
    log.info("vocabulary: %d tokens; bucket boundaries: %s", len(data.vocab), data.boundaries)

    train_ds = make_dataset(data.splits["train"], config.batch_size, config.max_length,
                            data.boundaries, shuffle=True, seed=config.seed,
                            shuffle_buffer=config.shuffle_buffer)
    val_ds = make_dataset(data.splits["validation"], config.batch_size * 4, config.max_length,
                          data.boundaries)
    steps_per_epoch = -(-data.train_rows // config.batch_size)  # about: buckets add remainders
    strategy = get_strategy(config.strategy)
    with strategy.scope():
        model = compile_model(build_model(config, len(data.vocab)), config, steps_per_epoch)
    start = time.perf_counter()
    if config.pretrain_embeddings:
        matrix = pretrained_embeddings(config, data.vocab, data.tokens["train"])
        model.get_layer("embedding").set_weights([matrix])
    pretrain_seconds = time.perf_counter() - start
    lm_on = config.pretrain_lm and not config.streaming
    # Self-training and the wide branch both need labels of two classes and an Arrow cache.
    cached_sentiment = config.task == "sentiment" and not config.streaming
    self_training_on = config.self_training and cached_sentiment
    # Encoded once for both users of the unlabelled split.
    unlabeled = unlabeled_ids(config, data.vocab) if lm_on or self_training_on else None
    language_model = {}
    if lm_on:
        with strategy.scope():
            language_model = pretrain_language_model(model, data.vocab, data.splits["train"], unlabeled,
                                                     data.boundaries, config, verbose)
    elif config.pretrain_lm:
        log.info("language-model pretraining skipped: it needs cached (not streamed) data")
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                         restore_best_weights=True)
    fit_callbacks = [stop, *(callbacks or [])]
    if output_dir is not None:
        fit_callbacks.append(_backup_callback(Path(output_dir), resume))
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Bucketed batches have no known count, so Keras warns at the end of each epoch
        # that the input "ran out of data": that is the intended end of the epoch.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, shuffle=False,
                            callbacks=fit_callbacks, verbose=verbose)
    history = dict(history.history)
    first_losses = history.get("val_loss", [])
    self_training = {}
    if self_training_on:
        with strategy.scope():
            extra, self_training = self_train(model, data.vocab, data.splits["train"], unlabeled,
                                              val_ds, data.boundaries, config, callbacks, verbose)
        history = {k: v + extra.get(k, []) for k, v in history.items()}
    elif config.self_training:
        log.info("self-training skipped: it needs the sentiment task and cached (not streamed) data")
    train_seconds = time.perf_counter() - start

    if strategy.num_replicas_in_sync > 1:
        # Scoring, saving and prediction run on one device: a model built in a multi-replica
        # scope would split every inference batch across replicas.
        single = build_model(config, len(data.vocab))
        single.set_weights(model.get_weights())
        model = compile_model(single, config, steps_per_epoch)
    wide_on = config.wide_ngrams and cached_sentiment
    wide = {}
    if wide_on:
        model = compile_model(with_wide_branch(model, len(data.vocab), config.wide_buckets), config,
                              steps_per_epoch)
        wide = {**fit_wide_branch(model, data.splits["train"], config),
                **blend_halves(model, data.vocab, data.splits, config, score_test)}
    elif config.wide_ngrams:
        log.info("wide branch skipped: it needs the sentiment task and cached (not streamed) data")
    classifier = SentimentClassifier(model, data.vocab, config)
    validation = score_split(classifier, data.splits["validation"])
    test = score_split(classifier, data.splits["test"]) if score_test else None
    metrics = {
        "validation": validation,
        "test": test,
        "num_examples": {"train": data.train_rows, "validation": validation["num_examples"],
                         **({"test": test["num_examples"]} if test else {})},
        "epochs_trained": len(first_losses),  # of the first fit; self-training adds its own
        "best_epoch": int(np.argmin(first_losses)) + 1 if first_losses else None,
        "history": {k: [float(v) for v in vs] for k, vs in history.items()},
        **({"self_training": self_training} if self_training else {}),
        **({"language_model": language_model} if language_model else {}),
        **({"wide": wide} if wide else {}),
        "seconds": {"data": round(data.seconds, 1), "word2vec": round(pretrain_seconds, 1),
                    "language_model": language_model.get("seconds", 0.0),
                    "training": round(train_seconds, 1), "wide": wide.get("seconds", 0.0)},
    }
    log.info("validation: %s", metrics["validation"])
    log.info("test: %s", metrics["test"])
    saved = None
    if output_dir:
        saved = classifier.save(output_dir, overwrite=overwrite, metrics=metrics,
                                extra=lambda tmp: _write_report(tmp, config, metrics, repo_id))
    return TrainResult(classifier, metrics, metrics["history"], saved)
