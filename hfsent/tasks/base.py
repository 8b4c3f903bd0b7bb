"""The interface of a task kind: everything that differs between what models predict.

A :class:`Task` is built from the saved model component (:class:`~hfsent.config.ModelConfig`)
by :func:`hfsent.tasks.task_for`, the one place that chooses it.  Everything else asks the task
instead of comparing ``config.model.task`` or guessing from an array's shape:

* **labels**: :attr:`Task.labels` names the outputs; :meth:`Task.normalize` reads a split's
  labels (the data module's readers do the work);
* **head and loss**: :meth:`Task.head` ends the network, :attr:`Task.loss` trains it;
* **linear half and blend**: :meth:`Task.linear_kind` picks the linear model (a class of
  :mod:`hfsent.linear_kinds`), which :meth:`Task.fit_linear` fits through :mod:`hfsent.linear`;
  :meth:`Task.fit_blend` calls :mod:`hfsent.blend`;
* **metrics**: :meth:`Task.score`, and :attr:`Task.selection_key`, the one score that compares
  the halves of the blend (higher is better);
* **output**: :meth:`Task.present` (predict), :meth:`Task.rank` (the Endpoint handler, ``hfsent
  serve``, the widget), :meth:`Task.class_rows` (explain, the Space), :meth:`Task.arrow_fields`
  (``predict --dataset``), :meth:`Task.serve_outputs` (the SavedModel export);
* **card**: :attr:`Task.card_name`, :attr:`Task.metric_names`, :meth:`Task.output_sentence`.

Model outputs travel as :meth:`hfsent.predict.SentimentClassifier.predict_ids` returns them:
one number per text where the head has one unit, else a row per text.

Modules here import numpy, Keras, scikit-learn and the package's heavier modules inside the
methods that need them, so that the configuration (which validates the task's name) stays
cheap to import and nothing here closes an import cycle.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from hfsent.errors import InputError

if TYPE_CHECKING:
    import keras
    from datasets import Dataset

    from hfsent.config import Config, ModelConfig
    from hfsent.linear_kinds import LinearKind


class Task(ABC):
    """One kind of task, for one saved model component.

    Args:
        model: the model component (task name, label names, rating scale).
    """

    name: ClassVar[str]  # the saved ``model.task``
    predicts: ClassVar[str]  # "classes" or "ratings": what the folder screen expects of the output layer
    card_name: ClassVar[str]  # the model-index task name
    selection_key: ClassVar[str]  # the score that compares the blend's halves; higher is better
    label_fallbacks: ClassVar[tuple[str, ...]]  # label columns tried when none is named
    reads_classes: ClassVar[bool] = True  # the class names come from the normalized training split
    per_label_blend: ClassVar[bool] = False  # one blend weight per output unit, not one in all

    def __init__(self, model: ModelConfig) -> None:
        self.model = model

    # --- labels -----------------------------------------------------------------------------
    @property
    def labels(self) -> list[str]:
        """The names of the outputs, in order: the classes, or ``["rating"]``."""
        return self.model.classes

    def check_label_names(self, names: list[str]) -> None:
        """Refuse label names that do not fit this task (called when the config is built)."""
        return None

    def named(self, config: Config, train: Callable[[], Dataset]) -> Config:
        """``config`` with the label names that must be known before any split is read, from
        the raw training split that ``train()`` loads (none by default: they come from the
        normalized split)."""
        return config

    @abstractmethod
    def normalize(self, ds: Dataset, config: Config, split: str | None = None) -> Dataset:
        """One split with ``text`` and ``label`` (see :func:`hfsent.data.normalize_split`)."""

    def normalize_stream(self, ds: Any, config: Config, split: str | None = None) -> Any:
        """:meth:`normalize` for a stream (:func:`hfsent.streaming.read_stream` by default)."""
        from hfsent.streaming import read_stream

        return read_stream(ds, config, split)

    def class_counts(self, labels: np.ndarray) -> dict[str, int] | None:
        """Training rows per label name, from the training split's ``label`` values; ``None``
        where the labels are no classes."""
        counts = np.bincount(np.asarray(labels, np.int64), minlength=len(self.labels))
        return dict(zip(self.labels, counts.tolist()))

    def label_note(self, config: Config) -> str:
        """A note for the data stage's summary on how the labels were read (none by default)."""
        return ""

    def tally(self, counts: Counter, labels: list) -> None:
        """Add a chunk of training ``label`` values to ``counts`` (rows per label id), for a stream."""
        counts.update(labels)

    # --- the network ------------------------------------------------------------------------
    @property
    @abstractmethod
    def width(self) -> int:
        """Units of the output layer."""

    @abstractmethod
    def head(self, x: keras.KerasTensor) -> keras.KerasTensor:
        """The layers after the pooled GRU states, ending in the model's output."""

    @abstractmethod
    def describe_head(self) -> str:
        """The head in a few words, for :func:`hfsent.model.describe`."""

    loss: ClassVar[str]
    keras_metrics: ClassVar[tuple[str, ...]] = ("accuracy",)
    wide_activation: ClassVar[str | None]  # the linear half's output activation

    def check_width(self, width: int, config_name: str) -> None:
        """Refuse a loaded model whose output has another number of units than this task's."""
        if width != self.width:
            raise InputError(f"{config_name} has {self.said()}, so the model should have {self.width} "
                             f"output(s), but it has {width}: the folder's files do not belong together")

    def said(self) -> str:
        """What the saved config says, for :meth:`check_width`'s error."""
        return f"{len(self.labels)} label names"

    # --- the linear half and the blend ------------------------------------------------------
    binary = False  # one probability for two classes (P of the second); a property of Classify

    def linear_kind(self) -> LinearKind:
        """The :class:`hfsent.linear_kinds.LinearKind` that :meth:`fit_linear` fits; a task that
        fits its linear half otherwise (multi-label: one-vs-rest) overrides :meth:`fit_linear`."""
        raise NotImplementedError(f"{type(self).__name__} has no single linear kind")

    def fit_linear(self, model: keras.Model, train: Dataset, config: Config,
                   groups: np.ndarray | None = None) -> dict:
        """Fit the linear half on ``train`` (:func:`hfsent.linear.fit_wide_branch`); its strength
        is given, or chosen by cross-validation on train, whose folds score decisions (accuracy,
        or macro F1 where that is what selection optimises) and keep each of ``groups`` (one per
        row of ``train``: :attr:`hfsent.prepare.PreparedData.groups`) on one side."""
        from hfsent.linear import fit_wide_branch
        from hfsent.selection import sklearn_class_weight

        t, kind = config.training, self.linear_kind()
        folds_score = "macro_f1" if t.selection_metric == "macro_f1" else "accuracy"
        return fit_wide_branch(model, train, kind, kind.configured(t), config.preprocessing.max_length,
                               groups=groups, metric=folds_score,
                               class_weight=sklearn_class_weight(t.class_weight))

    def selection(self, metric: str) -> str:
        """What model selection optimises under ``--selection-metric metric``: that metric by
        default; a task without classes to count keeps its loss (``log_loss``)."""
        return metric

    def keras_class_weight(self, counts: dict[str, int] | None, choice: str) -> dict[int, float] | None:
        """Keras' ``class_weight`` under ``--class-weight choice``: none by default (a rating or
        a multi-label row is no single class); single-label classes weigh as the linear half's."""
        return None

    @abstractmethod
    def fit_blend(self, gru: np.ndarray, linear: np.ndarray, labels: np.ndarray, metric: str
                  ) -> tuple[float | list[float], dict]:
        """The GRU's weight in the blend, fitted on validation outputs of both halves for
        ``metric`` (:meth:`selection`), and the record of the paired test that guards it
        (:func:`hfsent.blend.guarded_weight`; empty where there is none)."""

    @abstractmethod
    def describe_blend(self, config: Config, figures: dict) -> tuple[str, str, str, str]:
        """``(what is blended, the loss the weight minimises, the name of the selection score,
        the linear model)`` in words; ``figures`` are the linear fit's (its strength, and how it
        was chosen)."""

    def quick_score(self, outputs: np.ndarray, labels: np.ndarray) -> float:
        """:attr:`selection_key` of ``outputs``."""
        return float(self.score(outputs, labels)[self.selection_key])

    def score_alone(self, outputs: np.ndarray, labels: np.ndarray,
                    test: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None) -> dict:
        """One half of the blend scored alone, as the blend is scored: :attr:`selection_key` on
        its validation ``outputs`` and, where ``test`` is given, on ``test()``'s ``(outputs, labels)``."""
        figures = {"validation": self.quick_score(outputs, labels)}
        if test is not None:
            figures["test"] = self.quick_score(*test())
        return figures

    # --- metrics ----------------------------------------------------------------------------
    metric_names: ClassVar[dict[str, str]]  # the card's model-index metrics, key -> name

    def fit_decision(self, validation: Callable[[], tuple[np.ndarray, np.ndarray]]) -> dict:
        """Model settings fitted after training on ``validation()``'s ``(outputs, labels)``, as
        ``config.replace`` values: none by default (nothing is predicted); a multi-label task's
        thresholds."""
        return {}

    @abstractmethod
    def score(self, outputs: np.ndarray, labels: np.ndarray, extra_metrics: tuple[str, ...] = ()) -> dict:
        """Every score of ``outputs`` against ``labels``."""

    # --- output -----------------------------------------------------------------------------
    def class_rows(self, outputs: np.ndarray) -> np.ndarray:
        """``(texts, labels)`` probabilities; refused by a task whose output is no class."""
        raise InputError(f"a {self.name} model has no class probabilities")

    @abstractmethod
    def present(self, outputs: np.ndarray) -> list[dict]:
        """predict's dict per text."""

    @abstractmethod
    def rank(self, outputs: np.ndarray, top_k: int | None = None) -> list[list[dict]]:
        """``[{"label", "score"}, ...]`` per text, as a ``transformers`` pipeline answers."""

    @abstractmethod
    def arrow_fields(self) -> list[tuple[str, Any]]:
        """``(name, pyarrow type)`` of :meth:`present`'s keys, for ``predict --dataset``."""

    @abstractmethod
    def serve_outputs(self, tf: Any, out: Any, empty: Any) -> dict:
        """The SavedModel signature's outputs from the model's ``out`` (NaN where ``empty``)."""

    def selected_labels(self, outputs: np.ndarray) -> list[list[str]] | None:
        """The names each text is given where a text may get several or none (the Space lists
        them beside the scores); ``None`` where the top score names the one class."""
        return None

    def widget(self, ranked: list[list[dict]]) -> list[list[dict]] | None:
        """The widget's outputs, or ``None`` where the Hub widget cannot show this task's."""
        return ranked

    def check_demo(self) -> None:
        """Refuse a model that the Space and explain cannot show (they draw class probabilities)."""
        return None

    # --- the card ---------------------------------------------------------------------------
    @abstractmethod
    def output_sentence(self, escape: Any) -> str:
        """The card's sentence on what the model outputs; ``escape`` makes a name Markdown text."""


def how_chosen(figures: dict) -> str:
    """How the linear half's strength in ``figures`` was chosen, in words (or nothing if given):
    the folds, and what kept rows together in one fold (:func:`hfsent.regularization.fold_groups`)."""
    cv = figures.get("cross_validation")
    if not isinstance(cv, dict):
        return ""
    grouped = f", folds grouped by {cv['grouped']}" if cv.get("grouped") else ""
    return f" (chosen by {cv['folds']}-fold cross-validation on train{grouped})"
