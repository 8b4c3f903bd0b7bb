import pandas as pd
import pytest

from hfsent.data import load_splits
from tests.conftest import make_reviews, tiny_config


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


def test_missing_column_lists_the_columns_found(tmp_path):
    pd.DataFrame({"body": ["a", "b"], "label": [0, 1]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match=r"columns found: \['body', 'label'\]"):
        load_splits(tiny_config(tmp_path / "x.csv"))


def test_bad_labels_are_named(tmp_path):
    pd.DataFrame({"text": ["good", "bad", "meh"], "label": [1, 0, 7]}).to_csv(tmp_path / "x.csv", index=False)
    with pytest.raises(ValueError, match="also holds.*7"):
        load_splits(tiny_config(tmp_path / "x.csv"))


def test_empty_rows_are_dropped(tmp_path, caplog):
    df = make_reviews(20)
    df.loc[3, "text"] = None
    df.loc[4, "text"] = "   "
    df.to_csv(tmp_path / "x.csv", index=False)
    splits = load_splits(tiny_config(tmp_path / "x.csv", validation_size=2, test_size=2))
    assert sum(len(s) for s in splits.values()) == 18
    assert "dropped 2 of 20 rows" in caplog.text
