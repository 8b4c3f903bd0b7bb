"""Task kinds, one class each (see :mod:`hfsent.tasks.base`), and the one place that picks one.

``model.task`` in ``hfsent_config.json`` names the kind: ``"sentiment"`` (single-label
classification, two classes or more: :class:`~hfsent.tasks.classify.Classify`), ``"multilabel"``
(any number of labels per text: :class:`~hfsent.tasks.multilabel.Multilabel`) or ``"rating"``
(regression: :class:`~hfsent.tasks.rating.Rating`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hfsent.errors import InputError
from hfsent.tasks.base import Task
from hfsent.tasks.classify import BINARY_METRIC_NAMES, MULTICLASS_METRIC_NAMES, Classify
from hfsent.tasks.multilabel import MULTILABEL_METRIC_NAMES, Multilabel
from hfsent.tasks.rating import RATING_METRIC_NAMES, Rating

if TYPE_CHECKING:
    from hfsent.config import ModelConfig

TASKS: dict[str, type[Task]] = {cls.name: cls for cls in (Classify, Multilabel, Rating)}
TASK_NAMES = tuple(TASKS)
# Every key that a task's card may list (metrics.json's scores are checked against them)
METRIC_KEYS = frozenset({*BINARY_METRIC_NAMES, *MULTICLASS_METRIC_NAMES, *MULTILABEL_METRIC_NAMES,
                         *RATING_METRIC_NAMES})


def task_for(model: ModelConfig) -> Task:
    """The task of a model component, by its saved ``task`` name.

    Example:
        >>> task_for(ModelConfig(task="rating")).labels
        ['rating']
    """
    if model.task not in TASKS:
        raise InputError(f"task must be one of {', '.join(map(repr, TASK_NAMES))}, got {model.task!r}")
    return TASKS[model.task](model)


__all__ = ["METRIC_KEYS", "TASKS", "TASK_NAMES", "Task", "task_for"]
