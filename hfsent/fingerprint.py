"""A ``datasets`` cache entry per local source and per state of its files.

``datasets`` names the Arrow cache of a local folder in the Hub layout after the folder's
*name* and a hash of its dataset card: two folders called ``imdb`` with the same card share
one entry, and a file edited in place is never read again.  :func:`local_cache_dir` gives
each local source its own ``cache_dir`` instead, named by a hash of the source's absolute
path and of every data file's relative path, size and modification time in nanoseconds
(``st_mtime_ns``): any write that changes a file, even to the same size, gives a new entry.
The tokenization cache lives beside the Arrow files, so it follows.

Limits: the contents are not hashed (a corpus of gigabytes would be read twice), so a
tool that rewrites a file and then restores its ``mtime`` goes unnoticed.  When a source's
files change, the entries of its earlier states are deleted: nothing could hit them again.
Hub ids are left to ``datasets``, which pins them by revision.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

import datasets

LOCAL_CACHE = "hfsent-local"  # under datasets' cache folder


def _files(path: Path) -> Iterable[Path]:
    """``path`` itself, or every file under the folder ``path`` but hidden ones (``datasets``
    skips them too), in a fixed order."""
    if path.is_file():
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        yield from (Path(root, f) for f in sorted(files) if not f.startswith("."))


def fingerprint(paths: Iterable[str | Path]) -> str:
    """A hash of where each of ``paths`` is and of the path, size and ``st_mtime_ns`` of each
    data file in it (a folder: every file under it).

    Example:
        >>> fingerprint(["train.csv"]) != fingerprint(["../copy/train.csv"])
        True
    """
    digest = hashlib.sha256()
    for path in paths:
        path = Path(path).absolute()
        digest.update(f"{path}\0".encode())
        for file in _files(path):
            stat = file.stat()
            digest.update(f"{file.relative_to(path) if file != path else ''}\0{stat.st_size}\0"
                          f"{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:32]


def local_cache_dir(paths: Iterable[str | Path]) -> str:
    """The ``cache_dir`` for ``datasets.load_dataset`` of the local files or folder ``paths``,
    as the module docstring says; entries of the same paths' earlier states are deleted.

    Example:
        >>> datasets.load_dataset("data/reviews", cache_dir=local_cache_dir(["data/reviews"]))
    """
    paths = sorted(str(Path(p).absolute()) for p in paths)
    where = hashlib.sha256("\0".join(paths).encode()).hexdigest()[:16]
    base = Path(datasets.config.HF_DATASETS_CACHE) / LOCAL_CACHE
    entry = base / f"{where}-{fingerprint(paths)}"
    if not entry.exists() and base.is_dir():
        for stale in base.glob(f"{where}-*"):
            shutil.rmtree(stale, ignore_errors=True)
    return str(entry)
