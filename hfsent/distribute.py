"""Choosing a ``tf.distribute`` strategy: hfsent scales out on TensorFlow's own engine.

* ``default``: one device (TensorFlow's default strategy).
* ``mirrored``: synchronous data parallelism over the GPUs of one machine (or the
  logical CPU devices configured for testing).
* ``multiworker``: the same over several machines; each reads its role from the
  standard ``TF_CONFIG`` environment variable (see docs/scaling.md).
* ``auto``: ``mirrored`` when more than one GPU is visible, else ``default``.

The model is built and compiled inside ``strategy.scope()``; ``Config.batch_size`` is the
*global* batch size, which Keras splits across the replicas.

``multiworker`` is :mod:`hfsent.multiworker`'s: the chief, failing fast, the checks.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hfsent import multiworker
from hfsent.errors import InputError

if TYPE_CHECKING:
    import tensorflow as tf

log = logging.getLogger(__name__)
STRATEGIES = ("auto", "default", "mirrored", "multiworker")


def get_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy called ``name`` (see the module docstring).

    Args:
        name: ``"auto"``, ``"default"``, ``"mirrored"`` or ``"multiworker"``; the last needs
            ``TF_CONFIG`` in the environment, and is created once per process.

    Example:
        >>> with get_strategy("auto").scope():
        ...     model = build_model(ModelConfig(), vocab_size=30000)
    """
    import tensorflow as tf

    if name not in STRATEGIES:
        raise InputError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    if name == "auto":
        name = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "default"
    if name == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    elif name == "multiworker":
        strategy = multiworker.join()
    else:
        strategy = tf.distribute.get_strategy()
    log.info("distribution: %s with %d replica(s)", type(strategy).__name__, strategy.num_replicas_in_sync)
    return strategy
