"""The vocabulary: ``[PAD]`` = 0, ``[UNK]`` = 1, then words from 2, most frequent first.

It is built from the training split only and then encodes every other split and every
text predicted later, so ids never depend on what is being scored.  It is saved as
``vocab.txt``, one token per line, the line number being the id (the BERT convention).
Counting and encoding run in Arrow compute kernels, not Python loops over tokens.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, IterableDataset

from hfsent.errors import InputError
from hfsent.locate import VOCAB_NAME

PAD, UNK = "[PAD]", "[UNK]"
PAD_ID, UNK_ID = 0, 1
COUNT_CHUNK_ROWS = 10_000
MAX_FILE_BYTES = 256 << 20  # a loaded vocab.txt; 30,000 words take about 250 KB


class Vocabulary:
    """Tokens by id: ``[PAD]`` = 0, ``[UNK]`` = 1, then the words.

    Args:
        tokens: the tokens in id order, starting with ``[PAD]`` and ``[UNK]``; no duplicates.

    Example:
        >>> vocab = Vocabulary.build(tokens["train"], min_freq=2, max_size=30000)
        >>> vocab.encode(["a", "wonderful", "zyzzyva"])
        [5, 412, 1]
    """
    def __init__(self, tokens: Sequence[str]):
        if list(tokens[:2]) != [PAD, UNK]:  # what it got is not quoted: it may be a stranger's file
            raise InputError(f"a vocabulary starts with {PAD} and {UNK} (lines 1 and 2 of {VOCAB_NAME}); "
                             "this one does not")
        if len(set(tokens)) != len(tokens):
            raise InputError("vocabulary has duplicate tokens")
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self._values = pa.array(self.tokens, pa.string())

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(
        cls, ds: Dataset | IterableDataset, min_freq: int = 1, max_size: int | None = None,
        column: str = "tokens",
    ) -> Vocabulary:
        """Count ``column`` (lists of tokens) of ``ds`` chunk by chunk, so memory holds the
        counts (:class:`TokenCounts`), not the corpus; ties are broken alphabetically."""
        counts = TokenCounts()
        for chunk in ds.with_format("arrow").iter(batch_size=COUNT_CHUNK_ROWS):
            counts.update(chunk[column])
        return counts.vocabulary(min_freq, max_size)

    @classmethod
    def from_counts(cls, counts: Counter[str], min_freq: int = 1, max_size: int | None = None
                    ) -> Vocabulary:
        """Words seen at least ``min_freq`` times, most frequent first, then alphabetical."""
        ranked = sorted((t for t, c in counts.items() if c >= min_freq and t not in (PAD, UNK)),
                        key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - 2)]
        return cls([PAD, UNK, *ranked])

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.index.get(t, UNK_ID) for t in tokens]

    def encode_arrow(self, lists: pa.ListArray | pa.ChunkedArray) -> pa.Array:
        """Encode a column of token lists to a column of id lists, vectorized."""
        if isinstance(lists, pa.ChunkedArray):
            lists = lists.combine_chunks()
        # cast: a batch of only empty lists arrives typed list<null>
        flat = lists.flatten().cast(pa.string())
        ids = pc.fill_null(pc.index_in(flat, value_set=self._values), UNK_ID)
        offsets = pc.subtract(lists.offsets, lists.offsets[0])
        return pa.ListArray.from_arrays(offsets, ids.cast(pa.int32()))

    def encode_dataset(self, ds: Dataset | IterableDataset) -> Dataset | IterableDataset:
        """Replace ``tokens`` with ``input_ids`` (cached by ``datasets`` like tokenization;
        lazily, on every pass, for a streamed ``IterableDataset``)."""
        progress = {} if isinstance(ds, IterableDataset) else {"desc": "Encoding with the vocabulary"}
        return ds.with_format("arrow").map(
            _encode_batch, batched=True, batch_size=2048, fn_kwargs={"vocab": self}, **progress
        ).with_format(None)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / VOCAB_NAME
        bad = [t for t in self.tokens if "\n" in t or "\r" in t]
        if bad:
            raise InputError(f"tokens with line breaks cannot be saved: {bad[:5]}")
        tmp = path.with_suffix(".tmp")
        tmp.write_text("\n".join(self.tokens) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, folder: str | Path) -> Vocabulary:
        """``vocab.txt`` of ``folder``: UTF-8, at most :data:`MAX_FILE_BYTES`; errors say what is
        wrong and where, never what the file holds."""
        path = Path(folder) / VOCAB_NAME
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{VOCAB_NAME} is {path.stat().st_size:,} bytes; an hfsent vocabulary is at "
                             f"most {MAX_FILE_BYTES:,}")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as err:
            raise InputError(f"{VOCAB_NAME} is not valid UTF-8 (byte offset {err.start})") from None
        return cls(text[:-1].split("\n") if text.endswith("\n") else text.split("\n"))


def count_tokens(lists: pa.ListArray | pa.ChunkedArray) -> dict[str, int]:
    """Occurrences of each token in a column of token lists (an Arrow kernel, no Python loop).

    Example:
        >>> count_tokens(pa.array([["a", "b"], ["a"]]))
        {'a': 2, 'b': 1}
    """
    counts = pc.value_counts(pc.list_flatten(lists).cast(pa.string()))
    return dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()))


class TokenCounts:
    """Occurrences of each token over many columns of token lists, held in Arrow: about 12
    bytes and the token's own per distinct token, where a Python ``Counter`` takes about 100.
    A streamed corpus of millions of reviews brings a new token in many of them (names,
    typos, numbers), so this is what the vocabulary pass's memory grows with.

    Each column is counted by an Arrow kernel; the counts are merged (a group-by) once
    :data:`MERGE_PARTS` have gathered, so the table holds each token about once.  The merge's
    hash table needs about 140 bytes per distinct token while it runs: the pass's peak is
    higher than a ``Counter``'s, what it keeps (and leaves behind, freed) is lower
    (``scripts/bench_scale.py counts``: +33 MiB against +80 over 1M reviews' 1.08 million
    distinct tokens).

    Example:
        >>> counts = TokenCounts()
        >>> counts.update(pa.array([["a", "b"], ["a"]]))
        >>> counts.vocabulary(min_freq=2).tokens
        ['[PAD]', '[UNK]', 'a']
    """
    MERGE_PARTS = 8

    def __init__(self) -> None:
        self._parts: list[pa.Table] = []

    def update(self, lists: pa.ListArray | pa.ChunkedArray) -> None:
        counts = pc.value_counts(pc.list_flatten(lists).cast(pa.string()))
        self._parts.append(pa.table({"token": counts.field("values"), "count": counts.field("counts")}))
        if len(self._parts) >= self.MERGE_PARTS:
            self._merge()

    def _merge(self) -> pa.Table:
        if len(self._parts) != 1:
            table = pa.concat_tables(self._parts) if self._parts else pa.table(
                {"token": pa.array([], pa.string()), "count": pa.array([], pa.int64())})
            summed = table.group_by("token").aggregate([("count", "sum")])
            self._parts = [pa.table({"token": summed["token"], "count": summed["count_sum"]})]
        return self._parts[0]

    def vocabulary(self, min_freq: int = 1, max_size: int | None = None) -> Vocabulary:
        """:meth:`Vocabulary.from_counts` of the counts, whose ranking (most frequent first, then
        alphabetical: UTF-8 byte order is code point order) runs in Arrow, so that only the
        kept tokens become Python strings."""
        table = self._merge()
        keep = pc.and_(pc.greater_equal(table["count"], min_freq),
                       pc.invert(pc.is_in(table["token"], value_set=pa.array([PAD, UNK]))))
        table = table.filter(keep)
        table = table.take(pc.sort_indices(table, [("count", "descending"), ("token", "ascending")]))
        if max_size is not None:
            table = table.slice(0, max(0, max_size - 2))
        return Vocabulary.from_counts(dict(zip(table["token"].to_pylist(), table["count"].to_pylist())),
                                      min_freq, max_size)


def _encode_batch(batch: pa.Table, vocab: Vocabulary) -> pa.Table:
    ids = vocab.encode_arrow(batch["tokens"])
    return batch.drop_columns(["tokens"]).append_column("input_ids", ids)
