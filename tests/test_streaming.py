"""Training from ``load_dataset(..., streaming=True)``: lazy splits, one-pass vocabulary,
``datasets``' bounded shuffle, and a model folder like any other."""

import numpy as np
import pytest
from datasets import IterableDataset

from hfsent.batching import make_dataset
from hfsent.data import load_raw, normalize
from hfsent.metrics import score_dataset
from hfsent.predict import SentimentClassifier
from hfsent.streaming import carve_by_hash, load_stream_splits, normalize_stream, scan_vocabulary
from hfsent.tokenize import tokenize_dataset
from hfsent.train import prepare_data, train
from hfsent.vocab import Vocabulary
from tests.conftest import tiny_config


def _rows(ds) -> list[dict]:
    return list(ds.with_format(None))


def _texts(ds) -> list[str]:
    return [row["text"] for row in _rows(ds)]


def test_hash_carve_is_a_partition_that_ignores_order(hub_layout_dir):
    config = tiny_config(hub_layout_dir, streaming=True)
    stream = normalize_stream(load_raw(str(hub_layout_dir), streaming=True)["train"], config)
    rest, held = carve_by_hash(stream, [("validation-42", 0.25)])
    rest_texts, held_texts = _texts(rest), _texts(held)
    assert sorted(rest_texts + held_texts) == sorted(_texts(stream))
    assert not set(rest_texts) & set(held_texts)
    assert 5 <= len(held_texts) <= 35  # about a quarter of 80
    # the same rows are held out whatever order the stream comes in
    _, held_shuffled = carve_by_hash(stream.shuffle(seed=3, buffer_size=100), [("validation-42", 0.25)])
    assert sorted(_texts(held_shuffled)) == sorted(held_texts)
    with pytest.raises(ValueError, match="fraction"):
        carve_by_hash(stream, [("validation-42", 100)])


def test_stream_is_normalized_like_the_cached_data(kaggle_csv):
    config = tiny_config(kaggle_csv, streaming=True)
    stream = normalize_stream(load_raw(str(kaggle_csv), streaming=True)["train"], config)
    assert isinstance(stream, IterableDataset)
    eager = normalize(load_raw(str(kaggle_csv))["train"], "text", "label")
    assert _rows(stream) == eager.to_list()


def test_a_streamed_split_finds_its_classes_in_one_pass_as_the_cached_data_does(tmp_path):
    from tests.test_classes import WORDS, make_classes

    make_classes(150, list(WORDS), seed=1).to_parquet(tmp_path / "train.parquet")
    make_classes(50, list(WORDS), seed=2).to_parquet(tmp_path / "test.parquet")
    data = f"train={tmp_path / 'train.parquet'},test={tmp_path / 'test.parquet'}"
    streamed = prepare_data(tiny_config(data, streaming=True))
    cached = prepare_data(tiny_config(data))
    assert list(streamed.classes) == list(cached.classes) == list(WORDS)  # the scale's order
    assert sum(streamed.classes.values()) == streamed.train_rows
    # the same texts get the same class ids both ways (the vocabularies differ: validation is
    # carved by hash in a stream)
    def labels(split):
        return {tuple(r["tokens"]): r["label"] for r in _rows(split)}
    assert labels(streamed.tokens["test"]) == labels(cached.tokens["test"])
    assert len(set(labels(streamed.tokens["test"]).values())) == 5


def test_labels_a_stream_cannot_take_are_named(tmp_path):
    (tmp_path / "train.csv").write_text("text,label\ngood film,good\nodd film,odd\nbad film,bad\n")
    (tmp_path / "test.csv").write_text("text,label\ngood film,good\nodd film,maybe\n")
    config = tiny_config(f"train={tmp_path / 'train.csv'},test={tmp_path / 'test.csv'}", streaming=True)
    splits = load_stream_splits(config)
    with pytest.raises(ValueError, match="the test split's column 'label' holds a label that the training "
                                         "split does not: 'maybe'"):
        _rows(splits["test"])
    (tmp_path / "many.csv").write_text("text,label\n" + "".join(f"film {i},{i}\n" for i in range(150)))
    with pytest.raises(ValueError, match="150 distinct labels|more than 100"):
        load_stream_splits(tiny_config(str(tmp_path / "many.csv"), streaming=True))
    # with --label-names nothing is read ahead, and a label outside them stops the pass
    named = tiny_config(str(tmp_path / "train.csv"), streaming=True, label_names=["good", "bad"])
    with pytest.raises(ValueError, match="'odd'"):
        _rows(normalize_stream(load_raw(str(tmp_path / "train.csv"), streaming=True)["train"], named))


def test_one_pass_vocabulary_equals_the_cached_one(hub_layout_dir):
    config = tiny_config(hub_layout_dir, streaming=True)
    train_stream = load_stream_splits(config)["train"]
    tokens = tokenize_dataset(train_stream, config.preprocessing.spacy_model, config.preprocessing.lowercase)
    vocab, rows, lengths, per_class = scan_vocabulary(tokens, config)
    rows_list = _rows(tokens)
    assert rows == len(rows_list) and list(lengths) == [len(r["tokens"]) for r in rows_list]
    assert dict(per_class) == {c: sum(r["label"] == c for r in rows_list) for c in (0, 1)}
    from datasets import Dataset

    pre = config.preprocessing
    eager = Vocabulary.build(Dataset.from_list(rows_list), pre.min_freq, pre.max_vocab_size)
    assert vocab.tokens == eager.tokens


