"""Carving by group: no movie on both sides, duplicates together, stratified, seeded; the same
carving for training, scoring and streaming."""

import numpy as np
import pandas as pd
import pytest
from datasets import ClassLabel, Dataset, Features, Value

from hfsent.split import carve, group_codes
from hfsent.splits import load_splits
from hfsent.streaming import load_stream_splits
from tests.conftest import make_reviews, tiny_config


def _movies(n: int = 700, per_movie: int = 7, seed: int = 0) -> pd.DataFrame:
    """Reviews of ``n // per_movie`` movies; a movie's reviews mostly share its label, as on IMDB."""
    df = make_reviews(n, seed=seed)
    rng = np.random.default_rng(seed)
    df["movie_id"] = [f"tt{i // per_movie:07d}" for i in range(n)]
    df["label"] = [(i // per_movie) % 2 if rng.random() < 0.8 else 1 - (i // per_movie) % 2 for i in range(n)]
    return df


def _dataset(df: pd.DataFrame) -> Dataset:
    features = Features({"text": Value("string"), "label": ClassLabel(names=["negative", "positive"]),
                         **({"group": Value("string")} if "group" in df else {})})
    return Dataset.from_pandas(df, features=features, preserve_index=False)


def test_no_group_is_on_both_sides_and_labels_keep_their_share():
    ds = _dataset(_movies().rename(columns={"movie_id": "group"}))
    rest, held = carve(ds, 0.1, seed=42)
    assert not set(rest["group"]) & set(held["group"])
    assert len(rest) + len(held) == len(ds) and abs(len(held) - 70) <= 7
    assert abs(np.mean(held["label"]) - np.mean(ds["label"])) < 0.05  # stratified
    assert carve(ds, 0.1, seed=42)[1]["text"] == held["text"]  # seeded
    assert carve(ds, 0.1, seed=7)[1]["text"] != held["text"]
    assert set(rest["label"][:20]) == {0, 1}  # a seeded order, not the file's, for max_train_samples


def test_without_a_group_column_duplicates_stay_together():
    df = make_reviews(200, seed=1)
    twins = df.iloc[:30].copy()
    twins["text"] = [t.upper().replace(" ", "  ") + "<br />" for t in twins["text"]]  # same review
    ds = _dataset(pd.concat([df, twins], ignore_index=True))
    codes = group_codes(ds)
    assert len(set(codes)) == 200 and all(codes[i] == codes[200 + i] for i in range(30))
    rest, held = carve(ds, 0.2, seed=0)
    normal = {" ".join(t.casefold().replace("<br />", " ").split()) for t in held["text"]}
    assert not normal & {" ".join(t.casefold().replace("<br />", " ").split()) for t in rest["text"]}


def test_too_few_groups_for_the_share_is_a_clear_error():
    ds = _dataset(_movies(40, per_movie=10).rename(columns={"movie_id": "group"}))
    with pytest.raises(ValueError, match="needs at least 10 groups, found 4"):
        carve(ds, 0.1, seed=0)


def test_training_and_scoring_carve_validation_and_test_by_the_group_column(tmp_path):
    path = tmp_path / "reviews.csv"
    _movies().to_csv(path, index=False)
    config = tiny_config(str(path), group_column="movie_id", validation_size=0.1, test_size=0.2)
    splits = load_splits(config)
    assert splits["train"].column_names == ["text", "label"]  # the group column served its purpose
    movie = dict(zip(pd.read_csv(path)["text"], pd.read_csv(path)["movie_id"]))
    sides = {name: {movie[t] for t in split["text"]} for name, split in splits.items()}
    assert not sides["train"] & sides["validation"] and not sides["train"] & sides["test"]
    assert not sides["validation"] & sides["test"]
    with pytest.raises(FileNotFoundError, match="no group column 'film' in the train split"):
        load_splits(config.replace(group_column="film"))


def test_a_stream_is_carved_by_the_group_too(tmp_path):
    path = tmp_path / "reviews.csv"
    _movies().to_csv(path, index=False)
    config = tiny_config(str(path), group_column="movie_id", streaming=True)
    splits = load_stream_splits(config)
    movie = dict(zip(pd.read_csv(path)["text"], pd.read_csv(path)["movie_id"]))
    sides = {name: {movie[row["text"]] for row in split.with_format(None)} for name, split in splits.items()}
    assert sides["validation"] and not sides["train"] & sides["validation"]
    assert not sides["train"] & sides["test"]
