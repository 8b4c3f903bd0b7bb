"""The serving GRU: the same arithmetic as Keras' GRU, with the input half of every step looked up.

A GRU step computes ``x_t @ kernel + bias`` and ``h @ recurrent_kernel``.  In an hfsent model
``x_t`` is a row of the embedding table (dropout is off at inference), so the first product
takes one of ``vocabulary`` values: :class:`ProjectedGRU` multiplies the whole table once, when
the server starts, and the loop then gathers a row per token and does only the recurrent
product.  That is two thirds of each step's multiplications gone, and the loop (compiled by XLA,
both directions of a bidirectional GRU in one batched product) is 1.4 to 2.2 times faster than
Keras' own under XLA on one core, the more so the fewer the rows (BENCHMARKS.md).

Scope, checked by :func:`projected_gru` (anything else keeps Keras' layer): a ``GRU`` or a
``Bidirectional(GRU)`` (directions of equal units, concatenated) called once on the model's
``Embedding`` through ``Dropout`` layers only, each of them called once and read by the next
alone, with no initial state; tanh and sigmoid activations, ``reset_after=True``, a bias, no
returned state; float32 computation (no mixed precision) and a float embedding (not quantized);
a table of at most :data:`MAX_TABLE_BYTES`.  Masking follows Keras: a masked step
keeps the state, and outputs zeros where ``zero_output_for_mask`` says so, else the state.
Limits: the outputs equal Keras' within float noise (about 1e-7), not bit for bit.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

try:  # the key of a functional model's node: Keras' own, not public API
    from keras.src.ops.function import make_node_key
except ImportError:  # a Keras that moved it: no model is in scope, and Keras' layers serve
    make_node_key = None

from hfsent.names import BIDIRECTIONAL_GRU, EMBEDDING, GRU

MAX_TABLE_BYTES = 256 << 20  # vocabulary × directions × 3 × units float32s, held while serving


class ProjectedGRU:
    """The embedding and recurrent layers' replacements: :meth:`lookup` for the embedding's call
    (ids to projected rows) and :meth:`recur` for the GRU's (those rows to Keras' outputs)."""

    def __init__(self, embedding: keras.layers.Embedding, cells: list, zero_output: bool,
                 return_sequences: bool) -> None:
        kernel = np.concatenate([np.asarray(c.kernel) for c in cells], axis=1)
        bias = np.concatenate([np.asarray(c.bias)[0] for c in cells])  # reset_after: [input, recurrent]
        self.table = tf.constant(np.asarray(embedding.embeddings) @ kernel + bias)
        self.recurrent = tf.constant(np.stack([np.asarray(c.recurrent_kernel) for c in cells]))
        self.recurrent_bias = tf.constant(np.stack([np.asarray(c.bias)[1] for c in cells])[:, None, :])
        self.units, self.directions = cells[0].units, len(cells)
        self.zero_output, self.return_sequences = zero_output, return_sequences

    def lookup(self, ids: tf.Tensor, *args, **kwargs) -> tf.Tensor:
        """``(rows, width, directions × 3 × units)``: each token's input product, bias added."""
        return tf.gather(self.table, ids)

    def recur(self, projected: tf.Tensor, *args, mask: tf.Tensor | None = None, **kwargs) -> tf.Tensor:
        """The GRU's (or both directions', concatenated) outputs over ``projected`` rows."""
        units, steps = self.units, tf.shape(projected)[1]
        keep = tf.ones(tf.shape(projected)[:2]) if mask is None else tf.cast(mask, tf.float32)
        # Time first, one slice per direction; the backward direction reads time reversed.  The
        # reversal is done here, not by indexing steps - 1 - t inside the loop, which XLA
        # compiled wrongly (the backward outputs differed by up to 0.8 on CPU).
        inputs = tf.transpose(projected, [1, 0, 2])
        keep = tf.transpose(keep)[:, :, None]
        xs, ms = [inputs[:, :, :3 * units]], [keep]
        if self.directions == 2:
            xs.append(tf.reverse(inputs[:, :, 3 * units:], [0]))
            ms.append(tf.reverse(keep, [0]))

        def step(t, state, *outputs):
            inner = tf.matmul(state, self.recurrent) + self.recurrent_bias  # (directions, rows, 3 × units)
            x_z, x_r, x_h = tf.split(tf.stack([x[t] for x in xs]), 3, axis=-1)
            i_z, i_r, i_h = tf.split(inner, 3, axis=-1)
            z, r = tf.sigmoid(x_z + i_z), tf.sigmoid(x_r + i_r)
            new = z * state + (1 - z) * tf.tanh(x_h + r * i_h)
            m = tf.stack([m[t] for m in ms])
            new = m * new + (1 - m) * state  # a masked step keeps the state
            out = new * m if self.zero_output else new
            if self.return_sequences:
                outputs = [o.write(t, out[d]) for d, o in enumerate(outputs)]
            return (t + 1, new, *outputs)

        rows = tf.shape(projected)[0]
        arrays = [tf.TensorArray(tf.float32, size=steps) for _ in xs]
        _, state, *outputs = tf.while_loop(lambda t, *_: t < steps, step,
                                           (0, tf.zeros([self.directions, rows, units]), *arrays))
        if not self.return_sequences:
            return tf.concat(tf.unstack(state, num=self.directions), axis=-1)
        seqs = [o.stack() for o in outputs]  # (steps, rows, units) each, the backward one reversed
        seqs[1:] = [tf.reverse(seq, [0]) for seq in seqs[1:]]
        return tf.transpose(tf.concat(seqs, axis=-1), [1, 0, 2])

