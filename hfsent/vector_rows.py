"""What every word-vector reader shares: :class:`Found`, the rows kept of the wanted words, and
the caps on a file's dimension and number of vectors (:func:`check_dim`), checked before
anything is allocated.  The readers themselves are listed in :mod:`hfsent.vector_formats`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from hfsent.bounds import MAX_UNITS
from hfsent.errors import InputError

MAX_VECTORS = 4_000_000  # words a file may hold (GloVe 840B: 2.2M, fastText cc: 2M)
MAX_WORD_BYTES = 1024
W2V_HEADER = re.compile(rb"\s*(\d{1,12}) (\d{1,12})\s*\n")  # word2vec's ``count dim`` line, text and binary


@dataclass
class Found:
    """Vectors of the wanted words: an exact match wins over a lowercased one (a cased file read
    for a lowercased vocabulary keeps the first, most frequent, casing)."""

    wanted: dict[str, int]  # vocabulary token -> row
    lowercase: bool
    dim: int = 0
    count: int = 0  # vectors in the source
    skipped: int = 0  # lines of a text file that were not a word and its vector
    subword: int = 0  # words that got fastText's n-gram vector
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    exact: set[str] = field(default_factory=set)

    def offer(self, word: str, vector) -> None:
        """Keep ``vector()`` (called only if wanted; ``None`` if unusable) for ``word``, or failing
        that for its lowercase."""
        key = word if word in self.wanted and word not in self.exact else None
        if key is None and self.lowercase and word not in self.wanted:
            low = word.lower()
            key = low if low in self.wanted and low not in self.rows else None
        if key is not None:
            row = vector()
            if row is None or not np.isfinite(row).all():
                self.skipped += 1
                return
            self.rows[key] = row
            if key == word:
                self.exact.add(word)


def check_dim(dim: int, count: int, what: str) -> None:
    if not 1 <= dim <= MAX_UNITS:
        raise InputError(f"{what}: vectors of {dim} dimensions (hfsent takes 1 to {MAX_UNITS})")
    if not 0 <= count <= MAX_VECTORS:
        raise InputError(f"{what}: {count:,} vectors (hfsent reads at most {MAX_VECTORS:,})")
