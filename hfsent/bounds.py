"""Upper bounds on what a config (and so a model folder) may say: the sizes of the network, and
label names that can only name a class where they are printed.

Limits: the bounds are far above any useful model; they exist so that a stranger's
``hfsent_config.json`` or ``config.json`` cannot make hfsent allocate without limit (see
:func:`hfsent.screen.check_keras_config`) or print a terminal escape.
"""

from __future__ import annotations

import unicodedata

from hfsent.errors import InputError

# Upper bounds on sizes, far above any useful model; a loaded config.json is screened against
# them before Keras allocates anything (see hfsent.screen.check_keras_config).
MAX_UNITS = 4096  # GRU units, embedding dimensions, Dense units
MAX_BUCKETS = 1 << 24  # the wide branch's hash buckets
MAX_LENGTH = 600  # the longest default max_length: IMDB's reviews, 99th percentile ~1,100 tokens
MAX_LABELS, MAX_LABEL_CHARS = 1000, 100  # label names: how many, how long each
# Unicode categories a label name may not hold: controls (terminal escapes), format characters
# (bidi overrides), line and paragraph separators, surrogates, private use, unassigned.
UNPRINTABLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def check_label_names(names: list[str]) -> None:
    """Refuse label names that could do more than name a class where they are printed: more than
    :data:`MAX_LABELS`, one that is no string or longer than :data:`MAX_LABEL_CHARS`, or one with a
    character of :data:`UNPRINTABLE` (an escape that rewrites a terminal, a bidi override).  Runs
    for ``--label-names``, class names read from data and a saved ``hfsent_config.json`` alike,
    since all of them build a :class:`~hfsent.config.ModelConfig`.  The error quotes no name, only
    its position.

    Example:
        >>> check_label_names(["neg", "pos\x1b[2J"])
        Traceback (most recent call last):
        hfsent.errors.InputError: label name 1 holds the character U+001B (category Cc) at ...
    """
    if len(names) > MAX_LABELS:
        raise InputError(f"label_names must hold at most {MAX_LABELS:,} names, got {len(names):,}")
    for i, name in enumerate(names):
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_LABEL_CHARS:
            raise InputError(f"label name {i} must be a string of 1 to {MAX_LABEL_CHARS} characters")
        bad = next((c for c in name if unicodedata.category(c) in UNPRINTABLE), None)
        if bad is not None:
            raise InputError(f"label name {i} holds the character U+{ord(bad):04X} (category "
                             f"{unicodedata.category(bad)}) at position {name.index(bad)}; label names "
                             "must be printable text")
