"""Word n-gram counts for the linear half, computed with the same hash as its Keras layers.

:mod:`hfsent.wide` hashes each n-gram of ids in the model (``Hashing`` on the key
``id[t] * V + id[t+1]``, or ``(id[t] * V + id[t+1]) * V + id[t+2]`` for a trigram); this
module computes the same buckets in numpy for the scikit-learn fit, so the fitted weights
land in the rows the model reads.

Limits: a trigram key is exact in float64 (as the model computes it) only while ``V ** 3 <
2 ** 53``, i.e. a vocabulary of at most 200,000 ids (:data:`MAX_TRIGRAM_VOCAB`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from datasets import Dataset
from keras import layers

from hfsent.batching import flat_ids, truncate_flat

MAX_TRIGRAM_VOCAB = 200_000  # 200_000 ** 3 < 2 ** 53: float64 keys stay exact


def ngram_buckets(values: np.ndarray, splits: np.ndarray, vocab_size: int, num_bins: int, n: int = 2
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Hash bucket of every ``n``-gram of the flat ids (``values`` cut at ``splits``), and the
    review each belongs to; the same hash as the model's ``wide_hash`` (``n=2``) or
    ``wide_trigram_hash`` (``n=3``) layer.  No n-gram crosses from one review into the next.

    Example:
        >>> buckets, rows = ngram_buckets(np.array([3, 4, 5]), np.array([0, 2, 3]), 10, 1 << 20)
        >>> rows  # one bigram, (3, 4), in review 0; review 1 has one token
        array([0])
    """
    values = values.astype(np.int64)
    review = np.repeat(np.arange(len(splits) - 1), np.diff(splits))
    position = np.arange(len(values)) - splits[review]  # within its review
    ends = np.flatnonzero(position >= n - 1)  # where an n-gram ends
    keys = np.zeros(len(ends), np.int64)
    for back in range(n - 1, -1, -1):  # Horner: ((first * V) + second) * V + third
        keys = keys * vocab_size + values[ends - back]
    buckets = np.asarray(layers.Hashing(num_bins)(keys)).reshape(-1) if len(keys) else np.zeros(0, np.int64)
    return buckets, review[ends]


def count_matrix(ds: Dataset, vocab_size: int, num_bins: int, max_length: int, trigrams: bool = False,
                 head: int | None = None) -> tuple[sp.csr_matrix, np.ndarray]:
    """Reviews x (words, bigram buckets[, trigram buckets]) counts of ``ds``'s ids, each review
    truncated as the GRU reads it (:func:`hfsent.batching.truncate`), and the labels.

    Example:
        >>> x, y = count_matrix(encoded["train"], len(vocab), 1 << 20, 600)
        >>> x.shape
        (22500, 1078576)
    """
    values, splits, labels = flat_ids(ds.with_format("arrow")[:])
    values, cut = truncate_flat(values, splits, max_length, head)
    lengths = np.diff(cut)
    rows, cols = [np.repeat(np.arange(len(lengths)), lengths)], [values.astype(np.int64)]
    for table, n in enumerate((2, 3) if trigrams else (2,)):
        buckets, ngram_rows = ngram_buckets(values, cut, vocab_size, num_bins, n)
        rows.append(ngram_rows)
        cols.append(vocab_size + table * num_bins + buckets)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                           shape=(len(lengths), vocab_size + num_bins * (2 if trigrams else 1)))
    matrix.sum_duplicates()
    return matrix, labels
