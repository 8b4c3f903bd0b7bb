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
from hfsent.errors import InputError, MissingError
from hfsent.fields import check_same_fields
from hfsent.labels import is_number

if TYPE_CHECKING:
    from hfsent.predict import SentimentClassifier

MODULES_DIR = Path(__file__).parent / "metric_modules"
CLASSIFICATION = "sentiment_classification"
MULTICLASS = "text_classification"
REGRESSION = "rating_regression"
SCORE_CHUNK_ROWS = 8192


def metric_path(name: str) -> Path:
    """The folder of a shipped evaluate module, for ``evaluate.load(str(path))``, from wherever
    hfsent is installed.

    Example:
        >>> evaluate.load(str(metric_path("sentiment_classification")))
    """
    path = MODULES_DIR / name
    if not (path / f"{name}.py").is_file():
        shipped = sorted(p.name for p in MODULES_DIR.iterdir() if (p / f"{p.name}.py").is_file())
        raise MissingError(f"hfsent ships no evaluate module {name!r}; it ships {shipped}")
    return path


def load_metric(name: str) -> evaluate.EvaluationModule:
    """A shipped module by name (see :func:`metric_path`), else whatever ``evaluate.load(name)`` finds.

    Example:
        >>> load_metric("sentiment_classification").compute(predictions=[0.9, 0.2], references=[1, 0])
        {'accuracy': 1.0, 'precision': 1.0, 'recall': 1.0, 'f1': 1.0, 'roc_auc': 1.0}
    """
    local = MODULES_DIR / name
    return evaluate.load(str(local) if local.is_dir() else name)


def score_classification(
    probabilities, labels, threshold: float = 0.5, extra_metrics: tuple[str, ...] = ()
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 and ROC AUC, plus any ``extra_metrics`` by name.

    Args:
        probabilities: the positive-class probability per review.
        labels: 0/1 per review.
        threshold: a probability at or above it predicts positive.
        extra_metrics: evaluate metrics by name, computed on the 0/1 predictions (online).

    Example:
        >>> score_classification([0.9, 0.8, 0.3, 0.6], [1, 0, 0, 1])["accuracy"]
        0.75
    """
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    results = load_metric(CLASSIFICATION).compute(
        predictions=probabilities, references=labels, threshold=threshold
    )
    predicted = (probabilities >= threshold).astype(np.int64)
    for name in extra_metrics:
        results.update(load_metric(name).compute(predictions=predicted, references=labels))
    return results


def score_classes(probabilities, labels, names: list[str]) -> dict:
    """Scores of more than two classes: accuracy, macro F1, one-vs-rest macro ROC AUC, the
    confusion matrix (rows: true class), per-class precision / recall / F1 / support under
    ``per_class``, and, for classes that are numbers (stars), the mean absolute error in classes.

    Example:
        >>> score_classes([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]], [0, 1], ["1", "2", "3"])["mae"]
        0.5
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    ordered = all(is_number(n) for n in names)
    raw = load_metric(MULTICLASS).compute(predictions=probabilities, references=labels, ordered=ordered)
    support = np.bincount(labels, minlength=len(names)).tolist()
    per_class = {name: {"precision": raw["precision"][i], "recall": raw["recall"][i], "f1": raw["f1"][i],
                        "support": support[i]} for i, name in enumerate(names)}
    scores = {k: v for k, v in raw.items() if k not in ("precision", "recall", "f1")}
    return {**scores, "per_class": per_class}


def score_regression(predictions, targets, round_predictions: bool = False) -> dict[str, float]:
    """MSE, MAE and R^2 of rating predictions.

    Example:
        >>> score_regression([2.0, 8.0], [1, 9])["mae"]
        1.0
    """
    return load_metric(REGRESSION).compute(
        predictions=np.asarray(predictions, dtype=np.float64).reshape(-1),
        references=np.asarray(targets, dtype=np.float64).reshape(-1),
        round_predictions=round_predictions,
    )


