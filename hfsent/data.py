"""Load a labelled review corpus as ``train`` / ``validation`` / ``test`` splits.

Three kinds of source are accepted (``DataConfig.dataset``):

* a Hub id such as ``stanfordnlp/imdb`` (needs the network, or the ``datasets`` cache);
* a local folder in the Hub layout (``load_dataset(folder)`` must give a ``train`` split);
* ``.csv`` / ``.parquet`` files: ``reviews.csv``, ``a.parquet,b.parquet`` or
  ``train=train.csv,test=test.csv``.  The Kaggle "IMDB Dataset.csv" (columns ``review``,
  ``sentiment`` = positive/negative) is recognised without flags.

A local folder or file gets a ``datasets`` cache entry of its own, renewed whenever one of its
files changes (:mod:`hfsent.fingerprint`).

Labels become class ids, the classes read from the training split by :mod:`hfsent.labels`
(binary data: 0 = negative, 1 = positive, as always); for the rating task they stay numbers.  The
validation split is the source's own (named ``validation``, ``dev`` or ``valid``: see
:func:`hfsent.split.own_validation`) unless ``validation_split="carve"``; otherwise it is carved
from train by :mod:`hfsent.split` (by group, stratified, seeded), so model selection never sees
test.  A source without a ``test`` split gets one carved from train the same way, of ``test_size``
rows.  Rows with a
missing or blank text or a missing label are dropped with a warning that counts them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import datasets
import numpy as np
from datasets import ClassLabel, Dataset, DatasetDict, IterableDataset, IterableDatasetDict

from hfsent import fields
from hfsent.config import Config, DataConfig
from hfsent.errors import InputError, MissingError
from hfsent.fingerprint import local_cache_dir
from hfsent.labels import BINARY, class_names, encoder
from hfsent.split import GROUP, carve, group_codes, own_validation, validation_origin
from hfsent.tasks import task_for  # imports nothing of this module at import time
from hfsent.tasks.classify import Classify
from hfsent.tasks.rating import Rating

log = logging.getLogger(__name__)

_TEXT_FALLBACKS = ("text", "review", "sentence", "content", "tweet")
_LABEL_FALLBACKS = Classify.label_fallbacks
_FILE_BUILDERS = {".csv": "csv", ".parquet": "parquet"}


def load_raw(source: str, streaming: bool = False) -> DatasetDict | IterableDatasetDict:
    """Load ``source`` with ``datasets`` without touching its columns (``streaming=True``:
    as ``IterableDataset`` splits that read the files as they are iterated).

    Args:
        source: a Hub id, a local folder in the Hub layout, or ``.csv`` / ``.parquet`` files
            (``a.csv``, ``a.csv,b.csv``, ``train=a.csv,test=b.csv``).
        streaming: read lazily.

    Example:
        >>> load_raw("train=reviews.csv,test=held_out.csv")["test"].column_names
        ['text', 'label']
    """
    parts = [p.strip() for p in source.split(",") if p.strip()]
    suffixes = {os.path.splitext(p.split("=", 1)[-1])[1].lower() for p in parts}
    if suffixes and suffixes <= set(_FILE_BUILDERS):
        if len(suffixes) > 1:
            raise InputError(f"mix of file types in --dataset {source!r}: use one of .csv or .parquet")
        data_files: dict[str, list[str]] = {}
        for part in parts:
            split, _, path = part.rpartition("=")
            data_files.setdefault(split or "train", []).append(path)
        missing = [p for paths in data_files.values() for p in paths if not os.path.exists(p)]
        if missing:
            raise MissingError(f"data file(s) not found: {missing}")
        files = [p for paths in data_files.values() for p in paths]
        return datasets.load_dataset(_FILE_BUILDERS[suffixes.pop()], data_files=data_files,
                                     streaming=streaming, cache_dir=local_cache_dir(files))
    # A local folder gets a cache entry of its own and of its files' state (see hfsent.fingerprint).
    local = {"cache_dir": local_cache_dir([source])} if os.path.isdir(source) else {}
    try:
        loaded = datasets.load_dataset(source, streaming=streaming, **local)
    except (FileNotFoundError, ConnectionError) as err:  # datasets' DatasetNotFoundError is the first
        where = "the Hub cannot be reached" if isinstance(err, ConnectionError) else "it is not there"
        raise MissingError(f"no dataset {source!r}: not a local folder or .csv/.parquet file, and on the Hub "
                           f"{where}") from None
    if not isinstance(loaded, (DatasetDict, IterableDatasetDict)) or "train" not in loaded:
        raise InputError(f"{source!r} has no 'train' split (found {list(loaded)})")
    return loaded


def _pick_column(columns: Sequence[str], wanted: str, fallbacks: Sequence[str], role: str) -> str:
    """``wanted`` if the data has it; well-known names only in place of the default (a column
    the user named is never silently replaced)."""
    if wanted in columns:
        return wanted
    if wanted != getattr(DataConfig, f"{role}_column"):
        raise InputError(f"no {role} column {wanted!r} in the data (--{role}-column); columns found: "
                         f"{list(columns)}")
    for name in fallbacks:
        if name in columns:
            return name
    raise InputError(f"no {role} column {wanted!r} in the data; columns found: {list(columns)}")


def text_column_of(columns: Sequence[str], wanted: str = "text") -> str:
    """``wanted`` if it is one of ``columns``, else the first well-known text column (``review``, ...)."""
    return _pick_column(columns, wanted, _TEXT_FALLBACKS, "text")


def text_columns_of(columns: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """The columns of the text fields ``wanted`` (:mod:`hfsent.fields`): one field as
    :func:`text_column_of` finds it, several only by their names."""
    if len(wanted) == 1:
        return [text_column_of(columns, wanted[0])]
    return [_pick_column(columns, name, (), "text") for name in wanted]


def _select(ds: Dataset | IterableDataset, text_column: str, label_column: str,
            label_fallbacks: Sequence[str], columns: Sequence[str] | None = None,
            group_column: str | None = None) -> tuple[Dataset | IterableDataset, str]:
    """Keep the text and label columns as ``text`` / ``label`` (and ``group_column``, where the
    split has it, as ``group``); the original label name too.  Several text fields
    (``title,body``) become one ``text`` column, joined by :func:`hfsent.fields.join_table`.
    ``columns`` names the columns of a stream whose schema ``datasets`` does not know yet."""
    columns = columns or ds.column_names
    text_cols = text_columns_of(columns, fields.parse(text_column))
    label_col = _pick_column(columns, label_column, label_fallbacks, "label")
    group = [group_column] if group_column and group_column in columns else []
    ds = ds.select_columns([*text_cols, label_col, *group])
    if len(text_cols) > 1:
        ds, text_cols = fields.join_dataset(ds, text_cols), ["text"]
    pairs = ((text_cols[0], "text"), (label_col, "label"), *((g, GROUP) for g in group))
    renames = {c: n for c, n in pairs if c != n}
    return (ds.rename_columns(renames) if renames else ds), label_col


def usable_rows(batch: dict) -> list[bool]:
    """False for a row with a missing or blank text or a missing (or NaN) label.

    Example:
        >>> usable_rows({"text": ["fine", " ", None], "label": [1, 0, 1]})
        [True, False, False]
    """
    return [t is not None and str(t).strip() != "" and y is not None and y == y
            for t, y in zip(batch["text"], batch["label"])]


def _drop_empty(ds: Dataset) -> Dataset:
    """Drop rows with a missing or blank text or a missing (or NaN) label, and say how many."""
    n_before = len(ds)
    ds = ds.filter(usable_rows, batched=True, desc="Dropping empty rows")
    if len(ds) < n_before:
        log.warning("dropped %d of %d rows with an empty text or a missing label",
                    n_before - len(ds), n_before)
    if len(ds) == 0:
        raise InputError("no usable rows: every text is empty or every label is missing")
    return ds


def normalize(ds: Dataset, text_column: str = "text", label_column: str = "label",
              group_column: str | None = None, label_names: Sequence[str] | None = None,
              split: str | None = None) -> Dataset:
    """Rename to ``text`` / ``label``, map labels to class ids and drop unusable rows.

    Args:
        ds: one split as loaded.
        text_column, label_column: the columns to use (well-known names are found otherwise).
        group_column: kept as ``group`` (strings) where the split has it; see :mod:`hfsent.split`.
        label_names: the classes, in id order (``--label-names``, or a trained model's).
        split: ``None`` reads the classes from ``ds`` itself (the training split; ``label_names``
            then only fixes them, see :mod:`hfsent.labels`); a split's name encodes ``ds`` with
            ``label_names`` and names that split in the error for a label outside them.

    Example:
        >>> normalize(load_raw("IMDB Dataset.csv")["train"]).features["label"].names
        ['negative', 'positive']
    """
    original = ds.features
    ds, label_col = _select(ds, text_column, label_column, _LABEL_FALLBACKS, group_column=group_column)
    # ClassLabel ints are only meaningful through their names (["pos", "neg"] would invert).
    classlabel = original[label_col].names if isinstance(original[label_col], ClassLabel) else None
    ds = _drop_empty(ds)
    if GROUP in ds.column_names:
        ds = ds.cast_column(GROUP, datasets.Value("string"))
    names = (class_names(ds.unique("label"), label_col, label_names, classlabel) if split is None
             else list(label_names or BINARY))
    encode = encoder(names, label_col, split or "train", classlabel)
    features = datasets.Features({"text": datasets.Value("string"), "label": ClassLabel(names=names),
                                  **({GROUP: datasets.Value("string")} if GROUP in ds.column_names else {})})
    return ds.map(lambda b: {"label": [encode(v) for v in b["label"]]}, batched=True, features=features,
                  desc="Normalizing labels")


def is_rating(value: object, low: float, high: float) -> bool:
    """A number (not a boolean) in ``[low, high]``.

    Example:
        >>> is_rating(7, 1, 10), is_rating(True, 0, 1), is_rating("7", 1, 10)
        (True, False, False)
    """
    return not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high


def normalize_ratings(ds: Dataset, text_column: str, label_column: str, low: float, high: float,
                      group_column: str | None = None) -> Dataset:
    """Like :func:`normalize` for the rating task: ``label`` becomes a float in [low, high].

    Example:
        >>> normalize_ratings(raw["train"], "text", "rating", 1, 10)["label"][:3]
        [9.0, 2.0, 10.0]
    """
    ds, label_col = _select(ds, text_column, label_column, Rating.label_fallbacks,
                            group_column=group_column)
    ds = _drop_empty(ds)
    bad = sorted(repr(v) for v in ds.unique("label") if not is_rating(v, low, high))
    if bad:
        raise InputError(f"ratings must be numbers in [{low}, {high}]; column {label_col!r} holds {bad[:10]}")
    ds = ds.cast_column("label", datasets.Value("float32"))
    return ds.cast_column(GROUP, datasets.Value("string")) if GROUP in ds.column_names else ds


def _head(ds: Dataset, n: int | None) -> Dataset:
    return ds if n is None or n >= len(ds) else ds.select(range(n))


def normalize_split(ds: Dataset, config: Config, split: str | None = None) -> Dataset:
    """One split read for ``config``'s task, columns and classes: :func:`normalize` for
    sentiment, :func:`normalize_ratings` for the rating task.  ``split=None`` reads the classes
    from ``ds`` (training); a split's name encodes it with ``config.model.label_names``.

    Example:
        >>> normalize_split(load_raw("held_out.csv")["train"], clf.config).column_names
        ['text', 'label']
    """
    return task_for(config.model).normalize(ds, config, split)


def load_splits(config: Config) -> DatasetDict:
    """``train`` / ``validation`` / ``test`` with columns ``text`` and ``label`` (0/1): the splits
    of :func:`load_grouped_splits`, without the training rows' groups."""
    return load_grouped_splits(config)[0]


def load_grouped_splits(config: Config) -> tuple[DatasetDict, np.ndarray | None]:
    """``train`` / ``validation`` / ``test`` with columns ``text`` and ``label`` (0/1), and one
    group code per training row (:func:`hfsent.split.group_codes` of ``data.group_column``;
    ``None`` without one), for the linear half's cross-validation folds.  No split keeps the
    group column: groups are a value of the run, never part of what the model reads or saves.

    Validation is the source's own split where it has one (:func:`hfsent.split.own_validation`)
    and ``data.validation_split`` is ``"auto"``.  Otherwise it, and a test split the source
    lacks, are carved by :func:`hfsent.split.carve`: no group (``data.group_column``, else the
    normalized text) on both sides, stratified by label, seeded.  ``max_train_samples`` /
    ``max_eval_samples`` take the first rows of that seeded order, so a quick run still sees
    every class.  The choice is logged, and named by the data stage's summary.

    Args:
        config: the data component says what to load and carve; ``model.task`` how to read
            labels; ``training.seed`` seeds the carving.

    Example:
        >>> splits, groups = load_grouped_splits(preset("default", dataset="stanfordnlp/imdb"))
        >>> {name: len(split) for name, split in splits.items()}, groups
        ({'train': 22500, 'validation': 2500, 'test': 25000}, None)
    """
    data, model, seed = config.data, config.model, config.training.seed
    raw = load_raw(data.dataset)
    train = normalize_split(raw["train"], config)
    if data.group_column and GROUP not in train.column_names:
        raise MissingError(f"no group column {data.group_column!r} in the train split of {data.dataset}; "
                           f"columns found: {raw['train'].column_names}")
    if task_for(model).reads_classes:  # the classes come from train; every other split is read with them
        config = config.replace(label_names=train.features["label"].names)
    if "test" in raw:
        test = normalize_split(raw["test"], config, "test")
    else:
        log.warning("%s has no test split: carving %s of train as test", data.dataset, data.test_size)
        train, test = carve(train, data.test_size, seed)
    own = own_validation(raw, data.validation_split)
    if own is None:
        train, validation = carve(train, data.validation_size, seed)
    else:
        validation = normalize_split(raw[own], config, own)
    if data.max_eval_samples is not None:
        test = test.shuffle(seed=seed)
    splits = {"train": _head(train, data.max_train_samples),
              "validation": _head(validation, data.max_eval_samples),
              "test": _head(test, data.max_eval_samples)}
    log.info("validation: %s (%d rows)", validation_origin(splits["validation"], data.group_column),
             len(splits["validation"]))
    groups = group_codes(splits["train"]) if GROUP in splits["train"].column_names else None
    return DatasetDict({name: ds.remove_columns([c for c in (GROUP,) if c in ds.column_names])
                        for name, ds in splits.items()}), groups


def load_unlabeled(config: Config) -> Dataset | IterableDataset | None:
    """The ``data.unlabeled_split`` of the source as a single ``text`` column, or ``None``
    if the source has no such split (streamed with ``runtime.streaming``).  Its labels, if
    any (IMDB's ``unsupervised`` reviews carry -1), are dropped: nothing here is labelled.

    Example:
        >>> len(load_unlabeled(preset("default", dataset="stanfordnlp/imdb")))
        50000
    """
    data = config.data
    raw = load_raw(data.dataset, streaming=config.runtime.streaming)
    if data.unlabeled_split not in raw:
        return None
    ds = raw[data.unlabeled_split]
    wanted = fields.parse(data.text_column)
    columns = (wanted if ds.column_names is None  # a stream of unknown schema
               else text_columns_of(ds.column_names, wanted))
    ds = ds.select_columns(columns)
    if len(columns) > 1:
        return fields.join_dataset(ds, columns, blank="")  # nothing here is dropped: "" has no tokens
    return ds if columns[0] == "text" else ds.rename_column(columns[0], "text")
