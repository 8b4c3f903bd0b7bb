"""Validation: the source's own split, or carved (with a missing test split) out of train by
group, stratified, seeded.

A source that ships a validation split (``validation``, ``dev`` or ``valid``, in any case; see
:func:`own_validation`) is validated on it, as SST, GLUE or tweet_eval are meant to be, unless
``DataConfig.validation_split`` is ``"carve"``.  Otherwise validation is carved from train.

A random split of a corpus with repeated items (reviews of one movie, product or user) puts
the same item on both sides, and so overrates whatever memorises it.  IMDB's train reviews
cover 3,456 movies, about 7 each, and its test split covers 3,581 other movies: a validation
split carved at random from train shares its movies with train, while test never does.  So
every carve here keeps a group on one side:

* ``DataConfig.group_column`` names the groups (a movie, product or user id);
* without one, reviews with the same normalized text are a group (see :func:`normalized`), so
  duplicates never straddle the split.

Groups are dealt with scikit-learn's ``StratifiedGroupKFold(shuffle=True, random_state=seed)``,
and the first fold is carved out.  That keeps each label's share as far as the groups allow;
ratings are stratified by their value rounded to a whole star.  Where no label has a row for
every fold (a tiny split), groups are dealt unstratified.  Both sides are returned in a
seeded random order, so the first rows of either (``max_train_samples``) hold every label.

Limits: the carved share is 1 / round(1 / size) of the rows, about ``size`` (exactly 0.1 and
0.2 for the defaults), and a little off where groups are large.  A count is read as the share
it makes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
from datasets import ClassLabel, Dataset, IterableDataset, Sequence

from hfsent.errors import InputError
from hfsent.tokenize import clean

GROUP = "group"  # the column that normalize() makes of DataConfig.group_column
VALIDATION_NAMES = ("validation", "dev", "valid")  # a source's own validation split, in this order


def own_validation(names: Iterable[str], choice: str = "auto") -> str | None:
    """The split of a source (its split ``names``) that serves as validation: the first of
    ``validation``, ``dev``, ``valid`` that it has, in any case; ``None`` where it has none or
    ``choice`` is ``"carve"`` (then validation is carved from train).

    Example:
        >>> own_validation(["train", "Dev", "test"]), own_validation(["train", "dev"], "carve")
        ('Dev', None)
    """
    if choice == "carve":
        return None
    by_name = {str(name).casefold(): str(name) for name in names}
    return next((by_name[n] for n in VALIDATION_NAMES if n in by_name), None)


def validation_origin(validation: Dataset | IterableDataset, group_column: str | None) -> str:
    """Where the validation split came from, in words, for the data stage's summary.

    ``datasets`` keeps the name of the split a dataset was read from (``Dataset.split``) through
    every map, filter and select: the source's own split keeps its name, a carved one is ``train``.

    Example:
        >>> validation_origin(splits["validation"], "movie_id")
        "carved from train by 'movie_id'"
    """
    name = validation.split
    if name is not None and str(name) != "train":
        return f"the source's {str(name)!r} split"
    return f"carved from train by {group_column!r}" if group_column else "carved from train at random"


def normalized(text: str) -> str:
    """The form in which two reviews count as the same: HTML breaks and case dropped,
    whitespace collapsed.

    Example:
        >>> normalized("Great  film.<br />LOVED it") == normalized("great film. loved it")
        True
    """
    return " ".join(clean(text).casefold().split())


def group_codes(ds: Dataset) -> np.ndarray:
    """One integer per row: its group (the ``group`` column, else its normalized text).

    Example:
        >>> group_codes(Dataset.from_dict({"text": ["A b", "a  B", "c"], "label": [0, 0, 1]}))
        array([0, 0, 1])
    """
    if GROUP in ds.column_names:  # a row without a group is a group of its own
        keys = [f"\0row {i}" if key is None else str(key) for i, key in enumerate(ds[GROUP])]
    else:  # digests, not the texts themselves, keep memory small
        keys = [hashlib.blake2b(normalized(t).encode(), digest_size=16).digest() for t in ds["text"]]
    _, first, codes = np.unique(np.asarray(keys, dtype=object), return_index=True, return_inverse=True)
    # number groups by first appearance, so that codes do not depend on how keys sort
    order = np.argsort(np.argsort(first))
    return order[codes.reshape(-1)]


def carve(ds: Dataset, size: float, seed: int) -> tuple[Dataset, Dataset]:
    """``(rest, carved)``: about ``size`` of ``ds`` (a fraction, or a count of rows) carved out
    so that no group is on both sides, stratified by label, in a seeded order.

    Args:
        ds: a split with ``text`` and ``label`` columns, and ``group`` if it has groups.
        size: a fraction in (0, 1), or a whole number of rows.
        seed: the same seed carves the same split.

    Example:
        >>> train, validation = carve(splits["train"], 0.1, seed=42)
        >>> set(train["group"]) & set(validation["group"])
        set()
    """
    from sklearn.model_selection import StratifiedGroupKFold

    n = len(ds)
    folds = max(2, round(n / size) if size >= 1 else round(1 / size))
    groups = group_codes(ds)
    if groups.max() + 1 < folds:
        what = "groups" if GROUP in ds.column_names else "distinct reviews"
        raise InputError(f"carving 1/{folds} of {n} rows by group needs at least {folds} {what}, "
                         f"found {groups.max() + 1}")
    feature = ds.features["label"]
    labels = np.asarray(ds["label"])
    if isinstance(feature, Sequence):  # multi-hot rows: stratified by each row's first label
        strata = np.where(labels.any(axis=1), labels.argmax(axis=1) + 1, 0)
    else:
        strata = labels if isinstance(feature, ClassLabel) else np.rint(labels).astype(int)
    if np.unique(strata, return_counts=True)[1].max() < folds:  # too few rows of any label to stratify
        strata = np.zeros(n, int)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    rest, carved = next(splitter.split(np.zeros(n), strata, groups))
    rng = np.random.default_rng(seed)
    return ds.select(rng.permutation(rest)), ds.select(rng.permutation(carved))
