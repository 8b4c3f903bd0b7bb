"""The ``train`` / ``validation`` / ``test`` splits of a run, from a source :mod:`hfsent.data` reads.

Validation is the source's own split where it has one (:func:`hfsent.split.own_validation`)
unless ``validation_split="carve"``; otherwise it is carved from train by :mod:`hfsent.split`
(by group, stratified, seeded), so model selection never sees test.  A source without a
``test`` split gets one carved from train the same way, of ``test_size`` rows.
"""

from __future__ import annotations

import logging

import numpy as np
from datasets import Dataset, DatasetDict

from hfsent.config import Config
from hfsent.data import load_raw, normalize_split
from hfsent.errors import MissingError
from hfsent.split import GROUP, carve, group_codes, own_validation, validation_origin
from hfsent.tasks import task_for

log = logging.getLogger(__name__)


def _head(ds: Dataset, n: int | None) -> Dataset:
    return ds if n is None or n >= len(ds) else ds.select(range(n))



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
