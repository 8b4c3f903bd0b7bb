"""The names that modules look up: the Keras layers of a saved model, and a model folder's files.

One place, so that a module which builds a layer and one which later finds it by name (the
linear half's fit, the blend, explain, the folder screen) cannot drift apart.  Renaming a layer
here changes what a saved model holds, so it needs a new format version.
"""

from __future__ import annotations

# Keras layers (hfsent.model builds the GRU side, hfsent.wide the linear half and the blend)
EMBEDDING = "embedding"
GRU = "gru"
BIDIRECTIONAL_GRU = "bidirectional_gru"
OUTPUT = "output"  # the GRU head's Dense
TO_RATING = "to_rating"  # the rating head's Rescaling onto the scale, after OUTPUT
WIDE_WORDS, WIDE_BIGRAMS = "wide_words", "wide_bigrams"
WIDE_OUTPUT = "wide_output"  # the linear half's last layer
WIDE_AND_DEEP = "wide_and_deep"  # the frozen Dense that blends the two halves

# A model folder's files
CONFIG_NAME = "hfsent_config.json"
KERAS_CONFIG, KERAS_METADATA, KERAS_WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
VOCAB_NAME = "vocab.txt"
METRICS_NAME = "metrics.json"
CARD_NAME = "README.md"
CURVES_NAME = "training_curves.png"
CONFUSION_NAME = "confusion_matrix.png"
