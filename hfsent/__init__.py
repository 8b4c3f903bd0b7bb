"""hfsent: sentiment classification with a Keras 3 GRU on Hugging Face datasets.

Pipeline modules, in order: config -> data (streaming) -> tokenize -> vocab -> batching ->
model (pretrain, wide) -> train (stages, blend) -> metrics -> artifacts -> predict -> hub
(card); cli is the ``hfsent`` command.  The names below are imported on first use, so that
``import hfsent`` (and ``hfsent --help``) does not start TensorFlow.
"""

import importlib
import os

# hfsent feeds Keras with tf.data and relies on TensorFlow's cuDNN GRU path.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Before TensorFlow's first import, wherever hfsent is used: no lines from its C++ side, ERROR
# ones included (on a CPU without AVX-512, oneDNN logs an ERROR at the first op that is no
# error of the user's).  A value the user set stands; `hfsent --debug` shows them all.
TF_LOG_LEVEL_DEFAULTED = "TF_CPP_MIN_LOG_LEVEL" not in os.environ
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.2.0"
_EXPORTS = {"Config": "hfsent.config", "preset": "hfsent.config", "SentimentClassifier": "hfsent.predict",
            "load_metric": "hfsent.metrics", "metric_path": "hfsent.metrics"}
# Training lives in ``hfsent.train.train``; it is not re-exported here so that the name
# ``hfsent.train`` keeps meaning the module.
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'hfsent' has no attribute {name!r}")
