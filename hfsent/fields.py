"""Several text fields (``--text-column title,body``) read as one text: the one place they are joined.

A model reads one sequence of tokens.  A record of several fields (a review's title and body)
becomes that sequence by joining its fields, in the order ``--text-column`` names them, with
:data:`SEPARATOR` between them.  Training (eager and streamed), ``predict`` (dicts, or the same
columns of a dataset; ``hfsent predict``: JSON objects, :func:`records`), ``hfsent score``, the
Endpoint handler, ``hfsent serve`` and the Space all join through :func:`join`, so a model sees
the same text however a record reaches it; the SavedModel export redoes :func:`join` in its graph
(:mod:`hfsent.export`).

The separator is the word ``xxfld`` (fastai's field marker), chosen because:

* spaCy's tokenizer keeps it as one token (letters only: no prefix, suffix or infix rule splits
  it), lowercased or not, and :func:`hfsent.tokenize.clean` leaves it alone;
* it is an ordinary word to the vocabulary: it occurs once per joined training row, so it is
  among the most frequent words and is always kept (``min_freq``, ``max_vocab_size``), and the
  Embedding, word2vec and the linear half learn it like any word; no reserved id is added, so
  the ids of a single-field model are unchanged;
* it hardly ever occurs in real text.  (A bracketed ``[SEP]`` would be cut into three tokens.)

A single field is the text itself, exactly as before: no separator, same tokens, same ids.
A missing (``None``) or blank field joins as an empty string, so a review without a title is
still read; a record whose fields are all blank is the empty text, refused or dropped as one.
Truncation to ``max_length`` applies to the joined tokens: put the short field (the title) first.

The field names are saved with the model as ``data.text_column`` (``"title,body"``: the
saved format is unchanged, and a folder of one field loads as before), so a field name holds no
comma.  They are strangers' strings once a model is shared and end up in error messages, the
Space's page and prediction files: :func:`parse` refuses what :func:`hfsent.config.check_label_names`
refuses of a label name, and more than :data:`MAX_FIELDS` of them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hfsent.config import MAX_LABEL_CHARS, UNPRINTABLE
from hfsent.errors import InputError

SEPARATOR = "xxfld"
JOINER = f" {SEPARATOR} "
MAX_FIELDS = 16


def parse(spec: str) -> list[str]:
    """The field names of ``--text-column`` (``data.text_column``), checked: 1 to
    :data:`MAX_FIELDS` distinct names of 1 to ``MAX_LABEL_CHARS`` printable characters.

    Example:
        >>> parse("title, body")
        ['title', 'body']
    """
    if not isinstance(spec, str):
        raise InputError(f"text_column must be a string of column names, got {type(spec).__name__}")
    names = [part.strip() for part in spec.split(",")]
    if not 1 <= len(names) <= MAX_FIELDS:
        raise InputError(f"text_column names 1 to {MAX_FIELDS} text fields, got {len(names):,}")
    for i, name in enumerate(names):
        if not 1 <= len(name) <= MAX_LABEL_CHARS:
            raise InputError(f"text field {i} must be a name of 1 to {MAX_LABEL_CHARS} characters")
        bad = next((c for c in name if unicodedata.category(c) in UNPRINTABLE), None)
        if bad is not None:  # the name is not quoted: it is a stranger's
            raise InputError(f"text field {i} holds the character U+{ord(bad):04X} (category "
                             f"{unicodedata.category(bad)}); field names must be printable text")
    if len(set(names)) != len(names):
        raise InputError("text_column names a field twice")
    return names


def check_same_fields(model: Sequence[str], given: str | None, flag: str = "--text-column") -> list[str]:
    """The columns to read for a model of the fields ``model``: ``given`` (a ``--text-column``
    override) if it names as many, else ``model``.

    Example:
        >>> check_same_fields(["title", "body"], "headline,review")
        ['headline', 'review']
    """
    if not given:
        return list(model)
    columns = parse(given)
    if len(columns) != len(model):
        raise InputError(f"this model reads {len(model)} text field(s) ({', '.join(model)}); "
                         f"{flag} names {len(columns)}")
    return columns


def join(values: Sequence[Any]) -> str:
    """One record's text: its fields' values (``None`` counts as empty) joined with :data:`SEPARATOR`;
    ``""`` when every field is blank.  One field: its value as it is.

    Example:
        >>> join(["Great film", "Loved it."]), join(["Great film"]), join([None, "Loved it."])
        ('Great film xxfld Loved it.', 'Great film', ' xxfld Loved it.')
    """
    if len(values) == 1:
        return values[0]
    texts = ["" if v is None else str(v) for v in values]
    return JOINER.join(texts) if any(t.strip() for t in texts) else ""


def record_text(record: Mapping, names: Sequence[str], where: str = "input") -> str:
    """The text of one ``{field: text}`` record: every field of ``names`` and no other, each a string.

    Example:
        >>> record_text({"title": "Great film", "body": "Loved it."}, ["title", "body"])
        'Great film xxfld Loved it.'
    """
    missing = [n for n in names if n not in record]
    extra = [k for k in record if k not in names]
    if missing or extra:
        said = "; ".join(part for part in (f"missing {_listed(missing)}" if missing else "",
                                           f"unknown {_listed(extra)}" if extra else "") if part)
        raise InputError(f"{where} must have the fields {_listed(names)}: {said}")
    bad = next((n for n in names if not isinstance(record[n], str)), None)
    if bad is not None:
        raise InputError(f"{where}[{_listed([bad])}] is {type(record[bad]).__name__}, not a text")
    return join([record[n] for n in names])


def input_texts(inputs: Iterable[Any], names: Sequence[str]) -> list[Any]:
    """Each input as the text a model of the fields ``names`` reads: a ``{field: text}`` dict is
    joined (:func:`record_text`); anything else is passed on as it is, so that a string is read as
    the whole text (the Hub widget and the card's examples send strings) and a wrong type is
    refused where texts are checked.

    Example:
        >>> input_texts([{"title": "Great", "body": "Loved it."}, "Loved it."], ["title", "body"])
        ['Great xxfld Loved it.', 'Loved it.']
    """
    return [record_text(x, names, f"input {i}") if isinstance(x, Mapping) else x
            for i, x in enumerate(inputs)]


def records(texts: Sequence[str], names: Sequence[str]) -> list[dict]:
    """Texts given to ``hfsent predict`` (arguments, lines of ``--input-file`` or stdin) for a
    model of the fields ``names``: each a JSON object of them, as the Endpoint takes it
    (``{"title": "Great", "body": "Loved it."}``; checked by :func:`record_text` when
    predicted).  A plain text is refused, naming the fields: which field would it be?

    Example:
        >>> records(['{"title": "Great", "body": "Loved it."}'], ["title", "body"])
        [{'title': 'Great', 'body': 'Loved it.'}]
    """
    out = []
    for i, text in enumerate(texts):
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            example = json.dumps(dict.fromkeys(names[:3], "..."))  # escaped, one line
            raise InputError(f"this model reads {len(names)} text fields ({_listed(names)}): give text {i} "
                             f"as a JSON object of them, e.g. {example}")
        out.append(record)
    return out


def join_table(table: Any, columns: Sequence[str], blank: str | None = None, into: str = "text") -> Any:
    """A batch (an Arrow table) with ``columns`` replaced by one string column ``into``, their
    rows joined by :func:`join`; ``blank`` where every field is blank (null, so that a labelled
    row is dropped as an empty text); for ``Dataset.map`` / ``IterableDataset.map`` on the Arrow
    format.

    Example:
        >>> join_table(pa.table({"title": ["Great"], "body": ["Loved it."]}), ["title", "body"])["text"]
        ['Great xxfld Loved it.']
    """
    import pyarrow as pa

    rows = zip(*(table[c].to_pylist() for c in columns))
    joined = [join(values) or blank for values in rows]
    kept = table.drop_columns(list(columns))
    return kept.append_column(into, pa.array(joined, pa.string()))


def join_dataset(ds: Any, columns: Sequence[str], blank: str | None = None) -> Any:
    """A ``Dataset`` or ``IterableDataset`` with ``columns`` replaced by their joined ``text``
    (:func:`join_table`, ``blank`` where every field is), Arrow to Arrow: a Python step in a
    stream costs what :mod:`hfsent.streaming` says."""
    from datasets import Dataset

    named = {"desc": "Joining text fields"} if isinstance(ds, Dataset) else {}  # a stream's map has no desc
    return ds.with_format("arrow").map(join_table, batched=True, fn_kwargs={"columns": list(columns),
                                       "blank": blank}, **named).with_format(None)


def _listed(names: Sequence[str], most: int = 5, chars: int = 40) -> str:
    """Names for an error message, a request's keys too: at most ``most``, each cut to ``chars``."""
    shown = [repr(n) if len(repr(n)) <= chars else repr(n)[:chars] + "..." for n in names[:most]]
    return ", ".join(shown) + (f" and {len(names) - most} more" if len(names) > most else "")
