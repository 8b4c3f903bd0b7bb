"""The one way text becomes token ids: spaCy tokenizer and casing, vocabulary, ``max_length``.

Training (:mod:`hfsent.prepare`), the word2vec stage (:mod:`hfsent.pretrain`), scoring a dataset
(:func:`hfsent.metrics.score_dataset`), streaming, predict, the Endpoint handler, ``hfsent
serve`` and explain all go through a :class:`Preprocessor` built from the model's
``preprocessing`` settings, so that no two of them can read a text differently.

Two paths, one tokenizer (:func:`hfsent.tokenize.tokenize`):

* **texts** (:meth:`Preprocessor.tokens`, :meth:`Preprocessor.ids`): a ``{field: text}`` input of
  a model of several text fields joined as training joined them (:mod:`hfsent.fields`); each text
  cut to a bounded number of characters first (:func:`hfsent.tokenize.cut`), tokenized, refused if it holds no
  token, truncated to ``max_length``;
* **datasets** (:meth:`Preprocessor.tokenize_dataset`, :meth:`Preprocessor.encode_dataset`): a
  ``tokens`` column (cached by ``datasets``), then ``input_ids`` under the vocabulary; the
  truncation to ``max_length`` happens where batches are cut (:mod:`hfsent.batching`) and where
  a split is predicted (:func:`hfsent.metrics.predict_split`), so the cached ids serve any length.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hfsent import fields
from hfsent.errors import InputError
from hfsent.tokenize import cut, tokenize, tokenize_dataset

if TYPE_CHECKING:
    from datasets import Dataset, IterableDataset

    from hfsent.config import Config
    from hfsent.vocab import Vocabulary


@dataclass(frozen=True)
class Preprocessor:
    """Tokenizer, casing, vocabulary and length of one model (or of a run before its vocabulary).

    Example:
        >>> Preprocessor.of(clf.config, clf.vocab).ids(["A moving film."])
        [[5, 1043, 27, 3]]
    """

    spacy_model: str
    lowercase: bool
    max_length: int | None
    vocab: Vocabulary | None = None
    num_proc: int | None = None
    text_fields: tuple[str, ...] = ("text",)

    @classmethod
    def of(cls, config: Config, vocab: Vocabulary | None = None) -> Preprocessor:
        """The preprocessor of ``config`` (its ``preprocessing`` settings and ``num_proc``)."""
        pre = config.preprocessing
        return cls(pre.spacy_model, pre.lowercase, pre.max_length, vocab, config.runtime.num_proc,
                   tuple(fields.parse(config.data.text_column)))

    # --- texts ------------------------------------------------------------------------------
    def tokens(self, texts: Iterable[str | Mapping[str, Any]]) -> list[list[str]]:
        """The tokens the model reads of each text (see the module docstring).  ``texts`` may
        be any iterable of strings, or of ``{field: text}`` dicts of :attr:`text_fields` (read
        once); unusable inputs are refused."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not a single string: wrap it in [...]")
        if isinstance(texts, Mapping):
            raise TypeError("predict takes a list of inputs, not a single dict: wrap it in [...]")
        texts = fields.input_texts(texts, self.text_fields)
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i} is {type(text).__name__}, not str")
        tokens = tokenize([cut(text, self.max_length) for text in texts], self.spacy_model, self.lowercase)
        empty = [i for i, toks in enumerate(tokens) if not toks]
        if empty:
            raise InputError(f"text(s) at position {empty[:10]} contain no tokens (empty or whitespace)")
        return [toks[: self.max_length] for toks in tokens]

    def ids(self, texts: Iterable[str]) -> list[list[int]]:
        """Token ids per text (:meth:`tokens` under the vocabulary)."""
        return self.to_ids(self.tokens(texts))

    def to_ids(self, tokens: Iterable[list[str]]) -> list[list[int]]:
        """The ids of texts already split into :meth:`tokens` (explain shows both)."""
        return [self.vocabulary.encode(toks) for toks in tokens]

    # --- datasets ---------------------------------------------------------------------------
    def tokenize_dataset(self, ds: Dataset | IterableDataset, streaming: bool = False
                         ) -> Dataset | IterableDataset:
        """``ds`` with a ``tokens`` column in place of ``text`` (a stream: tokenized lazily, in
        this process)."""
        return tokenize_dataset(ds, self.spacy_model, self.lowercase, None if streaming else self.num_proc)

    def encode_dataset(self, tokens: Dataset | IterableDataset) -> Dataset | IterableDataset:
        """``tokens`` with ``input_ids`` under the vocabulary."""
        return self.vocabulary.encode_dataset(tokens)

    @property
    def vocabulary(self) -> Vocabulary:
        if self.vocab is None:
            raise ValueError("this preprocessor has no vocabulary yet (it is built from the training tokens)")
        return self.vocab
