"""The GRU's schedule: learning-rate decay, early-stopping patience and most epochs, following the
length of an epoch where the user leaves them unset (as ``max_length`` follows the texts' lengths).

The learning rate decays once per epoch: ×0.3, with patience 1 over at most 8 epochs, was tuned
on IMDB (176 steps an epoch at batch 128).  On a set of a few thousand texts an epoch is a few
dozen steps, and the same decay stops the GRU before it has learnt: after 4 epochs of 7 steps its
rate is under 1% of the start.  So an epoch of fewer than :data:`SHORT_EPOCH_STEPS` steps gets
:data:`SHORT`: a constant rate, patience 2, at most 12 epochs.  Measured (BENCHMARKS.md,
"Defaults for small data"), paired on validation, 3 seeds each:

* SemEval E-c's 6,154 tweets (49 steps): the blend's macro F1 +0.024, Jaccard +0.034 (p 0.005);
* IMDB first sentences, 800 and 2,400 training sentences (7 and 19 steps): the GRU alone
  +5.2 (p 0.06) and +4.3 (p 0.001) points of accuracy, its log loss lower (p 0.02 both); the
  blend, mostly its linear half there, within noise;
* 8,000 and 16,000 sentences (63 and 125 steps): no difference beyond noise, either part.

Limits: the threshold lies between 49 steps, where the constant rate won, and 125, where nothing
was seen to differ.  An epoch's steps are counted from the training rows and the batch size
(:func:`epoch_steps`; length buckets add a few part-filled batches: 52 real ones for SemEval's
49).  ``--batch-size`` is the global batch, so a multi-worker run that scales it up has fewer
steps an epoch, and may fall under the threshold; that regime was not measured.  A value the
user gives (``--lr-decay``, ``--patience``, ``--epochs``) is kept, whatever the epoch's length.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # components reads the constants below for its flags' help
    from hfsent.components import TrainingConfig

SHORT_EPOCH_STEPS = 64
LONG = {"lr_decay": 0.3, "patience": 1, "epochs": 8}
SHORT = {"lr_decay": 1.0, "patience": 2, "epochs": 12}


def epoch_steps(rows: int, batch_size: int) -> int:
    """The steps of an epoch as the schedule counts them: whole batches of the training rows,
    the last one part-filled (length buckets add a few more part-filled batches, not counted).

    Example:
        >>> epoch_steps(6154, 128)
        49
    """
    return -(-rows // batch_size)


def default_help(name: str) -> str:
    """The ``(default: ...)`` part of a schedule flag's help, from the constants above."""
    return f"default: {LONG[name]:g}, or {SHORT[name]:g} when an epoch has under {SHORT_EPOCH_STEPS} steps"


def schedule_for(training: TrainingConfig, steps_per_epoch: int) -> TrainingConfig:
    """``training`` with every unset (``None``) field of the schedule filled for epochs of
    ``steps_per_epoch`` steps; the fields the user set are kept.

    Example:
        >>> from hfsent.config import TrainingConfig
        >>> schedule_for(TrainingConfig(), 40).lr_decay, schedule_for(TrainingConfig(), 176).lr_decay
        (1.0, 0.3)
        >>> schedule_for(TrainingConfig(epochs=3), 40).epochs
        3
    """
    chosen = SHORT if steps_per_epoch < SHORT_EPOCH_STEPS else LONG
    return dataclasses.replace(training, **{name: value for name, value in chosen.items()
                                            if getattr(training, name) is None})


def describe(training: TrainingConfig, steps_per_epoch: int) -> str:
    """For the fit stage's summary: which fields followed the epoch's length, or ``""``."""
    unset = [name for name in SHORT if getattr(training, name) is None]
    if not unset:
        return ""
    side = "under" if steps_per_epoch < SHORT_EPOCH_STEPS else "at least"
    return f"; {', '.join(unset)} set for an epoch of {steps_per_epoch} steps ({side} {SHORT_EPOCH_STEPS})"
