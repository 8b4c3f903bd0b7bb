"""Word and bigram counts for the linear half, computed with the same hash as its Keras layers.

:mod:`hfsent.wide` hashes each bigram of ids in the model (``Hashing`` on the key
``id[t] * V + id[t+1]``); this module computes the same buckets in numpy for the
scikit-learn fit (:mod:`hfsent.linear`), so the fitted weights land in the rows that the model
reads.  Only a review's first ``max_length`` ids count, as the GRU reads them.

Limits: the key is exact in float64 (as the model computes it) while ``V ** 2 < 2 ** 53``, far
above any vocabulary hfsent builds; bigrams that share a bucket share a weight.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from datasets import Dataset
from keras import layers

from hfsent.batching import flat_ids


def bigram_buckets(values: np.ndarray, splits: np.ndarray, vocab_size: int, num_bins: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Hash bucket of every bigram of the flat ids (``values`` cut at ``splits``), and the
    review each belongs to; the same hash as the model's ``wide_hash`` layer.

    Example:
        >>> buckets, rows = bigram_buckets(np.array([3, 4, 5]), np.array([0, 2, 3]), 10, 1 << 20)
        >>> rows  # one bigram, (3, 4), in review 0; review 1 has one token
        array([0])
    """
    values = values.astype(np.int64)
    second = np.ones(len(values), dtype=bool)
    # The first token of a review makes no bigram with the previous review's last token;
    # an empty review has no first token (its offset may equal len(values)).
    second[splits[:-1][np.diff(splits) > 0]] = False
    starts = np.flatnonzero(second)
    keys = values[starts - 1] * vocab_size + values[starts]
    buckets = np.asarray(layers.Hashing(num_bins)(keys)).reshape(-1) if len(keys) else np.zeros(0, np.int64)
    rows = np.repeat(np.arange(len(splits) - 1), np.diff(splits))[starts]
    return buckets, rows


def count_matrix(ds: Dataset, vocab_size: int, num_bins: int, max_length: int
                 ) -> tuple[sp.csr_matrix, np.ndarray]:
    """Reviews x (words, bigram buckets) token counts of ``ds``'s first ``max_length`` ids, and labels.

    Example:
        >>> x, y = count_matrix(encoded["train"], len(vocab), 1 << 20, 600)
        >>> x.shape
        (22500, 1078576)
    """
    values, splits, labels = flat_ids(ds.with_format("arrow")[:])
    review = np.repeat(np.arange(len(splits) - 1), np.diff(splits))
    keep = np.arange(len(values)) - splits[review] < max_length  # position within its review
    values, review = values[keep], review[keep]
    lengths = np.minimum(np.diff(splits), max_length)
    buckets, bigram_rows = bigram_buckets(values, np.concatenate([[0], np.cumsum(lengths)]),
                                          vocab_size, num_bins)
    rows = np.concatenate([review, bigram_rows])
    cols = np.concatenate([values.astype(np.int64), vocab_size + buckets])
    matrix = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                           shape=(len(lengths), vocab_size + num_bins))
    matrix.sum_duplicates()
    return matrix, labels
