"""Class labels read from the data: their names, their order, and the ids the model sees.

The names of the classes (``ModelConfig.label_names``, id order) come from the training split,
by the first rule that applies:

1. ``--label-names a,b,c`` (``label_names`` in the config) fixes the names and their order.
   Every label must be one of them; a binary config (``negative``, ``positive``) still takes the
   aliases of rule 2.
2. Binary data reads as always: labels that are all 0/1, booleans, ``negative``/``positive`` or
   ``neg``/``pos`` (any case), as values or as a ``ClassLabel``'s names, are ``negative`` (0)
   and ``positive`` (1).
3. A ``ClassLabel`` column: its names, in their order.
4. Otherwise the distinct values of the column: numbers in numeric order (named ``"1"``,
   ``"2.5"``...); strings in the order of the sentiment scale (very negative, negative,
   neutral, positive, very positive) where every one belongs to it, else alphabetically, as
   ``datasets``' ``class_encode_column`` orders them.

Limits: at most :data:`MAX_CLASSES` classes; a single class is refused, as is a label in another
split that training never saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hfsent.errors import InputError

BINARY = ["negative", "positive"]
MAX_CLASSES = 100
_ALIASES = {"negative": 0, "neg": 0, "0": 0, "false": 0, "positive": 1, "pos": 1, "1": 1, "true": 1}
_SCALE = ["very negative", "negative", "neutral", "positive", "very positive"]


def name_of(value: object) -> str | None:
    """The class name a raw label value stands for: a string stripped, a whole number without
    ``.0``; ``None`` for a missing value.

    Example:
        >>> name_of(3.0), name_of(" neutral "), name_of(2.5)
        ('3', 'neutral', '2.5')
    """
    if value is None or value != value:  # None or NaN
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_binary(names: Iterable[str]) -> bool:
    return all(n.lower() in _ALIASES for n in names)


def class_names(values: Iterable[object], column: str, fixed: Sequence[str] | None = None,
                classlabel: Sequence[str] | None = None) -> list[str]:
    """The class names, in id order, for the raw label ``values`` of the training split.

    Args:
        values: the distinct raw labels (ints of a ``ClassLabel`` are read through ``classlabel``).
        column: the label column, for error messages.
        fixed: ``--label-names``, if given.
        classlabel: the names of a ``ClassLabel`` column.

    Example:
        >>> class_names(["1 star", "3 stars", "2 stars"], "label")
        ['1 star', '2 stars', '3 stars']
        >>> class_names([1, 0, 1], "label")
        ['negative', 'positive']
    """
    seen = {name_of(classlabel[v] if classlabel is not None and isinstance(v, int) else v) for v in values}
    seen.discard(None)
    if len(seen) > MAX_CLASSES:
        raise InputError(f"column {column!r} holds {len(seen)} distinct labels, more than {MAX_CLASSES}: "
                         "is this the right column? see --label-column")
    if fixed:
        names = list(fixed)
        if names != BINARY or not _is_binary(seen):
            extra = sorted(seen - set(names))
            if extra:
                raise InputError(f"column {column!r} holds labels that --label-names lacks: {extra[:10]}")
    elif _is_binary(seen):
        names = list(BINARY)
    elif classlabel is not None:
        names = list(classlabel)
    elif all(is_number(n) for n in seen):
        names = sorted(seen, key=float)
    elif {n.lower() for n in seen} <= set(_SCALE):
        names = sorted(seen, key=lambda n: _SCALE.index(n.lower()))
    else:
        names = sorted(seen)
    used = seen if not (names == BINARY and _is_binary(seen)) else {BINARY[_ALIASES[n.lower()]] for n in seen}
    if len(used) < 2:
        raise InputError(f"column {column!r} holds one class only, {next(iter(used), None)!r}: a classifier "
                         "needs at least two")
    return names


def is_number(name: str) -> bool:
    """Whether a class name is a number (stars): such classes are a scale."""
    try:
        float(name)
    except ValueError:
        return False
    return True


def encoder(names: Sequence[str], column: str, split: str = "train", classlabel: Sequence[str] | None = None):
    """A function from a raw label value to its class id under ``names``; a value outside them
    is an :class:`~hfsent.errors.InputError` naming the split, the column and the value.

    Example:
        >>> encoder(["1", "2", "3"], "stars")(2.0)
        1
    """
    index = {n: i for i, n in enumerate(names)}
    binary = list(names) == BINARY

    def encode(value: object) -> int:
        name = name_of(classlabel[value] if classlabel is not None and isinstance(value, int) else value)
        if name in index:
            return index[name]
        if binary and name is not None and name.lower() in _ALIASES:
            return _ALIASES[name.lower()]
        raise InputError(f"the {split} split's column {column!r} holds a label that the training split "
                         f"does not: {value!r} (classes: {list(names)[:10]})")

    return encode
