"""Token ids and labels straight from Arrow buffers, with no Python loop over rows: the flat
ids and their offsets (:func:`flat_ids`), the ``label`` column (:func:`labels_of`) and token
counts (:func:`lengths_of`).  Training's batches (:mod:`hfsent.batching`), the metrics and the
n-gram counts all read encoded splits through them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from datasets import Dataset


def lengths_of(ds: Dataset, max_length: int | None = None) -> np.ndarray:
    """Token counts of ``input_ids``, optionally capped at ``max_length``.

    Example:
        >>> lengths_of(Dataset.from_dict({"input_ids": [[5, 6, 7], [8]]}), max_length=2)
        array([2, 1])
    """
    lengths = pc.list_value_length(ds.with_format("arrow")[:]["input_ids"]).to_numpy()
    return lengths if max_length is None else np.minimum(lengths, max_length)


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
    return values, offsets - offsets[0], labels_of(table, len(offsets) - 1)


def labels_of(table, rows: int) -> np.ndarray:
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
