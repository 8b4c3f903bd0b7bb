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
from collections.abc import Iterable, Sequence
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
from hfsent.preprocess import Preprocessor
from hfsent.tasks import Task, task_for
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

    @property
    def preprocessor(self) -> Preprocessor:
        """Text to ids exactly as in training (:mod:`hfsent.preprocess`)."""
        return Preprocessor.of(self.config, self.vocab)

    def tokens(self, texts: Iterable[str]) -> list[list[str]]:
        """The tokens the model reads of each text (:meth:`hfsent.preprocess.Preprocessor.tokens`):
        each text cut to a bounded number of characters first, tokenized as in training,
        truncated to ``max_length``; unusable inputs are refused.  An input may also be a
        ``{field: text}`` dict of the model's :attr:`text_fields`, joined as training joined them."""
        return self.preprocessor.tokens(texts)

    def encode(self, texts: Iterable[str]) -> list[list[int]]:
        """Token ids per text (:meth:`tokens`)."""
        return self.preprocessor.ids(texts)

    def predict_ids(self, sequences: Sequence[Sequence[int]], batch_size: int | None = None) -> np.ndarray:
        """The model's output for each id sequence, in input order: the positive-class
        probability (binary), a row of class probabilities (more classes), or the unclipped
        rating for the rating task."""
        if batch_size is not None and batch_size < 1:
            raise InputError(f"batch_size must be a whole number ≥ 1, got {batch_size}")
        width = int(self.model.output_shape[-1])
        probs = np.empty((len(sequences), width), dtype=np.float32)
        for positions, padded in ordered_batches(sequences, self._rows_per_call(batch_size)):
            out = np.asarray(self._call_batch(padded))[: len(positions)]
            probs[positions] = out.reshape(len(positions), width)
        return probs.reshape(-1) if width == 1 else probs

    def _rows_per_call(self, batch_size: int | None) -> int:
        """How many sequences :meth:`predict_ids` gives one model call."""
        return batch_size or self.config.training.batch_size * 4

    def _call_batch(self, padded: np.ndarray) -> np.ndarray:
        """The model's outputs for one padded batch (at least its rows; extra rows are dropped)."""
        return self.model.predict_on_batch(padded)

    def predict_proba(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """:meth:`predict_ids` of :meth:`encode`: one number per text, or a row of class
        probabilities for a model of more than two classes."""
        return self.predict_ids(self.encode(texts), batch_size)

    @property
    def task(self) -> Task:
        """The model's task kind, which shapes every answer (:mod:`hfsent.tasks`)."""
        return task_for(self.config.model)

    def class_probabilities(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """``(texts, classes)``: the probability of each class (``config.model.classes``), binary too;
        refused by a rating model.

        Example:
            >>> clf.class_probabilities(["A moving film."])
            array([[0.03, 0.97]], dtype=float32)
        """
        self.task.check_demo()  # a rating model is refused before anything is predicted
        return self.task.class_rows(self.predict_proba(texts, batch_size))

    def clip_ratings(self, ratings: np.ndarray) -> np.ndarray:
        """Ratings clipped to the model's scale (``rating_min`` to ``rating_max``)."""
        return np.clip(ratings, self.config.model.rating_min, self.config.model.rating_max)

    def predict(self, texts: Sequence[str], batch_size: int | None = None,
                top_k: int | None = None) -> list[dict] | list[list[dict]]:
        """One dict per text, shaped by the task (:meth:`hfsent.tasks.base.Task.present`).

        A classifier gives ``{"label", "score", "scores"}``: ``score`` is the probability of the
        predicted label, as in a ``transformers`` text-classification pipeline, and ``scores`` maps
        every class to its probability; a binary model also gives ``probability_positive``, class
        1's.  The rating task gives ``{"rating", "rating_rounded"}``, clipped to the rating scale.
        With ``top_k``, each text gets its ``top_k`` most probable ``{"label", "score"}`` instead,
        as a pipeline does (see :meth:`ranked`).
        """
        if top_k is not None:
            return self.ranked(texts, top_k, batch_size)
        return self.task.present(self.predict_proba(texts, batch_size))

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
        return self.task.rank(outputs, top_k)


def check_top_k(top_k: object) -> None:
    """Refuse a ``top_k`` that is not ``None`` or a whole number ≥ 1 (a bool is not one)."""
    if top_k is not None and (type(top_k) is not int or top_k < 1):
        raise InputError(f"top_k must be a whole number ≥ 1, got {top_k!r}")

