"""Pretrained word vectors for the Embedding (``--word-vectors SOURCE``).

SOURCE is, checked in this order:

* ``spacy:NAME``: an installed spaCy pipeline that has vectors (``spacy:en_core_web_md``), or the
  folder of one (``spacy:path/to/pipeline``);
* an existing local file (see :mod:`hfsent.vector_formats`), or a folder in
  sentence-transformers' layout (``0_WordEmbeddings/model.safetensors`` and its vocabulary);
* a Hub model repo, ``owner/name``, or one file of it, ``owner/name/path/in/repo`` (never a
  value that looks like a local path: :func:`hub_like`), at
  ``--word-vectors-revision`` (a branch, tag or commit, as ``from_pretrained(revision=...)``;
  default ``main``): see :mod:`hfsent.vector_hub` (sizes logged before the download, cached).

Rows of the vocabulary that the vectors lack are filled by the task's own word2vec
(:mod:`hfsent.pretrain`) when it is on, else drawn at random; both at the vectors' scale.
The vectors' dimension replaces ``embedding_dim``: the data stage says so when it changes it.
What the model folder keeps of the source (:func:`public_source`, :meth:`Vectors.record`) holds
no local path: a file's name and SHA-256, a Hub repo's id, commit and license, a pipeline's name,
version and license.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
from datasets import Dataset

from hfsent import vector_formats as fmt
from hfsent.config import Config
from hfsent.errors import InputError, MissingError
from hfsent.vector_formats import SPACY_PREFIX, public_source
from hfsent.vector_hub import from_hub
from hfsent.vocab import PAD_ID, UNK_ID, Vocabulary

log = logging.getLogger(__name__)


@dataclass
class Vectors:
    """Rows for the vocabulary: ``matrix[i]`` is ``vocab.tokens[i]``'s vector where ``covered[i]``."""

    matrix: np.ndarray
    covered: np.ndarray
    record: dict  # the source as the card names it; no local path

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])


def load_vectors(config: Config, vocab: Vocabulary) -> Vectors:
    """The vectors of ``config.training.word_vectors`` for ``vocab`` (lowercase matches too if the
    vocabulary is lowercased), with their provenance."""
    source, revision = config.training.word_vectors, config.training.word_vectors_revision
    found = fmt.Found({t: i for i, t in enumerate(vocab.tokens) if i not in (PAD_ID, UNK_ID)},
                      config.preprocessing.lowercase)
    if source.startswith(SPACY_PREFIX):
        record = _from_spacy(source[len(SPACY_PREFIX):], found)
    elif os.path.exists(source):
        record = _from_path(Path(source), found)
    elif not hub_like(source):  # never sent to the Hub
        raise MissingError(f"--word-vectors: no such file {source[:200]!r}")
    else:
        record = from_hub(source, revision, found, read_file)
    if not found.rows:
        raise InputError(f"the word vectors {public_source(source)!r} hold none of the "
                         f"{len(vocab):,} vocabulary words: check the language and the casing")
    if found.skipped:
        log.warning("word vectors: %d entries skipped (not UTF-8, malformed or not finite)", found.skipped)
    matrix = np.zeros((len(vocab), found.dim), np.float32)
    covered = np.zeros(len(vocab), bool)
    for word, row in found.rows.items():
        matrix[found.wanted[word]], covered[found.wanted[word]] = row, True
    return Vectors(matrix, covered, {**record, "dim": found.dim, "vectors": found.count,
                                     **({"subword": found.subword} if found.subword else {})})


def hub_like(source: str) -> bool:
    """Whether a source that is no local path may be sent to the Hub: not one that starts with
    ``.``, ``~`` or ``/``, holds a backslash, or lies in an existing local folder."""
    return not (source.startswith((".", "~", "/")) or "\\" in source or os.path.isdir(source.split("/")[0]))


def _from_path(path: Path, found: fmt.Found) -> dict:
    """A local file or sentence-transformers folder; the record keeps its name and SHA-256."""
    if path.is_dir():
        folder = path / fmt.ST_FOLDER if (path / fmt.ST_FOLDER).is_dir() else path
        weights, words = folder / fmt.ST_WEIGHTS, folder / fmt.ST_VOCAB
        if not (weights.is_file() and words.is_file()):
            raise MissingError(f"the folder {path.name!r} holds no {fmt.ST_FOLDER}/{fmt.ST_WEIGHTS} with its "
                               f"{fmt.ST_VOCAB}: give a vectors file instead")
        fmt.check_size(weights.stat().st_size + words.stat().st_size, path.name)
        fmt.read_safetensors(weights, words, found)
        return {"source": "file", "name": path.name, "sha256": _sha256(weights)}
    read_file(path, found)
    return {"source": "file", "name": path.name, "sha256": _sha256(path)}


