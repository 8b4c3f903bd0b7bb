"""The model folder: the one layout used on disk and in a Hub repo.

::

    config.json          Keras model config  } written by Keras' unzipped format,
    metadata.json        Keras metadata      } loadable with plain
    model.weights.h5     weights             } keras.saving.load_model(folder)
    hfsent_config.json   hfsent settings, format version, vocabulary size
    vocab.txt            one token per line; line number = id
    metrics.json         validation and test scores (when trained here)

Folders are written atomically, under a lock, by :mod:`hfsent.folder`: a crash never leaves
a half-written folder that looks like a model.  Nothing is pickled.

Loading trusts nothing in the folder.  Every path that Keras' loader can open must be a
regular file of the folder within its size cap (:func:`hfsent.locate.check_model_folder`).
The hfsent config is type- and range-checked, and its spaCy tokenizer is checked and loaded.
``config.json`` is screened (:func:`hfsent.screen.check_keras_config`) for classes, sizes,
the weights they imply and the output layer before Keras reads it; the label names must
match the output's width.  Errors name files and fields, never their content, and a damaged
file is an :class:`~hfsent.errors.InputError`, not a traceback.

``metrics.json`` is read back by :mod:`hfsent.saved_metrics` and the TensorBoard logs named by
:mod:`hfsent.tensorboard_logs`; their names are importable from here too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import h5py
import keras
import numpy as np

from hfsent.config import Config
from hfsent.errors import InputError
from hfsent.folder import atomic_folder, write_json
from hfsent.locate import (
    FILE_LIMITS,
    KERAS_CONFIG,
    KERAS_FILES,
    KERAS_WEIGHTS,
    check_model_folder,
)
from hfsent.model import embedding_size
from hfsent.names import CARD_NAME, METRICS_NAME
from hfsent.saved_config import CONFIG_NAME, LOAD_LIMITS, load_config, read_json, to_json
from hfsent.saved_metrics import MAX_METRICS_BYTES, read_metrics
from hfsent.screen import check_keras_config
from hfsent.tasks import task_for
from hfsent.tensorboard_logs import TENSORBOARD_DIR, copy_logs, public_log_names
from hfsent.tokenize import load_spacy
from hfsent.vocab import VOCAB_NAME, Vocabulary

__all__ = ["ARTIFACT_FILES", "MAX_METRICS_BYTES", "TENSORBOARD_DIR", "check_consistent", "copy_logs",
           "load_artifacts", "public_log_names", "read_metrics", "save_artifacts"]

# What loading downloads; a push also uploads the TensorBoard logs under runs/, which the
# Hub shows as the repo's training metrics.
ARTIFACT_FILES = (*KERAS_FILES, CONFIG_NAME, VOCAB_NAME, METRICS_NAME, CARD_NAME, "*.png")


def check_consistent(model: keras.Model, vocab: Vocabulary, config: Config) -> None:
    """Refuse a model whose Embedding, ``vocab.txt`` and ``vocab_size`` disagree, or whose output
    width does not fit its classes: 1 for two classes (a sigmoid) and for ratings, K for K > 2.

    Example:
        >>> check_consistent(clf.model, clf.vocab, clf.config)  # raises ValueError if not
    """
    rows, said = embedding_size(model), config.preprocessing.vocab_size
    if not rows == len(vocab) == (said or len(vocab)):
        raise InputError(
            f"vocabulary does not match the model: vocab.txt has {len(vocab)} tokens, "
            f"hfsent_config.json says {said}, the embedding has {rows} rows"
        )
    task_for(config.model).check_width(int(model.output_shape[-1]), CONFIG_NAME)


def save_artifacts(
    folder: str | Path,
    model: keras.Model,
    vocab: Vocabulary,
    config: Config,
    overwrite: bool = False,
    metrics: dict | None = None,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a model folder atomically (see :func:`atomic_folder`).

    Args:
        folder: the target; refused if it exists and is not empty, unless ``overwrite``.
        model, vocab, config: what to save; ``to_saved(config)`` becomes ``hfsent_config.json``.
        metrics: written as ``metrics.json`` when given.
        extra: called with the temporary folder to add files (the card, pictures).

    Returns:
        The folder.

    Example:
        >>> save_artifacts("runs/m", clf.model, clf.vocab, clf.config, overwrite=True)
        PosixPath('runs/m')
    """
    config = config.replace(vocab_size=len(vocab))
    check_consistent(model, vocab, config)

    def fill(tmp: Path) -> None:
        model.save(tmp, zipped=False)
        vocab.save(tmp)
        (tmp / CONFIG_NAME).write_text(to_json(config), encoding="utf-8")
        if metrics is not None:
            write_json(tmp / METRICS_NAME, metrics)
        if extra is not None:
            extra(tmp)

    return atomic_folder(folder, fill, overwrite=overwrite)



