"""A stream's tokenization in a child process (hfsent.tokenize_child): the same tokens as in
the process, a child renewed after its share of texts, and errors that reach the parent."""

from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pytest
from datasets import Dataset

from hfsent import child_tokenizer, tokenize_child
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


def test_a_child_that_dies_during_a_call_is_an_error_and_the_next_call_starts_afresh(monkeypatch):
    pool, key = tokenize_child._POOL, ("blank:en", True)
    take = pool.take

    def take_a_dying_one(key, most=1):
        children = take(key, most)
        children[0].process.kill()
        children[0].process.wait()
        return children

    monkeypatch.setattr(pool, "take", take_a_dying_one)
    with pytest.raises(RuntimeError, match="tokenizing process ended"):
        tokenize_child.tokenize_arrow(["x"])
    monkeypatch.undo()
    assert tokenize_child.tokenize_arrow(["y z"]).to_pylist() == [["y", "z"]]
    assert pool.live[key] and all(child.process.poll() is None for child in pool.live[key])


def test_a_child_that_died_idle_is_replaced_without_an_error():
    pool, key = tokenize_child._POOL, ("blank:en", True)
    pool.stop_all()
    tokenize_child.tokenize_arrow(["warm"])
    (child,) = pool.idle[key]
    child.process.kill()  # as a signal to the process group would
    child.process.wait()
    assert tokenize_child.tokenize_arrow(["y z"]).to_pylist() == [["y", "z"]]
    assert child not in pool.live[key]


def test_any_other_error_in_the_child_names_its_cause_and_the_child_goes_on():
    tokenize_child._POOL.stop_all()
    with pytest.raises(RuntimeError, match="TypeError"):
        tokenize_child.tokenize_arrow(pa.array(["fine", None]))  # spaCy is given None
    (child,) = tokenize_child._POOL.idle[("blank:en", True)]
    assert child.process.poll() is None
    assert tokenize_child.tokenize_arrow(["still", "here"]).to_pylist() == [["still"], ["here"]]
    with pytest.raises(TypeError, match="must be strings"):
        tokenize_child.tokenize_arrow(pa.array([1, 22]))


def test_the_child_imports_what_this_process_imports_not_the_working_directorys_files(tmp_path, monkeypatch):
    # ``python -m`` would put the working directory first on the child's sys.path.
    marker = tmp_path / "ran"
    for name in ("spacy", "datasets", "json"):
        (tmp_path / f"{name}.py").write_text(f"open({str(marker)!r}, 'w').close()\nraise SystemExit(3)\n")
    tokenize_child._POOL.stop_all()
    monkeypatch.chdir(tmp_path)
    assert tokenize_child.tokenize_arrow(["Safe here"]).to_pylist() == [["safe", "here"]]
    assert not marker.exists()


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


def test_one_caller_shares_a_large_call_among_children_and_gets_its_tokens_in_order(monkeypatch):
    # A stream read one shard at a time calls the map from one thread: it still uses every core.
    tokenize_child._POOL.stop_all()
    monkeypatch.setattr(tokenize_child, "MAX_CHILDREN", 2)
    texts = [f"text {i} is {'good' if i % 3 else 'bad'}!" for i in range(2 * tokenize_child.MIN_SHARE + 1)]
    assert tokenize_child.tokenize_arrow(texts).to_pylist() == tokenize(texts)
    key = ("blank:en", True)
    assert len(tokenize_child._POOL.live[key]) == 2 and len(tokenize_child._POOL.idle[key]) == 2
    assert sorted(child.texts for child in tokenize_child._POOL.live[key]) == [32, 33]


def test_an_extra_child_that_cannot_start_leaves_the_call_its_children_and_the_pool_whole(monkeypatch):
    # A process limit hit when a call asks for more children: the children it has are not lost
    tokenize_child._POOL.stop_all()
    monkeypatch.setattr(tokenize_child, "MAX_CHILDREN", 3)
    key, start = ("blank:en", True), child_tokenizer.ChildTokenizer.__init__
    tokenize_child.tokenize_arrow(["one child, idle after this call"])

    def fails(self, *args):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(child_tokenizer.ChildTokenizer, "__init__", fails)
    texts = [f"text {i} is {'good' if i % 3 else 'bad'}!" for i in range(3 * tokenize_child.MIN_SHARE)]
    assert tokenize_child.tokenize_arrow(texts).to_pylist() == tokenize(texts)  # on the one it had
    monkeypatch.setattr(child_tokenizer.ChildTokenizer, "__init__", start)
    assert len(tokenize_child._POOL.idle[key]) == len(tokenize_child._POOL.live[key]) == 1
    tokenize_child.tokenize_arrow(texts)  # now on three: 1 + 96 + 32 texts for the first
    assert sorted(child.texts for child in tokenize_child._POOL.live[key]) == [32, 32, 129]


def test_a_call_whose_only_child_cannot_start_raises_and_keeps_nothing(monkeypatch):
    tokenize_child._POOL.stop_all()

    def fails(self, *args):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(child_tokenizer.ChildTokenizer, "__init__", fails)
    with pytest.raises(OSError):
        tokenize_child.tokenize_arrow(["no child"])
    assert not tokenize_child._POOL.live.get(("blank:en", True))


def test_a_childs_error_in_a_shared_call_leaves_its_siblings_in_step(monkeypatch):
    tokenize_child._POOL.stop_all()
    monkeypatch.setattr(tokenize_child, "MAX_CHILDREN", 2)
    texts = [None] + ["fine text"] * (2 * tokenize_child.MIN_SHARE - 1)  # the first half's child fails
    with pytest.raises(RuntimeError, match="TypeError"):
        tokenize_child.tokenize_arrow(pa.array(texts, pa.string()))
    key = ("blank:en", True)
    assert len(tokenize_child._POOL.live[key]) == len(tokenize_child._POOL.idle[key]) == 2
    assert tokenize_child.tokenize_arrow(texts[1:]).to_pylist() == tokenize(texts[1:])
