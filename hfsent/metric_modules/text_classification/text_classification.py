"""Classification metrics for any number of classes, as one ``evaluate`` module.

Load it offline with ``evaluate.load(path_to_this_folder)``.  Inputs are one row of class
probabilities per example (``predictions``) and class ids (``references``).  The predicted class
is the most probable one.  Returns accuracy, macro F1, per-class precision, recall and F1 (lists in
class order), the confusion matrix (rows: true class, columns: predicted), and one-vs-rest macro
ROC AUC over the classes present in the references.  With ``ordered=True`` (classes that are a
scale, such as stars) it adds the mean absolute error in classes.
"""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = "Accuracy, macro F1, per-class scores, confusion matrix and one-vs-rest ROC AUC."
_KWARGS = """
Args:
    predictions (list of list of float): per example, the probability of each class.
    references (list of int): true class ids, 0 to n_classes - 1.
    ordered (bool): the classes are a scale; also return mae (in classes). Default False.
Returns:
    dict with accuracy, macro_f1, roc_auc (floats); precision, recall, f1 (lists, one per class);
    confusion_matrix (list of lists); and mae if ordered.
"""


def _roc_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """Mann-Whitney U over average ranks (ties count half); nan if one side is empty."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - counts + 1 + (counts - 1) / 2.0)[inverse]
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class TextClassification(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("float64")),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, ordered: bool = False):
        probs = np.asarray(predictions, dtype=np.float64)
        labels = np.asarray(references, dtype=np.int64)
        n = probs.shape[1]
        if labels.min() < 0 or labels.max() >= n:
            raise ValueError(f"references must be class ids in [0, {n})")
        predicted = probs.argmax(axis=1)
        confusion = np.zeros((n, n), dtype=np.int64)
        np.add.at(confusion, (labels, predicted), 1)
        tp = np.diag(confusion).astype(np.float64)
        precision = _ratio(tp, confusion.sum(axis=0).astype(np.float64))
        recall = _ratio(tp, confusion.sum(axis=1).astype(np.float64))
        f1 = _ratio(2 * precision * recall, precision + recall)
        present = [k for k in range(n) if (labels == k).any()]
        aucs = [_roc_auc(labels == k, probs[:, k]) for k in present]
        results = {
            "accuracy": float((predicted == labels).mean()),
            "macro_f1": float(f1[present].mean()),
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "f1": f1.tolist(),
            "confusion_matrix": confusion.tolist(),
            "roc_auc": float(np.nanmean(aucs)) if len(present) > 1 else float("nan"),
        }
        if ordered:
            results["mae"] = float(np.abs(predicted - labels).mean())
        return results
