"""Where a model is: a local folder, or a Hub repo id; answered before any model code loads.

The command line asks here first, so a mistyped folder is reported at once, without starting
TensorFlow, and a value that looks like a path is never sent to the Hub as a repo id.
"""

from __future__ import annotations

import os
from pathlib import Path

from hfsent.config import DEFAULT_OUTPUT_DIR
from hfsent.errors import ExistsError, MissingError
from hfsent.saved_config import CONFIG_NAME

KERAS_FILES = ("config.json", "metadata.json", "model.weights.h5")
VOCAB_NAME = "vocab.txt"
MODEL_FILES = (CONFIG_NAME, *KERAS_FILES, VOCAB_NAME)  # what a folder needs to load


def looks_like_path(value: str) -> bool:
    """Whether ``value`` names a local path rather than a Hub repo id (``USER/NAME``): it starts
    with ``.``, ``~`` or a separator, has more than one separator or a backslash, exists, lies in
    an existing folder, or is training's default output folder.

    Example:
        >>> looks_like_path("USER/imdb-gru"), looks_like_path("./runs/m"), looks_like_path("runs/hfsent")
        (False, True, True)
    """
    parts = value.replace("\\", "/").split("/")
    return (value.startswith((".", "~", "/")) or "\\" in value or len(parts) > 2 or os.path.exists(value)
            or (len(parts) == 2 and os.path.isdir(parts[0])) or value.rstrip("/") == DEFAULT_OUTPUT_DIR)


def check_model_folder(folder: str | Path) -> Path:
    """``folder`` if it holds every file a model folder needs; else a :class:`MissingError` naming them.

    Example:
        >>> check_model_folder("runs/imdb-gru")
        PosixPath('runs/imdb-gru')
    """
    folder = Path(folder)
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise MissingError(f"{folder} is not an hfsent model folder: it has no {', '.join(missing)}")
    return folder


def check_output_folder(folder: str | Path, overwrite: bool = False) -> Path:
    """``folder`` as a Path, unless it exists, is not empty, and ``overwrite`` is off.

    Example:
        >>> check_output_folder("runs/imdb-gru", overwrite=True)
        PosixPath('runs/imdb-gru')
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()) and not overwrite:
        raise ExistsError(f"{folder} exists and is not empty; pass --overwrite to replace it")
    return folder


def local_model(value: str) -> Path | None:
    """The checked folder ``value`` names, ``None`` for a Hub repo id, or a :class:`MissingError`
    for a path that is no folder.

    Example:
        >>> local_model("USER/imdb-gru") is None
        True
    """
    if Path(value).is_dir():
        return check_model_folder(value)
    if looks_like_path(value):
        raise MissingError(f"no model folder at {value} (a path, so it is not looked up on the Hub)")
    return None
