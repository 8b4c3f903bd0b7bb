import os
from pathlib import Path

import datasets
import pandas as pd
import pytest

from hfsent.data import load_raw
from hfsent.fingerprint import LOCAL_CACHE
from hfsent.splits import load_splits
from tests.conftest import make_reviews, tiny_config, write_hub_layout


def test_local_hub_layout_folder(hub_layout_dir):
    splits = load_splits(tiny_config(hub_layout_dir, validation_size=0.25))
    assert set(splits) == {"train", "validation", "test"}
    assert (len(splits["train"]), len(splits["validation"]), len(splits["test"])) == (60, 20, 40)
    assert splits["train"].features["label"].names == ["negative", "positive"]
    # stratified: the held-out part keeps the 50/50 balance exactly
    assert sum(splits["validation"]["label"]) == 10


def test_validation_split_is_seeded_and_disjoint_from_train(hub_layout_dir):
    a = load_splits(tiny_config(hub_layout_dir))
    b = load_splits(tiny_config(hub_layout_dir))
    assert a["validation"]["text"][:] == b["validation"]["text"][:]
    assert not set(a["validation"]["text"]) & set(a["train"]["text"])


def test_kaggle_csv_without_test_split(kaggle_csv):
    splits = load_splits(tiny_config(kaggle_csv, test_size=0.25))
    assert splits["train"].column_names == ["text", "label"]
    assert len(splits["test"]) == 15
    assert set(splits["test"]["label"]) == {0, 1}


def test_named_csv_splits_and_parquet(tmp_path):
    make_reviews(30).to_csv(tmp_path / "train.csv", index=False)
    make_reviews(10, seed=9).to_csv(tmp_path / "test.csv", index=False)
    splits = load_splits(tiny_config(f"train={tmp_path / 'train.csv'},test={tmp_path / 'test.csv'}"))
    assert len(splits["test"]) == 10
    make_reviews(30).to_parquet(tmp_path / "all.parquet")
    assert len(load_splits(tiny_config(tmp_path / "all.parquet"))["test"]) == 6


def test_missing_text_or_label_column_lists_the_columns(tmp_path):
    pd.DataFrame({"comment": ["good"], "stars": [1]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match=r"no text column 'text'.*\['comment', 'stars'\]"):
        load_splits(tiny_config(tmp_path / "x.csv"))
    pd.DataFrame({"text": ["good"], "stars": [1]}).to_csv(tmp_path / "y.csv", index=False)
    with pytest.raises(ValueError, match=r"no label column 'label'.*\['text', 'stars'\]"):
        load_splits(tiny_config(tmp_path / "y.csv"))


@pytest.mark.parametrize("labels, names", [
    ([0, 1, 2], ["0", "1", "2"]), ([0.0, 1.0, 0.5], ["0", "0.5", "1"]),
    (["positive", "neutral", "negative"], ["negative", "neutral", "positive"])])
def test_labels_beyond_binary_are_classes_in_the_documented_order(tmp_path, labels, names):
    pd.DataFrame({"text": [f"text {i}" for i in range(30)], "label": labels * 10}).to_csv(tmp_path / "x.csv",
                                                                                      index=False)
    splits = load_splits(tiny_config(tmp_path / "x.csv", validation_size=3, test_size=3))
    assert all(split.features["label"].names == names for split in splits.values())


def test_nan_and_empty_rows_are_skipped_and_counted(tmp_path, caplog):
    df = make_reviews(30)
    df.loc[[1, 2, 4], "text"] = [float("nan"), "", "   "]
    df.loc[3, "label"] = float("nan")
    df.to_csv(tmp_path / "x.csv", index=False)
    splits = load_splits(tiny_config(tmp_path / "x.csv", validation_size=3, test_size=3))
    assert sum(len(s) for s in splits.values()) == 26
    assert "dropped 4 of 30 rows" in caplog.text


def test_ratings_stay_numbers_and_outside_the_scale_are_refused(tmp_path):
    df = make_reviews(10)
    df["rating"] = [1, 2, 3, 4, 10, 7, 8, 9, 10, 10]
    df.to_csv(tmp_path / "r.csv", index=False)
    cfg = tiny_config(tmp_path / "r.csv", task="rating", label_column="rating", validation_size=2,
                      test_size=2)
    splits = load_splits(cfg)
    assert sorted(r for split in splits.values() for r in split["label"]) == \
        sorted(float(r) for r in df["rating"])
    df.loc[4, "rating"] = 11
    df.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(ValueError, match=r"ratings must be numbers in \[1.0, 10.0\].*11"):
        load_splits(cfg)


def test_a_training_split_of_one_class_is_refused_naming_it(tmp_path):
    make_reviews(20).assign(label=1).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match="holds one class only, 'positive'"):
        load_splits(tiny_config(tmp_path / "x.csv"))


def _touch_later(path):
    # Two writes within one clock tick of the filesystem can share an mtime: move it on
    # explicitly, as any later edit would.
    stat = os.stat(path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def test_a_csv_edited_in_place_to_the_same_size_is_read_again(tmp_path):
    folder = tmp_path / "reviews"
    folder.mkdir()
    make_reviews(30).to_csv(folder / "train.csv", index=False)
    before = load_raw(str(folder))["train"]["text"]
    edited = make_reviews(30)
    edited["text"] = [t.swapcase() for t in edited["text"]]  # same bytes, other case
    edited.to_csv(folder / "train.csv", index=False)
    _touch_later(folder / "train.csv")
    assert load_raw(str(folder))["train"]["text"] == [t.swapcase() for t in before]
    edited.assign(text=list(before)).to_csv(folder / "train.csv", index=False)
    _touch_later(folder / "train.csv")
    assert load_raw(str(folder / "train.csv"))["train"]["text"] == before
    edited.to_csv(folder / "train.csv", index=False)
    _touch_later(folder / "train.csv")
    assert load_raw(str(folder / "train.csv"))["train"]["text"] == [t.swapcase() for t in before]


def test_two_folders_of_one_name_and_card_never_share_a_cache_entry(tmp_path):
    full = write_hub_layout(tmp_path / "full" / "imdb", {"train": make_reviews(40, seed=1)})
    small = write_hub_layout(tmp_path / "small" / "imdb", {"train": make_reviews(10, seed=2)})
    assert (full / "README.md").read_text() == (small / "README.md").read_text()
    assert len(load_raw(str(full))["train"]) == 40
    assert len(load_raw(str(small))["train"]) == 10
    make_reviews(12, seed=3).to_parquet(small / "plain_text" / "train-00000-of-00001.parquet")
    _touch_later(small / "plain_text" / "train-00000-of-00001.parquet")
    assert len(load_raw(str(small))["train"]) == 12
    entries = list((Path(datasets.config.HF_DATASETS_CACHE) / LOCAL_CACHE).glob("*"))
    assert len(entries) == len({e.name.split("-")[0] for e in entries})  # earlier states deleted
