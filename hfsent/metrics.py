"""Scoring through the ``evaluate`` library.

``evaluate.load("accuracy")`` fetches its script from the Hub, which an offline machine
cannot reach, so hfsent ships its own evaluate modules in ``hfsent/metric_modules`` and
loads them by path.  Any other name (e.g. ``"matthews_correlation"``) goes to
``evaluate.load`` as usual and needs the network or evaluate's cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import evaluate
import numpy as np
from datasets import Dataset, IterableDataset

from hfsent.batching import flat_ids

if TYPE_CHECKING:
    from hfsent.predict import SentimentClassifier

MODULES_DIR = Path(__file__).parent / "metric_modules"
CLASSIFICATION = "sentiment_classification"
REGRESSION = "rating_regression"
SCORE_CHUNK_ROWS = 8192


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


def predict_split(classifier: SentimentClassifier, ds: Dataset | IterableDataset
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model outputs for every review of ``ds`` (``input_ids``, and ``label`` if present)
    that has a token: ``(outputs, labels, rows)``, ``rows`` being their positions in ``ds``.
    The split is read chunk by chunk, so a streamed split is predicted in one pass."""
    max_length = classifier.config.preprocessing.max_length
    outputs, labels, rows, offset = [], [], [], 0
    for chunk in ds.with_format("arrow").iter(batch_size=SCORE_CHUNK_ROWS):
        values, splits, chunk_labels = flat_ids(chunk)
        keep = np.diff(splits) > 0
        if keep.any():
            # numpy views into the Arrow buffer, one per review: no Python list of every token id
            ids = np.split(values, splits[1:-1])
            outputs.append(classifier.predict_ids([x[:max_length] for x, k in zip(ids, keep) if k]))
            labels.append(chunk_labels[keep])
            rows.append(offset + np.flatnonzero(keep))
        offset += len(keep)
    if not outputs:
        raise ValueError("nothing to predict: the split has no review with a token")
    return np.concatenate(outputs).reshape(-1), np.concatenate(labels), np.concatenate(rows)


def score_split(classifier: SentimentClassifier, ds: Dataset | IterableDataset,
                extra_metrics: tuple[str, ...] = ()) -> dict[str, float]:
    """Scores of ``classifier`` on a split with ``input_ids`` and ``label``, and the number
    of reviews scored (``num_examples``; empty rows are skipped)."""
    outputs, labels, _ = predict_split(classifier, ds)
    if classifier.config.model.task == "rating":
        scores = score_ratings(classifier.clip_ratings(outputs), labels)
    else:
        scores = score_classification(outputs, labels, extra_metrics=extra_metrics)
    return {**scores, "num_examples": len(labels)}


def score_ratings(predictions, targets) -> dict[str, float]:
    """R², MSE and MAE, also after rounding predictions to whole stars (``*_rounded``)."""
    scores = score_regression(predictions, targets)
    rounded = score_regression(predictions, targets, round_predictions=True)
    return {**scores, **{f"{k}_rounded": v for k, v in rounded.items()}}


def score_dataset(
    classifier: SentimentClassifier,
    dataset: str,
    split: str = "test",
    text_column: str | None = None,
    label_column: str | None = None,
    max_samples: int | None = None,
    extra_metrics: tuple[str, ...] = (),
    streaming: bool = False,
) -> dict[str, float]:
    """Load ``split`` of ``dataset`` as training would and score ``classifier`` on it.

    ``validation`` is carved from train with the model's own seed and size, so on the
    training data it is the same validation split that the model was selected on; pass
    ``streaming=True`` for a model trained with ``--streaming``, whose split was carved by
    hash.

    Example:
        >>> score_dataset(clf, "stanfordnlp/imdb", split="test")["accuracy"]
        0.91
    """
    from hfsent.data import load_splits
    from hfsent.streaming import load_stream_splits
    from hfsent.tokenize import tokenize_dataset

    overrides = {"dataset": dataset, "max_train_samples": 0, "max_eval_samples": max_samples}
    if text_column:
        overrides["text_column"] = text_column
    if label_column:
        overrides["label_column"] = label_column
    cfg = classifier.config.replace(**overrides, streaming=streaming)
    splits = load_stream_splits(cfg) if streaming else load_splits(cfg)
    if split not in splits:
        raise ValueError(f"split must be one of {sorted(splits)}, got {split!r}")
    pre = cfg.preprocessing
    tokens = tokenize_dataset(splits[split], pre.spacy_model, pre.lowercase, cfg.runtime.num_proc)
    return score_split(classifier, classifier.vocab.encode_dataset(tokens), extra_metrics)
