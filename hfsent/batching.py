"""tf.data input pipelines that batch reviews of similar length together.

Padding every review to the longest one (the notebook's approach) makes the GRU spend
about nine steps in ten on padding.  Here reviews are truncated to ``max_length``, grouped
into length buckets whose boundaries are quantiles of the training lengths, and padded
only to the longest review of their batch.  Padding goes on the **right**: cuDNN's GRU
kernel accepts a mask only when it is right-padded, and Keras silently falls back to the
slow generic kernel otherwise.  Rows of length zero are dropped, so no all-padding row
ever reaches the model (its masked GRU output would be meaningless).

The ids go from Arrow to a ``tf.RaggedTensor`` through their flat value and offset
buffers: no Python loop over reviews.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import tensorflow as tf
from datasets import Dataset

from hfsent.vocab import PAD_ID


def lengths_of(ds: Dataset, max_length: int | None = None) -> np.ndarray:
    """Token counts of ``input_ids``, optionally capped at ``max_length``."""
    lengths = pa.compute.list_value_length(ds.with_format("arrow")[:]["input_ids"]).to_numpy()
    return lengths if max_length is None else np.minimum(lengths, max_length)


def bucket_boundaries(lengths: Sequence[int] | np.ndarray, num_buckets: int) -> list[int]:
    """Upper bounds (exclusive) of ``num_buckets`` buckets holding about equal numbers of rows.

    The boundaries are the inner quantiles of ``lengths`` (observed values, never
    interpolated) plus one, so that a review exactly at a quantile falls into the lower
    bucket.  Duplicate boundaries (many reviews of one length, e.g. all truncated to
    ``max_length``) are merged, and none is above the longest review.
    """
    lengths = np.asarray(lengths)
    if num_buckets < 2 or lengths.size == 0:
        return []
    quantiles = np.quantile(lengths, np.linspace(0, 1, num_buckets + 1)[1:-1], method="lower")
    bounds = sorted({int(q) + 1 for q in quantiles})
    return [b for b in bounds if b <= lengths.max()]


def _ragged_ids(ds: Dataset, max_length: int) -> tuple[tf.RaggedTensor, np.ndarray, np.ndarray]:
    table = ds.with_format("arrow")[:]
    ids = table["input_ids"].combine_chunks()
    offsets = ids.offsets.to_numpy()
    values = ids.values.to_numpy(zero_copy_only=False)[offsets[0]:offsets[-1]]
    ragged = tf.RaggedTensor.from_row_splits(values.astype(np.int32), (offsets - offsets[0]).astype(np.int64))
    labels = np.asarray(table["label"].to_numpy(zero_copy_only=False))
    keep = np.diff(offsets) > 0
    return ragged[:, :max_length], labels, keep


def make_dataset(
    ds: Dataset,
    batch_size: int,
    max_length: int,
    boundaries: Sequence[int],
    shuffle: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Bucketed, right-padded ``(input_ids, label)`` batches from a Dataset with ``input_ids``.

    With ``shuffle`` the order of reviews (and so of batches) changes every epoch,
    reproducibly for a given ``seed``.  Without it, batches still come grouped by bucket,
    so callers that need the original order use :func:`ordered_batches` instead.
    """
    ragged, labels, keep = _ragged_ids(ds, max_length)
    if not keep.all():
        idx = np.flatnonzero(keep)
        ragged, labels = tf.gather(ragged, idx), labels[idx]
    data = tf.data.Dataset.from_tensor_slices((ragged, labels.astype(np.float32)))
    # Slices of a RaggedTensor arrive as rank-0-ragged specs, which padded_batch refuses;
    # inside map they are plain tensors, and an identity map turns the spec into a TensorSpec.
    data = data.map(lambda ids, label: (ids, label))
    if shuffle:
        data = data.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    data = data.bucket_by_sequence_length(
        element_length_func=lambda ids, _: tf.shape(ids)[0],
        bucket_boundaries=list(boundaries),
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padding_values=(PAD_ID, 0.0),
    )
    return data.prefetch(tf.data.AUTOTUNE)


def ordered_batches(
    sequences: Sequence[Sequence[int]], batch_size: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Batches for inference: sorted by length to keep padding low, right-padded.

    Returns ``(positions, padded_ids)`` pairs; ``positions`` say where each row belongs in
    the input order.  Every sequence must hold at least one token.
    """
    order = np.argsort([len(s) for s in sequences], kind="stable")
    batches = []
    for start in range(0, len(order), batch_size):
        positions = order[start:start + batch_size]
        width = max(len(sequences[i]) for i in positions)
        if width == 0:
            raise ValueError("an empty sequence cannot be batched: it would be all padding")
        padded = np.full((len(positions), width), PAD_ID, dtype=np.int32)
        for row, i in enumerate(positions):
            if len(sequences[i]) == 0:
                raise ValueError("an empty sequence cannot be batched: it would be all padding")
            padded[row, : len(sequences[i])] = sequences[i]
        batches.append((positions, padded))
    return batches
