"""The data stage's work: the splits, their tokens, the train-only vocabulary and the buckets.

Cached Arrow datasets by default; lazy streams with ``runtime.streaming`` (see
:mod:`hfsent.streaming`).  The vocabulary is built from the training split only, and a split
whose reviews all tokenize to nothing is refused, naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow.compute as pc
from datasets import ClassLabel, Dataset, DatasetDict, IterableDataset, IterableDatasetDict

from hfsent.batching import bucket_boundaries
from hfsent.config import MAX_LENGTH, Config
from hfsent.data import load_raw
from hfsent.errors import InputError
from hfsent.preprocess import Preprocessor
from hfsent.splits import load_grouped_splits
from hfsent.streaming import load_stream_splits, scan_vocabulary
from hfsent.tasks import task_for
from hfsent.vocab import Vocabulary


@dataclass
class PreparedData:
    """The encoded splits (``label`` + ``input_ids``), their tokens, the train-only vocabulary
    and the bucket boundaries of the training lengths (see :func:`prepare_data`), and the training
    rows' groups for the linear half's cross-validation folds (never saved with the model).
    """

    splits: DatasetDict | IterableDatasetDict
    tokens: DatasetDict | IterableDatasetDict
    vocab: Vocabulary
    boundaries: list[int]
    train_rows: int
    max_length: int  # the config's, or read from the training lengths (see default_max_length)
    classes: dict[str, int] | None  # training rows per class name, in id order; None for ratings
    task: str = "sentiment"  # the task trained: the config's, or multi-label for a label column of lists
    # One group code per training row (``data.group_column``), row for row with ``splits["train"]``;
    # None without a group column, and for a stream (whose linear half is not fitted)
    groups: np.ndarray | None = None


def default_max_length(lengths: np.ndarray) -> int:
    """The 99th percentile of the training texts' token counts, at most
    :data:`~hfsent.config.MAX_LENGTH`: short texts are not padded to a length they never reach,
    and long reviews keep the cut that served IMDB.

    This is the only default that adapts to the data.  The others (word2vec's epochs and
    ``min_count``, ``min_freq``, learning rate, epochs and patience, dropout) were measured on
    short texts too, 10,000 first sentences of IMDB reviews (``scripts/bench_short.py``): no
    change moved validation accuracy by more than its standard error (about one point), so the
    values chosen on whole reviews serve both.  A rule for them would have nothing to follow.

    Example:
        >>> default_max_length(np.array([5] * 98 + [40, 2000]))
        60
    """
    return int(min(MAX_LENGTH, max(1, np.ceil(np.percentile(lengths, 99)))))


def _class_names(train: Dataset | IterableDataset) -> list[str] | None:
    label = (train.features or {}).get("label")  # a stream's features may be unknown
    return label.names if isinstance(label, ClassLabel) else None  # ratings, multi-hot rows


# Both return the tokens, the vocabulary, the training rows, the lengths of each split read
# (a sample for a stream), the training rows per class (None for ratings) and the training rows'
# groups (None without them, and for a stream).

def _cached_tokens(config: Config) -> tuple[DatasetDict, Vocabulary, int, dict[str, np.ndarray], dict | None,
                                            np.ndarray | None]:
    pre, preprocessor = config.preprocessing, Preprocessor.of(config)
    splits, groups = load_grouped_splits(config)
    # tokenizing maps row for row (no filter), so the groups stay aligned with the training rows
    tokens = DatasetDict({name: preprocessor.tokenize_dataset(ds) for name, ds in splits.items()})
    lengths = {name: pc.list_value_length(ds.with_format("arrow")[:]["tokens"]).to_numpy()
               for name, ds in tokens.items()}
    vocab = Vocabulary.build(tokens["train"], pre.min_freq, pre.max_vocab_size)
    names = _class_names(tokens["train"]) or config.model.label_names
    task = task_for(config.replace(label_names=names).model if names else config.model)
    classes = task.class_counts(np.asarray(tokens["train"]["label"]))
    return tokens, vocab, len(tokens["train"]), lengths, classes, groups


def _streamed_tokens(config: Config) -> tuple[IterableDatasetDict, Vocabulary, int, dict[str, np.ndarray],
                                              dict | None, None]:
    splits = load_stream_splits(config)
    # tokenizing a stream drops its features; multi-label names are the config's (Task.named)
    names = _class_names(splits["train"]) or config.model.label_names
    tokens = IterableDatasetDict({name: Preprocessor.of(config).tokenize_dataset(ds, streaming=True)
                                  for name, ds in splits.items()})
    vocab, rows, lengths, per_class = scan_vocabulary(tokens["train"], config)
    classes = {n: per_class[i] for i, n in enumerate(names)} if names else None
    return tokens, vocab, rows, {"train": lengths}, classes, None  # the other streams are read when scored


def prepare_data(config: Config) -> PreparedData:
    """Splits, tokens, the train-only vocabulary and bucket boundaries: cached Arrow datasets,
    or lazy streams with ``runtime.streaming`` (see :mod:`hfsent.streaming`).

    Example:
        >>> data = prepare_data(preset("default", dataset="stanfordnlp/imdb"))
        >>> data.splits["train"].column_names
        ['label', 'input_ids']
    """
    read = _streamed_tokens if config.runtime.streaming else _cached_tokens
    # A task whose label names must be known before the splits are read (multi-label) reads them here
    config = task_for(config.model).named(
        config, lambda: load_raw(config.data.dataset, streaming=config.runtime.streaming)["train"])
    tokens, vocab, rows, lengths, classes, groups = read(config)
    for name, split_lengths in lengths.items():
        if int(split_lengths.max(initial=0)) == 0:
            raise InputError(f"the {name} split tokenizes to nothing: every review has zero tokens")
    preprocessor = Preprocessor.of(config, vocab)
    encoded = type(tokens)({name: preprocessor.encode_dataset(ds) for name, ds in tokens.items()})
    max_length = config.preprocessing.max_length or default_max_length(lengths["train"])
    boundaries = bucket_boundaries(np.minimum(lengths["train"], max_length), config.training.num_buckets)
    return PreparedData(encoded, tokens, vocab, boundaries, rows, max_length, classes, config.model.task,
                        groups)
