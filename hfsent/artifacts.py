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
"""

from __future__ import annotations

import os
import re
import shutil
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
    closed_file,
)
from hfsent.model import embedding_size
from hfsent.names import CARD_NAME, METRICS_NAME
from hfsent.saved_config import CONFIG_NAME, LOAD_LIMITS, load_config, read_json, to_json
from hfsent.screen import check_keras_config
from hfsent.tasks import METRIC_KEYS, task_for
from hfsent.tokenize import load_spacy
from hfsent.vocab import VOCAB_NAME, Vocabulary

MAX_METRICS_BYTES = 16 << 20  # a trained model's is 5 KB, with 100 classes' confusion matrix 100 KB
_SCORES = {*METRIC_KEYS, "num_examples"}
# What loading downloads; a push also uploads the TensorBoard logs under runs/, which the
# Hub shows as the repo's training metrics.
ARTIFACT_FILES = (*KERAS_FILES, CONFIG_NAME, VOCAB_NAME, METRICS_NAME, CARD_NAME, "*.png")
TENSORBOARD_DIR = "runs"
# TensorFlow names an event file events.out.tfevents.<seconds>.<host name>.<pid>.<n>.v2.
_EVENTS = re.compile(r"events\.out\.tfevents\.(\d*).*")


def public_log_names(names: list[str]) -> dict[str, str]:
    """Each of ``names`` (paths of TensorBoard logs) under the name it is saved and pushed as: an
    event file loses the host name and process id that TensorFlow puts in its name, keeping the
    time and the order (``events.out.tfevents.<seconds>.hfsent.<n>.v2``); other files keep theirs.

    Example:
        >>> public_log_names(["train/events.out.tfevents.1796515428.box.lan.10306.0.v2"]).popitem()[1]
        'train/events.out.tfevents.1796515428.hfsent.0.v2'
    """
    public, counts = {}, {}
    for name in sorted(names):
        path = Path(name)
        found = _EVENTS.fullmatch(path.name)
        if found:
            n = counts[path.parent] = counts.get(path.parent, -1) + 1
            path = path.with_name(f"events.out.tfevents.{found[1] or 0}.hfsent.{n}.v2")
        public[name] = path.as_posix()
    return public


def copy_logs(source: Path, target: Path) -> None:
    """Copy the TensorBoard logs under ``source`` to ``target`` by their :func:`public_log_names`.

    Example:
        >>> copy_logs(Path(".m.tensorboard"), Path("tmp/runs"))
    """
    names = [p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()]
    for old, new in public_log_names(names).items():
        (target / new).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / old, target / new)


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


def read_metrics(folder: Path, pushed: bool = False) -> dict:
    """``metrics.json`` of ``folder`` (``{}`` if there is none), checked with
    :func:`~hfsent.saved_config.read_json` and for the shape that the model card reads: else an
    :class:`~hfsent.errors.InputError` naming the field.  ``pushed``: see ``closed_file``.

    Example:
        >>> read_metrics(Path("runs/m"))["test"]["accuracy"]
        0.9152
    """
    if not os.path.lexists(folder / METRICS_NAME):
        return {}
    metrics = read_json(closed_file(folder, METRICS_NAME, pushed), MAX_METRICS_BYTES)
    wrong = _metrics_problem(metrics)
    if wrong:
        raise InputError(f"{METRICS_NAME} in {folder} is not as hfsent writes it: {wrong}")
    return metrics


def _metrics_problem(metrics: dict) -> str | None:
    """What in ``metrics`` is not of the shape that the model card and the commit message read."""
    for split in ("validation", "test"):
        scores = metrics.get(split) or {}
        if not isinstance(scores, dict) or not all(_number(scores.get(k), True) for k in _SCORES):
            return f"{split} must be an object of numbers"
        classes = scores.get("per_class") or {}
        if not _objects(classes.values() if isinstance(classes, dict) else None,
                        lambda c: all(_number(c.get(k)) for k in ("precision", "recall", "f1"))):
            return f"{split}.per_class must hold the precision, recall and f1 of each class"
    if not isinstance(metrics.get("num_examples") or {}, dict):
        return "num_examples must be an object"
    if not _objects(metrics.get("stages") or [], lambda s: isinstance(s.get("figures") or {}, dict)
                    and isinstance((s.get("figures") or {}).get("classes") or {}, dict)):
        return "stages must be a list of objects, whose figures and classes are objects"
    if not _objects(metrics.get("widget") or [], lambda w: isinstance(w.get("text"), str) and _objects(
            w.get("output"), lambda o: isinstance(o.get("label"), str) and _number(o.get("score")))):
        return "widget must be a list of texts, each with an output of labels and scores"
    return None


def _objects(items, check: Callable[[dict], bool]) -> bool:
    """Whether ``items`` is a list (or a dict's values) of objects that each pass ``check``."""
    listed = isinstance(items, (list, type({}.values())))
    return listed and all(isinstance(item, dict) and check(item) for item in items)


def _number(value, optional: bool = False) -> bool:
    """A JSON number that Python's float holds (a 400-digit integer overflows it), or None."""
    if optional and value is None:
        return True
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


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
