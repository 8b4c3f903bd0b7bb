"""The two ``.bin`` formats, read through gensim once their headers are checked against the
file's length: word2vec binary (``count dim\\n`` first: ``load_word2vec_format``) and fastText
(``load_facebook_vectors``, which parses fastText's struct layout, no pickle).
:func:`_check_fasttext` first walks a fastText file's header and word list, since gensim would
loop forever on a file cut short inside a word.  Words a fastText file lacks get the vector of
their character n-grams, as fastText gives them.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

import numpy as np

from hfsent.errors import InputError
from hfsent.vector_rows import MAX_WORD_BYTES, W2V_HEADER, Found, check_dim

FASTTEXT_MAGIC = 793712314


def read_word2vec_binary(path: Path, found: Found) -> Found:
    """word2vec's binary format, its header checked against the file's length first."""
    from gensim.models import KeyedVectors

    with open(path, "rb") as f:
        header = W2V_HEADER.fullmatch(f.readline(64))
    if header is None:
        raise InputError(f"{path.name}: not word2vec binary (no 'count dim' header line)")
    count, dim = int(header.group(1)), int(header.group(2))
    check_dim(dim, count, path.name)
    if count * dim * 4 > path.stat().st_size:
        raise InputError(f"{path.name}: its header promises {count:,} vectors of {dim}, more than it holds")
    return _from_keyed(_gensim(lambda: KeyedVectors.load_word2vec_format(
        str(path), binary=True, unicode_errors="replace"), path), found)


def read_fasttext(path: Path, found: Found) -> Found:
    """fastText's ``.bin`` (checked by :func:`_check_fasttext`); words it lacks get n-gram vectors."""
    from gensim.models.fasttext import load_facebook_vectors

    _check_fasttext(path)
    kv = _gensim(lambda: load_facebook_vectors(str(path)), path)
    _from_keyed(kv, found)
    for word in found.wanted.keys() - found.rows.keys():
        row = kv[word] if kv.bucket else None  # all zeros when the word has no n-gram either
        if row is not None and np.any(row):
            found.rows[word], found.subword = np.asarray(row, np.float32), found.subword + 1
    return found


def _check_fasttext(path: Path) -> None:
    """Walk a fastText file's header, words and matrix shape against its length (no allocation)."""
    size = path.stat().st_size
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        def take(fmt: str, at: int) -> tuple[tuple, int]:
            end = at + struct.calcsize(fmt)
            if end > size:
                raise InputError(f"{path.name}: a fastText file cut short")
            return struct.unpack(fmt, mm[at:end]), end

        (magic, _version), at = take("@2i", 0)
        if magic != FASTTEXT_MAGIC:
            raise InputError(f"{path.name}: not a fastText .bin of fastText 0.9 or later (its magic number)")
        (dim, *_, bucket, _minn, _maxn, _rate), at = take("@12i", at)
        _, at = take("@d", at)
        (vocab_size, nwords, nlabels), at = take("@3i", at)
        check_dim(dim, vocab_size, path.name)
        if nlabels:
            raise InputError(f"{path.name}: a supervised fastText classifier, not word vectors")
        (_ntokens, pruned), at = take("@2q", at)
        for _ in range(vocab_size):
            end = mm.find(b"\0", at, at + MAX_WORD_BYTES)
            if end < 0:
                raise InputError(f"{path.name}: a fastText word over {MAX_WORD_BYTES} bytes, or cut short")
            at = end + 1 + struct.calcsize("@qb")
        at += 8 * max(pruned, 0)
        (quantized,), at = take("@?", at)
        (rows, cols), at = take("@2q", at)
        if quantized or cols != dim or rows != nwords + bucket or at + rows * cols * 4 > size:
            raise InputError(f"{path.name}: its matrix ({rows:,} x {cols}) fits neither its header nor length"
                             + (" (quantized .ftz files are not read)" if quantized else ""))


def _gensim(load, path: Path):
    try:
        return load()
    except (ValueError, EOFError, struct.error, NotImplementedError, AssertionError) as err:
        raise InputError(f"{path.name}: not readable as word vectors ({type(err).__name__})") from None


def _from_keyed(kv, found: Found) -> Found:
    found.dim, found.count = int(kv.vector_size), len(kv.index_to_key)
    check_dim(found.dim, found.count, "the word vectors")
    for i, word in enumerate(kv.index_to_key):
        found.offer(word, lambda i=i: np.asarray(kv.vectors[i], np.float32))
    return found
