"""The model folder: the one layout used on disk and in a Hub repo.

::

    config.json          Keras model config  } written by Keras' unzipped format,
    metadata.json        Keras metadata      } loadable with plain
    model.weights.h5     weights             } keras.saving.load_model(folder)
    hfsent_config.json   hfsent settings, format version, vocabulary size
    vocab.txt            one token per line; line number = id
    metrics.json         validation and test scores (when trained here)

Folders are written atomically: everything goes to a hidden temporary sibling, which is
renamed into place only once complete, so a crash never leaves a half-written folder
that looks like a model.  Nothing is pickled.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import keras

from hfsent.config import Config
from hfsent.errors import InputError
from hfsent.locate import KERAS_FILES, check_model_folder, check_output_folder
from hfsent.model import embedding_size
from hfsent.saved_config import CONFIG_NAME, load_config, to_json
from hfsent.vocab import VOCAB_NAME, Vocabulary

METRICS_NAME = "metrics.json"
# What loading downloads; a push also uploads the TensorBoard logs under runs/, which the
# Hub shows as the repo's training metrics.
ARTIFACT_FILES = (*KERAS_FILES, CONFIG_NAME, VOCAB_NAME, METRICS_NAME, "README.md", "*.png")
TENSORBOARD_DIR = "runs"


def write_json(path: Path, data: dict) -> None:
    """``data`` as indented JSON, written to a temporary name and renamed into place.

    Example:
        >>> write_json(Path("runs/m/metrics.json"), {"test": {"accuracy": 0.91}})
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def atomic_folder(target: str | Path, fill: Callable[[Path], None], overwrite: bool = False) -> Path:
    """Call ``fill(tmp)`` on an empty temporary folder, then move it to ``target``.

    Example:
        >>> atomic_folder("runs/m", lambda tmp: (tmp / "a.txt").write_text("hi"))
        PosixPath('runs/m')
    """
    target = check_output_folder(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(tmp)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


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


class UnsafeModelError(InputError):
    """The Keras config asks for something an hfsent model never contains.

    Example:
        >>> try:
        ...     SentimentClassifier.from_pretrained("stranger/lambda-model")
        ... except UnsafeModelError as err:
        ...     print(err)
        config.json refers to keras.layers.Lambda: ... refused without running any of its code
    """


_FORBIDDEN_CLASSES = {"Lambda", "TFOpLambda", "function", "__lambda__"}


def check_keras_config(config: dict, where: str = "config.json") -> None:
    """Refuse any object that is not a built-in Keras class, and any Lambda.

    Runs on the JSON before Keras deserializes anything, on top of Keras' own
    ``safe_mode``: an hfsent model is built only from ``keras.*`` classes, so a custom
    class or a Lambda in a downloaded config means someone else's code, and nothing of
    it is imported or run.

    Args:
        config: the parsed ``config.json``.
        where: the file name for the error message.

    Example:
        >>> check_keras_config(json.loads(Path("runs/m/config.json").read_text()))
    """
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            name, module = node.get("class_name"), node.get("module")
            if name is not None and (name in _FORBIDDEN_CLASSES or module is not None and not (
                    module == "keras" or module.startswith("keras."))):
                raise UnsafeModelError(
                    f"{where} refers to {module or '?'}.{name}: hfsent models contain only built-in "
                    "Keras layers, so this model is refused without running any of its code"
                )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def load_artifacts(folder: str | Path, safe_mode: bool = True) -> tuple[keras.Model, Vocabulary, Config]:
    """Model, vocabulary and config from ``folder``, checked against each other.

    The Keras config is screened by :func:`check_keras_config` before Keras reads it.

    Args:
        folder: a model folder.
        safe_mode: Keras' own safe mode; keep it on for anything downloaded.

    Example:
        >>> model, vocab, config = load_artifacts("runs/imdb-gru")
    """
    folder = check_model_folder(folder)
    config = load_config(folder)
    check_keras_config(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    vocab = Vocabulary.load(folder)
    model = keras.saving.load_model(folder, compile=False, safe_mode=safe_mode)
    check_consistent(model, vocab, config)
    return model, vocab, config
