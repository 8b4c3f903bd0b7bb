"""What model selection optimises (``--selection-metric``) and how classes are weighed
(``--class-weight``), for the fit stage.

* :func:`early_stopping` watches the selection metric on validation: ``log_loss`` is Keras'
  ``val_loss`` (the loss the GRU is trained on), ``accuracy`` its ``val_accuracy``, and
  ``macro_f1`` a figure that :class:`MacroF1` computes on the validation batches after each
  epoch, since Keras has no such metric for a sparse softmax.
* :func:`class_weights` gives each class the weight ``n / (k * n_c)`` under ``balanced``, as
  scikit-learn's ``class_weight="balanced"`` does for the linear half, so a class of few
  examples counts as much in the loss as a common one.

Limits: ratings (regression) have neither; their early stopping keeps ``val_loss``.  The weights
apply to the training loss only: validation's loss stays unweighted, so ``log_loss`` selection
keeps measuring calibration on the data as it comes.
"""

from __future__ import annotations

import keras
import numpy as np

_MONITOR = {"log_loss": ("val_loss", "min"), "accuracy": ("val_accuracy", "max"),
            "macro_f1": ("val_macro_f1", "max"),
            "squared_error": ("val_loss", "min")}  # a rating's loss (Task.selection)


class MacroF1(keras.callbacks.Callback):
    """Puts ``val_macro_f1`` (macro-averaged F1 on ``validation``'s batches) into each epoch's logs,
    for :class:`keras.callbacks.EarlyStopping` to read; it must come before that callback."""

    def __init__(self, validation, task) -> None:
        super().__init__()
        self.validation, self.task = validation, task

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        from sklearn.metrics import f1_score

        predicted, labels = [], []
        for ids, y in self.validation:
            out = np.asarray(self.model(ids, training=False))
            predicted.append(self.task.class_rows(out).argmax(axis=1))
            labels.append(np.asarray(y).reshape(-1).astype(int))
        if logs is not None:
            logs["val_macro_f1"] = float(f1_score(np.concatenate(labels), np.concatenate(predicted),
                                                  average="macro", zero_division=0))


def early_stopping(metric: str, patience: int, validation, task) -> list[keras.callbacks.Callback]:
    """The callbacks that stop training on ``metric`` (one of :data:`hfsent.config.SELECTION_METRICS`) and
    restore the best epoch's weights: :class:`MacroF1` first where the metric needs it (its
    predictions are the argmax of ``task``'s class rows, :meth:`hfsent.tasks.base.Task.class_rows`).

    Example:
        >>> [type(c).__name__ for c in early_stopping("macro_f1", 1, val_ds, task)]
        ['MacroF1', 'EarlyStopping']
    """
    monitor, mode = _MONITOR[metric]
    stop = keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience,
                                         restore_best_weights=True)
    return [MacroF1(validation, task), stop] if monitor == "val_macro_f1" else [stop]


def class_weights(counts: dict[str, int] | None, choice: str) -> dict[int, float] | None:
    """Keras' ``class_weight`` for training rows per class ``counts`` (in id order): ``None`` for
    ``none`` or for ratings (``counts`` is ``None``); ``n / (k * n_c)`` for ``balanced``.

    Example:
        >>> class_weights({"neg": 30, "pos": 10}, "balanced")
        {0: 0.6666666666666666, 1: 2.0}
    """
    if choice != "balanced" or not counts:
        return None
    n, k = sum(counts.values()), len(counts)
    return {i: n / (k * c) if c else 1.0 for i, c in enumerate(counts.values())}


def sklearn_class_weight(choice: str) -> str | None:
    """scikit-learn's ``class_weight`` for the linear half: ``"balanced"`` or ``None``."""
    return "balanced" if choice == "balanced" else None
