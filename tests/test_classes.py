"""Any number of classes: names and order read from the data, a softmax head, per-class scores,
and predictions with a score for every class."""

import json
import random
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from hfsent.labels import class_names, encoder
from hfsent.predict import SentimentClassifier
from hfsent.saved_config import CONFIG_NAME
from tests.conftest import FILLER, GRU, tiny_config

WORDS = {"very negative": ["atrocious", "unwatchable"], "negative": ["dull", "weak"],
         "neutral": ["average", "okay"], "positive": ["good", "nice"],
         "very positive": ["masterpiece", "sublime"]}


def make_classes(n: int, names: list[str], seed: int = 0) -> pd.DataFrame:
    """``n`` texts, the classes in turn; each holds one or two words of its class among fillers."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name = names[i % len(names)]
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 8))]
        for _ in range(rng.randint(1, 2)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(WORDS[name]))
        rows.append({"text": " ".join(words), "label": name})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("values, kwargs, names", [
    ([1, 0, 1], {}, ["negative", "positive"]),
    (["pos", "NEG"], {}, ["negative", "positive"]),
    ([True, False], {}, ["negative", "positive"]),
    ([10, 2, 1, 3.0], {}, ["1", "2", "3", "10"]),
    (["positive", "very negative", "neutral"], {}, ["very negative", "neutral", "positive"]),
    (["3 stars", "1 star", "2 stars"], {}, ["1 star", "2 stars", "3 stars"]),
    ([0, 2, 1], {"classlabel": ["sad", "happy", "calm"]}, ["sad", "happy", "calm"]),
    (["b", "a"], {"fixed": ["b", "a", "c"]}, ["b", "a", "c"]),
    ([0, 1], {"fixed": ["negative", "positive"]}, ["negative", "positive"]),
])
def test_class_names_follow_the_documented_rules(values, kwargs, names):
    assert class_names(values, "label", **kwargs) == names


def test_class_name_errors_name_the_column_and_the_values():
    with pytest.raises(ValueError, match="column 'label' holds one class only, 'positive'"):
        class_names(["pos", "positive"], "label")
    with pytest.raises(ValueError, match="holds 150 distinct labels, more than 100: is this the right"):
        class_names(range(150), "label")
    with pytest.raises(ValueError, match=r"holds labels that --label-names lacks: \['c'\]"):
        class_names(["a", "b", "c"], "label", fixed=["a", "b"])
    with pytest.raises(ValueError, match="the test split's column 'stars' holds a label that the training "
                                         "split does not: 6"):
        encoder(["1", "2", "3"], "stars", "test")(6)


@pytest.fixture(scope="module")
def five_classes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("five")
    names = list(WORDS)
    make_classes(400, names, seed=1).to_csv(folder / "a.csv", index=False)
    make_classes(100, names, seed=2).to_csv(folder / "b.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def five_model(five_classes, tmp_path_factory):
    from hfsent.train import train

    data = f"train={five_classes / 'a.csv'},test={five_classes / 'b.csv'}"
    return train(tiny_config(data, **GRU), tmp_path_factory.mktemp("five-model") / "m", verbose=0)


def test_a_five_class_csv_with_string_labels_trains_and_scores_per_class(five_model):
    test = five_model.metrics["test"]
    assert five_model.classifier.config.model.label_names == list(WORDS)  # the scale's order
    assert test["accuracy"] > 0.8 and test["macro_f1"] > 0.8 and test["roc_auc"] > 0.9
    assert np.asarray(test["confusion_matrix"]).shape == (5, 5)
    assert np.asarray(test["confusion_matrix"]).sum() == test["num_examples"] == 100
    assert set(test["per_class"]) == set(WORDS)
    assert all(c["support"] == 20 for c in test["per_class"].values())
    assert "mae" not in test  # words are no scale
    assert five_model.stage("data")["figures"]["classes"] == {name: 64 for name in WORDS}


def test_predictions_give_every_class_a_score_and_top_k(five_model):
    clf = five_model.classifier
    [result] = clf.predict(["the masterpiece was sublime"])
    assert result["label"] == "very positive" and set(result["scores"]) == set(WORDS)
    assert sum(result["scores"].values()) == pytest.approx(1.0, abs=1e-5)
    assert result["score"] == max(result["scores"].values())
    [top] = clf.predict(["a dull and weak plot"], top_k=2)
    assert len(top) == 2 and top[0]["label"] == "negative" and top[0]["score"] >= top[1]["score"]


def test_the_saved_folder_loads_with_plain_keras_and_says_its_classes(five_model):
    folder = five_model.output_dir
    saved = json.loads((folder / CONFIG_NAME).read_text())["model"]
    assert saved["label_names"] == list(WORDS)
    assert saved["id2label"] == {str(i): n for i, n in enumerate(WORDS)}
    assert saved["label2id"] == {n: i for i, n in enumerate(WORDS)}
    code = ("import sys, keras; m = keras.saving.load_model(sys.argv[1]); print(m.output_shape)")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip().endswith("(None, 5)")
    card = (folder / "README.md").read_text()
    assert "probability of each of its 5 classes" in card and "**very negative** (64)" in card
    assert "| very positive |" in card and "movie" not in card.split("## How to use")[0]
    assert "![Confusion matrix on the test split](confusion_matrix.png)" in card
    assert (folder / "confusion_matrix.png").stat().st_size > 1000
    loaded = SentimentClassifier.load(folder)
    np.testing.assert_allclose(loaded.predict_proba(["okay average"]),
                               five_model.classifier.predict_proba(["okay average"]), rtol=1e-5)


def test_stars_are_a_scale_with_a_mean_absolute_error(tmp_path):
    from hfsent.metrics import score_classes

    scores = score_classes([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]], [0, 2, 0], ["1", "2", "5"])
    assert scores["accuracy"] == pytest.approx(2 / 3) and scores["mae"] == pytest.approx(1 / 3)
    assert scores["confusion_matrix"] == [[1, 1, 0], [0, 0, 0], [0, 0, 1]]


def test_explain_and_the_space_show_every_class(five_model, tmp_path):
    from hfsent.draw import trace_html, trace_png
    from hfsent.explain import sentiment_trace
    from hfsent.serving import EndpointHandler
    from hfsent.space import analyse

    clf = five_model.classifier
    trace = sentiment_trace(clf, "the plot was dull but the actor was sublime")
    assert trace.probabilities.shape == (len(trace.tokens), 5)
    whole = clf.predict_proba([" ".join(trace.tokens)])[0]
    np.testing.assert_allclose(trace.probabilities[-1], whole, rtol=1e-5)
    assert trace.label == clf.predict([" ".join(trace.tokens)])[0]["label"]
    assert trace.classes[trace.predicted[3]] in ("negative", "very negative")  # after "the plot was dull"
    trace_png(trace, str(tmp_path / "t.png"))
    trace_html(trace, str(tmp_path / "t.html"))
    page = (tmp_path / "t.html").read_text()
    assert f"Final {trace.label} (P = " in page and 'title="P(negative)=' in page
    assert "very positive #" in page  # the legend names each class's color
    scores, spans = analyse(clf, "okay average")
    assert max(scores, key=scores.get) == "neutral" and len(scores) == 5 and "hfsent-word" in spans
    [ranked] = EndpointHandler(str(five_model.output_dir))({"inputs": "okay average"})
    assert [r["label"] for r in ranked][0] == "neutral" and len(ranked) == 5


def test_score_prints_a_row_per_class(five_model, five_classes, tmp_path):
    out = subprocess.run([sys.executable, "-m", "hfsent", "score", "--model", str(five_model.output_dir),
                          "--dataset", str(five_classes / "b.csv"), "--output", str(tmp_path / "s.json")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert any(line.split()[:1] == ["macro_f1"] for line in lines)
    assert [line.split()[0] for line in lines if line.strip().startswith(("very", "neutral"))] == [
        "very", "neutral", "very"]
    saved = json.loads((tmp_path / "s.json").read_text())["scores"]
    assert saved["per_class"]["neutral"]["support"] == 20 and len(saved["confusion_matrix"]) == 5


def test_the_default_max_length_comes_from_the_training_lengths(five_classes):
    from hfsent.prepare import default_max_length, prepare_data

    assert default_max_length(np.array([5] * 98 + [40, 2000])) == 60
    assert default_max_length(np.array([3000] * 10)) == 600  # capped for long reviews, as for IMDB
    data = prepare_data(tiny_config(str(five_classes / "a.csv"), max_length=None))
    lengths = [len(ids) for ids in data.splits["train"]["input_ids"]]
    assert data.max_length == int(np.ceil(np.percentile(lengths, 99))) <= 10


def test_a_tweet_column_is_found_as_the_text(tmp_path):
    from hfsent.splits import load_splits

    make_classes(30, ["negative", "neutral", "positive"]).rename(columns={"text": "tweet"}).to_csv(
        tmp_path / "t.csv", index=False)
    splits = load_splits(tiny_config(str(tmp_path / "t.csv"), validation_size=3, test_size=3))
    assert splits["train"].column_names == ["text", "label"]
    assert splits["train"].features["label"].names == ["negative", "neutral", "positive"]


def test_the_wide_branch_blends_five_classes_in_frozen_keras_layers(five_classes, tmp_path):
    from hfsent.train import train
    from hfsent.wide import deep_part, wide_part

    data = f"train={five_classes / 'a.csv'},test={five_classes / 'b.csv'}"
    config = tiny_config(data, wide_ngrams=True, wide_buckets=1024, epochs=3, patience=3)
    result = train(config, tmp_path / "m", verbose=0)
    figures = result.stage("wide")["figures"]
    assert "multinomial logistic regression" in result.stage("wide")["summary"]
    assert figures["linear"]["validation"] > 0.9  # the words tell the classes apart
    clf = result.classifier
    texts = ["the masterpiece was sublime", "dull weak plot", "okay average story"]
    probs = clf.predict_proba(texts)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    w = figures["gru_weight"]
    parts = [SentimentClassifier(part(clf.model), clf.vocab, clf.config).predict_proba(texts)
             for part in (deep_part, wide_part)]
    np.testing.assert_allclose(probs, w * parts[0] + (1 - w) * parts[1], rtol=1e-4, atol=1e-6)
    assert [r["label"] for r in SentimentClassifier.load(result.output_dir).predict(texts)] == [
        "very positive", "negative", "neutral"]