def _plain_gru(layer: object, backwards: bool = False) -> bool:
    """A Keras GRU whose arithmetic :class:`ProjectedGRU` repeats."""
    return (type(layer) is keras.layers.GRU and layer.cell.reset_after and layer.cell.use_bias
            and layer.cell.activation is keras.activations.tanh
            and layer.cell.recurrent_activation is keras.activations.sigmoid
            and not layer.return_state and not layer.stateful and layer.go_backwards == backwards
            and layer.compute_dtype == "float32")


def _in_graph(node, keys: set[str]) -> bool:
    """Whether ``node`` (a call of a layer) is part of the model whose node keys are ``keys``: a
    layer also keeps the calls of other models built on it (the linear half's, say)."""
    return make_node_key(node.operation, node.operation._inbound_nodes.index(node)) in keys


def _one_call(layer: keras.layers.Layer, keys: set[str], consumers: int | None = 1):
    """``layer``'s one call in the model (node ``keys``), if its output has ``consumers`` uses
    there and the call takes one tensor and no argument but ``mask`` and ``training``; else None."""
    calls = [node for node in layer._inbound_nodes if _in_graph(node, keys)]
    used = sum(_in_graph(node, keys) for node in layer._outbound_nodes)
    if len(calls) != 1 or consumers is not None and used != consumers:
        return None
    args, kwargs = calls[0].arguments.args, calls[0].arguments.kwargs
    if len(args) != 1 or not isinstance(args[0], keras.KerasTensor) or set(kwargs) - {"mask", "training"}:
        return None
    return calls[0]


def _fed_by(recurrent: keras.layers.Layer, embedding: keras.layers.Layer, model: keras.Model) -> bool:
    """Whether ``recurrent`` reads ``embedding``'s rows through Dropout layers only, every one of
    them called once and read by the next alone: then the table is all the loop needs."""
    if make_node_key is None:
        return False
    keys = set(getattr(model, "_nodes", ()))  # a functional model's node keys; none: not in scope
    node = _one_call(recurrent, keys, consumers=None)
    while node is not None:
        source = node.arguments.args[0]._keras_history.operation
        if source is embedding:
            return _one_call(embedding, keys) is not None
        node = _one_call(source, keys) if isinstance(source, keras.layers.Dropout) else None
    return False


def projected_gru(model: keras.Model) -> tuple[keras.layers.Layer, keras.layers.Layer, ProjectedGRU] | None:
    """``(embedding, recurrent layer, replacement)`` when ``model`` is in this module's scope, else None."""
    names = {layer.name for layer in model.layers}
    if EMBEDDING not in names or not names & {GRU, BIDIRECTIONAL_GRU}:
        return None
    embedding = model.get_layer(EMBEDDING)
    recurrent = model.get_layer(BIDIRECTIONAL_GRU if BIDIRECTIONAL_GRU in names else GRU)
    if (type(embedding) is not keras.layers.Embedding or getattr(embedding, "quantization_mode", None)
            or embedding.compute_dtype != "float32"):
        return None
    if isinstance(recurrent, keras.layers.Bidirectional):
        forward, backward = recurrent.forward_layer, recurrent.backward_layer
        if (recurrent.merge_mode != "concat" or not _plain_gru(forward) or not _plain_gru(backward, True)
                or backward.zero_output_for_mask != forward.zero_output_for_mask
                or backward.units != forward.units or recurrent.compute_dtype != "float32"):
            return None
        cells, layer = [forward.cell, backward.cell], forward
    elif _plain_gru(recurrent) and (recurrent.return_sequences or not recurrent.zero_output_for_mask):
        # (Keras' last output of a GRU that zeroes masked outputs is zero for a right-padded row.)
        cells, layer = [recurrent.cell], recurrent
    else:
        return None
    if not _fed_by(recurrent, embedding, model):
        return None
    table_bytes = embedding.input_dim * 3 * sum(c.units for c in cells) * 4
    if table_bytes > MAX_TABLE_BYTES:
        return None
    replacement = ProjectedGRU(embedding, cells, layer.zero_output_for_mask, layer.return_sequences)
    return embedding, recurrent, replacement
