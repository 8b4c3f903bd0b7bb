import random
from collections import Counter

import pyarrow as pa
import pytest
from datasets import Dataset

from hfsent.vocab import PAD, PAD_ID, UNK, UNK_ID, TokenCounts, Vocabulary


def _ds(lists):
    return Dataset.from_dict({"tokens": lists})


def test_pad_unk_and_frequency_order():
    vocab = Vocabulary.build(_ds([["b", "a", "a"], ["c", "a", "b"], ["d"]]))
    assert vocab.tokens[:2] == [PAD, UNK]
    assert (PAD_ID, UNK_ID) == (0, 1)
    assert vocab.tokens[2:] == ["a", "b", "c", "d"]  # 3, 2, then ties alphabetically


def test_min_freq_and_max_size():
    ds = _ds([["a", "a", "a", "b", "b", "c"]])
    assert Vocabulary.build(ds, min_freq=2).tokens == [PAD, UNK, "a", "b"]
    assert Vocabulary.build(ds, max_size=3).tokens == [PAD, UNK, "a"]


def test_token_counts_merged_in_arrow_rank_as_a_counter_does():
    rng = random.Random(0)
    words = ["a", "B", "b", "é", "e", "z", "😀", "zz", PAD, UNK] + [f"w{i}" for i in range(300)]
    columns = [[[rng.choice(words) for _ in range(rng.randrange(0, 6))] for _ in range(7)] for _ in range(40)]
    counts, counter = TokenCounts(), Counter()
    for column in columns:  # 40 columns: several merges, and a last part left unmerged
        counts.update(pa.array(column, pa.list_(pa.string())))
        counter.update(token for row in column for token in row)
    for min_freq, max_size in [(1, None), (2, None), (3, 12), (1, 2), (10**6, None)]:
        assert counts.vocabulary(min_freq, max_size).tokens == \
            Vocabulary.from_counts(counter, min_freq, max_size).tokens
    assert TokenCounts().vocabulary().tokens == [PAD, UNK]


def test_unknown_words_encode_to_unk_and_arrow_matches_python():
    vocab = Vocabulary.build(_ds([["good", "film"]]))
    assert vocab.encode(["good", "never-seen", "film"]) == [vocab.index["good"], UNK_ID, vocab.index["film"]]
    lists = pa.array([["good", "x"], [], ["film"]], pa.list_(pa.string()))
    assert vocab.encode_arrow(lists).to_pylist() == [vocab.encode(x) for x in lists.to_pylist()]


def test_encode_dataset_replaces_tokens():
    vocab = Vocabulary.build(_ds([["a", "b"]]))
    enc = vocab.encode_dataset(_ds([["b", "z"], ["a"]]))
    assert enc.column_names == ["input_ids"]
    assert enc["input_ids"][:] == [[vocab.index["b"], UNK_ID], [vocab.index["a"]]]


def test_save_load_round_trip_is_human_readable(tmp_path):
    vocab = Vocabulary([PAD, UNK, "the", "é", "n't", "😀"])
    path = vocab.save(tmp_path)
    assert path.read_text(encoding="utf-8").splitlines() == vocab.tokens
    assert Vocabulary.load(tmp_path).tokens == vocab.tokens


def test_rejects_malformed_vocabularies():
    with pytest.raises(ValueError, match="starts with"):
        Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="duplicate"):
        Vocabulary([PAD, UNK, "a", "a"])
