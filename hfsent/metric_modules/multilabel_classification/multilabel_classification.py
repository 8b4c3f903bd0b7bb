"""Multi-label classification metrics, as one ``evaluate`` module.

Load it offline with ``evaluate.load(path_to_this_folder)`` (``hfsent.metrics.load_metric``).
Inputs are one row of K 0/1 decisions per example (``predictions``) and the K 0/1 true labels
(``references``); ``scores`` (the K probabilities per example, optional) add per-label ROC AUC.

Conventions, those of SemEval-2018 Task 1 E-c's official script (scikit-learn underneath):

- ``jaccard``: the mean over examples of |T ∩ P| / |T ∪ P|, an example with no true and no
  predicted label counting 1 (as the script's ``jaccard_similarity_score`` did);
- ``micro_f1`` pools every (example, label) decision; ``macro_f1`` is the mean over all K labels
  of their F1, a label with no true and no predicted example counting 0 (scikit-learn's
  ``zero_division=0``, the script's default);
- ``samples_f1``: the mean over examples of 2|T ∩ P| / (|T| + |P|), an example with no true and
  no predicted label counting 1 (``zero_division=1``);
- ``subset_accuracy``: the share of examples whose K decisions are all right;
  ``hamming_loss``: the share of wrong (example, label) decisions;
- per label (dicts keyed by label name, ``"0"`` to ``"K-1"`` by default): ``precision``,
  ``recall``, ``f1`` (0 where undefined), ``support`` (true examples), and with ``scores``,
  ``roc_auc``, ``None`` for a label whose references hold one class only.

Limits: every row must have the same K >= 1 entries, all 0 or 1 (bools pass); at least one row.
"""

import math

import datasets
import evaluate
import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    hamming_loss,
    jaccard_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

_DESCRIPTION = "Micro, macro and per-sample F1, Jaccard, subset accuracy, Hamming loss, per-label scores."
_KWARGS = """
Args:
    predictions (list of list of int): per example, K decisions, 0 or 1.
    references (list of list of int): per example, the K true labels, 0 or 1.
    scores (list of list of float, optional): per example, the K probabilities; adds roc_auc.
    label_names (list of str, optional): the K label names; default "0" to "K-1".
Returns:
    dict with micro_f1, macro_f1, samples_f1, jaccard, subset_accuracy, hamming_loss (floats);
    precision, recall, f1, support and, with scores, roc_auc (dicts keyed by label name).
"""


def _zero_one(rows, what: str) -> np.ndarray:
    array = np.asarray(rows)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{what} must be a non-empty list of equally long rows of 0/1")
    if not np.isin(array, (0, 1)).all():
        raise ValueError(f"{what} must hold only 0 and 1")
    return array.astype(np.int64)


def _roc_auc(truth: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC of one label; ``None`` if its references hold one class only."""
    if truth.min() == truth.max():
        return None
    return float(roc_auc_score(truth, scores))


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class MultilabelClassification(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("int64")),
                                        "references": datasets.Sequence(datasets.Value("int64"))}),
        )

    def _compute(self, predictions, references, scores=None, label_names=None):
        y_pred, y_true = _zero_one(predictions, "predictions"), _zero_one(references, "references")
        if y_pred.shape != y_true.shape:
            raise ValueError(f"predictions are {y_pred.shape[0]} x {y_pred.shape[1]}, references "
                             f"{y_true.shape[0]} x {y_true.shape[1]}")
        k = y_true.shape[1]
        names = [str(i) for i in range(k)] if label_names is None else [str(n) for n in label_names]
        if len(names) != k or len(set(names)) != k:
            raise ValueError(f"label_names must be {k} distinct names, got {len(names)}")
        precision, recall, f1, support = precision_recall_fscore_support(
            y_true, y_pred, average=None, labels=list(range(k)), zero_division=0)
        results = {
            "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
            "macro_f1": float(np.mean(f1)),
            "samples_f1": float(f1_score(y_true, y_pred, average="samples", zero_division=1)),
            "jaccard": float(jaccard_score(y_true, y_pred, average="samples", zero_division=1)),
            "subset_accuracy": float(accuracy_score(y_true, y_pred)),
            "hamming_loss": float(hamming_loss(y_true, y_pred)),
            "precision": dict(zip(names, map(float, precision))),
            "recall": dict(zip(names, map(float, recall))),
            "f1": dict(zip(names, map(float, f1))),
            "support": dict(zip(names, map(int, support))),
        }
        if scores is not None:
            probs = np.asarray(scores, dtype=np.float64)
            if probs.shape != y_true.shape or not all(math.isfinite(v) for v in probs.flat):
                raise ValueError(f"scores must be {y_true.shape[0]} x {k} finite numbers")
            results["roc_auc"] = {name: _roc_auc(y_true[:, j], probs[:, j]) for j, name in enumerate(names)}
        return results
