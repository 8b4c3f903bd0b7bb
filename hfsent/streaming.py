"""The data half of training for a corpus read as a stream (``RuntimeConfig.streaming``).

``load_dataset(..., streaming=True)`` gives ``IterableDataset`` splits that read their
files (local or on the Hub) as they are iterated: nothing is downloaded whole and no Arrow
cache is written, so disk and memory stay flat however large the corpus.  The price:

* tokenization is lazy and runs on every pass (one to count the vocabulary, then one per
  epoch and per evaluation), in child processes (:mod:`hfsent.tokenize_child`, up to one per
  core) that keep spaCy out of the training process's heap; ``num_proc`` does not apply;
* validation (where the source has no validation split of its own, or
  ``validation_split="carve"``; and test, for a source without one) is carved by a hash of the row's group
  (``DataConfig.group_column``, else its normalized text, as :mod:`hfsent.split` groups), not
  by a shuffle: a row's split never depends on order, epoch or process, no group is on both
  sides, and duplicated reviews land on the same side.  Sizes are fractions and come out
  approximate; the carve is not stratified;
* training order comes from ``datasets``' shuffle: a new shard order every epoch and a
  bounded buffer of ``RuntimeConfig.shuffle_buffer`` rows, filled from
  ``RuntimeConfig.shuffle_shards`` shards at a time (one by default: each holds a Parquet row
  group in memory).  A source sorted by label (IMDB's train files are) needs a buffer near its
  size, or many shards read several at a time, to mix the classes;
* bucket boundaries come from the first ``LENGTH_SAMPLE`` training reviews;
* rows with an empty text or a missing label are dropped without a count, and a bad label
  stops the pass that meets it;
* the classes follow :mod:`hfsent.labels`' rules.  ``--label-names`` or a ``ClassLabel``
  column names them without reading anything; otherwise one pass over the training split's
  text and label columns (nothing is tokenized; rows with an empty text are skipped, as
  training skips them) finds the distinct labels before training starts.  A test label outside
  them stops the pass that meets it.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import ClassLabel, IterableDataset, IterableDatasetDict

from hfsent.config import Config
from hfsent.data import (
    _select,
    is_rating,
    load_raw,
    usable_rows,
)
from hfsent.errors import InputError
from hfsent.labels import MAX_CLASSES, class_names, encoder
from hfsent.split import GROUP, normalized, own_validation
from hfsent.tasks import task_for
from hfsent.vocab import COUNT_CHUNK_ROWS, TokenCounts, Vocabulary

LENGTH_SAMPLE = 100_000


def _columns(ds: IterableDataset) -> list[str]:
    # CSV streams learn their schema from the first rows, so ``column_names`` can be None.
    return ds.column_names or list(next(iter(ds.take(1))))


# Every step of a stream maps Arrow tables to Arrow tables.  A step on Python rows between
# Arrow steps makes ``datasets`` rebuild each batch from one-row tables, which took
# gigabytes per few thousand IMDB reviews.

def _usable(table: pa.Table) -> list[bool]:
    return usable_rows(table.select(["text", "label"]).to_pydict())


def _labels(table: pa.Table, names: Sequence[str] | None, classes: Sequence[str], column: str,
            split: str) -> pa.Table:
    encode = encoder(classes, column, split, classlabel=names)
    out = [encode(value) for value in table["label"].to_pylist()]
    return table.set_column(table.schema.get_field_index("label"), "label", pa.array(out, pa.int64()))


def _distinct(ds: IterableDataset, column: str) -> set:
    """The distinct values of one column of ``ds``, in one pass that yields only that column
    (the filters before it still read what they need), stopping once there are more than
    :data:`~hfsent.labels.MAX_CLASSES` (``class_names`` refuses them)."""
    seen: set = set()
    for chunk in ds.select_columns([column]).with_format("arrow").iter(batch_size=COUNT_CHUNK_ROWS):
        seen.update(pc.unique(chunk[column]).to_pylist())
        if len(seen) > MAX_CLASSES:
            break
    return seen


def _ratings(table: pa.Table, low: float, high: float, column: str) -> pa.Table:
    values = table["label"].to_pylist()
    for value in values:
        if not is_rating(value, low, high):
            raise InputError(f"ratings must be numbers in [{low}, {high}]; column {column!r} holds {value!r}")
    return table.set_column(table.schema.get_field_index("label"), "label", pa.array(values, pa.float32()))


def normalize_stream(ds: IterableDataset, config: Config, split: str | None = None) -> IterableDataset:
    """Lazy ``text`` / ``label`` columns, read as the model's task reads them
    (:meth:`hfsent.tasks.base.Task.normalize_stream`: :func:`read_stream`, or the multi-label reader)."""
    return task_for(config.model).normalize_stream(ds, config, split)


def read_stream(ds: IterableDataset, config: Config, split: str | None = None) -> IterableDataset:
    """Lazy ``text`` / ``label`` columns of a single-label or rating stream, as
    :func:`hfsent.data.normalize` makes eagerly.

    ``split=None`` is the training split: its classes are found as the module docstring says
    and become the ``label`` column's ``ClassLabel`` names.  Another split is encoded with
    ``config.model.label_names`` and named in the error for a label outside them.

    Example:
        >>> stream = normalize_stream(load_raw("reviews.csv", streaming=True)["train"], config)
        >>> stream.features["label"].names
        ['negative', 'neutral', 'positive']
    """
    model, task = config.model, task_for(config.model)
    fallbacks = task.label_fallbacks
    original = ds.features
    group, columns = config.data.group_column, _columns(ds)
    ds, label_col = _select(ds, config.data.text_column, config.data.label_column, fallbacks, columns,
                            group_column=group)
    grouped = {GROUP: datasets.Value("string")} if group and group in columns else {}
    ds = ds.with_format("arrow").filter(_usable, batched=True)
    if not task.reads_classes:  # ratings
        features = datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("float32"),
                                      **grouped})
        kwargs = {"low": model.rating_min, "high": model.rating_max, "column": label_col}
        return ds.map(_ratings, batched=True, fn_kwargs=kwargs, features=features)
    label_feature = original[label_col] if original else None
    names = label_feature.names if isinstance(label_feature, ClassLabel) else None
    if split is not None or model.label_names:
        classes = model.classes
    else:
        values = range(len(names)) if names else _distinct(ds, "label")
        classes = class_names(values, label_col, classlabel=names)
    features = datasets.Features({"text": datasets.Value("string"), "label": ClassLabel(names=classes),
                                  **grouped})
    kwargs = {"names": names, "classes": classes, "column": label_col, "split": split or "train"}
    return ds.map(_labels, batched=True, fn_kwargs=kwargs, features=features)


def _keep(table: pa.Table, slices: Sequence[tuple[str, float, bool]]) -> list[bool]:
    """Rows whose salted group hash is below (``True``) or not below each slice's fraction."""
    keys = (table[GROUP].cast(pa.string()).to_pylist() if GROUP in table.column_names
            else [normalized(t) for t in table["text"].to_pylist()])
    return [all((zlib.crc32(f"{salt}\0{key}".encode()) / 2**32 < fraction) == inside
                for salt, fraction, inside in slices) for key in keys]


