"""tf.data input pipelines that batch reviews of similar length together.

Padding every review to the longest one (the notebook's approach) makes the GRU spend
about nine steps in ten on padding.  Here reviews are truncated to ``max_length``, grouped
into length buckets whose boundaries are quantiles of the training lengths, and padded
only to the longest review of their batch.  Padding goes on the **right**: cuDNN's GRU
kernel accepts a mask only when it is right-padded, and Keras silently falls back to the
slow generic kernel otherwise.  Rows of length zero are dropped, so no all-padding row
ever reaches the model (its masked GRU output would be meaningless).

The ids go from Arrow to a ``tf.RaggedTensor`` through their flat value and offset
buffers: no Python loop over reviews.  Large corpora are streamed from the memory-mapped
Arrow cache chunk by chunk instead of being copied into memory (see :func:`make_dataset`).

Reading ids and labels from Arrow is :mod:`hfsent.arrow_ids`'s; the length buckets and
inference's sorted batches, :mod:`hfsent.length_batches`'s; both are importable from here.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

import numpy as np
import tensorflow as tf
from datasets import Dataset, IterableDataset

from hfsent.arrow_ids import flat_ids, labels_of, lengths_of
from hfsent.length_batches import bucket_boundaries, ordered_batches
from hfsent.vocab import PAD_ID

__all__ = ["IN_MEMORY_MAX_TOKENS", "STREAM_CHUNK_ROWS", "bucket_boundaries", "fit_batches", "flat_ids",
           "lengths_of", "make_dataset", "ordered_batches"]

# Above this many tokens, ids are streamed from the memory-mapped Arrow cache in chunks
# instead of being copied into one in-memory tensor (4 bytes per token).
IN_MEMORY_MAX_TOKENS = 50_000_000
STREAM_CHUNK_ROWS = 4096


def _chunk_to_ragged(chunk, max_length: int) -> tuple[tf.RaggedTensor, np.ndarray]:
    """Non-empty rows of an Arrow chunk as a truncated RaggedTensor, plus their labels."""
    values, splits, labels = flat_ids(chunk)
    ragged = tf.RaggedTensor.from_row_splits(values.astype(np.int32), splits.astype(np.int64))
    labels = labels.astype(np.float32)
    keep = np.flatnonzero(np.diff(splits) > 0)
    if len(keep) < len(labels):
        ragged, labels = tf.gather(ragged, keep), labels[keep]
    return ragged[:, :max_length], labels


def _in_memory(ds: Dataset, max_length: int, shuffle: bool, seed: int) -> tf.data.Dataset:
    ragged, labels = _chunk_to_ragged(ds.with_format("arrow")[:], max_length)
    data = tf.data.Dataset.from_tensor_slices((ragged, labels))
    return data.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True) if shuffle else data


def _label_shape(first) -> list[int | None]:
    """The shape of a chunk's labels, from an Arrow table of its first row(s): ``[rows]``, or
    ``[rows, K]`` for a multi-label split."""
    return [None] if first is None else [None, *labels_of(first, first.num_rows).shape[1:]]


def _generated(chunks, label_shape: list[int | None]) -> tf.data.Dataset:
    """Rows of the ``(ragged ids, labels)`` chunks that the ``chunks`` generator yields."""
    spec = (tf.RaggedTensorSpec([None, None], tf.int32, 1, tf.int64), tf.TensorSpec(label_shape, tf.float32))
    return tf.data.Dataset.from_generator(chunks, output_signature=spec).unbatch()


def _streamed(ds: Dataset, max_length: int, shuffle: bool, seed: int, buffer: int) -> tf.data.Dataset:
    """Chunks of rows read from the Arrow cache (memory-mapped), in a new random chunk order
    every epoch, then shuffled within a bounded buffer: memory stays flat as the corpus grows."""
    starts = np.arange(0, len(ds), STREAM_CHUNK_ROWS)
    epochs = itertools.count()
    table = ds.with_format("arrow")

    def chunks():
        order = np.random.default_rng([seed, next(epochs)]).permutation(starts) if shuffle else starts
        for start in order:
            yield _chunk_to_ragged(table[int(start):int(start) + STREAM_CHUNK_ROWS], max_length)

    data = _generated(chunks, _label_shape(table[:1] if len(ds) else None))
    return data.shuffle(buffer, seed=seed, reshuffle_each_iteration=True) if shuffle else data


def _from_iterable(ds: IterableDataset, max_length: int, shuffle: bool, seed: int, buffer: int,
                   shards: int) -> tf.data.Dataset:
    """Rows of a streamed ``IterableDataset``, read anew every epoch.  Shuffling is
    ``datasets``' own: a new shard order per epoch (``set_epoch``) and a ``buffer``-row buffer
    filled from ``shards`` source shards at a time.  ``datasets`` reads a Parquet shard a whole
    row group at a time (whatever its ``batch_size``), so each shard read at once holds one row
    group in memory: 35 MiB for 25,000 IMDB reviews, and its own default, 10 shards, made the
    training process's RSS 1.5 times as large and rise at every change of shard (BENCHMARKS.md)."""
    epochs = itertools.count()

    def chunks():
        # with_format() first: applied after set_epoch() it would reset the epoch, and every
        # epoch would repeat the first one's order.
        stream = ds.with_format("arrow")
        if shuffle:
            stream = stream.shuffle(seed=seed, buffer_size=buffer, max_buffer_input_shards=shards)
            stream.set_epoch(next(epochs))
        for chunk in stream.iter(batch_size=STREAM_CHUNK_ROWS):
            yield _chunk_to_ragged(chunk, max_length)

    first = next(iter(ds.with_format("arrow").iter(batch_size=1)), None)  # one row, for the labels' shape
    return _generated(chunks, _label_shape(first))


