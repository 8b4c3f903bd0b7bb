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
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import tensorflow as tf
from datasets import Dataset, IterableDataset

from hfsent.vocab import PAD_ID


def lengths_of(ds: Dataset, max_length: int | None = None) -> np.ndarray:
    """Token counts of ``input_ids``, optionally capped at ``max_length``.

    Example:
        >>> lengths_of(Dataset.from_dict({"input_ids": [[5, 6, 7], [8]]}), max_length=2)
        array([2, 1])
    """
    lengths = pa.compute.list_value_length(ds.with_format("arrow")[:]["input_ids"]).to_numpy()
    return lengths if max_length is None else np.minimum(lengths, max_length)


def bucket_boundaries(lengths: Sequence[int] | np.ndarray, num_buckets: int) -> list[int]:
    """Upper bounds (exclusive) of ``num_buckets`` buckets holding about equal numbers of rows.

    The boundaries are the inner quantiles of ``lengths`` (observed values, never
    interpolated) plus one, so that a review exactly at a quantile falls into the lower
    bucket.  Duplicate boundaries (many reviews of one length, e.g. all truncated to
    ``max_length``) are merged, and none is above the longest review.

    Args:
        lengths: the training reviews' token counts, capped at ``max_length``.
        num_buckets: how many buckets at most; fewer than 2 gives no boundary.

    Example:
        >>> bucket_boundaries(np.arange(1, 101), 4)
        [26, 51, 76]
    """
    lengths = np.asarray(lengths)
    if num_buckets < 2 or lengths.size == 0:
        return []
    quantiles = np.quantile(lengths, np.linspace(0, 1, num_buckets + 1)[1:-1], method="lower")
    bounds = sorted({int(q) + 1 for q in quantiles})
    return [b for b in bounds if b <= lengths.max()]


# Above this many tokens, ids are streamed from the memory-mapped Arrow cache in chunks
# instead of being copied into one in-memory tensor (4 bytes per token).
IN_MEMORY_MAX_TOKENS = 50_000_000
STREAM_CHUNK_ROWS = 4096


def flat_ids(table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(values, row_splits, labels)`` of an Arrow table with ``input_ids`` and ``label``:
    the flat token ids and offsets starting at 0, straight from the Arrow buffers.  An
    unlabelled table (no ``label`` column) gets labels of -1.

    Example:
        >>> flat_ids(pa.table({"input_ids": [[5, 6], [7]], "label": [1, 0]}))
        (array([5, 6, 7], dtype=int32), array([0, 2, 3], dtype=int32), array([1, 0]))
    """
    ids = table["input_ids"]
    ids = ids.combine_chunks() if hasattr(ids, "combine_chunks") else ids
    offsets = ids.offsets.to_numpy()
    values = ids.values.to_numpy(zero_copy_only=False)[offsets[0]:offsets[-1]]
    return values, offsets - offsets[0], _labels(table, len(offsets) - 1)


def _labels(table, rows: int) -> np.ndarray:
    """The ``label`` column: one number per row, or a ``(rows, K)`` array of a multi-label
    split's fixed-size lists; -1 per row if the table has none."""
    if "label" not in table.column_names:
        return np.full(rows, -1)
    column = table["label"]
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    kind = column.type
    if pa.types.is_fixed_size_list(kind) or pa.types.is_list(kind) or pa.types.is_large_list(kind):
        # a stream may carry the K values as a plain list: every row holds K all the same
        return column.flatten().to_numpy(zero_copy_only=False).reshape(rows, -1)
    return np.asarray(column.to_numpy(zero_copy_only=False))


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
    return [None] if first is None else [None, *_labels(first, first.num_rows).shape[1:]]


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


def _from_iterable(ds: IterableDataset, max_length: int, shuffle: bool, seed: int, buffer: int
                   ) -> tf.data.Dataset:
    """Rows of a streamed ``IterableDataset``, read anew every epoch.  Shuffling is
    ``datasets``' own: a new shard order per epoch (``set_epoch``) and a ``buffer``-row buffer."""
    epochs = itertools.count()

    def chunks():
        # with_format() first: applied after set_epoch() it would reset the epoch, and every
        # epoch would repeat the first one's order.
        stream = ds.with_format("arrow")
        if shuffle:
            stream = stream.shuffle(seed=seed, buffer_size=buffer)
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
) -> tf.data.Dataset:
    """Bucketed, right-padded ``(input_ids, label)`` batches from a Dataset with ``input_ids``.

    With ``shuffle`` the order of reviews (and so of batches) changes every epoch,
    reproducibly for a given ``seed``.  Without it, batches still come grouped by bucket,
    so callers that need the original order use :func:`ordered_batches` instead.

    ``in_memory=None`` copies the ids into one tensor up to ``IN_MEMORY_MAX_TOKENS`` tokens
    (a full shuffle), and streams them from the memory-mapped Arrow cache beyond that
    (chunk order plus a ``shuffle_buffer``-row buffer).  A streamed ``IterableDataset`` is
    read anew every epoch, shuffled by ``datasets`` within ``shuffle_buffer`` rows.

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
        data = _from_iterable(ds, max_length, shuffle, seed, shuffle_buffer)
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


def ordered_batches(
    sequences: Sequence[Sequence[int]], batch_size: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Batches for inference: sorted by length to keep padding low, right-padded.

    Returns ``(positions, padded_ids)`` pairs; ``positions`` say where each row belongs in
    the input order.  Every sequence must hold at least one token.

    Example:
        >>> [(positions, ids)] = ordered_batches([[5, 6, 7], [8]], batch_size=2)
        >>> positions.tolist(), ids.tolist()
        ([1, 0], [[8, 0, 0], [5, 6, 7]])
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


def fit_batches(model, batches: tf.data.Dataset, **fit_kwargs):
    """``model.fit(batches, **fit_kwargs)`` on batches from :func:`make_dataset`; returns its history.

    Bucketed batches have no known count, so Keras warns at the end of each epoch that the
    input "ran out of data": that is the intended end of the epoch, and the warning is muted.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        return model.fit(batches, **fit_kwargs)
