"""hfsent: sentiment classification with a Keras 3 GRU on Hugging Face datasets.

Pipeline modules, in order: data -> tokenize -> vocab -> batching -> model -> train ->
metrics -> artifacts -> predict.
"""

import os

# hfsent feeds Keras with tf.data and relies on TensorFlow's cuDNN GRU path.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from hfsent.config import Config, preset  # noqa: E402
from hfsent.predict import SentimentClassifier  # noqa: E402
from hfsent.train import train  # noqa: E402

__all__ = ["Config", "SentimentClassifier", "preset", "train"]
__version__ = "0.1.0"
