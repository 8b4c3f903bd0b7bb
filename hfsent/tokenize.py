"""spaCy tokenization, run inside ``Dataset.map`` so that its result is Arrow on disk.

Only spaCy's tokenizer runs, also for a named pipeline such as ``en_core_web_sm``: the
model needs tokens, not tags or parses, and the tokenizer is the same object either way.
HTML line breaks (``<br />``, frequent in IMDB) become spaces before tokenizing, whitespace
tokens are dropped, and tokens are lowercased unless the config says otherwise.

A text to predict is first cut to :data:`CHARS_PER_TOKEN` × ``max_length`` characters
(:func:`cut`), so that the work per request is bounded by the model, not by the sender: spaCy
would otherwise tokenize a 10 MB review whole before the model keeps its first ``max_length``
tokens.  Prediction, the Endpoint handler and the Space all go through
:meth:`hfsent.predict.SentimentClassifier.tokens`, which cuts.

``datasets`` fingerprints the map function and its keyword arguments (plain strings and
booleans here), so a second run with the same data and settings reads the cached Arrow
file instead of tokenizing again.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
from collections.abc import Iterable

import pyarrow as pa
from datasets import Dataset, IterableDataset

from hfsent.cores import usable_cores
from hfsent.errors import InputError, MissingError

_BREAK = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_PIPELINES: dict[str, object] = {}
_TOKENIZED: dict[str, int] = {}  # texts tokenized by each cached pipeline
RENEW_AFTER_TEXTS = 50_000  # then the pipeline is loaded afresh: see tokenize()
_LANGUAGE = re.compile(r"[a-z]{2,3}")  # spaCy's codes: ISO 639-1 or 639-3, 'xx' for multi-language
_PACKAGE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What spaCy's tokenizers of these languages import (spaCy's extras, and pyvi for Vietnamese).
_NEEDS = {"ja": "sudachipy sudachidict_core", "ko": "natto-py (and the mecab-ko library)",
          "th": "pythainlp", "vi": "pyvi"}
# An English token averages about 5 characters with its space; 20 leaves room for long words,
# URLs, markup and runs of whitespace, so that a cut text still holds its first max_length tokens
# unless those average more than 20 characters each.  Training tokenizes whole texts (its
# max_length is read from them); only such a pathological text sees fewer tokens at prediction.
CHARS_PER_TOKEN = 20
_LEADING_SPACE = re.compile(r"\s*")


def clean(text: str) -> str:
    """Replace HTML line breaks with spaces.

    Example:
        >>> clean("Great.<br /><br />Loved it")
        'Great.  Loved it'
    """
    return _BREAK.sub(" ", text)


def cut(text: str, max_length: int) -> str:
    """The first ``CHARS_PER_TOKEN * max_length`` characters of ``text``: enough for its first
    ``max_length`` tokens (see :data:`CHARS_PER_TOKEN`), and a bound on the tokenizer's work.

    Example:
        >>> len(cut("a" * 10_000_000, max_length=600))
        12000
    """
    start = _LEADING_SPACE.match(text).end()  # a text padded with spaces still keeps its words
    return text[start: start + CHARS_PER_TOKEN * max_length]


def check_spacy_model(name: str) -> str:
    """``name`` if it is ``blank:<lang>`` for a language spaCy ships, or an installed spaCy
    pipeline package as spaCy's own registry lists it (``spacy.util.get_installed_models``);
    else an :class:`~hfsent.errors.InputError`.

    ``spacy.load`` also takes a path, whose config it reads, and imports any installed module
    of that name; a model folder's config must not make it do either, so those are refused.

    Example:
        >>> check_spacy_model("blank:en"), check_spacy_model("en_core_web_sm")
        ('blank:en', 'en_core_web_sm')
    """
    import spacy.util

    if name.startswith("blank:"):
        lang = name.split(":", 1)[1]
        if _LANGUAGE.fullmatch(lang) and (lang in spacy.util.registry.languages
                                          or importlib.util.find_spec(f"spacy.lang.{lang}")):
            return name
        raise InputError(f"spacy_model {name[:40]!r}: spaCy has no language {lang[:20]!r} "
                         "(blank:<lang> takes a code such as en, de or xx)")
    installed = spacy.util.get_installed_models()
    if _PACKAGE.fullmatch(name) and name in installed:
        return name
    raise InputError(f"spacy_model must be 'blank:<lang>' or an installed spaCy pipeline package "
                     f"(installed: {sorted(installed) or 'none'}), got {name[:40]!r}; a path or any "
                     "other module is never loaded")


def load_spacy(name: str = "blank:en"):
    """``spacy.blank(lang)`` for ``blank:<lang>``, else ``spacy.load(name)`` for an installed
    pipeline (both checked by :func:`check_spacy_model` first); cached per process.

    Args:
        name: ``"blank:en"`` (a rule-based tokenizer, no model download) or an installed pipeline.

    Example:
        >>> load_spacy("blank:en").tokenizer("It's great")
        It's great
    """
    if name not in _PIPELINES:
        import spacy

        check_spacy_model(name)
        lang = name.split(":", 1)[1] if name.startswith("blank:") else name.split("_")[0]
        try:
            _PIPELINES[name] = spacy.blank(lang) if name.startswith("blank:") else spacy.load(name)
        except ImportError:  # a language whose tokenizer needs more packages
            raise MissingError(f"spaCy's {lang} tokenizer ({name}) needs packages that are not installed: "
                               f"pip install {_NEEDS.get(lang, f'spacy[{lang}]')}") from None
    return _PIPELINES[name]


def tokenize(texts: Iterable[str], spacy_model: str = "blank:en", lowercase: bool = True) -> list[list[str]]:
    """Token strings for each text, in order: spaCy's tokenizer after :func:`clean`, whitespace
    tokens dropped.

    Args:
        texts: the texts.
        spacy_model: see :func:`load_spacy`.
        lowercase: lowercase every token.

    Example:
        >>> tokenize(["It's GREAT!<br />"])
        [['it', "'s", 'great', '!']]
    """
    tokenizer = load_spacy(spacy_model).tokenizer
    out = [
        [tok.lower_ if lowercase else tok.text for tok in doc if not tok.is_space]
        for doc in tokenizer.pipe(clean(t) for t in texts)
    ]
    del tokenizer  # the last reference here: a renewal below frees the old pipeline before the trim
    _TOKENIZED[spacy_model] = _TOKENIZED.get(spacy_model, 0) + len(out)
    if _TOKENIZED[spacy_model] >= RENEW_AFTER_TEXTS:
        # spaCy keeps every string it ever saw (its StringStore and tokenizer cache): over a
        # stream of millions of reviews that grows without end.  A fresh pipeline, loaded on
        # the next call, tokenizes identically and starts empty.  (``nlp.memory_zone()``
        # frees them too, but tokenized three times slower without its cache.)
        _PIPELINES.pop(spacy_model, None)
        _TOKENIZED[spacy_model] = 0
        _trim_heap()
    return out


def _trim_heap() -> None:
    """Hand the pages freed with a renewed pipeline back to the system (glibc's ``malloc_trim``):
    without it glibc keeps them, and the process's RSS creeps up over a long stream although
    what it holds does not.  Elsewhere (no glibc) nothing happens."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _tokenize_batch(batch: dict, spacy_model: str, lowercase: bool) -> dict:
    return {"tokens": tokenize(batch["text"], spacy_model, lowercase)}


def _tokenize_table(table: pa.Table, spacy_model: str, lowercase: bool) -> pa.Table:
    from hfsent.tokenize_child import tokenize_arrow  # a stream's spaCy runs in a child: see there

    tokens = tokenize_arrow(table["text"], spacy_model, lowercase)
    return table.drop_columns(["text"]).append_column("tokens", tokens)


def tokenize_dataset(
    ds: Dataset | IterableDataset,
    spacy_model: str = "blank:en",
    lowercase: bool = True,
    num_proc: int | None = None,
    load_from_cache_file: bool | None = None,
    cache_file_name: str | None = None,
) -> Dataset | IterableDataset:
    """Add a ``tokens`` column (and drop ``text``), cached by ``datasets``.

    ``load_from_cache_file=False`` recomputes even when a cached result exists, but
    ``datasets`` then keeps the shard count of that cached result, however large
    ``num_proc`` is: to time ``num_proc``, also pass a fresh ``cache_file_name``.  A streamed
    ``IterableDataset`` is tokenized lazily, on every pass over it, in child processes
    (:mod:`hfsent.tokenize_child`): there is no cache and no ``num_proc`` for streams.

    Args:
        ds: a split with a ``text`` column.
        spacy_model, lowercase: see :func:`tokenize`.
        num_proc: processes for ``Dataset.map`` (default: :func:`hfsent.cores.usable_cores`, a
            cgroup quota included, at most one per 2,000 rows).
        load_from_cache_file, cache_file_name: passed to ``Dataset.map``.

    Example:
        >>> tokens = tokenize_dataset(load_splits(config)["train"], num_proc=2)
        >>> tokens.column_names
        ['label', 'tokens']
    """
    kwargs = {"fn_kwargs": {"spacy_model": spacy_model, "lowercase": lowercase}}
    if isinstance(ds, IterableDataset):
        # Arrow in, Arrow out: see hfsent.streaming on why a stream never switches to Python rows.
        return ds.with_format("arrow").map(_tokenize_table, batched=True, batch_size=256, **kwargs)
    num_proc = num_proc or usable_cores()  # a cgroup quota included: each process holds a pipeline
    # One process per few thousand rows at most: start-up costs more than tiny shards save.
    num_proc = max(1, min(num_proc, len(ds) // 2000))
    if num_proc > 1:
        # Loaded here, the pipeline is inherited by the forked workers instead of loaded by each.
        load_spacy(spacy_model)
    return ds.map(
        _tokenize_batch,
        batched=True,
        batch_size=256,
        num_proc=num_proc if num_proc > 1 else None,
        remove_columns=["text"],
        load_from_cache_file=load_from_cache_file,
        cache_file_name=cache_file_name,
        desc=f"Tokenizing with spaCy ({spacy_model})",
        **kwargs,
    )
