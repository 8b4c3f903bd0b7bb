import sys

from datasets import Dataset

from hfsent.tokenize import clean, tokenize, tokenize_dataset


def test_html_breaks_are_removed():
    assert "<br" not in clean("One.<br /><br />Two.<BR>Three<br/>")
    assert tokenize(["Great film.<br /><br />Loved it"]) == [["great", "film", ".", "loved", "it"]]


def test_lowercasing_is_optional():
    assert tokenize(["The MOVIE"]) == [["the", "movie"]]
    assert tokenize(["The MOVIE"], lowercase=False) == [["The", "MOVIE"]]


def test_whitespace_is_not_a_token():
    assert tokenize(["a \n\n  b\t c"]) == [["a", "b", "c"]]


def test_map_writes_arrow_and_a_rerun_hits_the_cache(tmp_path):
    texts = [f"Review number {i}. It was <br />fine!" for i in range(20)]
    Dataset.from_dict({"text": texts, "label": [0] * 20}).save_to_disk(tmp_path / "ds")
    ds = Dataset.load_from_disk(tmp_path / "ds")

    first = tokenize_dataset(ds, num_proc=1)
    assert first.column_names == ["label", "tokens"]
    assert first[0]["tokens"] == ["review", "number", "0", ".", "it", "was", "fine", "!"]
    cache = first.cache_files[0]["filename"]
    assert cache.endswith(".arrow")

    again = tokenize_dataset(Dataset.load_from_disk(tmp_path / "ds"), num_proc=1)
    assert again.cache_files[0]["filename"] == cache
    assert again._fingerprint == first._fingerprint


def test_a_renewed_pipeline_hands_its_freed_memory_back(monkeypatch):
    from hfsent import tokenize as module

    trims, first, trim = [], module.load_spacy("blank:en"), module._trim_heap
    old = first.tokenizer  # holds the old pipeline's strings
    monkeypatch.setattr(module, "RENEW_AFTER_TEXTS", 3)
    monkeypatch.setattr(module, "_trim_heap", lambda: trims.append(sys.getrefcount(old)))
    monkeypatch.setitem(module._TOKENIZED, "blank:en", 0)
    assert tokenize(["a b", "c"]) == [["a", "b"], ["c"]] and trims == []
    del first
    assert tokenize(["d"]) == [["d"]] and len(trims) == 1  # the third text renews the pipeline
    # When the heap is trimmed, nothing but this test holds the old tokenizer any more
    assert trims == [sys.getrefcount(old)]
    assert module.load_spacy("blank:en").tokenizer is not old
    trim()  # and the real one runs here (glibc) or does nothing (elsewhere)