def predict_split(classifier: SentimentClassifier, ds: Dataset | IterableDataset
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model outputs for every review of ``ds`` (``input_ids``, and ``label`` if present)
    that has a token: ``(outputs, labels, rows)``, ``rows`` being their positions in ``ds``.
    The split is read chunk by chunk, so a streamed split is predicted in one pass.

    Example:
        >>> outputs, labels, rows = predict_split(clf, data.splits["validation"])
    """
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
        raise InputError("nothing to predict: the split has no review with a token")
    return np.concatenate(outputs), np.concatenate(labels), np.concatenate(rows)


def score_split(classifier: SentimentClassifier, ds: Dataset | IterableDataset,
                extra_metrics: tuple[str, ...] = ()) -> dict[str, float]:
    """Scores of ``classifier`` on a split with ``input_ids`` and ``label``, and the number
    of reviews scored (``num_examples``; empty rows are skipped).

    Example:
        >>> score_split(clf, data.splits["test"])["num_examples"]
        25000
    """
    outputs, labels, _ = predict_split(classifier, ds)
    scores = classifier.task.score(outputs, labels, extra_metrics)  # hfsent.tasks: each task's scores
    return {**scores, "num_examples": len(labels)}


def score_ratings(predictions, targets) -> dict[str, float]:
    """R², MSE and MAE, also after rounding predictions to whole stars (``*_rounded``).

    Example:
        >>> score_ratings([1.4, 9.6, 5.0], [1, 10, 5])["r2_rounded"]
        1.0
    """
    scores = score_regression(predictions, targets)
    rounded = score_regression(predictions, targets, round_predictions=True)
    return {**scores, **{f"{k}_rounded": v for k, v in rounded.items()}}


def score_dataset(
    classifier: SentimentClassifier,
    dataset: str,
    split: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    max_samples: int | None = None,
    extra_metrics: tuple[str, ...] = (),
    streaming: bool = False,
) -> dict:
    """Score ``classifier`` on one split of ``dataset``, read with the model's own columns,
    labels and preprocessing; the result also names the ``split`` scored.

    * ``split=None``: every row of a source with one split (a lone CSV), else its ``test``.
    * A split the source has: every row of it.
    * ``validation`` or ``test`` that the source lacks, and ``validation`` of a model that carved
      it (``--validation-split carve``, or saved before that choice existed): chosen as training
      chose it, the source's own ``dev`` / ``valid`` split or carved from its train split (the
      model's seed and sizes), so on the training data it is the split the model was selected
      (or tested) on.  Pass ``streaming=True`` for a model trained with
      ``--streaming``, whose splits were carved by hash.

    Example:
        >>> score_dataset(clf, "held_out.csv")["accuracy"]  # every row of the file
        0.91
        >>> score_dataset(clf, "stanfordnlp/imdb", split="validation")["num_examples"]
        2500
    """
    from hfsent.data import load_raw, normalize_split
    from hfsent.preprocess import Preprocessor
    from hfsent.splits import load_splits
    from hfsent.streaming import load_stream_splits, normalize_stream

    overrides = {"dataset": dataset, "max_train_samples": 0, "max_eval_samples": max_samples}
    if text_column:  # as many fields as the model reads (hfsent.fields)
        text_column = ",".join(check_same_fields(classifier.text_fields, text_column))
    overrides.update({k: v for k, v in (("text_column", text_column), ("label_column", label_column)) if v})
    cfg = classifier.config.replace(**overrides, streaming=streaming)
    names = list(load_raw(dataset, streaming=streaming))
    split = split or (names[0] if len(names) == 1 else "test" if "test" in names else None)
    if split is None:
        raise InputError(f"{dataset} has the splits {names}: choose one with --split")
    if split in names and not (split == "validation" and cfg.data.validation_split == "carve"):
        raw = load_raw(dataset, streaming=streaming)[split]
        if streaming:
            rows = normalize_stream(raw, cfg)
            rows = rows.take(max_samples) if max_samples else rows
        else:
            rows = normalize_split(raw, cfg, split)
            rows = rows.select(range(min(max_samples, len(rows)))) if max_samples else rows
    elif split in ("validation", "test"):
        rows = (load_stream_splits(cfg) if streaming else load_splits(cfg))[split]
    else:
        raise InputError(f"{dataset} has no split {split!r}; its splits are {names}")
    pre = Preprocessor.of(cfg, classifier.vocab)
    encoded = pre.encode_dataset(pre.tokenize_dataset(rows, streaming))
    return {**score_split(classifier, encoded, extra_metrics), "split": split}
