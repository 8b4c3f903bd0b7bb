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

* is a new Python interpreter (:mod:`hfsent.child_tokenizer`: its start, protocol and loop);
* ends after :data:`TEXTS_PER_CHILD` texts, and the next call starts another, so its own
  growth is bounded too (a start costs one to four seconds, against about a minute of tokenizing);
* answers an error with its type and message, and goes on: the parent raises a user's error
  (:mod:`hfsent.errors`) as itself, any other as a ``RuntimeError`` that names it; a child that
  dies is an error in the parent, and the next call starts another.

Scope: streams only.  A cached split's ``Dataset.map`` has worker processes (``num_proc``), and
predict tokenizes a few texts in the process.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
from collections.abc import Sequence

import pyarrow as pa

from hfsent.child_tokenizer import ChildTokenizer
from hfsent.cores import usable_cores
from hfsent.tokenize import RENEW_AFTER_TEXTS

TEXTS_PER_CHILD = RENEW_AFTER_TEXTS  # then a new child: its pipeline would be renewed then anyway
# One child per core this process may use (a cgroup quota included: each child holds a spaCy
# pipeline, so a container capped at 2 CPUs on a 64-core host must not start 64): one caller's
# shares, or datasets' threads, then tokenize on every core.
MAX_CHILDREN = usable_cores()
MIN_SHARE = 32  # texts per child at least when a call shares its texts: a frame costs too


class _Pool:
    """Children of each tokenizer setting, each serving one caller at a time: a call takes one
    child (waiting while :data:`MAX_CHILDREN` are busy) and, for a large batch, more that are
    idle or can start; ``datasets`` may call a stream's map from several threads at once (when
    its shuffle reads several shards), and each thread's call gets a child at least."""

    def __init__(self) -> None:
        self.idle: dict[tuple[str, bool], list[ChildTokenizer]] = {}  # waiting for a caller
        self.live: dict[tuple[str, bool], set[ChildTokenizer]] = {}  # started and not stopped: idle or busy
        self.changed = threading.Condition()

    def take(self, key: tuple[str, bool], most: int = 1) -> list[ChildTokenizer]:
        """One child, waiting while :data:`MAX_CHILDREN` are busy; then up to ``most - 1`` more
        idle or startable now; an extra that cannot start (a process limit) is left out."""
        children: list[ChildTokenizer] = []
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

    def _free(self, key: tuple[str, bool], most: int, children: list[ChildTokenizer]) -> int:
        idle, found = self.idle.setdefault(key, []), 0  # up to `most` appended to children: how many
        while found < most:
            while idle and idle[-1].process.poll() is not None:  # it died idle (a signal, say)
                self.live[key].discard(idle.pop())
            if idle:
                children.append(idle.pop())
            elif len(self.live.get(key, ())) < MAX_CHILDREN:
                children.append(ChildTokenizer(*key))  # Popen returns at exec; its imports run on their own
                self.live.setdefault(key, set()).add(children[-1])
            else:
                break
            found += 1
        return found

    def give(self, key: tuple[str, bool], child: ChildTokenizer, end: bool = False) -> None:
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
        tokens = _answers(children)  # all asked first: they work side by side
    except BaseException:
        # A child that answered (an error too) is in step; any other (it died, or an interrupt
        # came between question and answer) may not be.
        for child in children:
            if not child.answered:
                child.process.kill()
        raise
    finally:
        for child in children:
            _POOL.give(key, child, not child.answered or child.texts >= TEXTS_PER_CHILD)
    return tokens[0] if len(tokens) == 1 else pa.concat_arrays(tokens)


def _answers(children: list[ChildTokenizer]) -> list[pa.ListArray]:
    """Every child's answer, each read before the first error is raised, so that a child's error
    (or death) leaves its siblings in step; an interrupt is not waited past."""
    answers: list = []
    for child in children:
        try:
            answers.append(child.answer())
        except Exception as error:
            answers.append(error)
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    return answers
