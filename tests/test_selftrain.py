import logging

import numpy as np
from datasets import Dataset

from hfsent.predict import SentimentClassifier
from hfsent.selftrain import pseudo_label
from hfsent.train import train
from tests.conftest import tiny_config


def test_pseudo_label_keeps_the_surest_calls_as_many_per_class(trained):
    clf = trained.classifier
    texts = ["great wonderful loved it", "awful boring worst", "the movie", "superb film",
             "the plot was dreadful and terrible", "brilliant excellent superb", "a loved story"]
    ids = clf.encode(texts)
    ids.insert(3, [])  # a review that tokenized to nothing is never labelled
    nonempty = [x for x in ids if x]
    probs = clf.predict_ids(nonempty).reshape(-1)
    certainty = np.maximum(probs, 1 - probs)

    chosen, summary = pseudo_label(clf, Dataset.from_dict({"input_ids": ids}), 0.5)
    per_class = min((probs >= 0.5).sum(), (probs < 0.5).sum())
    assert 0 < per_class < max((probs >= 0.5).sum(), (probs < 0.5).sum()), "fixture: unequal classes"
    assert sorted(chosen["label"]) == [0] * per_class + [1] * per_class
    expected = set()
    for side in (False, True):
        rows = [i for i in range(len(probs)) if (probs[i] >= 0.5) == side]
        expected |= set(sorted(rows, key=lambda i: -certainty[i])[:per_class])
    assert chosen["input_ids"] == [nonempty[i] for i in sorted(expected)]
    assert chosen["label"] == [int(probs[i] >= 0.5) for i in sorted(expected)]
    assert summary == {"unlabeled_reviews": len(ids), "sure": len(nonempty), "pseudo_labeled": 2 * per_class}


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
    head = [r.classifier.model.get_layer("output").get_weights()[0] for r in (result, base)]
    assert not np.allclose(*head)
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
