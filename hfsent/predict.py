"""Predict sentiment for raw texts with a trained model folder.

``SentimentClassifier.load(folder)`` reads the artifacts (see :mod:`hfsent.artifacts`) and
applies exactly the training-time preprocessing: same spaCy tokenizer and casing, same
vocabulary, same ``max_length`` truncation.  Texts are batched by length, so a mix of
short and long reviews is not padded to the longest one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from hfsent.artifacts import load_artifacts, save_artifacts
from hfsent.batching import ordered_batches
from hfsent.config import Config
from hfsent.tokenize import tokenize
from hfsent.vocab import Vocabulary


@dataclass
class SentimentClassifier:
    model: keras.Model
    vocab: Vocabulary
    config: Config

    @classmethod
    def load(cls, folder: str | Path) -> SentimentClassifier:
        return cls(*load_artifacts(folder))

    @classmethod
    def from_pretrained(cls, repo_id_or_path: str | Path, revision: str | None = None,
                        **kwargs) -> SentimentClassifier:
        """A local folder, or a Hub repo id at ``revision`` (see :func:`hfsent.hub.from_pretrained`)."""
        from hfsent.hub import from_pretrained

        return from_pretrained(repo_id_or_path, revision=revision, **kwargs)

    def push_to_hub(self, repo_id: str, **kwargs):
        """Upload this classifier to ``repo_id`` (see :func:`hfsent.hub.push_to_hub`)."""
        from hfsent.hub import push_to_hub

        return push_to_hub(self, repo_id, **kwargs)

    def save(self, folder: str | Path, overwrite: bool = False, **kwargs) -> Path:
        return save_artifacts(folder, self.model, self.vocab, self.config, overwrite=overwrite, **kwargs)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, truncated to ``max_length``.  Rejects unusable inputs."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not a single string: wrap it in [...]")
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i} is {type(text).__name__}, not str")
        tokens = tokenize(texts, self.config.spacy_model, self.config.lowercase)
        empty = [i for i, toks in enumerate(tokens) if not toks]
        if empty:
            raise ValueError(f"text(s) at position {empty[:10]} contain no tokens (empty or whitespace)")
        return [self.vocab.encode(toks[: self.config.max_length]) for toks in tokens]

    def predict_ids(self, sequences: Sequence[Sequence[int]], batch_size: int | None = None) -> np.ndarray:
        """The model's output for each id sequence, in input order: the positive-class
        probability, or the unclipped rating for the rating task."""
        probs = np.empty(len(sequences), dtype=np.float32)
        for positions, padded in ordered_batches(sequences, batch_size or self.config.batch_size * 4):
            probs[positions] = np.asarray(self.model.predict_on_batch(padded)).reshape(-1)
        return probs

    def predict_proba(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        return self.predict_ids(self.encode(texts), batch_size)

    def clip_ratings(self, ratings: np.ndarray) -> np.ndarray:
        return np.clip(ratings, self.config.rating_min, self.config.rating_max)

    def predict(self, texts: Sequence[str], batch_size: int | None = None) -> list[dict]:
        """One ``{"label", "score", "probability_positive"}`` dict per text.

        ``score`` is the probability of the predicted label, as in a ``transformers``
        text-classification pipeline; ``probability_positive`` is always class 1's.
        For the rating task: ``{"rating", "rating_rounded"}``, clipped to the rating scale.
        """
        if self.config.task == "rating":
            ratings = self.clip_ratings(self.predict_proba(texts, batch_size))
            return [{"rating": float(r), "rating_rounded": int(np.rint(r))} for r in ratings]
        names = self.config.label_names
        out = []
        for p in self.predict_proba(texts, batch_size):
            label = int(p >= 0.5)
            out.append({"label": names[label], "score": float(p if label else 1 - p),
                        "probability_positive": float(p)})
        return out


def read_lines(data: bytes, source: str) -> list[str]:
    """Non-blank lines of UTF-8 ``data``; a clear error names ``source`` and the bad byte."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{source} is not valid UTF-8: byte 0x{data[err.start]:02x} at offset {err.start} "
            "cannot be decoded (re-save the file as UTF-8)"
        ) from None
    return [line for line in text.splitlines() if line.strip()]
