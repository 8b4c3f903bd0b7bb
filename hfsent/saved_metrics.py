"""``metrics.json`` of a model folder read back: size-capped, and checked for the shape that the
model card and the commit message read, so that a stranger's file is an
:class:`~hfsent.errors.InputError` naming the field, never a traceback in the card's template.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hfsent.errors import InputError
from hfsent.locate import closed_file
from hfsent.names import METRICS_NAME
from hfsent.saved_config import read_json
from hfsent.tasks import METRIC_KEYS

MAX_METRICS_BYTES = 16 << 20  # a trained model's is 5 KB, with 100 classes' confusion matrix 100 KB
_SCORES = {*METRIC_KEYS, "num_examples"}


def read_metrics(folder: Path, pushed: bool = False) -> dict:
    """``metrics.json`` of ``folder`` (``{}`` if there is none), checked with
    :func:`~hfsent.saved_config.read_json` and for the shape that the model card reads: else an
    :class:`~hfsent.errors.InputError` naming the field.  ``pushed``: see ``closed_file``.

    Example:
        >>> read_metrics(Path("runs/m"))["test"]["accuracy"]
        0.9152
    """
    if not os.path.lexists(folder / METRICS_NAME):
        return {}
    metrics = read_json(closed_file(folder, METRICS_NAME, pushed), MAX_METRICS_BYTES)
    wrong = _metrics_problem(metrics)
    if wrong:
        raise InputError(f"{METRICS_NAME} in {folder} is not as hfsent writes it: {wrong}")
    return metrics


def _metrics_problem(metrics: dict) -> str | None:
    """What in ``metrics`` is not of the shape that the model card and the commit message read."""
    for split in ("validation", "test"):
        scores = metrics.get(split) or {}
        if not isinstance(scores, dict) or not all(_number(scores.get(k), True) for k in _SCORES):
            return f"{split} must be an object of numbers"
        classes = scores.get("per_class") or {}
        if not _objects(classes.values() if isinstance(classes, dict) else None,
                        lambda c: all(_number(c.get(k)) for k in ("precision", "recall", "f1"))):
            return f"{split}.per_class must hold the precision, recall and f1 of each class"
    if not isinstance(metrics.get("num_examples") or {}, dict):
        return "num_examples must be an object"
    if not _objects(metrics.get("stages") or [], lambda s: isinstance(s.get("figures") or {}, dict)
                    and isinstance((s.get("figures") or {}).get("classes") or {}, dict)):
        return "stages must be a list of objects, whose figures and classes are objects"
    if not _objects(metrics.get("widget") or [], lambda w: isinstance(w.get("text"), str) and _objects(
            w.get("output"), lambda o: isinstance(o.get("label"), str) and _number(o.get("score")))):
        return "widget must be a list of texts, each with an output of labels and scores"
    return None


def _objects(items, check: Callable[[dict], bool]) -> bool:
    """Whether ``items`` is a list (or a dict's values) of objects that each pass ``check``."""
    listed = isinstance(items, (list, type({}.values())))
    return listed and all(isinstance(item, dict) and check(item) for item in items)


def _number(value, optional: bool = False) -> bool:
    """A JSON number that Python's float holds (a 400-digit integer overflows it), or None."""
    if optional and value is None:
        return True
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True