def test_streamed_batches_hold_every_row_once_in_a_new_order_each_epoch(hub_layout_dir):
    data = prepare_data(tiny_config(hub_layout_dir, streaming=True))
    train_ds = make_dataset(data.splits["train"], 8, 32, data.boundaries, shuffle=True, seed=0,
                            shuffle_buffer=16)
    expected = sorted(tuple(r["input_ids"][:32]) for r in _rows(data.splits["train"]))
    epochs = []
    for _ in range(2):
        rows = [tuple(int(i) for i in ids if i) for batch, _ in train_ds for ids in batch.numpy()]
        assert sorted(rows) == expected
        epochs.append(rows)
    assert epochs[0] != epochs[1]


def test_train_streaming_saves_a_model_that_loads(hub_layout_dir, tmp_path):
    result = train(tiny_config(hub_layout_dir, streaming=True, epochs=5, learning_rate=0.05), tmp_path / "m",
                   verbose=0)
    metrics = result.metrics
    assert metrics["num_examples"]["train"] + metrics["num_examples"]["validation"] == 80
    assert metrics["num_examples"]["test"] == 40
    assert metrics["test"]["accuracy"] >= 0.75
    loaded = SentimentClassifier.load(tmp_path / "m")
    assert "streaming" not in (tmp_path / "m" / "hfsent_config.json").read_text(), "a runtime setting"
    # Scoring with streaming=True carves by hash too, and finds the same validation rows
    again = score_dataset(loaded, str(hub_layout_dir), split="validation", streaming=True)
    assert again["num_examples"] == metrics["num_examples"]["validation"]
    assert again["accuracy"] == pytest.approx(metrics["validation"]["accuracy"])
    texts = ["a wonderful superb film", "an awful boring plot"]
    np.testing.assert_allclose(loaded.predict_proba(texts), result.classifier.predict_proba(texts),
                               atol=1e-6)


def test_stream_stays_in_arrow_batches(hub_layout_dir):
    # A Python-row step in the chain makes datasets rebuild every batch from one-row tables
    # (one Arrow chunk per review), which cost gigabytes on IMDB.
    data = prepare_data(tiny_config(hub_layout_dir, streaming=True))
    chunk = next(data.splits["train"].with_format("arrow").iter(batch_size=32))
    assert chunk.num_rows == 32 and chunk["input_ids"].num_chunks <= 2


def test_a_long_stream_renews_spacy_so_its_strings_stay_bounded_and_tokens_identical(monkeypatch):
    from hfsent import tokenize as tok

    texts = [f"review r{i}x: a fine film, said critic{i}." for i in range(60)]
    expected = tok.tokenize(texts)
    monkeypatch.setattr(tok, "RENEW_AFTER_TEXTS", 10)
    sizes, got = [], []
    for start in range(0, 60, 5):
        got += tok.tokenize(texts[start:start + 5])
        sizes.append(len(tok.load_spacy("blank:en").vocab.strings))
    assert got == expected
    assert max(sizes) < min(sizes) + 40  # about 4 new strings per review, renewed every 10 reviews


def test_a_streamed_shuffle_reads_as_many_shards_at_once_as_asked(tmp_path, monkeypatch):
    # datasets holds a whole Parquet row group per shard it reads at once, so the default is one
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import load_dataset

    # Shards read side by side end each pass with a 5 s sleep (datasets' workaround for arrow#45214)
    monkeypatch.setattr(datasets.config, "SLEEP_TIME_ON_THREADS_SHUTDOWN", 0)

    files = []
    for shard in range(4):  # each row's first id names its shard
        ids = [[shard + 1, 10 + row, 11 + row] for row in range(40)]
        files.append(str(tmp_path / f"train-{shard}.parquet"))
        pq.write_table(pa.table({"input_ids": pa.array(ids, pa.list_(pa.int32())), "label": [0] * 40}),
                       files[-1])
    stream = load_dataset("parquet", data_files={"train": files}, streaming=True)["train"]

    def first_shards(shards: int) -> set[int]:
        batches = make_dataset(stream, 8, 16, [2], shuffle=True, shuffle_buffer=4, shuffle_shards=shards)
        return {int(ids[0]) for batch, _ in batches.take(3) for ids in batch.numpy()}

    assert len(first_shards(1)) == 1, "24 rows through a 4-row buffer filled from one shard"
    assert len(first_shards(4)) > 1
    with pytest.raises(ValueError, match="shuffle_shards must be positive"):
        tiny_config("unused.csv", shuffle_shards=0)


def test_more_shuffle_shards_than_the_buffer_can_give_turns_to_is_refused():
    with pytest.raises(ValueError, match="shuffle_shards must be at most shuffle_buffer / 100 \\(200\\)"):
        tiny_config("unused.csv", shuffle_shards=201)
    assert tiny_config("unused.csv", shuffle_shards=200).runtime.shuffle_shards == 200
