"""hfsent: sentiment classification with a Keras 3 GRU on Hugging Face datasets.

Pipeline modules, in order: config -> data (streaming) -> tokenize -> vocab -> batching ->
model (pretrain, wide) -> train (stages) -> metrics -> artifacts -> predict -> hub (card).
"""

import os

# hfsent feeds Keras with tf.data and relies on TensorFlow's cuDNN GRU path.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from hfsent.config import Config, preset  # noqa: E402
from hfsent.predict import SentimentClassifier  # noqa: E402

# Training lives in ``hfsent.train.train``; it is not re-exported here so that the name
# ``hfsent.train`` keeps meaning the module.
__all__ = ["Config", "SentimentClassifier", "preset"]
__version__ = "0.1.0"
