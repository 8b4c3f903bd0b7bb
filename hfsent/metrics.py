"""Scoring through the ``evaluate`` library.

``evaluate.load("accuracy")`` fetches its script from the Hub, which an offline machine
cannot reach, so hfsent ships its own evaluate modules in ``hfsent/metric_modules`` and
loads them by path.  Any other name (e.g. ``"matthews_correlation"``) goes to
``evaluate.load`` as usual and needs the network or evaluate's cache.
"""

from __future__ import annotations

from pathlib import Path

import evaluate
import numpy as np

MODULES_DIR = Path(__file__).parent / "metric_modules"
CLASSIFICATION = "sentiment_classification"
REGRESSION = "rating_regression"


def load_metric(name: str) -> evaluate.EvaluationModule:
    """A shipped module by folder name, else whatever ``evaluate.load(name)`` finds."""
    local = MODULES_DIR / name
    return evaluate.load(str(local) if local.is_dir() else name)


def score_classification(
    probabilities, labels, threshold: float = 0.5, extra_metrics: tuple[str, ...] = ()
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and ROC AUC, plus any ``extra_metrics`` by name."""
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    results = load_metric(CLASSIFICATION).compute(
        predictions=probabilities, references=labels, threshold=threshold
    )
    predicted = (probabilities >= threshold).astype(np.int64)
    for name in extra_metrics:
        results.update(load_metric(name).compute(predictions=predicted, references=labels))
    return results


def score_regression(predictions, targets, round_predictions: bool = False) -> dict[str, float]:
    """MSE, MAE and R^2 of rating predictions."""
    return load_metric(REGRESSION).compute(
        predictions=np.asarray(predictions, dtype=np.float64).reshape(-1),
        references=np.asarray(targets, dtype=np.float64).reshape(-1),
        round_predictions=round_predictions,
    )
