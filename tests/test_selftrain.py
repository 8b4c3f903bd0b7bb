import logging

import numpy as np
from datasets import Dataset

from hfsent.predict import SentimentClassifier
from hfsent.selftrain import pseudo_label
from hfsent.train import train
from tests.conftest import tiny_config


def test_pseudo_label_keeps_the_sure_calls_with_the_predicted_label(trained):
    clf = trained.classifier
    texts = ["great wonderful loved it", "awful boring worst", "the movie", "superb film",
             "the plot was dreadful and terrible"]
    ids = clf.encode(texts)
    ids.insert(3, [])  # a review that tokenized to nothing is never labelled
    nonempty = [x for x in ids if x]
    probs = clf.predict_ids(nonempty).reshape(-1)
    certainty = np.sort(np.maximum(probs, 1 - probs))
    confidence = float(certainty[1:3].mean())  # between the 2nd and 3rd surest: some in, some out
    chosen, summary = pseudo_label(clf, Dataset.from_dict({"input_ids": ids}), confidence)

    sure = np.maximum(probs, 1 - probs) >= confidence
    assert 0 < sure.sum() < len(nonempty), "the fixture needs sure and unsure reviews"
    assert chosen["input_ids"] == [x for x, s in zip(nonempty, sure) if s]
    assert chosen["label"] == [int(p >= 0.5) for p, s in zip(probs, sure) if s]
    assert summary["unlabeled_reviews"] == len(ids) and summary["pseudo_labeled"] == int(sure.sum())


def test_self_training_adds_epochs_on_train_plus_pseudo_labelled_reviews(hub_layout_with_unsup, tmp_path):
    base = train(tiny_config(hub_layout_with_unsup, epochs=3, patience=3), None, verbose=0, score_test=False)
    cfg = tiny_config(hub_layout_with_unsup, epochs=3, patience=3, self_training=True,
                      self_training_epochs=2, pseudo_label_confidence=0.6)
    result = train(cfg, tmp_path / "model", verbose=0, score_test=False)

    st = result.metrics["self_training"]
    assert st["unlabeled_reviews"] == 60 and 0 < st["pseudo_labeled"] <= 60 and st["epochs"] == 2
    assert len(result.history["loss"]) == result.metrics["epochs_trained"] + 2
    # the same seed and first fit, then more training: different weights than without it
    assert result.metrics["epochs_trained"] == base.metrics["epochs_trained"]
    assert not np.allclose(result.classifier.model.get_weights()[-2], base.classifier.model.get_weights()[-2])
    card = (tmp_path / "model" / "README.md").read_text()
    assert f"the model labelled {st['pseudo_labeled']} of the 60" in card
    loaded = SentimentClassifier.load(tmp_path / "model")
    texts = ["great wonderful film", "awful boring plot"]
    np.testing.assert_allclose(loaded.predict_proba(texts), result.classifier.predict_proba(texts), atol=1e-6)


def test_self_training_without_an_unlabelled_split_is_skipped_with_a_warning(hub_layout_dir, caplog):
    with caplog.at_level(logging.WARNING, logger="hfsent.selftrain"):
        result = train(tiny_config(hub_layout_dir, epochs=2, self_training=True), None, verbose=0,
                       score_test=False)
    assert "no self-training" in caplog.text
    assert "self_training" not in result.metrics
    assert len(result.history["loss"]) == result.metrics["epochs_trained"]
