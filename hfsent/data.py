"""Load a labelled review corpus, and read each of its splits as the task reads them (which
splits a run uses, and what is carved: :mod:`hfsent.splits`).

Three kinds of source are accepted (``DataConfig.dataset``):

* a Hub id such as ``stanfordnlp/imdb`` (needs the network, or the ``datasets`` cache);
* a local folder in the Hub layout (``load_dataset(folder)`` must give a ``train`` split);
* ``.csv`` / ``.parquet`` files: ``reviews.csv``, ``a.parquet,b.parquet`` or
  ``train=train.csv,test=test.csv``.  The Kaggle "IMDB Dataset.csv" (columns ``review``,
  ``sentiment`` = positive/negative) is recognised without flags.

A local folder or file gets a ``datasets`` cache entry of its own, renewed whenever one of its
files changes (:mod:`hfsent.fingerprint`).

Labels become class ids, the classes read from the training split by :mod:`hfsent.labels`
(binary data: 0 = negative, 1 = positive, as always); for the rating task they stay numbers.
Rows with a missing or blank text or a missing label are dropped with a warning that counts them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import datasets
from datasets import ClassLabel, Dataset, DatasetDict, IterableDataset, IterableDatasetDict

from hfsent import fields
from hfsent.config import Config, DataConfig
from hfsent.errors import InputError, MissingError
from hfsent.fingerprint import local_cache_dir
from hfsent.labels import BINARY, class_names, encoder
from hfsent.split import GROUP
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


def normalize_split(ds: Dataset, config: Config, split: str | None = None) -> Dataset:
    """One split read for ``config``'s task, columns and classes: :func:`normalize` for
    sentiment, :func:`normalize_ratings` for the rating task.  ``split=None`` reads the classes
    from ``ds`` (training); a split's name encodes it with ``config.model.label_names``.

    Example:
        >>> normalize_split(load_raw("held_out.csv")["train"], clf.config).column_names
        ['text', 'label']
    """
    return task_for(config.model).normalize(ds, config, split)


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
