"""Multi-label classification: any number of K labels per text, none included.

* **Labels**: a ``label`` column of K float 0/1 values (:mod:`hfsent.multilabel` reads a list
  column, a string column split on ``--label-separator``, or ``--label-column a,b,c`` as one 0/1
  column per label).  The names come from the training split before any split is read
  (:meth:`Multilabel.named`), so every split is encoded with the same K names.
* **Head**: ``Dense(K, sigmoid)``, binary cross-entropy.
* **Linear half**: one-vs-rest logistic regression on the counts, one label at a time on the
  seen columns (:mod:`hfsent.tasks.ovr`); the blend weight is fitted per label, by that label's
  validation log loss (:func:`hfsent.blend.blend_weight` on its two columns).
* **Decision**: a threshold per label (``model.thresholds``), fitted on validation for F1
  (:func:`hfsent.thresholds.bagged_thresholds`: the F1-best cut averaged over bootstrap resamples
  of validation; 0.5 where a label has too few positives), saved in
  ``hfsent_config.json`` and checked on load.
* **Output**: as a ``transformers`` pipeline with a sigmoid: every label with its score, highest
  first; predict also gives ``labels``, the names above their thresholds (possibly none).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfsent.errors import InputError
from hfsent.names import OUTPUT
from hfsent.tasks.base import Task, how_chosen

MULTILABEL_METRIC_NAMES = {"jaccard": "Jaccard (per sample)", "micro_f1": "Micro F1", "macro_f1": "Macro F1",
                           "samples_f1": "F1 (per sample)", "subset_accuracy": "Subset accuracy",
                           "hamming_loss": "Hamming loss"}
LABEL_FALLBACKS = ("labels", "label", "emotions", "tags")


class Multilabel(Task):
    """K independent labels under sigmoids.

    Example:
        >>> task = Multilabel(ModelConfig(task="multilabel", label_names=["joy", "fear"],
        ...                               thresholds=[0.5, 0.3]))
        >>> task.present(np.array([[0.9, 0.4]]))[0]["labels"]
        ['joy', 'fear']
    """

    name = "multilabel"
    predicts = "classes"
    card_name = "Multi-label classification"
    selection_key = "micro_f1"
    label_fallbacks = LABEL_FALLBACKS
    reads_classes = False  # the names are read before the splits (named)
    per_label_blend = True
    loss = "binary_crossentropy"
    keras_metrics = ("binary_accuracy",)
    wide_activation = "sigmoid"
    metric_names = MULTILABEL_METRIC_NAMES

    @property
    def thresholds(self) -> np.ndarray:
        """Each label's decision threshold: the saved ones, or 0.5 before they are fitted."""
        saved = self.model.thresholds
        return np.asarray(saved if saved is not None else [0.5] * self.width, np.float64)

    def check_label_names(self, names: list[str]) -> None:
        if not (len(names) >= 2 and len(set(names)) == len(names)):
            raise InputError(f"label_names must hold at least 2 distinct names, one per label, got "
                             f"{len(names)} ({len(set(names))} distinct)")
        from hfsent.thresholds import check_thresholds

        if self.model.thresholds is not None:
            check_thresholds(self.model.thresholds, len(names), "model.thresholds")

    # --- labels -----------------------------------------------------------------------------
    def label_columns(self, config) -> str | list[str]:
        """``--label-column``: one column, or several 0/1 columns given as ``a,b,c``."""
        parts = [p.strip() for p in config.data.label_column.split(",") if p.strip()]
        return parts[0] if len(parts) == 1 else parts

    def named(self, config, train) -> Any:
        """``config`` with ``label_names`` read from the raw training split, unless it has them."""
        if config.model.label_names:
            return config
        from hfsent.multilabel import label_names

        raw = train()
        names = label_names(raw, self._column(config, raw), config.data.label_separator)
        return config.replace(label_names=names)

    def _column(self, config, ds) -> str | list[str]:
        wanted = self.label_columns(config)
        columns = ds.column_names or list(ds.features or {})
        if isinstance(wanted, list) or wanted in (columns or [wanted]):
            return wanted
        found = next((c for c in LABEL_FALLBACKS if c in columns), None)
        if found is None:
            raise InputError(f"no label column {wanted!r} in the data; columns found: {list(columns)[:20]}")
        return found

    def normalize(self, ds, config, split=None):
        from hfsent.multilabel_data import normalize_multilabel

        return normalize_multilabel(ds, config, self._column(config, ds), self.model.label_names, split)

    def normalize_stream(self, ds, config, split=None):
        return self.normalize(ds, config, split)  # the multi-label reader takes streams too

    def class_counts(self, labels: np.ndarray) -> dict[str, int]:
        """Training rows that carry each label."""
        counts = np.asarray(labels).reshape(-1, self.width).sum(axis=0).astype(int)
        return dict(zip(self.model.classes, counts.tolist()))

    def tally(self, counts, labels) -> None:
        counts.update(k for row in labels for k, value in enumerate(row) if value)

    # --- the network ------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return len(self.model.classes)

    def head(self, x):
        from keras import layers

        return layers.Dense(self.width, activation="sigmoid", name=OUTPUT)(x)

    def describe_head(self) -> str:
        return f"Dense({self.width}, sigmoid): one probability per label"

    # --- the linear half and the blend ------------------------------------------------------
    def fit_linear(self, model, train, config, groups=None) -> dict:
        from hfsent.tasks.ovr import fit_one_vs_rest

        return fit_one_vs_rest(model, train, config.training.wide_c, config.preprocessing.max_length, groups)

    def selection(self, metric: str) -> str:
        return "log_loss"  # the labels' own losses; thresholds are fitted for F1 afterwards

    def fit_blend(self, gru, linear, labels, metric) -> tuple[list[float], dict]:
        """One GRU weight per label, each by that label's log loss; no paired guard."""
        from hfsent.blend import blend_weight

        labels = np.asarray(labels).astype(int)
        two = lambda p: np.stack([1 - p, p], axis=1)  # noqa: E731
        return [blend_weight(two(gru[:, k]), two(linear[:, k]), labels[:, k]) for k in range(self.width)], {}

    def describe_blend(self, config, figures) -> tuple[str, str, str, str]:
        c = figures["c"]
        c = f"C={c:g}" if np.ndim(c) == 0 else f"C from {min(c):g} to {max(c):g}"
        return ("probabilities (per label)", "each label's log loss",
                "micro F1 (each at thresholds fitted on validation for it, as the blend's are)",
                f"one-vs-rest logistic regression, {c}{how_chosen(figures)}")

    # --- metrics ----------------------------------------------------------------------------
    def decide(self, outputs: np.ndarray) -> np.ndarray:
        """0/1 per text and label: the score at or above the label's threshold."""
        return (np.asarray(outputs, np.float64).reshape(-1, self.width) >= self.thresholds).astype(int)

    def score(self, outputs, labels, extra_metrics=()):
        from hfsent.metrics import load_metric

        outputs = np.asarray(outputs, np.float64).reshape(-1, self.width)
        raw = load_metric("multilabel_classification").compute(
            predictions=self.decide(outputs).tolist(), references=np.asarray(labels).astype(int).tolist(),
            scores=outputs.tolist(), label_names=self.model.classes)
        per_label = ("precision", "recall", "f1", "support", "roc_auc")
        per_class = {name: {key: raw[key][name] for key in per_label if key in raw}
                     for name in self.model.classes}
        # one number per key at the top, as every task's scores; each label's under per_class
        return {**{k: v for k, v in raw.items() if k not in per_label}, "per_class": per_class}

    def fit_decision(self, validation) -> dict:
        """The thresholds fitted on validation outputs (bagged: :func:`hfsent.thresholds.bagged_thresholds`),
        as config values."""
        from hfsent.thresholds import bagged_thresholds

        outputs, labels = validation()
        fitted = bagged_thresholds(np.asarray(labels).astype(int), np.asarray(outputs, np.float64))
        return {"thresholds": [round(float(t), 4) for t in fitted]}

    def score_alone(self, outputs, labels, test=None) -> dict:
        """A half's scores at thresholds fitted on validation for that half (as the blend's are
        fitted for the blend before it is scored), not at 0.5; they are in the record too."""
        from dataclasses import replace

        fitted = self.fit_decision(lambda: (outputs, labels))
        own = Multilabel(replace(self.model, **fitted))
        return {**Task.score_alone(own, outputs, labels, test), **fitted}

    # --- output -----------------------------------------------------------------------------
    def class_rows(self, outputs: np.ndarray) -> np.ndarray:
        return np.asarray(outputs).reshape(-1, self.width)

    def present(self, outputs: np.ndarray) -> list[dict]:
        """``{"labels", "scores"}`` per text: the names at or above their thresholds (in label
        order, possibly none) and every label's probability."""
        names, rows = self.model.classes, self.class_rows(outputs)
        return [{"labels": chosen, "scores": {n: float(p) for n, p in zip(names, row)}}
                for row, chosen in zip(rows, self.selected_labels(rows))]

    def selected_labels(self, outputs: np.ndarray) -> list[list[str]]:
        """The names at or above their thresholds, per text, in label order (possibly none)."""
        return [[n for n, c in zip(self.model.classes, chosen) if c] for chosen in self.decide(outputs)]

    def rank(self, outputs: np.ndarray, top_k: int | None = None) -> list[list[dict]]:
        """Every label with its probability, highest first, and ``"selected"``: whether it is
        at or above its threshold (a pipeline with ``function_to_apply="sigmoid"``, plus that flag)."""
        names, out = self.model.classes, []
        rows = self.class_rows(outputs)
        for row, chosen in zip(rows, self.decide(rows)):
            order = np.argsort(-row, kind="stable")[:top_k]
            out.append([{"label": names[i], "score": float(row[i]), "selected": bool(chosen[i])}
                        for i in order])
        return out

    def arrow_fields(self) -> list[tuple[str, Any]]:
        import pyarrow as pa

        return [("labels", pa.list_(pa.string())),
                ("scores", pa.struct([(name, pa.float64()) for name in self.model.classes]))]

    def serve_outputs(self, tf: Any, out: Any, empty: Any) -> dict:
        scores = tf.where(empty[:, None], float("nan"), out)
        thresholds = tf.constant(self.thresholds, tf.float32)
        return {"scores": scores, "selected": tf.logical_and(scores >= thresholds, ~empty[:, None])}

    # --- the card ---------------------------------------------------------------------------
    def output_sentence(self, escape) -> str:
        sentence = (f"It outputs a probability for each of its {self.width} labels (independent sigmoids); a "
                    "label is predicted where its probability reaches its threshold, fitted per label on the "
                    "validation split for F1")
        if self.model.thresholds is None:
            return sentence + " (0.5 until fitted)."
        pairs = ", ".join(f"**{escape(n)}** {t:.2f}" for n, t in zip(self.model.classes, self.thresholds))
        return f"{sentence}: {pairs}."
