"""Single-label classification: two classes under one sigmoid unit, or N under a softmax.

Two classes keep one output unit, P(``classes[1]``), as every model saved so far does, so that
older folders load unchanged; :meth:`Classify.class_rows` widens it to ``[1 - p, p]`` for the
callers that want a row per text.  The linear half is the NB-weighted logistic regression for
two classes and a multinomial one for more (:mod:`hfsent.linear`); the blend weight minimises
the validation log loss (:func:`hfsent.blend.blend_weight`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from hfsent.errors import InputError
from hfsent.names import OUTPUT
from hfsent.tasks.base import Task, how_chosen

if TYPE_CHECKING:
    from hfsent.linear_kinds import LinearKind

log = logging.getLogger(__name__)

# The card's model-index metrics: two classes, and more
BINARY_METRIC_NAMES = {"accuracy": "Accuracy", "f1": "F1", "precision": "Precision", "recall": "Recall",
                       "roc_auc": "ROC AUC"}
MULTICLASS_METRIC_NAMES = {"accuracy": "Accuracy", "macro_f1": "Macro F1", "roc_auc": "ROC AUC (one-vs-rest)",
                           "mae": "MAE (classes)"}


class Classify(Task):
    """Sentiment (or any single-label) classification over ``model.classes``.

    Example:
        >>> Classify(ModelConfig(label_names=["neg", "neu", "pos"])).width
        3
    """

    name = "sentiment"
    predicts = "classes"
    card_name = "Sentiment classification"
    selection_key = "accuracy"
    label_fallbacks = ("label", "sentiment", "labels")

    @property
    def binary(self) -> bool:
        return len(self.model.classes) == 2

    def check_label_names(self, names: list[str]) -> None:
        if not (2 <= len(names) <= 100 and len(set(names)) == len(names)):
            raise InputError(f"label_names must hold 2 to 100 distinct names, one per class, got "
                             f"{len(names)} ({len(set(names))} distinct)")

    def named(self, config, train):
        """A label column of lists (``Sequence(ClassLabel)``, lists of strings) makes the run
        multi-label (:class:`~hfsent.tasks.multilabel.Multilabel`), whose names are read here;
        otherwise nothing is read before the splits.  A stream is told apart the same way: by its
        features, or, where they are unknown until read (JSON lines), by its first rows.  A CSV
        cannot type a list: a separated label cell needs ``--multi-label``."""
        if "," in config.data.label_column:
            return config
        from hfsent.multilabel import LIST, features_of, layout
        from hfsent.tasks.multilabel import Multilabel

        raw = train()
        features = features_of(raw)
        column = next((c for c in (config.data.label_column, *self.label_fallbacks) if c in features), None)
        try:
            listed = column is not None and layout(features, column) == LIST
        except InputError:  # a column of classes
            listed = False
        if not listed:
            return config
        log.info("the label column %r holds lists: training a multi-label model", column)
        config = config.replace(task=Multilabel.name, label_column=column, label_names=None)
        return Multilabel(config.model).named(config, lambda: raw)

    def label_note(self, config) -> str:
        """Says when class names look like several labels in one cell (they hold the label
        separator, or are a bracketed list as pandas writes one to CSV), which a CSV cannot type:
        such data needs ``--multi-label``.  The names are counted, not quoted (they are data)."""
        sep = config.data.label_separator
        listed = [n for n in self.model.classes
                  if (sep and sep in n) or (n.startswith("[") and n.endswith("]"))]
        if not listed:
            return ""
        note = (f"{len(listed)} of the {len(self.model.classes)} class names look like several labels in one "
                f"cell (they hold {sep!r} or brackets): if a text may have several labels, train with "
                "--multi-label (a CSV cell cannot hold a list)")
        log.warning(note)
        return "; " + note

    def normalize(self, ds, config, split=None):
        from hfsent.data import normalize

        data = config.data
        return normalize(ds, data.text_column, data.label_column, data.group_column, self.model.label_names,
                         split)

    # --- the network ------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return 1 if self.binary else len(self.model.classes)

    @property
    def loss(self) -> str:  # type: ignore[override]
        return "binary_crossentropy" if self.binary else "sparse_categorical_crossentropy"

    @property
    def wide_activation(self) -> str:  # type: ignore[override]
        return "sigmoid" if self.binary else "softmax"

    def head(self, x):
        from keras import layers

        return layers.Dense(self.width, activation=self.wide_activation, name=OUTPUT)(x)

    def describe_head(self) -> str:
        return "Dense(1, sigmoid)" if self.binary else f"Dense({self.width}, softmax)"

    # --- the linear half and the blend ------------------------------------------------------
    def linear_kind(self) -> LinearKind:
        from hfsent.linear_kinds import NaiveBayesLogistic, ScaledMultinomial

        return NaiveBayesLogistic() if self.binary else ScaledMultinomial(self.width)

    def keras_class_weight(self, counts, choice):
        from hfsent.selection import class_weights

        return class_weights(counts, choice)

    def fit_blend(self, gru, linear, labels, metric):
        from hfsent.blend import blend_weight, guarded_weight, macro_f1_weight

        gru, linear = self.class_rows(gru), self.class_rows(linear)
        fit = macro_f1_weight if metric == "macro_f1" else blend_weight
        return guarded_weight(gru, linear, labels, fit(gru, linear, labels), metric)

    def describe_blend(self, config, figures) -> tuple[str, str, str, str]:
        linear = ("naive-Bayes-weighted logistic regression" if self.binary
                  else "multinomial logistic regression") + f", C={figures['c']:g}{how_chosen(figures)}"
        metric = config.training.selection_metric
        loss = {"macro_f1": "macro F1", "accuracy": "accuracy"}.get(metric, "log loss")
        return "probability", loss, "accuracy", linear

    def quick_score(self, outputs: np.ndarray, labels: np.ndarray) -> float:
        return float((self.class_rows(outputs).argmax(axis=1) == np.asarray(labels).reshape(-1)).mean())

    # --- metrics ----------------------------------------------------------------------------
    @property
    def metric_names(self) -> dict[str, str]:  # type: ignore[override]
        return BINARY_METRIC_NAMES if self.binary else MULTICLASS_METRIC_NAMES

    def score(self, outputs, labels, extra_metrics=()):
        from hfsent.metrics import score_classes, score_classification

        if self.binary:
            return score_classification(outputs, labels, extra_metrics=extra_metrics)
        return score_classes(outputs, labels, self.model.classes)

    # --- output -----------------------------------------------------------------------------
    def class_rows(self, outputs: np.ndarray) -> np.ndarray:
        """``(texts, classes)``: a binary model's one number per text becomes ``[1 - p, p]``."""
        outputs = np.asarray(outputs)
        if self.binary:
            p = outputs.reshape(-1)
            return np.stack([1 - p, p], axis=1)
        return outputs.reshape(len(outputs), self.width)

    def present(self, outputs: np.ndarray) -> list[dict]:
        """``{"label", "score", "scores"}`` per text, and ``probability_positive`` for two classes."""
        names, out = self.model.classes, []
        for row in self.class_rows(outputs):
            best = int(np.argmax(row))
            result = {"label": names[best], "score": float(row[best]),
                      "scores": {name: float(p) for name, p in zip(names, row)}}
            out.append({**result, "probability_positive": float(row[1])} if self.binary else result)
        return out

    def rank(self, outputs: np.ndarray, top_k: int | None = None) -> list[list[dict]]:
        names, out = self.model.classes, []
        for row in self.class_rows(outputs):
            order = np.argsort(-row, kind="stable")[:top_k]
            out.append([{"label": names[i], "score": float(row[i])} for i in order])
        return out

    def arrow_fields(self) -> list[tuple[str, Any]]:
        import pyarrow as pa

        scores = pa.struct([(name, pa.float64()) for name in self.model.classes])
        fields = [("label", pa.string()), ("score", pa.float64()), ("scores", scores)]
        return fields + ([("probability_positive", pa.float64())] if self.binary else [])

    def serve_outputs(self, tf: Any, out: Any, empty: Any) -> dict:
        names = tf.constant(list(self.model.classes))
        scores = tf.concat([1.0 - out, out], axis=1) if self.binary else out
        scores = tf.where(empty[:, None], float("nan"), scores)
        label = tf.where(empty, tf.constant(-1, tf.int64), tf.argmax(scores, axis=1))
        return {"scores": scores, "label": label,
                "label_name": tf.where(empty, "", tf.gather(names, tf.maximum(label, 0)))}

    # --- the card ---------------------------------------------------------------------------
    def output_sentence(self, escape) -> str:
        if not self.binary:
            return f"It outputs the probability of each of its {self.width} classes (a softmax)."
        positive, negative = (escape(name) for name in self.model.classes[1::-1])
        return f"It outputs the probability of **{positive}** (against **{negative}**)."

