"""Multi-label data: a split's labels as K 0/1 values per row, whatever layout the data uses.

Three layouts, told apart by the label column(s) given and the training split's features:

1. **A list column** (``List``/``Sequence`` of ``ClassLabel``, strings or numbers), as
   GoEmotions ships.  Names: the ``ClassLabel``'s, in its order; else the distinct values,
   numbers in numeric order and strings sorted, as ``class_encode_column`` orders them.
2. **A string column**, each cell split on ``separator`` (default ``","``) and each part
   stripped: ``"negative, ambiguous"``.  An empty or missing cell is a row with no label.
   Names: the distinct parts, sorted.
3. **Several 0/1 columns**, one per label (``["anger", "joy", ...]``), as SemEval-2018 E-c
   ships: 0/1 ints or floats, or bools.  Names: the column names, in the order given.

A row may have no label at all.  The output replaces the label column(s) with :data:`LABELS`,
K float32 0/1 values per row (a fixed-length list feature), K = the number of names; the other
columns stay.  Other splits are encoded with the training split's names, translated by name
(their ``ClassLabel`` may order the names otherwise); a label the training split never saw is
a one-line :class:`~hfsent.errors.InputError`.

Works on ``datasets.Dataset`` and on ``IterableDataset`` (by ``map``; the names of a streamed
training split in layouts 1 and 2 cost one pass over its label column, and errors in a streamed
split surface when it is read).  Limits: 2 to :data:`MAX_MULTI_LABELS` labels, each name
passing :func:`hfsent.config.check_label_names`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import datasets
import pyarrow as pa
from datasets import Dataset, IterableDataset

from hfsent.config import MAX_LABELS, check_label_names
from hfsent.errors import InputError, MissingError
from hfsent.labels import is_number, name_of

LABELS = "labels"
DEFAULT_SEPARATOR = ","
# One float32 per label per row: 1,000 labels are 4 KB a row, and check_label_names allows no more.
MAX_MULTI_LABELS = MAX_LABELS
LIST, SEPARATED, COLUMNS = "list", "separated", "columns"
_NAMES_CHUNK_ROWS = 4096
_LIST_TYPES = tuple(t for t in (getattr(datasets, "List", None), getattr(datasets, "LargeList", None),
                                datasets.Sequence) if isinstance(t, type))  # datasets 3 to 5

AnyDataset = Dataset | IterableDataset


def _item_feature(feature: object) -> object | None:
    """The feature of a list column's items; ``None`` if ``feature`` is no list."""
    if isinstance(feature, list) and len(feature) == 1:
        return feature[0]
    return feature.feature if isinstance(feature, _LIST_TYPES) else None


def layout(features: datasets.Features | None, column: str | Sequence[str]) -> str:
    """Which layout the label ``column`` (or columns) of a split with ``features`` uses:
    :data:`LIST`, :data:`SEPARATED` or :data:`COLUMNS` (see the module docstring).

    Example:
        >>> layout(Features({"emotions": List(ClassLabel(names=["joy", "fear"]))}), "emotions")
        'list'
    """
    if not isinstance(column, str):
        return COLUMNS
    feature = (features or {}).get(column)
    if feature is None:
        raise MissingError(f"no label column {column!r}; the columns are {sorted(features or {})[:20]}")
    if _item_feature(feature) is not None:
        return LIST
    if isinstance(feature, datasets.Value) and feature.dtype in ("string", "large_string"):
        return SEPARATED
    raise InputError(f"label column {column!r} is {feature}; a multi-label column holds lists or "
                     "separated strings (or give one 0/1 column per label)")


def features_of(ds: AnyDataset) -> datasets.Features:
    """The features of ``ds``; a stream's, unknown until read (CSV, JSON lines), as its first
    rows show them: a JSON list is a list there, a CSV cell only ever a string."""
    if ds.features is not None:
        return ds.features
    first = next(iter(ds.with_format("arrow").iter(batch_size=_NAMES_CHUNK_ROWS)), None)
    return datasets.Features.from_arrow_schema(first.schema) if first is not None else datasets.Features()


def _columns(features: datasets.Features, column: str | Sequence[str]) -> list[str]:
    wanted = [column] if isinstance(column, str) else list(column)
    missing = [c for c in wanted if c not in features]
    if missing:
        raise MissingError(f"no label column {missing[0]!r}; the columns are {sorted(features)[:20]}")
    if len(set(wanted)) != len(wanted):
        raise InputError("the label columns must be distinct")
    return wanted


