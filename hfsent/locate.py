"""Where a model is: a local folder, or a Hub repo id; answered before any model code loads.

The command line asks here first, so a mistyped folder is reported at once, without starting
TensorFlow, and a value that looks like a path is never sent to the Hub as a repo id.

A model folder is a closed set of regular files (:func:`closed_file`): loading and pushing
refuse, by name, a symlink, a device or pipe, or anything that resolves outside the folder.
The one exception is the Hub cache's own layout, which ``huggingface_hub`` writes:
``snapshots/REV/FILE`` is a symlink to ``blobs/HASH`` of the same cached repo.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hfsent.config import DEFAULT_OUTPUT_DIR
from hfsent.errors import ExistsError, MissingError, UnsafeModelError
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
    missing = [name for name in MODEL_FILES if not os.path.lexists(folder / name)]
    if missing:
        raise MissingError(f"{folder} is not an hfsent model folder: it has no {', '.join(missing)}")
    for name in MODEL_FILES:
        closed_file(folder, name)
    return folder


def closed_file(folder: str | Path, name: str) -> Path:
    """``folder / name`` if it is a regular file of the folder; else an :class:`UnsafeModelError`
    that names it and says what it is, without reading it.

    Every folder on the way from ``folder`` must be a real folder too.  In the Hub cache
    (``.../snapshots/REV``) a file may be a symlink to a regular file in that repo's ``blobs/``.

    Example:
        >>> closed_file("runs/m", "vocab.txt")
        PosixPath('runs/m/vocab.txt')
    """
    folder = Path(folder)
    path = folder / name
    for parent in list(path.relative_to(folder).parents)[:-1]:
        if not stat.S_ISDIR(os.lstat(folder / parent).st_mode):
            raise UnsafeModelError(f"{parent} in {folder} is not a folder of its own (a symlink?); "
                                   "a model folder holds only regular files, so it is refused")
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode) and _cache_blob(folder, path):
        return path
    if not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        raise UnsafeModelError(f"{name} in {folder} is {kind}; a model folder holds only regular "
                               "files, so it is refused without reading it")
    return path


def _cache_blob(folder: Path, path: Path) -> bool:
    """Whether ``path`` is a Hub cache symlink: ``snapshots/REV/...`` -> a file in ``blobs/``."""
    folder = folder.absolute()  # "." has no parent names to check
    blobs = folder.parent.parent / "blobs"
    if folder.parent.name != "snapshots" or blobs.is_symlink() or not blobs.is_dir():
        return False
    target = path.resolve()
    return target.parent == blobs.resolve() and target.is_file()


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
