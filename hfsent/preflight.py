"""What the command line checks before the library, and TensorFlow under it, starts: repo ids,
output files, the texts of ``predict``; and TensorFlow's start itself, kept quiet.

Nothing here imports TensorFlow (but :func:`start_tensorflow`), so a mistake found here is
reported at once, as one line.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from hfsent.errors import InputError, MissingError


def start_tensorflow(debug: bool = False) -> None:
    """Import TensorFlow, and let it find its devices, with its C++ start-up lines kept off
    stderr: TensorFlow logs them through absl before absl is initialised, which writes every
    message whatever ``TF_CPP_MIN_LOG_LEVEL`` says.  They are shown with ``--debug``, or if the
    import fails.  Python's own errors are unaffected: they are raised after stderr is back.
    """
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    failed = True
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()  # CUDA's initialisation logs here
            failed = False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if debug or failed:
                sink.seek(0)
                sys.stderr.buffer.write(sink.read())
                sys.stderr.flush()


def check_repo_id(repo_id: str, flag: str) -> None:
    """A Hub repo id that ``huggingface_hub`` accepts, checked before any work (``--repo-id``
    is also written into the model card's code).

    Example:
        >>> check_repo_id("bad id!", "--repo-id")
        InputError: --repo-id 'bad id!' is not a Hub repo id: ...
    """
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise InputError(f"{flag} {repo_id[:100]!r} is not a Hub repo id: {err}") from None


def check_output_file(path: str, flag: str, inputs: tuple[str | None, ...] = ()) -> None:
    """``path`` can be written: its folder exists (it is not created: a typo would scatter
    folders), it is not a folder, and it is none of ``inputs`` under another name (the same
    device and inode: a hard link or another path to it), which opening it would empty first.

    Example:
        >>> check_output_file("reviews.txt", "--output-file", ("reviews.txt",))
        InputError: --output-file reviews.txt is the --input-file: ...
    """
    target = Path(path)
    if not target.absolute().parent.is_dir():
        raise MissingError(f"cannot write {flag} {path}: no folder {target.absolute().parent}")
    if target.is_dir():
        raise InputError(f"cannot write {flag} {path}: it is a folder")
    if not target.exists():
        return
    out = target.stat()
    for source in inputs:
        if source is not None and Path(source).exists():
            into = Path(source).stat()
            if (into.st_dev, into.st_ino) == (out.st_dev, out.st_ino):
                raise InputError(f"{flag} {path} is the input file {source}: writing it would empty it "
                                 "before it is read; choose another output file")


def read_lines(data: bytes, source: str, offset: int = 0) -> list[str]:
    """Non-blank lines of UTF-8 ``data``; a clear error names ``source`` and the bad byte (at
    ``offset`` plus its position in ``data``, for data read in pieces).

    Example:
        >>> read_lines(b"great\\n\\nawful\\n", "reviews.txt")
        ['great', 'awful']
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{source} is not valid UTF-8: byte 0x{data[err.start]:02x} at offset {offset + err.start} "
            "cannot be decoded (re-save the file as UTF-8)"
        ) from None
    return [line for line in text.splitlines() if line.strip()]