def read_file(path: Path, found: fmt.Found) -> fmt.Found:
    """One vectors file, its format told by its name and first bytes (pickles refused by name)."""
    fmt.refuse_pickle(path.name)
    fmt.check_size(path.stat().st_size, path.name)
    name = path.name.lower()
    if name.endswith(".safetensors"):
        return fmt.read_safetensors(path, path.with_name(fmt.ST_VOCAB), found)
    if name.endswith(fmt.TEXT_SUFFIXES):
        return fmt.read_text(path, found)
    if name.endswith(".bin"):
        with open(path, "rb") as f:
            start = f.read(4)
        if int.from_bytes(start, "little") == fmt.FASTTEXT_MAGIC:
            return fmt.read_fasttext(path, found)
        if start[:1] in (b"\x80", b"P"):  # a pickle's protocol byte, or torch's zip
            fmt.refuse_pickle(path.name + ".pkl")
        return fmt.read_word2vec_binary(path, found)
    raise InputError(f"{path.name[:100]!r}: not a word-vectors file hfsent reads (.txt, .vec, .txt.gz, "
                     ".vec.gz, .bin or .safetensors)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _from_spacy(name: str, found: fmt.Found) -> dict:
    """An installed spaCy pipeline (or a pipeline's folder): only its vocabulary's vectors are read."""
    import spacy

    try:
        nlp = spacy.load(name)
    except OSError:
        raise MissingError(f"spaCy cannot load {public_source(name)!r}: install the pipeline (python -m "
                           "spacy download en_core_web_md) or give the folder of one") from None
    vectors = nlp.vocab.vectors
    if nlp.vocab.vectors_length == 0 or vectors.n_keys == 0 and vectors.mode == "default":
        raise InputError(f"the spaCy pipeline {public_source(name)!r} has no word vectors (the _sm pipelines "
                         "have none: use en_core_web_md or _lg)")
    found.dim, found.count = int(nlp.vocab.vectors_length), int(vectors.n_keys)
    fmt.check_dim(found.dim, found.count, "the spaCy vectors")
    for word in list(found.wanted):
        for form in (word, word.capitalize()) if found.lowercase else (word,):
            if nlp.vocab.has_vector(form):
                found.offer(word, lambda form=form: np.asarray(nlp.vocab.get_vector(form), np.float32))
                break
    meta = nlp.meta
    return {"source": "spacy", "pipeline": f"{meta.get('lang', '?')}_{meta.get('name', '?')}",
            "version": str(meta.get("version", "?")), "license": str(meta.get("license") or "unknown")}


def source_text(record: dict) -> str:
    """The source in words, e.g. ``the Hub repo owner/name at 0123456789ab (license mit)``."""
    if record["source"] == "hub":
        where = f"the Hub repo {record['repo']} at {record['revision'][:12]} (license {record['license']})"
    elif record["source"] == "spacy":
        where = f"the spaCy pipeline {record['pipeline']} {record['version']} (license {record['license']})"
    else:
        where = f"the file {record['name']} (SHA-256 {record['sha256'][:12]})"
    return f"{where}: {record['vectors']:,} vectors of {record['dim']}"


def coverage(vectors: Vectors, config: Config, train_ids) -> tuple[str, dict]:
    """The data stage's sentence and figures: the share of the vocabulary's words, and (for a
    cached, not streamed, train split) of the training tokens, that the vectors cover."""
    words = vectors.covered[2:]  # not [PAD], [UNK]
    figures = {**vectors.record, "types_covered": round(float(words.mean()), 4) if len(words) else 0.0}
    text = (f"; word vectors from {source_text(vectors.record)} cover {figures['types_covered']:.1%} "
            "of the vocabulary's words")
    if isinstance(train_ids, Dataset):  # a stream is not read once more for this
        ids = pc.list_flatten(train_ids.with_format("arrow")[:]["input_ids"]).to_numpy()
        counts = np.bincount(ids, minlength=len(vectors.covered))
        figures["tokens_covered"] = round(float(counts[vectors.covered].sum() / max(counts.sum(), 1)), 4)
        text += f" and {figures['tokens_covered']:.1%} of the training tokens"
    if config.model.embedding_dim != vectors.dim:
        text += f"; embedding_dim {config.model.embedding_dim} -> {vectors.dim}, the vectors' dimension"
    return text, figures


def init_matrix(vectors: Vectors, fallback: np.ndarray | None, seed: int) -> np.ndarray:
    """The Embedding's matrix: the vectors where they cover a word, else ``fallback``'s row (the
    task's word2vec) or a random one, each rescaled to the vectors' spread; ``[PAD]`` zero."""
    scale = float(np.std(vectors.matrix[vectors.covered])) or 1.0
    if fallback is None:
        fallback = np.random.default_rng(seed).normal(0.0, scale, vectors.matrix.shape).astype(np.float32)
    else:
        fallback = fallback * np.float32(scale / (float(np.std(fallback)) or 1.0))
    matrix = np.where(vectors.covered[:, None], vectors.matrix, fallback).astype(np.float32)
    matrix[PAD_ID] = 0.0
    return matrix
