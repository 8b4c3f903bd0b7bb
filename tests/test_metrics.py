"""Scoring through the shipped evaluate modules: known answers, and a split scored like training."""

import numpy as np
import pytest

from hfsent.metrics import load_metric, score_classification, score_dataset, score_ratings


def test_classification_known_answer():
    scores = score_classification([0.9, 0.8, 0.3, 0.6], [1, 0, 0, 1])
    # predicted 1, 1, 0, 1: tp=2, fp=1, fn=0, tn=1
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["precision"] == pytest.approx(2 / 3) and scores["recall"] == pytest.approx(1.0)
    assert scores["f1"] == pytest.approx(0.8)
    assert scores["roc_auc"] == pytest.approx(0.75)  # positives 0.9, 0.6 against negatives 0.8, 0.3


def test_rounded_rating_scores_known_answer():
    scores = score_ratings([1.4, 9.6, 5.0], [1, 10, 5])
    assert scores["mse_rounded"] == 0.0 and scores["r2_rounded"] == 1.0
    assert scores["mse"] == pytest.approx((0.16 + 0.16) / 3)


def test_the_shipped_modules_load_by_name_offline():
    module = load_metric("sentiment_classification")
    assert module.compute(predictions=[0.9, 0.2], references=[1, 0])["accuracy"] == 1.0


def test_scoring_the_training_source_finds_the_same_validation_split(trained, negation_dir):
    again = score_dataset(trained.classifier, str(negation_dir), split="validation")
    assert again["num_examples"] == trained.metrics["num_examples"]["validation"]
    assert again["accuracy"] == pytest.approx(trained.metrics["validation"]["accuracy"])
    test = score_dataset(trained.classifier, str(negation_dir), split="test")
    assert test["accuracy"] == pytest.approx(trained.metrics["test"]["accuracy"])
    assert np.isfinite(test["roc_auc"])
    with pytest.raises(ValueError, match=r"has no split 'dev'; its splits are \['train', 'test'\]"):
        score_dataset(trained.classifier, str(negation_dir), split="dev")
