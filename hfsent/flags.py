"""The command line's surface over :mod:`hfsent.config`: one ``--flag`` per config field.

Flags are grouped by component in ``--help``; a flag that is not given stays ``None``, so
the preset's value wins.  A whole-number flag is a count: the parser refuses one below 1 (below 0
for ``--seed``) or above its bound in :data:`MOST`, before anything else runs.  Other values out
of range are refused by the config's own checks, with the flag's name in the message.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing

from hfsent import fields
from hfsent.config import COMPONENTS, DERIVED, FIELD_OWNER, Config, preset
from hfsent.errors import InputError
from hfsent.saved_config import LOAD_LIMITS

# Whole-number flags with an upper bound: what a loaded model may have, so that every model
# trained loads (see hfsent.tokenize.cut for max_length's share of a text).
MOST = dict(LOAD_LIMITS)
LEAST = {"seed": 0}  # whole-number flags that may be 0; every other one is at least 1


def _whole_number(name: str):
    """The argparse ``type`` of the whole-number field ``name``: its bounds, one line if outside."""
    least, most = LEAST.get(name, 1), MOST.get(name)

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text[:40]!r}") from None
        if value < least or most is not None and value > most:
            bounds = f"≥ {least}" if most is None else f"from {least} to {most:,}"
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, got {text[:40]}")
        return value

    return parse


def add_config_arguments(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One ``--flag-name`` per field, grouped by component; unspecified flags stay ``None``
    (the preset wins).  A boolean field gets ``--name`` and ``--no-name``.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_config_arguments(parser)
        >>> parser.parse_args(["--gru-units", "32", "--no-wide-ngrams"]).gru_units
        32
    """
    for part, cls in COMPONENTS.items():
        group = parser.add_argument_group(f"{part} settings (hfsent.config.{cls.__name__})")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name in skip or f.name in DERIVED:
                continue
            flag = "--" + f.name.replace("_", "-")
            default = f.default if f.default is not dataclasses.MISSING else None
            help_text = f.metadata.get("help", "")
            if "default:" not in help_text:  # a help that explains its default says it once
                help_text += f" (default: {default})"
            if hints[f.name] is bool:
                group.add_argument(flag, action="store_true", default=None, help=help_text)
                group.add_argument("--no-" + flag[2:], dest=f.name, action="store_false", default=None,
                                   help=f"turn off {flag}")
            else:
                options = typing.get_args(hints[f.name]) or (hints[f.name],)
                kind = next(t for t in options if t is not type(None))
                kind = (_comma_list if typing.get_origin(kind) is list else
                        _whole_number(f.name) if kind is int else kind)
                group.add_argument(flag, type=kind, default=None, help=help_text,
                                   choices=f.metadata.get("choices"))


def _comma_list(text: str) -> list[str]:
    """``--label-names a,b,c``: the names, stripped, in order."""
    return [part.strip() for part in text.split(",") if part.strip()]


def config_from_args(args: argparse.Namespace) -> Config:
    """The ``--preset`` (default ``"default"``) overridden by every flag that was given; a
    value out of range is an :class:`~hfsent.errors.InputError` that names its flag.

    Example:
        >>> config_from_args(parser.parse_args(["--gru-units", "32"])).model.gru_units
        32
    """
    names = set(FIELD_OWNER) - DERIVED
    try:
        config = preset(getattr(args, "preset", None) or "default",
                        **{n: getattr(args, n) for n in names if hasattr(args, n)})
        fields.parse(config.data.text_column)  # several text fields: see hfsent.fields
        return config
    except InputError as err:
        name = str(err).split(" ", 1)[0]
        raise InputError("--" + name.replace("_", "-") + str(err)[len(name):] if name in FIELD_OWNER
                         else str(err)) from None
