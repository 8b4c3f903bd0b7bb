"""A faster model call for serving: the recurrent layers compiled by XLA, on padded shapes from a fixed set.

Where one review's time goes (the default IMDB model, 2 shared cores; see BENCHMARKS.md):
spaCy's tokenizer and the vocabulary lookup take about half a millisecond, Keras'
``predict_on_batch`` and a plain ``tf.function`` over the model cost the same, and nearly all
the rest is the GRU.  TensorFlow runs a recurrent layer as a ``tf.while_loop`` whose ops are
dispatched one by one at every step, and on CPU that dispatch costs more than the arithmetic
of a 64-unit GRU.  XLA compiles the whole loop into one native loop: about ten times faster on
one review, and several times on a batch.  Where the model is in :mod:`hfsent.fast_gru`'s
scope (every model hfsent trains), the loop is that module's, whose steps look up their input
products: 1.4 to 2.2 times faster again.

XLA compiles one program per input shape, so :class:`FastClassifier` pads each batch to a width
from :func:`width_buckets` (powers of two from 16, then ``max_length``) and to a row count from
:data:`ROW_BUCKETS`: at most 42 programs for a ``max_length`` of 600, compiled by
:meth:`FastClassifier.compile_shapes` before serving (or on first use, a second or more each).
Only the recurrent layers (``RNN`` and ``Bidirectional``, or :mod:`hfsent.fast_gru`'s loop) are
compiled: the wide branch hashes bigrams through string ops that XLA has no kernel for, and
stays in the plain graph.

Padding changes no answer: ids are right-padded and masked as in :meth:`predict_ids
<hfsent.predict.SentimentClassifier.predict_ids>`, and the extra rows are copies of the first,
dropped from the output.  Limits: the outputs equal ``predict``'s within float noise (XLA fuses
and orders the arithmetic differently; about 1e-7), not bit for bit.  The model object is
shared with the wrapped classifier and left unchanged: its own ``predict`` is not compiled.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from hfsent.config import MAX_LENGTH
from hfsent.fast_gru import projected_gru
from hfsent.predict import SentimentClassifier
from hfsent.vocab import PAD_ID, UNK_ID

log = logging.getLogger(__name__)

ROW_BUCKETS = (1, 2, 4, 8, 16, 32)  # rows per compiled call; a bigger batch is cut into 32s
FIRST_WIDTH = 16  # the narrowest bucket: shorter texts cost about the same padded to it


def width_buckets(max_length: int) -> list[int]:
    """Padded widths: powers of two from :data:`FIRST_WIDTH` below ``max_length``, then ``max_length``.

    Example:
        >>> width_buckets(600)
        [16, 32, 64, 128, 256, 512, 600]
    """
    widths, width = [], FIRST_WIDTH
    while width < max_length:
        widths.append(width)
        width *= 2
    return [*widths, max_length]


def bucket(value: int, buckets: Sequence[int]) -> int:
    """The smallest bucket ≥ ``value``, or ``value`` itself above the largest.

    Example:
        >>> bucket(5, (1, 2, 4, 8)), bucket(9, (1, 2, 4, 8))
        (8, 9)
    """
    return next((b for b in buckets if b >= value), value)


def compiled_call(model: keras.Model) -> Callable[[tf.Tensor], tf.Tensor]:
    """``model(ids, training=False)`` as one graph over ``(rows, width)`` int32 ids, its recurrent
    layers compiled by XLA: as :mod:`hfsent.fast_gru`'s projected GRU where the model is in its
    scope, else as Keras' layers; falls back to the plain graph (logged) where XLA cannot compile."""
    spec = tf.TensorSpec([None, None], tf.int32)
    plain = tf.function(lambda ids: model(ids, training=False)).get_concrete_function(spec)
    projected = projected_gru(model)
    if projected is not None:
        embedding, recurrent, replacement = projected
        calls = {embedding: replacement.lookup, recurrent: tf.function(replacement.recur, jit_compile=True)}
    else:
        calls = {layer: tf.function(layer.call, jit_compile=True) for layer in model.layers
                 if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional))}
    if not calls:
        return plain
    # The layers' call is swapped only while this graph is traced, so that the model's own
    # predict (traced later, or already) keeps the plain layers.  object.__setattr__: Keras'
    # attribute tracking has no business with a method.
    for layer, call in calls.items():
        object.__setattr__(layer, "call", call)
    try:
        fast = tf.function(lambda ids: model(ids, training=False)).get_concrete_function(spec)
    finally:
        for layer in calls:
            object.__delattr__(layer, "call")
    try:
        fast(tf.fill([1, FIRST_WIDTH], UNK_ID))  # XLA's refusal shows at the first run, not at tracing
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError) as err:
        log.warning("XLA cannot compile this model's recurrent layers; serving uses the plain graph (%s)",
                    str(err).splitlines()[0][:200])
        return plain
    return fast


@dataclasses.dataclass
class FastClassifier(SentimentClassifier):
    """A :class:`~hfsent.predict.SentimentClassifier` whose :meth:`predict_ids` (and so
    ``predict``, ``ranked`` and the server's answers) runs :func:`compiled_call` on bucketed shapes.

    Example:
        >>> fast = FastClassifier.of(SentimentClassifier.load("runs/imdb"))
        >>> fast.compile_shapes(max_rows=8)  # before the first client
        >>> fast.predict(["A moving, beautifully acted film."])
    """

    def __post_init__(self) -> None:
        self._call = compiled_call(self.model)
        self.widths = width_buckets(self.config.preprocessing.max_length or MAX_LENGTH)

    @classmethod
    def of(cls, classifier: SentimentClassifier) -> FastClassifier:
        """``classifier`` itself if it is already fast, else a fast one sharing its model and vocabulary."""
        if isinstance(classifier, cls):
            return classifier
        return cls(**{f.name: getattr(classifier, f.name) for f in dataclasses.fields(SentimentClassifier)})

    def _rows_per_call(self, batch_size: int | None) -> int:
        """At most ``ROW_BUCKETS[-1]`` rows per model call, the largest compiled shape."""
        return min(batch_size or ROW_BUCKETS[-1], ROW_BUCKETS[-1])

    def _call_batch(self, padded: np.ndarray) -> np.ndarray:
        """The model on ``padded`` grown to bucketed rows (copies of its first) and width (padding)."""
        rows, width = bucket(len(padded), ROW_BUCKETS), bucket(padded.shape[1], self.widths)
        shaped = np.full((rows, width), PAD_ID, dtype=np.int32)
        shaped[: len(padded), : padded.shape[1]] = padded
        shaped[len(padded):, : padded.shape[1]] = padded[0]
        return np.asarray(self._call(tf.constant(shaped)))

    def compile_shapes(self, max_rows: int = ROW_BUCKETS[-1]) -> int:
        """Compile every bucketed shape of up to ``max_rows`` rows now, so that no request waits
        for XLA; returns how many shapes."""
        shapes = [(rows, width) for rows in ROW_BUCKETS if rows <= max(max_rows, 1) for width in self.widths]
        start = time.perf_counter()
        for rows, width in shapes:
            self._call_batch(np.full((rows, width), UNK_ID, dtype=np.int32))
        log.info("compiled the model for %d input shapes in %.0f s", len(shapes), time.perf_counter() - start)
        return len(shapes)
