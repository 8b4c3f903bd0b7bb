"""Predict sentiment for raw texts with a trained model folder.

``SentimentClassifier.load(folder)`` reads the artifacts (see :mod:`hfsent.artifacts`) and
applies exactly the training-time preprocessing: same spaCy tokenizer and casing, same
vocabulary, same ``max_length`` truncation.  Texts are batched by length, so a mix of
short and long reviews is not padded to the longest one.  Hub transfers are
:mod:`hfsent.hub`'s, which works on folders; the classifier composes it with the folder
format of :mod:`hfsent.artifacts`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from huggingface_hub import CommitInfo

from hfsent import fields, hub
from hfsent.artifacts import load_artifacts, save_artifacts
from hfsent.batching import ordered_batches
from hfsent.config import Config
from hfsent.errors import InputError
from hfsent.locate import local_model
from hfsent.tokenize import cut, tokenize
from hfsent.vocab import Vocabulary

log = logging.getLogger(__name__)


@dataclass
class SentimentClassifier:
    """A trained model with the vocabulary and settings that turn raw text into its input.

    Args:
        model: the Keras network over right-padded token ids.
        vocab: the training vocabulary.
        config: the run's :class:`~hfsent.config.Config` (preprocessing and model parts are used).

    Example:
        >>> clf = SentimentClassifier.from_pretrained("USER/imdb-gru")
        >>> clf.predict(["A moving, beautifully acted film."])
        [{'label': 'positive', 'score': 0.97, 'probability_positive': 0.97}]
    """

    model: keras.Model
    vocab: Vocabulary
    config: Config

    @classmethod
    def load(cls, folder: str | Path) -> SentimentClassifier:
        """Load a local model folder, checked (see :func:`hfsent.artifacts.load_artifacts`)."""
        return cls(*load_artifacts(folder))

    @classmethod
    def from_pretrained(cls, repo_id_or_path: str | Path, revision: str | None = None,
                        cache_dir: str | Path | None = None, token: str | None = None) -> SentimentClassifier:
        """A local model folder, or a Hub repo id at ``revision`` (its artifact files only;
        see :func:`hfsent.hub.download`).

        Example:
            >>> SentimentClassifier.from_pretrained("USER/imdb-gru", revision="<commit sha>")
        """
        name = str(repo_id_or_path)
        folder = local_model(name)
        if folder is not None:
            return cls.load(folder)
        loaded = cls.load(hub.download(name, revision, cache_dir, token))
        # Said once it has loaded, so that a failed load is the command's one error line.
        log.info("loaded the Hub repo %s at revision %s", name, revision or "main")
        return loaded

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> CommitInfo:
        """Save to a temporary folder and push it as one commit (see :func:`hfsent.hub.push_to_hub`)."""
        with tempfile.TemporaryDirectory() as tmp:
            return hub.push_to_hub(self.save(Path(tmp) / "model"), repo_id, **kwargs)

    def save(self, folder: str | Path, overwrite: bool = False, **kwargs: Any) -> Path:
        """Write the model folder atomically (see :func:`hfsent.artifacts.save_artifacts`)."""
        return save_artifacts(folder, self.model, self.vocab, self.config, overwrite=overwrite, **kwargs)

    @property
    def text_fields(self) -> list[str]:
        """The text fields the model reads (``data.text_column``; see :mod:`hfsent.fields`)."""
        return fields.parse(self.config.data.text_column)

    def tokens(self, texts: Iterable[str | Mapping[str, str]]) -> list[list[str]]:
        """The tokens the model reads of each text: each text cut to a bounded number of
        characters first (:func:`hfsent.tokenize.cut`), tokenized as in training, truncated to
        ``max_length``.  ``texts`` may be any iterable of strings (read once); unusable inputs
        are refused.  An input may also be a ``{field: text}`` dict of the model's
        :attr:`text_fields`, joined as training joined them (:func:`hfsent.fields.input_texts`)."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not a single string: wrap it in [...]")
        if isinstance(texts, Mapping):
            raise TypeError("predict takes a list of inputs, not a single dict: wrap it in [...]")
        texts = fields.input_texts(texts, self.text_fields)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i} is {type(text).__name__}, not str")
        pre = self.config.preprocessing
        tokens = tokenize([cut(text, pre.max_length) for text in texts], pre.spacy_model, pre.lowercase)
        empty = [i for i, toks in enumerate(tokens) if not toks]
        if empty:
            raise InputError(f"text(s) at position {empty[:10]} contain no tokens (empty or whitespace)")
        return [toks[: pre.max_length] for toks in tokens]

    def encode(self, texts: Iterable[str]) -> list[list[int]]:
        """Token ids per text (:meth:`tokens`)."""
        return [self.vocab.encode(toks) for toks in self.tokens(texts)]

    def predict_ids(self, sequences: Sequence[Sequence[int]], batch_size: int | None = None) -> np.ndarray:
        """The model's output for each id sequence, in input order: the positive-class
        probability (binary), a row of class probabilities (more classes), or the unclipped
        rating for the rating task."""
        if batch_size is not None and batch_size < 1:
            raise InputError(f"batch_size must be a whole number ≥ 1, got {batch_size}")
        width = int(self.model.output_shape[-1])
        probs = np.empty((len(sequences), width), dtype=np.float32)
        batch_size = batch_size or self.config.training.batch_size * 4
        for positions, padded in ordered_batches(sequences, batch_size):
            probs[positions] = np.asarray(self.model.predict_on_batch(padded)).reshape(len(positions), width)
        return probs.reshape(-1) if width == 1 else probs

    def predict_proba(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """:meth:`predict_ids` of :meth:`encode`: one number per text, or a row of class
        probabilities for a model of more than two classes."""
        return self.predict_ids(self.encode(texts), batch_size)

    def class_probabilities(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """``(texts, classes)``: the probability of each class (``config.model.classes``), binary too.

        Example:
            >>> clf.class_probabilities(["A moving film."])
            array([[0.03, 0.97]], dtype=float32)
        """
        if self.config.model.task == "rating":
            raise InputError("a rating model has no classes; use predict")
        return _class_rows(self.predict_proba(texts, batch_size))

    def clip_ratings(self, ratings: np.ndarray) -> np.ndarray:
        """Ratings clipped to the model's scale (``rating_min`` to ``rating_max``)."""
        return np.clip(ratings, self.config.model.rating_min, self.config.model.rating_max)

    def predict(self, texts: Sequence[str], batch_size: int | None = None,
                top_k: int | None = None) -> list[dict] | list[list[dict]]:
        """One ``{"label", "score", "scores"}`` dict per text.

        ``score`` is the probability of the predicted label, as in a ``transformers``
        text-classification pipeline, and ``scores`` maps every class to its probability.  A
        binary model also gives ``probability_positive``, class 1's.  With ``top_k``, each text
        gets its ``top_k`` most probable ``{"label", "score"}`` instead, as a pipeline does (see
        :meth:`ranked`).  For the rating task: ``{"rating", "rating_rounded"}``, clipped to the
        rating scale.
        """
        if top_k is not None:
            return self.ranked(texts, top_k, batch_size)
        if self.config.model.task == "rating":
            ratings = self.clip_ratings(self.predict_proba(texts, batch_size))
            return [{"rating": float(r), "rating_rounded": int(np.rint(r))} for r in ratings]
        names = self.config.model.classes
        out = []
        for row in self.class_probabilities(texts, batch_size):
            best = int(np.argmax(row))
            result = {"label": names[best], "score": float(row[best]),
                      "scores": {name: float(p) for name, p in zip(names, row)}}
            out.append({**result, "probability_positive": float(row[1])} if len(names) == 2 else result)
        return out

    def ranked(self, texts: Sequence[str], top_k: int | None = None,
               batch_size: int | None = None) -> list[list[dict]]:
        """Per text, every label with its probability, highest first: a ``transformers``
        text-classification pipeline's output with ``top_k=None``, or its first ``top_k``.
        A rating model gives ``[{"label": "rating", "score": stars}]``, as a regression head does.

        Example:
            >>> clf.ranked(["A moving film."])
            [[{'label': 'positive', 'score': 0.97}, {'label': 'negative', 'score': 0.03}]]
        """
        check_top_k(top_k)
        return self.rank_outputs(self.predict_proba(texts, batch_size), top_k)

    def rank_outputs(self, outputs: np.ndarray, top_k: int | None = None) -> list[list[dict]]:
        """:meth:`ranked`'s answer from :meth:`predict_ids`' outputs (one row or number per
        text), so that a caller who batches texts itself (``hfsent serve``) shapes them the same."""
        if self.config.model.task == "rating":
            return [[{"label": "rating", "score": float(r)}] for r in self.clip_ratings(outputs)]
        names = self.config.model.classes
        out = []
        for row in _class_rows(outputs):
            order = np.argsort(-row, kind="stable")[:top_k]
            out.append([{"label": names[i], "score": float(row[i])} for i in order])
        return out


def _class_rows(outputs: np.ndarray) -> np.ndarray:
    """``(texts, classes)`` probabilities from model outputs: a binary model's one number per
    text becomes ``[1 - p, p]``."""
    return np.stack([1 - outputs, outputs], axis=1) if outputs.ndim == 1 else outputs


def check_top_k(top_k: object) -> None:
    """Refuse a ``top_k`` that is not ``None`` or a whole number ≥ 1 (a bool is not one)."""
    if top_k is not None and (type(top_k) is not int or top_k < 1):
        raise InputError(f"top_k must be a whole number ≥ 1, got {top_k!r}")

