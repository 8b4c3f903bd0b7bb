"""Where a model is: a local folder, or a Hub repo id; answered before any model code loads.

The command line asks here first, so a mistyped folder is reported at once, without starting
TensorFlow, and a value that looks like a path is never sent to the Hub as a repo id.

A model folder is a closed set of regular files (:func:`closed_file`): loading and pushing
refuse, by name, a symlink, a device or pipe, or anything that resolves outside the folder.
The one exception is the Hub cache's own layout, which ``huggingface_hub`` writes:
``snapshots/REV/FILE`` is a symlink to ``blobs/HASH`` of the same cached repo.  The set is
every path Keras' folder loader can open: the model files, and ``assets/`` with everything
under it (:func:`check_model_folder`).  Each model file has a size cap (:data:`FILE_LIMITS`),
checked with ``stat`` before anything reads it.  A push also refuses a hard link, which may be
a file of some other folder (``pushed=True``); loading accepts one, as it never quotes a file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hfsent.config import DEFAULT_OUTPUT_DIR
from hfsent.errors import ExistsError, MissingError, UnsafeModelError
from hfsent.names import KERAS_CONFIG, KERAS_METADATA, KERAS_WEIGHTS, VOCAB_NAME
from hfsent.saved_config import CONFIG_NAME, MAX_CONFIG_BYTES

KERAS_FILES = (KERAS_CONFIG, KERAS_METADATA, KERAS_WEIGHTS)
KERAS_ASSETS = "assets"  # Keras' folder loader also opens what lies here (for lookup layers' vocabularies)
MODEL_FILES = (CONFIG_NAME, *KERAS_FILES, VOCAB_NAME)  # what a folder needs to load
# The largest model files loading reads, far above any hfsent model's (an IMDB model's config.json
# is 30 KB, its vocab.txt 250 KB); checked with stat before reading, so nothing huge is read whole.
FILE_LIMITS = {CONFIG_NAME: MAX_CONFIG_BYTES, KERAS_CONFIG: 2 << 20, KERAS_METADATA: 64 << 10,
               VOCAB_NAME: 32 << 20, KERAS_WEIGHTS: 2 << 30}


def folder_name(path: str | Path) -> str:
    """The last part of ``path``, as text that any file can hold: bytes of the name that are
    not UTF-8 (which Python keeps as lone surrogates, unwritable as UTF-8) become U+FFFD.

    Example:
        >>> folder_name("runs/imdb-gru/")
        'imdb-gru'
    """
    name = Path(str(path).rstrip("/")).name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


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


def check_model_folder(folder: str | Path, pushed: bool = False) -> Path:
    """``folder`` if it holds every file a model folder needs; else a :class:`MissingError` naming them.

    Each file must be a regular file of the folder within its :data:`FILE_LIMITS`, and
    ``assets/``, if there, a real folder of regular files (:func:`closed_tree`); else an
    :class:`UnsafeModelError` naming the path.  ``pushed`` also refuses hard links.

    Example:
        >>> check_model_folder("runs/imdb-gru")
        PosixPath('runs/imdb-gru')
    """
    folder = Path(folder)
    missing = [name for name in MODEL_FILES if not os.path.lexists(folder / name)]
    if missing:
        raise MissingError(f"{folder} is not an hfsent model folder: it has no {', '.join(missing)}")
    for name in MODEL_FILES:
        size = os.stat(closed_file(folder, name, pushed)).st_size
        if size > FILE_LIMITS[name]:
            raise UnsafeModelError(f"{name} in {folder} is {size:,} bytes; an hfsent model's is at most "
                                   f"{FILE_LIMITS[name]:,}, so it is refused without reading it")
    closed_tree(folder, KERAS_ASSETS, pushed)
    return folder


def closed_tree(folder: str | Path, under: str, pushed: bool = False) -> list[str]:
    """Every file below ``folder / under`` (relative to ``folder``, sorted), each checked by
    :func:`closed_file`; ``under`` and each folder below it must be real folders.  Nothing is
    opened: a pipe or a symlink is refused from its ``lstat``.  An absent ``under`` has no files.

    Example:
        >>> closed_tree("runs/m", "assets")
        []
    """
    folder = Path(folder)
    if not os.path.lexists(folder / under):
        return []
    closed_file(folder, under, kind=stat.S_ISDIR)
    names = []
    for root, dirs, files in os.walk(folder / under):  # os.walk lists a symlinked folder, never enters it
        here = Path(root).relative_to(folder)
        for name in sorted(dirs):
            closed_file(folder, (here / name).as_posix(), kind=stat.S_ISDIR)
        names += [closed_file(folder, (here / name).as_posix(), pushed).relative_to(folder).as_posix()
                  for name in files]
    return sorted(names)


def closed_file(folder: str | Path, name: str, pushed: bool = False, kind=stat.S_ISREG) -> Path:
    """``folder / name`` if it is a regular file of the folder; else an :class:`UnsafeModelError`
    that names it and says what it is, without reading it.

    Every folder on the way from ``folder`` must be a real folder too.  In the Hub cache
    (``.../snapshots/REV``) a file may be a symlink to a regular file in that repo's ``blobs/``.
    ``pushed`` also refuses a file with more than one hard link: its other name may lie outside
    the folder.  ``kind=stat.S_ISDIR`` asks for a real folder instead of a file.

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
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) and kind is stat.S_ISREG and _cache_blob(folder, path):
        info = os.stat(path)
    elif not kind(info.st_mode):
        what = "a symbolic link" if stat.S_ISLNK(info.st_mode) else \
            "not a folder" if kind is stat.S_ISDIR else "not a regular file"
        raise UnsafeModelError(f"{name} in {folder} is {what}; a model folder holds only regular "
                               "files, so it is refused without reading it")
    if pushed and info.st_nlink > 1:
        raise UnsafeModelError(f"{name} in {folder} has {info.st_nlink} hard links, and another may lie "
                               "outside the folder; copy the file (cp, not ln) before pushing it")
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
