"""The rating task: regression on 1-10 stars, end to end."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hfsent.hub import from_pretrained, push_to_hub
from hfsent.metrics import score_ratings
from hfsent.predict import SentimentClassifier
from hfsent.wide import has_wide_branch
from tests.conftest import make_reviews, tiny_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rating_data(tmp_path_factory):
    """Like the ratings copy of IMDB: text, label and a 1-4 / 7-10 star rating."""
    df = make_reviews(120, seed=5)
    rng = np.random.default_rng(0)
    df["rating"] = np.where(df["label"] == 1, rng.integers(7, 11, len(df)), rng.integers(1, 5, len(df)))
    path = tmp_path_factory.mktemp("ratings") / "train-00000-of-00001.parquet"
    df.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def rating_model(rating_data, tmp_path_factory):
    from hfsent.train import train

    cfg = tiny_config(rating_data, task="rating", label_column="rating", test_size=0.2, epochs=25,
                      patience=25)
    return train(cfg, tmp_path_factory.mktemp("rating") / "model", verbose=0)


def test_rating_model_learns_and_reports_regression_scores(rating_model):
    test = rating_model.metrics["test"]
    assert set(test) == {"r2", "mse", "mae", "r2_rounded", "mse_rounded", "mae_rounded", "num_examples"}
    assert test["num_examples"] == rating_model.metrics["num_examples"]["test"] > 0
    assert test["r2"] > 0.5
    assert rating_model.output_dir.joinpath("training_curves.png").is_file()
    assert not has_wide_branch(rating_model.classifier.model)  # the wide branch is a classifier


def test_rating_predictions_are_clipped_to_the_scale(rating_model):
    clf = SentimentClassifier.load(rating_model.output_dir)
    out = clf.predict(["a great wonderful excellent film", "awful terrible boring worst"])
    assert out[0]["rating"] > out[1]["rating"]
    assert all(1.0 <= r["rating"] <= 10.0 and r["rating_rounded"] == round(r["rating"]) for r in out)
    raw = clf.predict_ids([[2] * 5])
    assert clf.clip_ratings(raw * 100)[0] == 10.0


def test_rounded_scores_known_answer():
    scores = score_ratings([1.4, 9.6, 5.0], [1, 10, 5])
    assert scores["mse_rounded"] == 0.0 and scores["r2_rounded"] == 1.0
    assert scores["mse"] == pytest.approx((0.16 + 0.16) / 3)


def test_ratings_outside_the_scale_are_refused(tmp_path):
    from hfsent.data import load_splits

    df = make_reviews(10)
    df["rating"] = [1, 2, 3, 4, 11, 7, 8, 9, 10, 10]
    df.to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(ValueError, match=r"ratings must be numbers in \[1.0, 10.0\].*11"):
        load_splits(tiny_config(tmp_path / "r.csv", task="rating", label_column="rating"))


def test_rating_round_trip_push_pull_score_predict(rating_model, rating_data, tmp_path):
    push_to_hub(rating_model.output_dir, "tester/ratings")
    pulled = from_pretrained("tester/ratings", cache_dir=tmp_path / "cache")
    card = (Path(tmp_path / "cache").rglob("README.md").__next__()).read_text()
    assert "r2" in card and "Rating regression" in card
    np.testing.assert_array_equal(pulled.predict_proba(["great film"]),
                                  rating_model.classifier.predict_proba(["great film"]))
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "score.py"), "--model", "tester/ratings",
                          "--dataset", str(rating_data), "--split", "test",
                          "--output", str(tmp_path / "s.json")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    scores = json.loads((tmp_path / "s.json").read_text())["scores"]
    assert scores["r2"] == pytest.approx(rating_model.metrics["test"]["r2"], abs=1e-6)
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "predict.py"), "--model", "tester/ratings",
                          "a great film"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert 1 <= json.loads(out.stdout)["rating"] <= 10
