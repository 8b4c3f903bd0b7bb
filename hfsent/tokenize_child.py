"""Tokenization of a stream in child processes, so that the training process holds no spaCy pipeline.

A ``--streaming`` run tokenizes every review on every pass.  In the training process, spaCy and
the streamed pipeline, each flat alone, together kept about 80 MiB more at 1M reviews than at
100k after every trim (their short-lived objects shared heap pages).  A child process hands
back every page when it ends.

So :func:`tokenize_arrow` sends texts to children and reads the tokens back as Arrow IPC frames
(:mod:`hfsent.arrow_frames`: no Python string per token here, nothing pickled).  A call shares
its texts among the children idle or startable, up to one per core (:data:`MAX_CHILDREN`): a
stream read one shard at a time calls the map from one thread, which alone would use one core;
each of several threads (several shards read at once) gets one child at least.  A child:

* is a new Python interpreter with pipes, with the parent's ``sys.path``, running :func:`_main`;
  not ``multiprocessing``: a fork copies TensorFlow's and Arrow's locks mid-use, and ``spawn``
  re-runs a user's script that has no ``if __name__ == "__main__"`` guard;
* ends after :data:`TEXTS_PER_CHILD` texts, and the next call starts another, so its own
  growth is bounded too (a start costs one to four seconds, against about a minute of tokenizing);
* ignores Ctrl-C, which a terminal sends to the whole process group: the parent decides;
* answers an error with its type and message, and goes on: the parent raises a user's error
  (:mod:`hfsent.errors`) as itself, any other as a ``RuntimeError`` that names it; a child that
  dies is an error in the parent, and the next call starts another.

Scope: streams only.  A cached split's ``Dataset.map`` has worker processes (``num_proc``), and
predict tokenizes a few texts in the process.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence

import pyarrow as pa

from hfsent import errors
from hfsent.arrow_frames import column_of, read_frame, to_ipc, write_frame
from hfsent.tokenize import RENEW_AFTER_TEXTS

TEXTS_PER_CHILD = RENEW_AFTER_TEXTS  # then a new child: its pipeline would be renewed then anyway
# One child per core this process may use: datasets' threads then tokenize on every core.
MAX_CHILDREN = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
TOKENS = pa.list_(pa.string())
MIN_SHARE = 32  # texts per child at least when a call shares its texts: a frame costs too
_TOKENS, _ERROR = b"T", b"E"  # the first byte of an answer (a frame: hfsent.arrow_frames)


# The child's sys.path is the parent's, read from the environment (JSON, never Python source):
# ``python -m`` would put the working directory first, where a stray spacy.py or datasets.py
# would then run in the child although the parent never imported it.
_LAUNCH = ("import sys\n"
           "if sys.path[:1] == ['']: del sys.path[0]  # -c's working directory, before any import\n"
           "import json, os\n"
           "sys.path[:] = json.loads(os.environ.pop('HFSENT_CHILD_SYS_PATH'))\n"
           "from hfsent.tokenize_child import _main\n"
           "_main()")


class _Child:
    def __init__(self, spacy_model: str, lowercase: bool):
        if getattr(sys, "frozen", False) or not sys.executable:
            raise RuntimeError("a streamed dataset is tokenized by a Python child process, and this "
                               "interpreter (frozen or embedded) cannot start one")
        env = {**os.environ, "HFSENT_CHILD_SYS_PATH": json.dumps(sys.path)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, spacy_model, "1" if lowercase else "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.texts, self.answered, self.asked = 0, True, 0

    def ask(self, texts: pa.Array) -> None:
        self.answered, self.asked = False, len(texts)
        with contextlib.suppress(BrokenPipeError):  # it died: answer() says so
            write_frame(self.process.stdin, to_ipc("text", texts))

    def answer(self) -> pa.ListArray:
        try:
            answer = read_frame(self.process.stdout)
        except BrokenPipeError:
            answer = None
        if answer is None:
            self.stop()
            raise RuntimeError(f"the tokenizing process ended (exit status {self.process.returncode})")
        self.answered = True
        body = memoryview(answer)[1:]  # past the type byte, without a copy of the tokens
        if answer[:1] == _ERROR:
            name, message = json.loads(bytes(body))  # a short message: json needs bytes
            error = getattr(errors, name, None)
            if isinstance(error, type) and issubclass(error, errors.UserError):
                raise error(message)
            raise RuntimeError(f"tokenizing failed in the child process: {name}: {message}")
        self.texts += self.asked
        return column_of(body, "tokens")

    def close_input(self) -> None:
        with contextlib.suppress(OSError):  # a dead child's pipe: nothing left to flush to
            self.process.stdin.close()

    def stop(self) -> None:
        """End the child: its input closed, it exits; killed if it has not within 30 s."""
        self.close_input()
        with contextlib.suppress(OSError):
            self.process.stdout.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class _Pool:
    """Children of each tokenizer setting, each serving one caller at a time: ``datasets`` calls
    a training stream's map from several threads at once (it prefetches from its shards in a
    thread pool when it shuffles them), and each thread's batch goes to an idle child, or to a
    new one while fewer than :data:`MAX_CHILDREN` live."""

    def __init__(self) -> None:
        self.idle: dict[tuple[str, bool], list[_Child]] = {}  # waiting for a caller
        self.live: dict[tuple[str, bool], set[_Child]] = {}  # started and not stopped: idle or busy
        self.changed = threading.Condition()

    def take(self, key: tuple[str, bool], most: int = 1) -> list[_Child]:
        """One child, waiting while :data:`MAX_CHILDREN` are busy; then up to ``most - 1`` more
        idle or startable now; an extra that cannot start (a process limit) is left out."""
        children: list[_Child] = []
        with self.changed:
            try:
                while not self._free(key, 1, children):
                    self.changed.wait()
                with contextlib.suppress(OSError):  # the next call that needs a child raises it
                    self._free(key, most - 1, children)
            except BaseException:  # the children taken are in step: a lost one would stay busy
                self.idle.setdefault(key, []).extend(children)
                self.changed.notify_all()
                raise
        return children

    def _free(self, key: tuple[str, bool], most: int, children: list[_Child]) -> int:
        idle, found = self.idle.setdefault(key, []), 0  # up to `most` appended to children: how many
        while found < most:
            while idle and idle[-1].process.poll() is not None:  # it died idle (a signal, say)
                self.live[key].discard(idle.pop())
            if idle:
                children.append(idle.pop())
            elif len(self.live.get(key, ())) < MAX_CHILDREN:
                children.append(_Child(*key))  # Popen returns at exec; its imports run on their own
                self.live.setdefault(key, set()).add(children[-1])
            else:
                break
            found += 1
        return found

    def give(self, key: tuple[str, bool], child: _Child, end: bool = False) -> None:
        """Back to the idle ones, or (``end``) stopped for good."""
        try:
            if end:
                child.stop()
        finally:  # an interrupt during the stop must not keep the child's place in the pool
            with self.changed:
                if end or child not in self.live.get(key, ()):  # not live: stop_all() stopped it meanwhile
                    self.live.get(key, set()).discard(child)
                else:
                    self.idle.setdefault(key, []).append(child)
                self.changed.notify_all()

    def stop_all(self) -> None:
        with self.changed:
            children = [child for live in self.live.values() for child in live]
            self.idle.clear()
            self.live.clear()
        for child in children:  # every child's input closed first: they end side by side
            child.close_input()
        for child in children:
            child.stop()


_POOL = _Pool()
atexit.register(_POOL.stop_all)


def child_pids() -> list[int]:
    """The process ids of the tokenizing children alive now (idle or busy), of every setting."""
    with _POOL.changed:
        return [child.process.pid for live in _POOL.live.values() for child in live]


def tokenize_arrow(texts: Sequence[str] | pa.Array | pa.ChunkedArray, spacy_model: str = "blank:en",
                   lowercase: bool = True) -> pa.ListArray:
    """:func:`hfsent.tokenize.tokenize` of ``texts``, run in a child process, as an Arrow list array.
    Safe to call from several threads: each call has its children to itself while it runs.

    ``texts`` may be an Arrow string column, which goes to the child as it is, without a Python
    string made of each.  Limits: a call waits for its child without a timeout (as spaCy in the
    process would); a text that is not a string (``None``, a number) is a ``TypeError`` here, or
    the child's error; each child holds a spaCy pipeline (about 250 MiB for ``blank:en``) until
    it has tokenized :data:`TEXTS_PER_CHILD` texts or this process ends.

    Example:
        >>> tokenize_arrow(["It's GREAT!"]).to_pylist()
        [['it', "'s", 'great', '!']]
    """
    from hfsent.tokenize import check_spacy_model

    check_spacy_model(spacy_model)  # a bad name is refused here, before a process starts
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not isinstance(texts, pa.Array):
        texts = pa.array(texts)
    if not any(is_(texts.type) for is_ in (pa.types.is_string, pa.types.is_large_string, pa.types.is_null)):
        raise TypeError(f"texts to tokenize must be strings, got an Arrow column of {texts.type}")
    texts, key, children = texts.cast(pa.string()), (spacy_model, lowercase), []
    try:
        children = _POOL.take(key, len(texts) // MIN_SHARE)
        cuts = [len(texts) * i // len(children) for i in range(len(children) + 1)]
        for child, start, stop in zip(children, cuts, cuts[1:]):
            child.ask(texts.slice(start, stop - start))
        tokens = [child.answer() for child in children]  # all asked first: they work side by side
    except BaseException:
        # A child that answered (an error too) is in step; any other (it died, a sibling's
        # answer raised first, or an interrupt came between question and answer) may not be.
        for child in children:
            if not child.answered:
                child.process.kill()
        raise
    finally:
        for child in children:
            _POOL.give(key, child, not child.answered or child.texts >= TEXTS_PER_CHILD)
    return tokens[0] if len(tokens) == 1 else pa.concat_arrays(tokens)


def _main() -> None:
    """The child: frames of texts on stdin, frames of tokens (or an error) on stdout."""
    stdin, stdout = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # what any library prints, on import too, goes to stderr: stdout carries only frames
    # A terminal's Ctrl-C reaches the whole process group: the parent decides, and ends this
    # child by closing its input (or killing it), so the child itself prints no traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from hfsent.tokenize import tokenize

    spacy_model, lowercase = sys.argv[1], sys.argv[2] == "1"
    while (question := read_frame(stdin)) is not None:
        try:
            texts = column_of(question, "text").to_pylist()
            tokens = pa.array(tokenize(texts, spacy_model, lowercase), TOKENS)
        except Exception as error:  # the parent raises it (a user's error as itself); this child goes on
            write_frame(stdout, _ERROR, json.dumps([type(error).__name__, str(error)]).encode())
            continue
        write_frame(stdout, _TOKENS, to_ipc("tokens", tokens))


if __name__ == "__main__":
    _main()
