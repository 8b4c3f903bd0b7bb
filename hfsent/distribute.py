"""Choosing a ``tf.distribute`` strategy: hfsent scales out on TensorFlow's own engine.

* ``default``: one device (TensorFlow's default strategy).
* ``mirrored``: synchronous data parallelism over the GPUs of one machine (or the
  logical CPU devices configured for testing).
* ``multiworker``: the same over several machines; each reads its role from the
  standard ``TF_CONFIG`` environment variable (see the README's "Scaling out").
* ``auto``: ``mirrored`` when more than one GPU is visible, else ``default``.

The model is built and compiled inside ``strategy.scope()``; ``Config.batch_size`` is the
*global* batch size, which Keras splits across the replicas.
"""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

from hfsent.errors import InputError

log = logging.getLogger(__name__)
STRATEGIES = ("auto", "default", "mirrored", "multiworker")


def get_strategy(name: str = "auto") -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy called ``name`` (see the module docstring).

    Args:
        name: ``"auto"``, ``"default"``, ``"mirrored"`` or ``"multiworker"``; the last needs
            ``TF_CONFIG`` in the environment.

    Example:
        >>> with get_strategy("auto").scope():
        ...     model = build_model(ModelConfig(), vocab_size=30000)
    """
    if name not in STRATEGIES:
        raise InputError(f"strategy must be one of {STRATEGIES}, got {name!r}")
    if name == "auto":
        name = "mirrored" if len(tf.config.list_logical_devices("GPU")) > 1 else "default"
    if name == "mirrored":
        strategy = tf.distribute.MirroredStrategy()
    elif name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise InputError("--strategy multiworker needs TF_CONFIG (cluster and task) in the environment")
        json.loads(os.environ["TF_CONFIG"])  # a clear JSON error here beats one deep inside TF
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    log.info("distribution: %s with %d replica(s)", type(strategy).__name__, strategy.num_replicas_in_sync)
    return strategy
