"""A multi-label split as training and scoring read it: ``text``, ``label`` (K float 0/1 values)
and ``group`` where the split has one.

The label layouts (a list column, a separated string column, one 0/1 column per label) are
:mod:`hfsent.multilabel`'s; this module picks the text column as :mod:`hfsent.data` does, drops
rows without a text (a row without a label stays: it is a text with none of the labels), and
renames the columns.  Works on a ``Dataset`` and on a stream (``IterableDataset``).
"""

from __future__ import annotations

from collections.abc import Sequence

import datasets
from datasets import Dataset, IterableDataset

from hfsent.config import Config
from hfsent.data import text_column_of
from hfsent.errors import InputError
from hfsent.multilabel import LABELS, encode, label_names
from hfsent.split import GROUP


def _has_text(batch, column: str = "text") -> list[bool]:
    """Rows whose text is not missing or blank, of a dict of columns or an Arrow table."""
    texts = batch[column]
    texts = texts.to_pylist() if hasattr(texts, "to_pylist") else texts
    return [t is not None and str(t).strip() != "" for t in texts]


def normalize_multilabel(ds: Dataset | IterableDataset, config: Config, column: str | Sequence[str],
                         names: Sequence[str] | None, split: str | None = None) -> Dataset | IterableDataset:
    """``ds`` with ``text``, ``label`` (K float32 0/1 values under ``names``) and ``group``.

    Args:
        ds: one split as loaded.
        config: its data component names the text, group column and the label separator.
        column: the label column, or the 0/1 columns, one per label.
        names: the label names (the training split's); ``None`` reads them from ``ds``.
        split: the split's name for errors; ``None`` is the training split.

    Example:
        >>> normalize_multilabel(raw["train"], config, ["anger", "joy"], None)["label"][0]
        [1.0, 0.0]
    """
    data = config.data
    columns = ds.column_names or list(ds.features or {})
    text = text_column_of(columns, data.text_column) if columns else data.text_column
    wanted = [column] if isinstance(column, str) else list(column)
    if text in wanted:
        raise InputError(f"the text column {text!r} cannot also be a label column")
    group = [data.group_column] if data.group_column and data.group_column in columns else []
    ds = ds.select_columns([text, *wanted, *group])
    names = list(names) if names else label_names(ds, column, data.label_separator)
    ds = encode(ds, names, column, data.label_separator, split or "train")
    renames = {c: n for c, n in ((text, "text"), (LABELS, "label"), *((g, GROUP) for g in group)) if c != n}
    if isinstance(ds, Dataset):
        ds = ds.rename_columns(renames) if renames else ds
        ds = ds.filter(_has_text, batched=True, desc="Dropping empty texts")
        if len(ds) == 0:
            raise InputError(f"no usable rows in the {split or 'train'} split: every text is empty")
        if GROUP in ds.column_names:
            ds = ds.cast_column(GROUP, datasets.Value("string"))
        return ds
    # Arrow in, Arrow out, as every step of a stream (see hfsent.streaming): a step on Python rows
    # between Arrow steps makes datasets rebuild batches whose keys grow with every step
    ds = ds.with_format("arrow").filter(_has_text, batched=True, fn_kwargs={"column": text})
    if renames:  # an IterableDataset renames on Python rows: this renames the Arrow table
        # and its features, where known (a Parquet or Hub stream's): a stream keeps only the
        # columns its features name, so the old names would drop the renamed columns
        known = ds.features
        features = datasets.Features({renames.get(k, k): v for k, v in known.items()}) if known else None
        # (filtered first: a stream's filter after a map given features adds its mask twice)
        ds = ds.map(_renamed, batched=True, fn_kwargs={"renames": renames}, features=features)
    return ds


def _renamed(table, renames: dict[str, str]):
    return table.rename_columns([renames.get(name, name) for name in table.column_names])