def load_artifacts(folder: str | Path, safe_mode: bool = True) -> tuple[keras.Model, Vocabulary, Config]:
    """Model, vocabulary and config from ``folder``, checked against each other.

    In this order, so that nothing untrusted is used unchecked: the files
    (:func:`~hfsent.locate.check_model_folder`), ``hfsent_config.json`` and its spaCy
    tokenizer, ``vocab.txt``, ``config.json`` (:func:`~hfsent.screen.check_keras_config`), the
    weights file's format; only then Keras, and one forward pass of a two-word batch, whose errors
    (TensorFlow's included) become one line that names the folder and the error's type.

    Args:
        folder: a model folder.
        safe_mode: Keras' own safe mode; keep it on for anything downloaded.

    Example:
        >>> model, vocab, config = load_artifacts("runs/imdb-gru")
    """
    folder = check_model_folder(folder)
    config = load_config(folder)
    load_spacy(config.preprocessing.spacy_model)
    _check_vocab_lines(folder / VOCAB_NAME, config.preprocessing.vocab_size)
    vocab = Vocabulary.load(folder)
    check_keras_config(read_json(folder / KERAS_CONFIG, FILE_LIMITS[KERAS_CONFIG]), len(vocab),
                       task_for(config.model))
    try:
        h5py.File(folder / KERAS_WEIGHTS, "r").close()
    except OSError:
        raise InputError(f"{KERAS_WEIGHTS} in {folder} is not a readable HDF5 file (truncated or "
                         "damaged?)") from None
    try:
        # The trailing separator keeps Keras from taking a folder named *.keras for a zip file.
        model = keras.saving.load_model(str(folder) + os.sep, compile=False, safe_mode=safe_mode)
        # One tiny batch, as predict_ids sends it, so a model that loads but cannot predict (a
        # setting of the wrong type that only the graph trips over) is refused here, in one line.
        probe = np.asarray(model.predict_on_batch(np.ones((1, 2), dtype=np.int32)))
    except Exception as err:  # TensorFlow's own errors too: whatever the files make Keras raise
        # Not Keras' message: it may quote the files, at any length.
        raise InputError(f"Keras could not load the model in {folder} ({type(err).__name__[:100]}): its "
                         f"{KERAS_CONFIG} and {KERAS_WEIGHTS} are damaged or do not match") from None
    if not np.isfinite(probe).all():
        raise InputError(f"the model in {folder} predicts NaN or infinity for a two-word text: its "
                         f"{KERAS_CONFIG} or {KERAS_WEIGHTS} is damaged")
    check_consistent(model, vocab, config)
    return model, vocab, config


def _check_vocab_lines(path: Path, said: int | None) -> None:
    """Refuse a ``vocab.txt`` of more lines than ``hfsent_config.json`` says (or than any loaded
    model's vocabulary), counted in chunks before it is read into memory whole."""
    most = said or LOAD_LIMITS["vocab_size"]
    with open(path, "rb") as file:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))
    if lines > most:
        raise InputError(f"{VOCAB_NAME} has more than {most:,} lines, the vocabulary size that "
                         f"{CONFIG_NAME} says (or the most a loaded model may have)")