def _shown(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 100 else shown[:100] + "..."


def _parts(cell: object, separator: str) -> list[str]:
    """The stripped labels of one separated cell; none for an empty or missing one."""
    if cell is None:
        return []
    return [p.strip() for p in str(cell).split(separator) if p.strip()]


def _values(ds: AnyDataset, column: str) -> Iterable[list]:
    """The label cells of one column, in chunks (one pass over a stream, only that column)."""
    if isinstance(ds, Dataset):
        for start in range(0, len(ds), _NAMES_CHUNK_ROWS):
            yield from ds.select_columns([column])[start:start + _NAMES_CHUNK_ROWS][column]
    else:
        for chunk in ds.select_columns([column]).iter(batch_size=_NAMES_CHUNK_ROWS):
            yield from chunk[column]


def label_names(ds: AnyDataset, column: str | Sequence[str], separator: str = DEFAULT_SEPARATOR) -> list[str]:
    """The label names of a training split, in id order, checked (see the module docstring).

    Example:
        >>> label_names(Dataset.from_dict({"tags": ["b, a", "", "c"]}), "tags")
        ['a', 'b', 'c']
    """
    features = features_of(ds)
    columns = _columns(features, column)
    kind = layout(features, column)
    if kind == SEPARATED and not separator:
        raise InputError("the label separator must not be empty")
    item = _item_feature(features[columns[0]]) if kind == LIST else None
    if kind == COLUMNS:
        names = columns
    elif isinstance(item, datasets.ClassLabel):
        names = list(item.names)
    else:
        seen: set[str] = set()
        for cell in _values(ds, columns[0]):
            seen.update(_parts(cell, separator) if kind == SEPARATED
                        else (n for n in map(name_of, cell or []) if n))
            if len(seen) > MAX_MULTI_LABELS:
                break
        numeric = kind == LIST and all(is_number(n) for n in seen)
        names = sorted(seen, key=float) if numeric else sorted(seen)
    if len(names) > MAX_MULTI_LABELS:
        raise InputError(f"column {columns[0]!r} holds more than {MAX_MULTI_LABELS:,} distinct labels: "
                         "is this the right column? see --label-column")
    if len(names) < 2:
        raise InputError(f"multi-label data needs at least two labels; {columns} hold {len(names)}")
    check_label_names(names)
    return names


def encode(ds: AnyDataset, names: Sequence[str], column: str | Sequence[str],
           separator: str = DEFAULT_SEPARATOR, split: str = "train") -> AnyDataset:
    """``ds`` with its label column(s) replaced by :data:`LABELS`: per row, K float32 0/1
    values under ``names`` (the training split's :func:`label_names`).

    Example:
        >>> encode(Dataset.from_dict({"tags": ["b, a", ""]}), ["a", "b"], "tags")[LABELS]
        [[1.0, 1.0], [0.0, 0.0]]
    """
    features = features_of(ds)
    columns = _columns(features, column)
    kind = layout(features, column)
    if kind == COLUMNS and columns != list(names):
        raise InputError(f"the {split} split's label columns must be the training split's, "
                         f"{list(names)[:10]}")
    index = {name: i for i, name in enumerate(names)}
    item = _item_feature(features[columns[0]]) if kind == LIST else None
    own = list(item.names) if isinstance(item, datasets.ClassLabel) else None

    def unknown(value: object) -> InputError:
        return InputError(f"the {split} split's column {columns[0]!r} holds a label that the training split "
                          f"does not: {_shown(value)} (labels: {list(names)[:10]})")

    def item_name(value: object) -> str | None:
        if own is None or not isinstance(value, int):
            return name_of(value)
        if not 0 <= value < len(own):  # -1 is how datasets marks a missing ClassLabel value
            raise unknown(value)
        return own[value]

    def row(cell: object) -> list[float]:
        hot = [0.0] * len(names)
        parts = _parts(cell, separator) if kind == SEPARATED else [item_name(v) for v in cell or []]
        for part in parts:
            if part is None:  # a missing item of a list
                continue
            if part not in index:
                raise unknown(part)
            hot[index[part]] = 1.0
        return hot

    def indicators(table: pa.Table) -> list[list[float]]:
        rows = list(zip(*(table[c].to_pylist() for c in columns)))
        for values in rows:
            for c, v in zip(columns, values):
                if not (v is True or v is False or (isinstance(v, (int, float)) and v in (0, 1))):
                    raise InputError(f"the {split} split's label column {c!r} must hold 0/1 or booleans, "
                                     f"got {_shown(v)}")
        return [[float(v) for v in values] for values in rows]

    def with_labels(table: pa.Table) -> pa.Table:
        hot = indicators(table) if kind == COLUMNS else [row(cell) for cell in table[columns[0]].to_pylist()]
        hot_type = pa.list_(pa.float32(), len(names))
        return table.drop_columns(columns).append_column(LABELS, pa.array(hot, hot_type))

    out_features = None
    if ds.features is not None:  # else the stream's stay unknown; the column is float32 all the same
        out_features = datasets.Features({k: v for k, v in ds.features.items() if k not in columns})
        out_features[LABELS] = datasets.Sequence(datasets.Value("float32"), length=len(names))
    # Arrow in, Arrow out, as the streaming module's steps are; the result reads as Python rows.
    # with_labels drops the label columns itself: a stream would also drop the new one where
    # it has a dropped one's name (a list column called "labels").
    removed = {"remove_columns": columns} if isinstance(ds, Dataset) else {}
    mapped = ds.with_format("arrow").map(with_labels, batched=True, features=out_features, **removed)
    return mapped.with_format(None)


def multi_hot(splits: Mapping[str, AnyDataset], column: str | Sequence[str],
              separator: str = DEFAULT_SEPARATOR, train: str = "train"
              ) -> tuple[dict[str, AnyDataset], list[str]]:
    """Every split with a :data:`LABELS` column of K 0/1 values, and the K label names, which
    the ``train`` split decides.

    Example:
        >>> out, names = multi_hot({"train": Dataset.from_dict({"anger": [1, 0], "joy": [1, 1]})},
        ...                        ["anger", "joy"])
        >>> names, out["train"][LABELS]
        (['anger', 'joy'], [[1.0, 1.0], [0.0, 1.0]])
    """
    if train not in splits:
        raise MissingError(f"no {train!r} split to read the label names from; the splits are "
                           f"{sorted(splits)}")
    names = label_names(splits[train], column, separator)
    return {name: encode(ds, names, column, separator, split=name) for name, ds in splits.items()}, names
