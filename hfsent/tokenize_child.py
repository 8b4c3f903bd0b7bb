"""Tokenization of a stream in a child process, so that the training process never holds spaCy.

A ``--streaming`` run tokenizes every review again on every pass, for as long as the corpus
is.  In the training process that left its heap growing although nothing it held grew: spaCy
alone (renewed every :data:`hfsent.tokenize.RENEW_AFTER_TEXTS` texts) stayed flat, and so did
the streamed pipeline with a whitespace tokenizer instead, but together, over 1M reviews, the
process kept about 80 MiB more than at 100k after every trim: spaCy's short-lived strings and
the pipeline's longer-lived buffers shared heap pages, which no trim hands back while one of
them lives.  A child process hands back every page when it ends.

So :func:`tokenize_arrow` sends the texts to a child and reads the tokens back, both ways as
Arrow IPC frames (the parent never builds a Python string per token, and nothing is pickled).
``datasets`` reads a stream's shards from several threads at once; each thread's batch goes to a
child of its own, up to one per CPU core (:data:`MAX_CHILDREN`), so the stream is tokenized on
every core where it was tokenized on one.  A child:

* is ``python -m hfsent.tokenize_child`` with pipes, not a ``multiprocessing`` process: a fork
  would copy the locks of TensorFlow's and Arrow's threads mid-use, and ``spawn`` re-runs the
  user's script unless it has an ``if __name__ == "__main__"`` guard;
* imports spaCy and ``datasets``, never TensorFlow;
* ends after :data:`TEXTS_PER_CHILD` texts, and the next call starts another, so its own
  growth is bounded too (a start costs about a second, against minutes of tokenizing);
* reports an error of the user's (:mod:`hfsent.errors`) as that error, raised in the parent; a
  child that dies (a bug: its traceback goes to stderr) is an error in the parent, and the
  next call starts afresh.

Scope: streamed datasets only.  ``Dataset.map`` over a cached split runs in worker processes
already (``num_proc``), and predict tokenizes a few texts, in the process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from hfsent import errors

TEXTS_PER_CHILD = 100_000
MAX_CHILDREN = os.cpu_count() or 1  # datasets' threads then tokenize on every core
TOKENS = pa.list_(pa.string())
_LENGTH = struct.Struct("<Q")
_TOKENS, _ERROR = b"T", b"E"  # the first byte of an answer


def _write(stream, payload: bytes) -> None:
    stream.write(_LENGTH.pack(len(payload)) + payload)
    stream.flush()


def _read(stream) -> bytes | None:
    """One frame, or None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(head)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return payload


def _ipc(column: str, array: pa.Array) -> bytes:
    batch = pa.record_batch([array], names=[column])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def _column(payload: bytes, column: str) -> pa.Array:
    return pa.ipc.open_stream(payload).read_all().column(column).combine_chunks()


class _Child:
    def __init__(self, spacy_model: str, lowercase: bool):
        root = str(Path(__file__).resolve().parent.parent)  # this hfsent, whatever sys.path says
        path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hfsent.tokenize_child", spacy_model, "1" if lowercase else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.texts = 0

    def tokenize(self, texts: pa.Array) -> pa.ListArray:
        try:
            _write(self.process.stdin, _ipc("text", texts))
            answer = _read(self.process.stdout)
        except BrokenPipeError:
            answer = None
        if answer is None:
            self.stop()
            raise RuntimeError(f"the tokenizing process ended (exit status {self.process.returncode})")
        if answer[:1] == _ERROR:
            name, message = json.loads(answer[1:])
            error = getattr(errors, name, None)
            user = isinstance(error, type) and issubclass(error, errors.UserError)
            raise (error if user else RuntimeError)(message)
        self.texts += len(texts)
        return _column(answer[1:], "tokens")

    def stop(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):  # a dead child's pipe: nothing left to flush to
                stream.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Pool:
    """Children of each tokenizer setting, each serving one caller at a time: ``datasets`` reads a
    stream's shards from several threads at once, and each thread's batch goes to an idle child,
    or to a new one while fewer than :data:`MAX_CHILDREN` live."""

    def __init__(self) -> None:
        self.idle: dict[tuple[str, bool], list[_Child]] = {}  # waiting for a caller
        self.live: dict[tuple[str, bool], set[_Child]] = {}  # started and not stopped: idle or busy
        self.changed = threading.Condition()

    def take(self, key: tuple[str, bool]) -> _Child:
        with self.changed:
            while not self.idle.get(key) and len(self.live.get(key, ())) >= MAX_CHILDREN:
                self.changed.wait()
            if self.idle.get(key):
                return self.idle[key].pop()
            child = _Child(*key)  # under the lock: a start takes a second, and only a pass's first calls wait
            self.live.setdefault(key, set()).add(child)
            return child

    def give(self, key: tuple[str, bool], child: _Child, end: bool = False) -> None:
        """Back to the idle ones, or (``end``) stopped for good."""
        if end:
            child.stop()
        with self.changed:
            if end or child not in self.live.get(key, ()):  # not live: stop_all() stopped it meanwhile
                self.live.get(key, set()).discard(child)
            else:
                self.idle.setdefault(key, []).append(child)
            self.changed.notify_all()

    def pids(self) -> list[int]:
        """The process ids of the live children."""
        with self.changed:
            return [child.process.pid for live in self.live.values() for child in live]

    def stop_all(self) -> None:
        with self.changed:
            children = [child for live in self.live.values() for child in live]
            self.idle.clear()
            self.live.clear()
        for child in children:
            child.stop()


_POOL = _Pool()
atexit.register(_POOL.stop_all)


def tokenize_arrow(texts: Sequence[str] | pa.Array | pa.ChunkedArray, spacy_model: str = "blank:en",
                   lowercase: bool = True) -> pa.ListArray:
    """:func:`hfsent.tokenize.tokenize` of ``texts``, run in a child process, as an Arrow list array.
    Safe to call from several threads: each call has a child to itself while it runs.

    ``texts`` may be an Arrow column, which goes to the child as it is, without a Python string
    made of each.

    Example:
        >>> tokenize_arrow(["It's GREAT!"]).to_pylist()
        [['it', "'s", 'great', '!']]
    """
    from hfsent.tokenize import check_spacy_model

    check_spacy_model(spacy_model)  # a bad name is refused here, before a process starts
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = texts.cast(pa.string()) if isinstance(texts, pa.Array) else pa.array(texts, pa.string())
    key = (spacy_model, lowercase)
    child, end = _POOL.take(key), False
    try:
        tokens = child.tokenize(texts)
    except BaseException as error:
        # A user's error leaves the child in step; anything else (it died, or an interrupt came
        # between question and answer) may not, so that child ends and the next call starts another.
        if not isinstance(error, errors.UserError):
            child.process.kill()
            end = True
        raise
    finally:
        _POOL.give(key, child, end or child.texts >= TEXTS_PER_CHILD)
    return tokens


def _main() -> None:
    """The child: frames of texts on stdin, frames of tokens (or a user's error) on stdout."""
    from hfsent.tokenize import tokenize

    spacy_model, lowercase = sys.argv[1], sys.argv[2] == "1"
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what any library prints goes to stderr: stdout carries nothing but frames
    while (question := _read(stdin)) is not None:
        try:
            tokens = pa.array(tokenize(_column(question, "text").to_pylist(), spacy_model, lowercase), TOKENS)
        except errors.UserError as error:
            _write(stdout, _ERROR + json.dumps([type(error).__name__, str(error)]).encode())
            continue
        _write(stdout, _TOKENS + _ipc("tokens", tokens))


if __name__ == "__main__":
    _main()
