"""The word2vec / GloVe text reader (``.txt``, ``.vec``, optionally ``.gz``): line by line,
keeping only the wanted words, so memory follows the vocabulary, not the file.  A word2vec
header (``count dim``) is optional; lines that are not UTF-8, do not split into a word and
``dim`` numbers, or hold a non-finite number are skipped and counted.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from hfsent.bounds import MAX_UNITS
from hfsent.errors import InputError
from hfsent.vector_rows import MAX_VECTORS, MAX_WORD_BYTES, W2V_HEADER, Found, check_dim


def read_text(path: Path, found: Found) -> Found:
    """word2vec or GloVe text, with or without the ``count dim`` header; gzipped if ``.gz``."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        first = f.readline(MAX_WORD_BYTES + 32 * MAX_UNITS + 1)
        if len(first) > MAX_WORD_BYTES + 32 * MAX_UNITS:
            raise InputError(f"line 1 of the word vectors is longer than {len(first) - 1:,} bytes")
        header = W2V_HEADER.fullmatch(first)
        dim = int(header.group(2)) if header else len(first.split()) - 1
        check_dim(dim, int(header.group(1)) if header else 0, path.name)
        found.dim, longest = dim, MAX_WORD_BYTES + 32 * dim  # a word, then dim numbers of < 32 bytes
        if not header:
            _text_line(first, 1, found, longest)
        for number, line in enumerate(iter(lambda: f.readline(longest + 1), b""), start=2):
            _text_line(line, number, found, longest)
    return found


def _text_line(line: bytes, number: int, found: Found, longest: int) -> None:
    if len(line) > longest:
        raise InputError(f"line {number:,} of the word vectors is longer than {longest:,} bytes")
    found.count += 1
    if found.count > MAX_VECTORS:
        raise InputError(f"the word vectors hold more than {MAX_VECTORS:,} lines")
    parts = line.rstrip().rsplit(b" ", found.dim)  # GloVe has words with spaces; the numbers are last
    try:
        word = parts[0].decode("utf-8")
    except UnicodeDecodeError:
        word = None
    if word is None or len(parts) != found.dim + 1:
        found.skipped += 1
        return

    def vector() -> np.ndarray | None:
        try:
            return np.array([float(x) for x in parts[1:]], dtype=np.float32)
        except ValueError:
            return None

    found.offer(word, vector)
