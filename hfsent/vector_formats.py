"""Readers of word-vector files, each safe on a stranger's file: nothing is unpickled, and every
size a file declares is checked against the file's length and the caps below before anything
is allocated.

* word2vec / GloVe text (``.txt``, ``.vec``, optionally ``.gz``): read line by line here, keeping
  only the wanted words, so memory follows the vocabulary, not the file.  A word2vec header
  (``count dim``) is optional.  Lines that are not UTF-8, do not split into a word and ``dim``
  numbers, or hold a non-finite number are skipped and counted.
* word2vec binary (``.bin`` starting ``count dim\\n``): gensim's ``load_word2vec_format``.
* fastText ``.bin``: gensim's ``load_facebook_vectors``, which parses fastText's struct layout
  (no pickle).  :func:`_check_fasttext` first walks its header and word list, since gensim
  would loop forever on a file cut short inside a word.  Words it lacks get the vector of their
  character n-grams, as fastText gives them.
* safetensors + vocabulary, as sentence-transformers' ``WordEmbeddings`` saves them
  (``model.safetensors`` with ``emb_layer.weight``, ``whitespacetokenizer_config.json`` with
  ``vocab``): read with ``safetensors.numpy``.

Refused by name, in one line: pickles (gensim's native ``.model``/``.kv``, numpy's ``.npy``,
torch's ``pytorch_model.bin``...), whose loading can run code.
"""

from __future__ import annotations

import gzip
import json
import mmap
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hfsent.config import MAX_UNITS
from hfsent.errors import InputError

MAX_VECTOR_BYTES = 8 << 30  # a file, or a Hub download, above this is refused (fastText's cc.en is 7.2 GB)
MAX_VECTORS = 4_000_000  # words a file may hold (GloVe 840B: 2.2M, fastText cc: 2M)
MAX_WORD_BYTES = 1024
TEXT_SUFFIXES = (".txt", ".vec", ".txt.gz", ".vec.gz")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".p", ".pt", ".pth", ".ckpt", ".joblib", ".model", ".kv", ".npy",
                   ".npz", ".wv", ".vectors")
PICKLE_NAMES = ("pytorch_model.bin",)
ST_WEIGHTS, ST_VOCAB = "model.safetensors", "whitespacetokenizer_config.json"  # sentence-transformers'
ST_FOLDER = "0_WordEmbeddings"  # where the Hub's average_word_embeddings_* keep those two
FASTTEXT_MAGIC = 793712314
SPACY_PREFIX = "spacy:"  # --word-vectors spacy:NAME
_W2V_HEADER = re.compile(rb"\s*(\d{1,12}) (\d{1,12})\s*\n")


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


def public_source(source: str | None) -> str | None:
    """``source`` as a model folder may keep it: a local path reduced to its last name.

    Example:
        >>> public_source("/data/glove.6B.100d.txt"), public_source("spacy:/models/my_pipe")
        ('glove.6B.100d.txt', 'spacy:my_pipe')
    """
    if source is None:
        return None
    spacy = source.startswith(SPACY_PREFIX)
    prefix, name = (SPACY_PREFIX, source[len(SPACY_PREFIX):]) if spacy else ("", source)
    local = os.path.isabs(name) or os.path.exists(name) or name.startswith((".", "~")) or "\\" in name
    return prefix + (Path(name).name if local else name)


def refuse_pickle(name: str) -> None:
    """One-line refusal of a file that is, by its name, a pickle."""
    base = Path(name).name
    if base.lower().endswith(PICKLE_SUFFIXES) or base in PICKLE_NAMES:
        raise InputError(f"refusing word vectors {base[:100]!r}: a pickle (gensim's .model/.kv, numpy's "
                         ".npy, torch's .bin/.pt) can run code when loaded; give word2vec/GloVe text, "
                         "word2vec binary, fastText .bin or safetensors with its vocabulary")


def check_size(size: int, what: str) -> None:
    if size > MAX_VECTOR_BYTES:
        raise InputError(f"the word vectors {what[:100]!r} are {size / 1e9:.1f} GB, above hfsent's "
                         f"{MAX_VECTOR_BYTES / 1e9:.1f} GB")


def check_dim(dim: int, count: int, what: str) -> None:
    if not 1 <= dim <= MAX_UNITS:
        raise InputError(f"{what}: vectors of {dim} dimensions (hfsent takes 1 to {MAX_UNITS})")
    if not 0 <= count <= MAX_VECTORS:
        raise InputError(f"{what}: {count:,} vectors (hfsent reads at most {MAX_VECTORS:,})")


def read_text(path: Path, found: Found) -> Found:
    """word2vec or GloVe text, with or without the ``count dim`` header; gzipped if ``.gz``."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        first = f.readline(MAX_WORD_BYTES + 32 * MAX_UNITS + 1)
        if len(first) > MAX_WORD_BYTES + 32 * MAX_UNITS:
            raise InputError(f"line 1 of the word vectors is longer than {len(first) - 1:,} bytes")
        header = _W2V_HEADER.fullmatch(first)
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


def read_word2vec_binary(path: Path, found: Found) -> Found:
    """word2vec's binary format, its header checked against the file's length first."""
    from gensim.models import KeyedVectors

    with open(path, "rb") as f:
        header = _W2V_HEADER.fullmatch(f.readline(64))
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


def read_safetensors(weights: Path, vocab_file: Path, found: Found) -> Found:
    """sentence-transformers' ``WordEmbeddings``: ``emb_layer.weight`` row ``i`` is ``vocab[i]``."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        words = json.loads(vocab_file.read_bytes().decode("utf-8", "replace"))["vocab"]
        matrix = load_file(str(weights))["emb_layer.weight"]
    except (ValueError, KeyError, TypeError, SafetensorError) as err:
        raise InputError(f"{weights.name}: not sentence-transformers word embeddings "
                         f"({type(err).__name__})") from None
    if not isinstance(words, list) or matrix.ndim != 2 or len(words) != matrix.shape[0]:
        raise InputError(f"{weights.name}: its {matrix.shape[0]:,} rows do not match its vocabulary")
    check_dim(int(matrix.shape[1]), len(words), weights.name)
    found.dim, found.count = int(matrix.shape[1]), len(words)
    for i, word in enumerate(words[1:], start=1):  # row 0 is sentence-transformers' padding
        if isinstance(word, str):
            found.offer(word, lambda i=i: matrix[i].astype(np.float32))
    return found


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
