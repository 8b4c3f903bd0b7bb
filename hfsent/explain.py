"""Look inside a trained model: per-layer outputs and a per-token sentiment trace.

This replaces the notebook's ``Model(inputs=..., outputs=layers[i].output)`` trick with
an API that keeps every row aligned with the spaCy tokens it came from.

* :func:`layer_outputs` gives, per text, the tokens, their ids, the Embedding output and
  the GRU state after every token.  For a bidirectional GRU the state at step *t* is the
  forward state after token *t* next to the backward state after reading from the end
  back to token *t* (the backward half depends on the tokens *after* *t*).
* :func:`sentiment_trace` gives the model's prediction after each prefix of the review:
  step *t* is exactly what ``predict`` returns for the first *t* tokens, so the last step
  equals ``predict`` on the whole review.  For a unidirectional GRU with ``pooling="last"``
  this is the classifier head applied to the GRU state after each token; the prefix form
  extends that to bidirectional and mean-pooled models, whose final output also depends on
  states computed after *t*.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from hfsent.names import BIDIRECTIONAL_GRU, EMBEDDING, GRU
from hfsent.predict import SentimentClassifier


@dataclass
class LayerOutputs:
    """One text's tokens, ids, Embedding rows and GRU states, row ``t`` for token ``t``.

    Example:
        >>> [out] = layer_outputs(clf, ["a great film"])
        >>> out.gru_states.shape  # bidirectional GRU(64)
        (3, 128)
    """
    tokens: list[str]  # spaCy tokens as the model saw them (lowercased, truncated)
    ids: np.ndarray  # (T,)
    embeddings: np.ndarray  # (T, embedding_dim)
    gru_states: np.ndarray  # (T, gru_units) or (T, 2 * gru_units) if bidirectional


def _sequence_gru(model: keras.Model) -> keras.Model:
    """Embedding -> GRU(return_sequences=True) sharing the trained weights."""
    rnn = model.get_layer(BIDIRECTIONAL_GRU) if BIDIRECTIONAL_GRU in [
        layer.name for layer in model.layers] else model.get_layer(GRU)
    config = rnn.get_config()
    if isinstance(rnn, keras.layers.Bidirectional):
        config["layer"]["config"]["return_sequences"] = True
        config["backward_layer"]["config"]["return_sequences"] = True
    else:
        config["return_sequences"] = True
    clone = rnn.__class__.from_config(config)
    inputs = keras.Input(shape=(None,), dtype="int32")
    embedded = model.get_layer(EMBEDDING)(inputs)
    states = clone(embedded)
    clone.set_weights(rnn.get_weights())
    return keras.Model(inputs, [embedded, states])


def layer_outputs(clf: SentimentClassifier, texts: list[str]) -> list[LayerOutputs]:
    """Token ids, Embedding output and GRU states per token, for each text.

    Args:
        clf: a classifier; its model must have the ``embedding`` and ``gru`` /
            ``bidirectional_gru`` layers that :func:`hfsent.model.build_model` names.
        texts: the texts; each must hold a token.

    Example:
        >>> [out] = layer_outputs(clf, ["a great film"])
        >>> out.tokens
        ['a', 'great', 'film']
    """
    tokens = clf.tokens(texts)
    ids = clf.preprocessor.to_ids(tokens)
    probe = _sequence_gru(clf.model)
    out = []
    for toks, seq in zip(tokens, ids):
        embedded, states = probe.predict_on_batch(np.asarray([seq], dtype=np.int32))
        out.append(LayerOutputs(toks, np.asarray(seq), np.asarray(embedded[0]), np.asarray(states[0])))
    return out


@dataclass
class Trace:
    """The model's class probabilities after each prefix of one text (see :func:`sentiment_trace`).

    ``scores`` is the curve that the pictures draw: P(``classes[1]``) after each prefix for a
    binary model (P(positive)), the probability of the class predicted at that prefix otherwise.
    """
    tokens: list[str]
    probabilities: np.ndarray  # (T, classes): each class's probability after each prefix
    classes: list[str]
    binary: bool = False  # two classes under one probability, P(classes[1]) (the task says so)

    @property
    def predicted(self) -> np.ndarray:
        """(T,): the class id predicted after each prefix."""
        return self.probabilities.argmax(axis=1)

    @property
    def scores(self) -> np.ndarray:
        rows = np.arange(len(self.tokens))
        return self.probabilities[:, 1] if self.binary else self.probabilities[rows, self.predicted]

    @property
    def final(self) -> float:
        """P(positive) of the whole text for a binary model, else the predicted class's probability."""
        return float(self.scores[-1])

    @property
    def label(self) -> str:
        return self.classes[int(self.predicted[-1])]

    def describe(self) -> str:
        """The final prediction in words, e.g. ``P(positive) = 0.912`` or ``neutral (P = 0.640)``."""
        return (f"P({self.classes[1]}) = {self.final:.3f} ({self.label})" if self.binary
                else f"{self.label} (P = {self.final:.3f})")


def sentiment_trace(clf: SentimentClassifier, text: str) -> Trace:
    """Each class's probability after each token of ``text`` (see the module docstring).

    Args:
        clf: a classifier (binary or of more classes; not a rating model).
        text: one text, truncated to ``max_length`` tokens like every prediction.

    Example:
        >>> trace = sentiment_trace(clf, "not bad at all")
        >>> trace.tokens, trace.final == clf.predict_proba(["not bad at all"])[0]
        (['not', 'bad', 'at', 'all'], True)
    """
    clf.task.check_demo()  # a rating model has no class probabilities to trace
    [tokens] = clf.tokens([text])
    [seq] = clf.preprocessor.to_ids([tokens])
    probs = clf.task.class_rows(clf.predict_ids([seq[: t + 1] for t in range(len(seq))]))
    return Trace(tokens, probs, clf.task.labels, clf.task.binary)
