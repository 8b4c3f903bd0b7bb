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

Loading trusts nothing in the folder.  Each file must be a regular file of the folder
(:func:`hfsent.locate.closed_file`).  The hfsent config is type- and range-checked, and its
spaCy tokenizer is checked too.  ``config.json`` is screened (:func:`check_keras_config`)
for classes, sizes and the output layer before Keras reads it, and errors name files and
fields, never their content.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import keras

from hfsent.config import MAX_BUCKETS, MAX_UNITS, Config
from hfsent.errors import InputError, UnsafeModelError
from hfsent.folder import atomic_folder, write_json
from hfsent.locate import KERAS_FILES, check_model_folder
from hfsent.model import embedding_size
from hfsent.saved_config import CONFIG_NAME, load_config, to_json
from hfsent.tokenize import check_spacy_model
from hfsent.vocab import VOCAB_NAME, Vocabulary

METRICS_NAME = "metrics.json"
# What loading downloads; a push also uploads the TensorBoard logs under runs/, which the
# Hub shows as the repo's training metrics.
ARTIFACT_FILES = (*KERAS_FILES, CONFIG_NAME, VOCAB_NAME, METRICS_NAME, "README.md", "*.png")
TENSORBOARD_DIR = "runs"


def check_consistent(model: keras.Model, vocab: Vocabulary, config: Config) -> None:
    """Refuse a model whose Embedding, ``vocab.txt`` and ``vocab_size`` disagree.

    Example:
        >>> check_consistent(clf.model, clf.vocab, clf.config)  # raises ValueError if not
    """
    rows, said = embedding_size(model), config.preprocessing.vocab_size
    if not rows == len(vocab) == (said or len(vocab)):
        raise InputError(
            f"vocabulary does not match the model: vocab.txt has {len(vocab)} tokens, "
            f"hfsent_config.json says {said}, the embedding has {rows} rows"
        )


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


_FORBIDDEN_CLASSES = {"Lambda", "TFOpLambda", "function", "__lambda__"}
_MODULELESS = {"__keras_tensor__"}  # the one kind of node Keras writes without a module
_LIMITS = {"units": MAX_UNITS, "output_dim": MAX_UNITS, "num_bins": MAX_BUCKETS}


def check_keras_config(config: dict, vocab_lines: int, task: str, where: str = "config.json") -> None:
    """Screen a parsed ``config.json`` before Keras deserializes anything, on top of Keras' own
    ``safe_mode``.

    * Classes: each object must be a built-in class of a ``keras`` module, registered (if at
      all) under its own name, and not a Lambda.  A custom class, a ``registered_name``
      pointing at some class registered in the process, or a Lambda means someone else's
      code, and none of it is imported or run.
    * Sizes: units and dimensions within :data:`~hfsent.config.MAX_UNITS`, hash buckets within
      :data:`~hfsent.config.MAX_BUCKETS`, and each Embedding with as many rows as ``vocab.txt``
      has lines (or as a Hashing layer has bins), so nothing huge is allocated.
    * Output: a ``Rescaling`` output layer for the rating task, any other for sentiment.

    Args:
        config: the parsed ``config.json``.
        vocab_lines: the lines of ``vocab.txt``.
        task: the task that ``hfsent_config.json`` says.
        where: the file name for the error message.

    Example:
        >>> check_keras_config(json.loads(Path("runs/m/config.json").read_text()), 30000, "sentiment")
    """
    layers, stack = [], [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            _check_class(node, where)
            if node.get("module") == "keras.layers":
                layers.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    bins = {(lay.get("config") or {}).get("num_bins") for lay in layers if lay["class_name"] == "Hashing"}
    for layer in layers:
        settings, name = layer.get("config") or {}, layer["class_name"]
        for key, most in _LIMITS.items():
            value = settings.get(key)
            if name == "Discretization" and key == "num_bins" and value is None:
                continue  # it has bin_boundaries instead (concat pooling's padding penalty)
            if key in settings and not (type(value) is int and 1 <= value <= most):
                raise UnsafeModelError(f"{where}: {name}.{key} must be a whole number in [1, {most}]")
        if name == "Embedding" and settings.get("input_dim") not in {vocab_lines, *bins}:
            raise UnsafeModelError(f"{where}: an Embedding has {settings.get('input_dim')} rows, but "
                                   f"vocab.txt has {vocab_lines} lines; refused before allocating it")
    _check_output(config, layers, task, where)


def _check_class(node: dict, where: str) -> None:
    name, module, registered = node.get("class_name"), node.get("module"), node.get("registered_name")
    if name is None:
        return
    built_in = isinstance(module, str) and (module == "keras" or module.startswith("keras."))
    if name in _FORBIDDEN_CLASSES or not (built_in or module is None and name in _MODULELESS) or \
            registered not in (None, name):
        alias = f" registered as {registered!r}" if registered not in (None, name) else ""
        raise UnsafeModelError(
            f"{where} refers to {module or '?'}.{name}{alias}: hfsent models contain only built-in "
            "Keras layers, so this model is refused without running any of its code"
        )


def _check_output(config: dict, layers: list[dict], task: str, where: str) -> None:
    outputs = (config.get("config") or {}).get("output_layers") or []
    names = {outputs[0]} if outputs and isinstance(outputs[0], str) else {o[0] for o in outputs if o}
    by_name = {(lay.get("config") or {}).get("name"): lay for lay in layers}
    kinds = {by_name[n]["class_name"] for n in names if n in by_name}
    # A rating model ends in the Rescaling onto the scale, or in the blend of that rating with
    # the linear half's, whose own output has no activation.
    wide = (by_name.get("wide_output") or {}).get("config") or {}
    rating = kinds == {"Rescaling"} or (names == {"wide_and_deep"} and wide.get("activation") == "linear")
    if len(kinds) != 1 or rating != (task == "rating"):
        output = "/".join(sorted(kinds)) or "missing"
        raise InputError(f"{CONFIG_NAME} says task {task!r}, but the model of {where} predicts "
                         f"{'ratings' if rating else 'classes'} (output layer {output}): the folder's files "
                         "do not belong together")


def load_artifacts(folder: str | Path, safe_mode: bool = True) -> tuple[keras.Model, Vocabulary, Config]:
    """Model, vocabulary and config from ``folder``, checked against each other.

    In this order, so that nothing untrusted is used unchecked: the files
    (:func:`~hfsent.locate.check_model_folder`), ``hfsent_config.json`` and its spaCy
    tokenizer, ``vocab.txt``, ``config.json`` (:func:`check_keras_config`); only then Keras.

    Args:
        folder: a model folder.
        safe_mode: Keras' own safe mode; keep it on for anything downloaded.

    Example:
        >>> model, vocab, config = load_artifacts("runs/imdb-gru")
    """
    folder = check_model_folder(folder)
    config = load_config(folder)
    check_spacy_model(config.preprocessing.spacy_model)
    vocab = Vocabulary.load(folder)
    try:
        keras_config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"config.json is not valid JSON ({type(err).__name__})") from None
    check_keras_config(keras_config, len(vocab), config.model.task)
    model = keras.saving.load_model(folder, compile=False, safe_mode=safe_mode)
    check_consistent(model, vocab, config)
    return model, vocab, config
