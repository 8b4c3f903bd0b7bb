"""A stream's tokenization in a child process (hfsent.tokenize_child): the same tokens as in
the process, a child renewed after its share of texts, and errors that reach the parent."""

from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest
from datasets import Dataset

from hfsent import tokenize_child
from hfsent.errors import MissingError
from hfsent.tokenize import tokenize, tokenize_dataset

TEXTS = ["It's GREAT!<br />Loved it.", "Don't   watch: a 2/10 film...", "", "Ünïcode — «ok»"]


def test_the_child_tokenizes_exactly_as_the_process_does():
    assert tokenize_child.tokenize_arrow(TEXTS).to_pylist() == tokenize(TEXTS)
    column = pa.chunked_array([TEXTS[:2], TEXTS[2:]], pa.large_string())
    cased = tokenize_child.tokenize_arrow(column, lowercase=False)
    assert cased.to_pylist() == tokenize(TEXTS, lowercase=False)


def test_a_stream_is_tokenized_without_spacy_in_this_process(monkeypatch):
    from hfsent import tokenize as module

    def refuse(*args, **kwargs):
        raise AssertionError("spaCy was loaded in the training process")

    monkeypatch.setattr(module, "load_spacy", refuse)
    stream = Dataset.from_dict({"text": TEXTS, "label": [1, 0, 1, 0]}).to_iterable_dataset()
    rows = list(tokenize_dataset(stream).with_format(None))
    monkeypatch.undo()
    assert [row["tokens"] for row in rows] == tokenize(TEXTS)
    assert [row["label"] for row in rows] == [1, 0, 1, 0]


def test_a_child_ends_after_its_share_of_texts_and_the_next_one_goes_on(monkeypatch):
    tokenize_child._POOL.stop_all()  # a child of an earlier test has its own count
    monkeypatch.setattr(tokenize_child, "TEXTS_PER_CHILD", 3)
    pids, got = [], []
    for start in range(0, 8, 2):
        got += tokenize_child.tokenize_arrow(TEXTS[start % 4:start % 4 + 2]).to_pylist()
        idle = tokenize_child._POOL.idle.get(("blank:en", True))
        pids.append(idle[0].process.pid if idle else None)
    assert got == tokenize(TEXTS + TEXTS)
    assert pids[1] is None and pids[3] is None and pids[0] != pids[2]  # ended after 4 texts, then anew


def test_a_users_error_in_the_child_is_that_error_here_and_the_child_goes_on():
    with pytest.raises(MissingError, match="sudachipy"):
        tokenize_child.tokenize_arrow(["a"], "blank:ja")
    assert tokenize_child.tokenize_arrow(["still here"]).to_pylist() == [["still", "here"]]


def test_a_child_that_dies_is_an_error_and_the_next_call_starts_afresh():
    tokenize_child._POOL.stop_all()
    tokenize_child.tokenize_arrow(["warm"])
    (child,) = tokenize_child._POOL.idle[("blank:en", True)]
    child.process.kill()
    child.process.wait()
    with pytest.raises(RuntimeError, match="tokenizing process ended"):
        tokenize_child.tokenize_arrow(["x"])
    assert tokenize_child.tokenize_arrow(["y z"]).to_pylist() == [["y", "z"]]


def test_callers_on_several_threads_each_get_their_own_tokens_from_at_most_one_child_per_core(monkeypatch):
    # datasets reads a stream's shards on several threads, each calling the map at once.
    tokenize_child._POOL.stop_all()
    monkeypatch.setattr(tokenize_child, "MAX_CHILDREN", 2)
    texts = [[f"thread{t} text{i} is fine" for i in range(40)] for t in range(6)]
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda batch: tokenize_child.tokenize_arrow(batch).to_pylist(), texts))
    assert got == [tokenize(batch) for batch in texts]
    live = tokenize_child._POOL.live[("blank:en", True)]
    assert 1 <= len(live) <= 2 and len(tokenize_child._POOL.idle[("blank:en", True)]) == len(live)