def make_dataset(
    ds: Dataset | IterableDataset,
    batch_size: int,
    max_length: int,
    boundaries: Sequence[int],
    shuffle: bool = False,
    seed: int = 0,
    in_memory: bool | None = None,
    shuffle_buffer: int = 20_000,
    shuffle_shards: int = 1,
) -> tf.data.Dataset:
    """Bucketed, right-padded ``(input_ids, label)`` batches from a Dataset with ``input_ids``.

    With ``shuffle`` the order of reviews (and so of batches) changes every epoch,
    reproducibly for a given ``seed``.  Without it, batches still come grouped by bucket,
    so callers that need the original order use :func:`ordered_batches` instead.

    ``in_memory=None`` copies the ids into one tensor up to ``IN_MEMORY_MAX_TOKENS`` tokens
    (a full shuffle), and streams them from the memory-mapped Arrow cache beyond that
    (chunk order plus a ``shuffle_buffer``-row buffer).  A streamed ``IterableDataset`` is
    read anew every epoch, shuffled by ``datasets`` within ``shuffle_buffer`` rows that come
    from ``shuffle_shards`` of its shards at a time.

    Args:
        ds: the encoded split (``input_ids`` and ``label``); rows without a token are dropped.
        batch_size: reviews per batch (a bucket's last batch may be smaller).
        max_length: ids beyond this are cut off.
        boundaries: from :func:`bucket_boundaries` on the training lengths.

    Example:
        >>> batches = make_dataset(encoded["train"], 128, 600, data.boundaries, shuffle=True)
        >>> ids, labels = next(iter(batches))  # ids: (128, width of this batch's longest review)
    """
    if isinstance(ds, IterableDataset):
        data = _from_iterable(ds, max_length, shuffle, seed, shuffle_buffer, shuffle_shards)
    else:
        if in_memory is None:
            in_memory = int(lengths_of(ds).sum()) <= IN_MEMORY_MAX_TOKENS
        data = (_in_memory(ds, max_length, shuffle, seed) if in_memory
                else _streamed(ds, max_length, shuffle, seed, shuffle_buffer))
    # Slices of a RaggedTensor arrive as rank-0-ragged specs, which padded_batch refuses;
    # inside map they are plain tensors, and an identity map turns the spec into a TensorSpec.
    data = data.map(lambda ids, label: (ids, label))
    data = data.bucket_by_sequence_length(
        element_length_func=lambda ids, _: tf.shape(ids)[0],
        bucket_boundaries=list(boundaries),
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        padding_values=(PAD_ID, 0.0),
    )
    return data.prefetch(tf.data.AUTOTUNE)


def fit_batches(model, batches: tf.data.Dataset, **fit_kwargs):
    """``model.fit(batches, **fit_kwargs)`` on batches from :func:`make_dataset`; returns its history.

    Bucketed batches have no known count, so Keras warns at the end of each epoch that the
    input "ran out of data": that is the intended end of the epoch, and the warning is muted.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        return model.fit(batches, **fit_kwargs)
