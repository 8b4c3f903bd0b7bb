"""Readers of word-vector files, each safe on a stranger's file: nothing is unpickled, and every
size a file declares is checked against the file's length and the caps (below and in
:mod:`hfsent.vector_rows`) before anything is allocated.

* word2vec / GloVe text (``.txt``, ``.vec``, optionally ``.gz``): read line by line, keeping
  only the wanted words, so memory follows the vocabulary, not the file.  A word2vec header
  (``count dim``) is optional.  Lines that are not UTF-8, do not split into a word and ``dim``
  numbers, or hold a non-finite number are skipped and counted.
* word2vec binary (``.bin`` starting ``count dim\\n``): gensim's ``load_word2vec_format``.
* fastText ``.bin``: gensim's ``load_facebook_vectors``, which parses fastText's struct layout
  (no pickle).  :func:`~hfsent.binary_vectors._check_fasttext` first walks its header and word
  list, since gensim would loop forever on a file cut short inside a word.  Words it lacks get
  the vector of their character n-grams, as fastText gives them.
* safetensors + vocabulary, as sentence-transformers' ``WordEmbeddings`` saves them
  (``model.safetensors`` with ``emb_layer.weight``, ``whitespacetokenizer_config.json`` with
  ``vocab``): read with ``safetensors.numpy``.

Each reader is its own module (:mod:`hfsent.text_vectors`, :mod:`hfsent.binary_vectors`,
:mod:`hfsent.safetensors_vectors`), sharing :mod:`hfsent.vector_rows`; this module names the
formats, refuses pickles and oversized files, and is where to import the readers from.

Refused by name, in one line: pickles (gensim's native ``.model``/``.kv``, numpy's ``.npy``,
torch's ``pytorch_model.bin``...), whose loading can run code.
"""

from __future__ import annotations

import os
from pathlib import Path

from hfsent.binary_vectors import FASTTEXT_MAGIC, read_fasttext, read_word2vec_binary
from hfsent.errors import InputError
from hfsent.safetensors_vectors import read_safetensors
from hfsent.text_vectors import read_text
from hfsent.vector_rows import MAX_VECTORS, MAX_WORD_BYTES, Found, check_dim

__all__ = ["FASTTEXT_MAGIC", "MAX_VECTORS", "MAX_VECTOR_BYTES", "MAX_WORD_BYTES", "PICKLE_NAMES",
           "PICKLE_SUFFIXES", "SPACY_PREFIX", "ST_FOLDER", "ST_VOCAB", "ST_WEIGHTS", "TEXT_SUFFIXES",
           "Found", "check_dim", "check_size", "public_source", "read_fasttext", "read_safetensors",
           "read_text", "read_word2vec_binary", "refuse_pickle"]

MAX_VECTOR_BYTES = 8 << 30  # a file, or a Hub download, above this is refused (fastText's cc.en is 7.2 GB)
TEXT_SUFFIXES = (".txt", ".vec", ".txt.gz", ".vec.gz")
PICKLE_SUFFIXES = (".pkl", ".pickle", ".p", ".pt", ".pth", ".ckpt", ".joblib", ".model", ".kv", ".npy",
                   ".npz", ".wv", ".vectors")
PICKLE_NAMES = ("pytorch_model.bin",)
ST_WEIGHTS, ST_VOCAB = "model.safetensors", "whitespacetokenizer_config.json"  # sentence-transformers'
ST_FOLDER = "0_WordEmbeddings"  # where the Hub's average_word_embeddings_* keep those two
SPACY_PREFIX = "spacy:"  # --word-vectors spacy:NAME


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