def carve_by_hash(ds: IterableDataset, slices: Sequence[tuple[str, float]]) -> list[IterableDataset]:
    """``[rest, held_out_1, held_out_2, ...]``: each slice ``(salt, fraction)`` holds out the rows
    whose salted group hash (the ``group`` column, else the normalized text: see
    :mod:`hfsent.split`) falls below its fraction, and that an earlier slice did not take.

    Each result is one filter over ``ds``: ``datasets`` cannot stack filters on a stream.

    Args:
        ds: a stream with a ``text`` column.
        slices: ``(salt, fraction)`` pairs; a fraction in (0, 1) is about the share of what the
            earlier slices left; another salt (the seed goes into it) carves another split.

    Example:
        >>> train, test, validation = carve_by_hash(stream, [("test-42", 0.2), ("validation-42", 0.1)])
    """
    for _, fraction in slices:
        if not 0 < fraction < 1:
            raise InputError(f"a streamed split is carved by a fraction in (0, 1), got {fraction}")
    ds = ds.with_format("arrow")
    outside = [(salt, fraction, False) for salt, fraction in slices]
    parts = [outside] + [outside[:i] + [(salt, fraction, True)] for i, (salt, fraction) in enumerate(slices)]
    return [ds.filter(_keep, batched=True, fn_kwargs={"slices": part}) for part in parts]


def load_stream_splits(config: Config) -> IterableDatasetDict:
    """``train`` / ``validation`` / ``test`` streams with columns ``text`` and ``label``.

    Example:
        >>> load_stream_splits(preset("default", dataset="USER/huge-reviews", streaming=True))["train"]
        IterableDataset({features: ['text', 'label'], num_shards: 64})
    """
    data, seed = config.data, config.training.seed
    raw = load_raw(data.dataset, streaming=True)
    train = normalize_stream(raw["train"], config)
    if task_for(config.model).reads_classes:
        config = config.replace(label_names=train.features["label"].names)
    own = own_validation(raw, data.validation_split)  # the source's own validation split, as in hfsent.data
    read = {name: normalize_stream(raw[there], config, there)
            for name, there in (("validation", own), ("test", "test")) if there in raw}
    wanted = [(name, size) for name, size in (("test", data.test_size), ("validation", data.validation_size))
              if name not in read]
    train, *carved = carve_by_hash(train, [(f"{name}-{seed}", size) for name, size in wanted])
    splits = {"train": train, **read, **{name: ds for (name, _), ds in zip(wanted, carved)}}
    limits = {"train": data.max_train_samples, "validation": data.max_eval_samples,
              "test": data.max_eval_samples}
    splits = {name: ds.remove_columns(GROUP) if GROUP in (ds.column_names or ()) else ds
              for name, ds in splits.items()}
    return IterableDatasetDict({name: ds.take(limits[name]) if limits[name] is not None else ds
                                for name, ds in splits.items()})


def scan_vocabulary(tokens: IterableDataset, config: Config) -> tuple[Vocabulary, int, np.ndarray, Counter]:
    """One pass over the training tokens: the vocabulary, the number of rows, the lengths of
    the first ``LENGTH_SAMPLE`` rows (for the bucket boundaries) and the rows of each class id
    (empty for the rating task).

    Example:
        >>> vocab, rows, lengths, per_class = scan_vocabulary(tokenize_dataset(train_stream), config)
    """
    counts = TokenCounts()  # not a Counter: a new token in many reviews grows it (see TokenCounts)
    per_class: Counter[int] = Counter()
    task = task_for(config.model)
    rows, lengths = 0, []
    for chunk in tokens.with_format("arrow").iter(batch_size=COUNT_CHUNK_ROWS):
        counts.update(chunk["tokens"])
        task.tally(per_class, chunk["label"].to_pylist())
        if rows < LENGTH_SAMPLE:
            lengths.append(pc.list_value_length(chunk["tokens"]).to_numpy(zero_copy_only=False))
        rows += chunk.num_rows
    vocab = counts.vocabulary(config.preprocessing.min_freq, config.preprocessing.max_vocab_size)
    sample = np.concatenate(lengths)[:LENGTH_SAMPLE] if lengths else np.zeros(0, np.int64)
    return vocab, rows, sample, per_class
