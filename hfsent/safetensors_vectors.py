"""The safetensors reader: word vectors and their vocabulary as sentence-transformers'
``WordEmbeddings`` saves them (``model.safetensors`` with ``emb_layer.weight``,
``whitespacetokenizer_config.json`` with ``vocab``), read with ``safetensors.numpy``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from hfsent.errors import InputError
from hfsent.vector_rows import Found, check_dim


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
