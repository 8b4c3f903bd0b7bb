"""A model folder on disk: one writer at a time, replaced atomically, with normal permissions.

* :func:`locked` holds ``.NAME.lock`` beside the folder for as long as a run writes it (a
  whole training run, or one save).  A second run on the same folder fails at once, naming
  the process that holds it.  The lock is ``fcntl.flock``, so the kernel releases it when
  its holder dies, ``kill -9`` included.  A process forked while the lock is held (the
  workers of ``Dataset.map(num_proc=...)``) closes its copy of the descriptor at once, so the
  lock dies with its owner, not with the last of its children; on Linux such a child is also
  killed when its parent dies (``PR_SET_PDEATHSIG``), so a ``kill -9`` leaves no worker behind.
* :func:`atomic_folder` fills a hidden ``.NAME.tmp-*`` sibling and renames it into place
  only once complete.  An overwrite parks the old folder as ``.NAME.old-PID`` for the
  instant between two renames.
* Whoever takes the lock next puts right what a killed writer left behind.  A parked
  ``.NAME.old-PID`` goes back into place if the folder is missing (otherwise it is deleted),
  and stale ``.NAME.tmp-*`` folders are deleted.

Limits: POSIX only (``fcntl``).  On a network filesystem the lock is as good as its
``flock``.  Everything the lock guards is named after the folder (``.NAME.backup`` and
``.NAME.tensorboard`` of a training run too), so only the lock holder ever touches them.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from hfsent.errors import UserError
from hfsent.locate import check_output_folder
from hfsent.orphans import end_with_parent

log = logging.getLogger(__name__)
_HELD: dict[Path, int] = {}  # lock file -> descriptor, so that a holder may lock again (re-entrant)
_FORKER = [0]  # the pid that last forked while holding a lock


def _before_fork() -> None:
    _FORKER[0] = os.getpid()


def _after_fork_in_child() -> None:
    """In a child forked while a lock is held: drop the inherited lock descriptors (``flock``
    belongs to the open file, which the child would otherwise keep locked after its parent's
    death), and on Linux die with the parent."""
    if not _HELD:
        return
    for fd in _HELD.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()
    end_with_parent(_FORKER[0], signal.SIGKILL)


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


class BusyError(UserError, BlockingIOError):
    """Another process is writing the same output folder.

    Example:
        >>> with locked("runs/m"):
        ...     ...  # meanwhile, in another process:
        hfsent: error: runs/m is in use by another hfsent run (pid 4242 on box since 12:00:01) ...
    """


def lock_path(folder: str | Path) -> Path:
    """The lock file of ``folder``: ``.NAME.lock`` beside it."""
    folder = Path(folder)
    return folder.with_name(f".{folder.name}.lock")


@contextlib.contextmanager
def locked(folder: str | Path) -> Iterator[Path]:
    """Hold ``folder``'s lock for the ``with`` block; refuse with :class:`BusyError` if another
    process holds it.  Taking it first restores or cleans what a killed save left.

    Example:
        >>> with locked("runs/m"):
        ...     train(config, "runs/m")
    """
    folder = Path(folder)
    # Resolved, so that every spelling of the folder (a symlink to it, a path through one)
    # takes the same lock.
    path = lock_path(folder.resolve())
    if path in _HELD:  # this process holds it already (the CLI locks before train() does)
        yield folder
        return
    folder.absolute().parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, folder)
    _HELD[path] = fd
    try:
        _recover(folder)
        yield folder
    finally:
        if _HELD.pop(path, None) is not None:  # a forked child that unwinds here holds nothing
            os.unlink(path)  # while still holding it: see _acquire for the other side
            os.close(fd)


def _acquire(path: Path, folder: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("ascii", "replace").strip() or "starting up"
            os.close(fd)
            raise BusyError(f"{folder} is in use by another hfsent run ({holder}); wait for it to "
                            "finish, or choose another output folder") from None
        # The previous holder unlinks the file before releasing it; if that happened between
        # our open and our flock, we hold a lock on a deleted file: open the new one instead.
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%H:%M:%S')}".encode())
    return fd


def _recover(folder: Path) -> None:
    """What a killed :func:`atomic_folder` left: the parked old model, and temporary folders."""
    prefix = f".{glob.escape(folder.name)}"
    parked = sorted(folder.parent.glob(f"{prefix}.old-*"), key=lambda p: p.stat().st_mtime)
    if parked and not folder.exists():
        os.replace(parked.pop(), folder)
        log.warning("restored %s: a save that was killed while replacing it had moved it aside", folder)
    for stale in [*parked, *folder.parent.glob(f"{prefix}.tmp-*")]:
        shutil.rmtree(stale, ignore_errors=True)
        log.info("removed %s, left by an interrupted save", stale)


def _between_renames() -> None:
    """Nothing; the instant an overwriting save has no folder at the target (tests widen it)."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_folder(target: str | Path, fill: Callable[[Path], None], overwrite: bool = False) -> Path:
    """Call ``fill(tmp)`` on an empty temporary folder, then move it to ``target``, holding
    ``target``'s lock throughout.  The folder gets the permissions of a plain ``mkdir``.

    Args:
        target: refused if it exists and is not empty, unless ``overwrite``.
        fill: writes the files.
        overwrite: replace an existing folder.  Between the two renames the old folder waits
            as ``.NAME.old-PID``; if the process dies there, the next lock holder restores it.

    Example:
        >>> atomic_folder("runs/m", lambda tmp: (tmp / "a.txt").write_text("hi"))
        PosixPath('runs/m')
    """
    target = Path(target)
    with locked(target):
        check_output_folder(target, overwrite)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        try:
            fill(tmp)
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700
            if target.exists():
                os.replace(target, old)
                _between_renames()
                os.replace(tmp, target)
                shutil.rmtree(old)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if old.exists() and not target.exists():
                os.replace(old, target)
            raise
    return target


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``, renamed to it if the block ends normally and removed
    if it does not (an exception, Ctrl-C).

    Example:
        >>> with atomic_file("preds.jsonl") as tmp:
        ...     tmp.write_text("{}\\n")
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's file is private; the output is an ordinary file
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)



def write_json(path: Path, data: dict) -> None:
    """``data`` as indented JSON, written with :func:`atomic_file`.

    Example:
        >>> write_json(Path("runs/m/metrics.json"), {"test": {"accuracy": 0.91}})
    """
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
