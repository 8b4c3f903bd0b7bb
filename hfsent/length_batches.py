"""Batching by length, without TensorFlow: the length buckets that training's batches are cut
into (:func:`bucket_boundaries`, from the training split's token counts), and inference's
batches, sorted by length and right-padded (:func:`ordered_batches`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hfsent.vocab import PAD_ID


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
