"""Binary sentiment classification metrics as one ``evaluate`` module.

Load it offline with ``evaluate.load(path_to_this_folder)``.  Inputs are positive-class
probabilities (``predictions``) and 0/1 labels (``references``); ``threshold`` (default 0.5)
turns probabilities into labels.  Returns accuracy, precision, recall and F1 of the
positive class, and ROC AUC (``nan`` when only one class is present in the references).
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = "Accuracy, precision, recall, F1 (positive class) and ROC AUC for binary sentiment."
_KWARGS = """
Args:
    predictions (list of float): probability of the positive class, in [0, 1].
    references (list of int): true labels, 0 or 1.
    threshold (float): probabilities >= threshold count as positive. Default 0.5.
Returns:
    dict with accuracy, precision, recall, f1, roc_auc (floats).
"""


def _roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney U statistic over average ranks, so tied scores count half."""
    n_pos = int(labels.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    uniq, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1
    ranks = (first_rank + (counts - 1) / 2.0)[inverse]
    return float((ranks[labels == 1].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else 0.0


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class SentimentClassification(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("float64"), "references": datasets.Value("int64")}
            ),
        )

    def _compute(self, predictions, references, threshold: float = 0.5):
        scores = np.asarray(predictions, dtype=np.float64)
        labels = np.asarray(references, dtype=np.int64)
        if not np.isin(labels, (0, 1)).all():
            raise ValueError("references must be 0 or 1")
        predicted = (scores >= threshold).astype(np.int64)
        tp = int(((predicted == 1) & (labels == 1)).sum())
        fp = int(((predicted == 1) & (labels == 0)).sum())
        fn = int(((predicted == 0) & (labels == 1)).sum())
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        return {
            "accuracy": float((predicted == labels).mean()),
            "precision": precision,
            "recall": recall,
            "f1": _ratio(2 * precision * recall, precision + recall),
            "roc_auc": _roc_auc(labels, scores),
        }
