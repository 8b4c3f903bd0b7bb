"""Predictions for every row of a dataset split, written to ``.parquet`` or ``.jsonl``.

``hfsent predict --dataset D --output-file preds.parquet`` reads the split with
:func:`hfsent.data.load_raw` (any source ``train --dataset`` takes) and writes, per row, its
``id`` (the source's ``id`` column if it has one, else the row's position in the split), its
``text`` (for a model of several text fields, a ``{column: value}`` record of the columns read:
the model's fields, or as many named by ``--text-column``), and
:meth:`~hfsent.predict.SentimentClassifier.predict`'s fields: ``label``,
``score``, ``scores`` (and ``probability_positive`` for two classes), or ``rating`` and
``rating_rounded`` for a rating model.  A row with a missing or blank text keeps its place,
with those fields null.

The file is written under a temporary name in the same folder and renamed into place at the
end: an interrupted run leaves no partial file, and an earlier output stays whole until the new
one is complete.  The split is read and written in chunks, so memory does not grow with it.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq

from hfsent.errors import InputError
from hfsent.fields import check_same_fields, join
from hfsent.folder import atomic_file
from hfsent.predict import SentimentClassifier

FORMATS = (".parquet", ".jsonl")
ID = "id"
CHUNK_ROWS = 1024


def _texts(chunk: dict, columns: list[str]) -> tuple[list, list]:
    """``(text column of the output, texts to predict)`` of a chunk: one column's texts twice, or
    several columns' ``{column: value}`` records and their joined texts (:func:`hfsent.fields.join`)."""
    if len(columns) == 1:
        return chunk[columns[0]], chunk[columns[0]]
    records = [{c: v if v is None else str(v) for c, v in zip(columns, values)}
               for values in zip(*(chunk[c] for c in columns))]
    return records, [join(list(r.values())) for r in records]


def _schema(classifier: SentimentClassifier, id_type: pa.DataType, columns: list[str]) -> pa.Schema:
    """The Parquet columns for ``classifier``'s task, fixed up front so null rows never change them;
    ``text`` is a struct of the text fields where there are several."""
    text = pa.string() if len(columns) == 1 else pa.struct([(c, pa.string()) for c in columns])
    return pa.schema([(ID, id_type), ("text", text), *classifier.task.arrow_fields()])


def _pick_split(names: list[str], split: str | None, dataset: str) -> str:
    """``split``, or the only split, or ``test``; as :func:`hfsent.metrics.score_dataset` chooses."""
    split = split or (names[0] if len(names) == 1 else "test" if "test" in names else None)
    if split is None:
        raise InputError(f"{dataset} has the splits {names}: choose one with --split")
    if split not in names:
        raise InputError(f"{dataset} has no split {split!r}; its splits are {names}")
    return split


def predict_dataset(classifier: SentimentClassifier, dataset: str, output_file: str | Path,
                    split: str | None = None, text_column: str | None = None,
                    batch_size: int | None = None) -> tuple[int, str]:
    """Write a prediction for every row of ``dataset``'s ``split`` (see the module docstring);
    returns ``(rows written, split)``.

    Example:
        >>> predict_dataset(clf, "stanfordnlp/imdb", "preds.parquet")
        (25000, 'test')
    """
    from tqdm.auto import tqdm

    from hfsent.data import load_raw, text_columns_of

    output_file = Path(output_file)
    if output_file.suffix not in FORMATS:
        raise InputError(f"--output-file must end in {' or '.join(FORMATS)}, got {output_file.name}")
    raw = load_raw(dataset)
    split = _pick_split(list(raw), split, dataset)
    ds = raw[split]
    columns = text_columns_of(ds.column_names, check_same_fields(classifier.text_fields, text_column))
    has_id = ID in ds.column_names and ID not in columns
    ds = ds.select_columns([*columns, ID] if has_id else columns)
    schema = _schema(classifier, ds.features.arrow_schema.field(ID).type if has_id else pa.int64(), columns)
    empty = {name: None for name in schema.names[2:]}
    with atomic_file(output_file) as tmp, contextlib.ExitStack() as stack:
        parquet = output_file.suffix == ".parquet"
        sink: pq.ParquetWriter | IO[str] = stack.enter_context(
            pq.ParquetWriter(tmp, schema) if parquet else tmp.open("w", encoding="utf-8"))
        bar = stack.enter_context(tqdm(total=len(ds), desc="predicting", unit=" rows", file=sys.stderr,
                                       disable=None))  # None: shown only on a terminal
        start = 0
        for chunk in ds.iter(batch_size=CHUNK_ROWS):
            shown, texts = _texts(chunk, columns)
            ids = chunk[ID] if has_id else range(start, start + len(texts))
            usable = [i for i, text in enumerate(texts) if isinstance(text, str) and text.strip()]
            results = dict(zip(usable, classifier.predict([texts[i] for i in usable], batch_size)
                               if usable else []))
            rows = [{ID: row_id, "text": text, **results.get(i, empty)}
                    for i, (row_id, text) in enumerate(zip(ids, shown))]
            if parquet:
                sink.write_table(pa.Table.from_pylist(rows, schema=schema))
            else:
                sink.writelines(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
            start += len(texts)
            bar.update(len(texts))
    return start, split
