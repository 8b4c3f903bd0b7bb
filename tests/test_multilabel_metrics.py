"""The shipped multilabel_classification evaluate module, against values worked out by hand.

Known answer (K = 3 labels, 4 examples):

    references   predictions   per example: |T∩P|  |T∪P|  F1
    1 0 1        1 0 0                       1      2      2/3
    0 1 0        0 1 1                       1      2      2/3
    0 0 0        0 0 0                       0      0      1 (empty = 1)
    1 1 0        0 1 0                       1      2      2/3

Per label: 0: TP 1 FP 0 FN 1 -> P 1, R 1/2, F1 2/3; 1: TP 2 -> 1, 1, 1; 2: TP 0 FP 1 FN 1 -> 0.
Micro: TP 3, FP 1, FN 2 -> 6/9.  Macro: (2/3 + 1 + 0) / 3 = 5/9.  Samples F1: (3 * 2/3 + 1) / 4.
Jaccard: (1/2 * 3 + 1) / 4.  Subset accuracy: 1/4.  Hamming loss: 3 wrong of 12.
"""

import pytest

from hfsent.metrics import load_metric

REFERENCES = [[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 1, 0]]
PREDICTIONS = [[1, 0, 0], [0, 1, 1], [0, 0, 0], [0, 1, 0]]
# label 0: positives 0.9, 0.4 above both negatives -> 1; label 1: positives 0.8, 0.3 against
# negatives 0.3, 0.3 -> (2 wins + 2 ties * 1/2) / 4; label 2: positive 0.2 beats 0.1 only -> 1/3
SCORES = [[0.9, 0.3, 0.2], [0.1, 0.8, 0.6], [0.2, 0.3, 0.1], [0.4, 0.3, 0.4]]


@pytest.fixture(scope="module")
def metric():
    return load_metric("multilabel_classification")


def test_known_answer(metric):
    r = metric.compute(predictions=PREDICTIONS, references=REFERENCES)
    assert r["micro_f1"] == pytest.approx(6 / 9)
    assert r["macro_f1"] == pytest.approx(5 / 9)
    assert r["samples_f1"] == pytest.approx(3 / 4)
    assert r["jaccard"] == pytest.approx(5 / 8)
    assert r["subset_accuracy"] == pytest.approx(1 / 4)
    assert r["hamming_loss"] == pytest.approx(3 / 12)
    assert r["precision"] == pytest.approx({"0": 1.0, "1": 1.0, "2": 0.0})
    assert r["recall"] == pytest.approx({"0": 0.5, "1": 1.0, "2": 0.0})
    assert r["f1"] == pytest.approx({"0": 2 / 3, "1": 1.0, "2": 0.0})
    assert r["support"] == {"0": 2, "1": 2, "2": 1}
    assert "roc_auc" not in r  # only with scores


def test_roc_auc_and_label_names(metric):
    r = metric.compute(predictions=PREDICTIONS, references=REFERENCES, scores=SCORES,
                       label_names=["anger", "joy", "fear"])
    assert r["roc_auc"] == pytest.approx({"anger": 1.0, "joy": 0.75, "fear": 1 / 3})
    assert r["support"] == {"anger": 2, "joy": 2, "fear": 1}


def test_label_of_one_class_has_no_roc_auc(metric):
    r = metric.compute(predictions=[[1, 0], [0, 0]], references=[[1, 0], [0, 0]],
                       scores=[[0.9, 0.1], [0.2, 0.3]])
    assert r["roc_auc"] == {"0": 1.0, "1": None}


def test_semeval_empty_conventions(metric):
    # example 0: no true label, one predicted -> Jaccard 0 and F1 0; example 1: both empty -> 1 and 1.
    # label 1 is never true nor predicted: its F1 counts 0 in the macro mean, as SemEval's script does.
    r = metric.compute(predictions=[[1, 0], [0, 0], [1, 0]], references=[[0, 0], [0, 0], [1, 0]])
    assert r["jaccard"] == pytest.approx((0 + 1 + 1) / 3)
    assert r["samples_f1"] == pytest.approx((0 + 1 + 1) / 3)
    assert r["f1"] == {"0": pytest.approx(2 / 3), "1": 0.0}
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)
    assert r["micro_f1"] == pytest.approx(2 / 3)


def test_bad_inputs_are_refused(metric):
    with pytest.raises(ValueError, match="only 0 and 1"):
        metric.compute(predictions=[[2, 0]], references=[[1, 0]])
    with pytest.raises(ValueError, match="label_names"):
        metric.compute(predictions=[[1, 0]], references=[[1, 0]], label_names=["a", "a"])
    with pytest.raises(ValueError, match="scores"):
        metric.compute(predictions=[[1, 0]], references=[[1, 0]], scores=[[0.5, float("nan")]])
