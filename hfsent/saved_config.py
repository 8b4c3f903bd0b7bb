"""``hfsent_config.json``: what a model folder keeps of its :class:`~hfsent.config.Config`,
and how it is read back, checked field by field.

A folder keeps the preprocessing, model and training components, and the data component
as a record with the source reduced to a Hub id or a file name (:func:`public_source`), so
no local path leaves the machine.  Runtime settings are never written.
``FORMAT_VERSION`` changes whenever that layout or a field's meaning changes; on load every
key and every value's type is checked against the dataclasses, naming the field, and the sizes
that loading and predicting allocate by (:data:`LOAD_LIMITS`) are range-checked, before
anything uses it.  Every JSON file of a model folder is read by :func:`read_json`.  Versions
4 to 8 (without the fields added since, which take their defaults, but for
``data.validation_split``: every folder before it carved validation) and version 3 (hfsent 0.1:
one flat dict) still load.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path
from typing import Any

from hfsent import fields
from hfsent.config import COMPONENTS, FIELD_OWNER, Config, DataConfig, RuntimeConfig
from hfsent.errors import InputError, MissingError
from hfsent.names import CONFIG_NAME
from hfsent.vector_formats import public_source as public_vectors

# 9: model.task 'multilabel' with model.thresholds, data.multi_label and data.label_separator;
#    training.word_vectors and word_vectors_revision (--word-vectors);
# 8: data.validation_split ('auto' validates on the source's own split; older folders carved);
# 7: training.wide_alpha (the rating task's linear half, new in this version);
# 6: pooling 'concat' (the new default), training.word2vec_min_count; 5: data.group_column
FORMAT_VERSION = 9
READ_THE_SAME = (4, 5, 6, 7, 8, FORMAT_VERSION)  # fields they lack take their defaults
CARVED_BEFORE = 8  # folders of older versions carved validation from train, whatever the source had
SAVED = ("data", "preprocessing", "model", "training")
MAX_CONFIG_BYTES = 1 << 20  # a real one is 1.5 KB; 100 label names leave plenty of room
# What a loaded model may ask for, far above any useful model: predict pads batches of
# 4 * batch_size texts to up to max_length tokens, and a vocabulary is read into memory whole.
LOAD_LIMITS = {"max_length": 1 << 14, "batch_size": 1 << 12, "vocab_size": 1 << 21, "max_vocab_size": 1 << 21}
MAX_BATCH_TOKENS = 1 << 21  # batch_size * max_length; the default's is 128 * 600


def to_saved(config: Config) -> dict[str, Any]:
    """What a model folder keeps of ``config``: no runtime settings, and no local path.

    Example:
        >>> to_saved(preset("default", dataset="/data/reviews.csv"))["data"]["dataset"]
        'reviews.csv'
    """
    saved = {part: dataclasses.asdict(getattr(config, part)) for part in SAVED}
    saved["data"]["dataset"] = public_source(config.data)
    saved["training"]["word_vectors"] = public_vectors(config.training.word_vectors)
    del saved["data"]["dataset_id"]
    names = config.model.label_names
    if names is not None:  # as transformers writes them: ids as strings in id2label
        saved["model"]["id2label"] = {str(i): name for i, name in enumerate(names)}
        saved["model"]["label2id"] = {name: i for i, name in enumerate(names)}
    return {"format_version": FORMAT_VERSION, **saved}


def to_json(config: Config) -> str:
    """:func:`to_saved` as the text of ``hfsent_config.json``."""
    return json.dumps(to_saved(config), indent=2, sort_keys=True) + "\n"


def from_saved(data: dict[str, Any]) -> Config:
    """The inverse of :func:`to_saved`, checked: the format version, every key and every type.

    Example:
        >>> from_saved(to_saved(config)).model == config.model
        True
    """
    version = data.get("format_version") if isinstance(data, dict) else None
    if version == 3:
        return _check_limits(_from_version_3(data))
    if version not in READ_THE_SAME:
        raise InputError(f"hfsent config has format_version={_quoted(version)}; this hfsent reads versions "
                         f"3 to {FORMAT_VERSION}. Upgrade hfsent or retrain the model.")
    unknown = sorted(set(data) - {"format_version", *SAVED})
    if unknown:
        raise InputError(f"unknown hfsent config keys: {_quoted(unknown)}")
    data = {**data, "model": _check_label_maps(dict(data.get("model") or {}))}
    if version < CARVED_BEFORE and isinstance(data.get("data"), dict):
        data["data"] = {"validation_split": "carve", **data["data"]}
    config = Config(**{part: _component(COMPONENTS[part], data.get(part, {}), part) for part in SAVED})
    fields.parse(config.data.text_column)  # names shown in the Space and in errors (hfsent.fields)
    return _check_limits(config)


def _quoted(value: Any, most: int = 100) -> str:
    """``repr(value)`` for an error message, cut to ``most`` characters: the file may hold megabytes."""
    shown = repr(value)
    return shown if len(shown) <= most else shown[:most] + f"... ({len(shown):,} characters)"


def _check_limits(config: Config) -> Config:
    """``config`` if its sizes are within :data:`LOAD_LIMITS` and :data:`MAX_BATCH_TOKENS`."""
    pre, training = config.preprocessing, config.training
    for part, name in (("preprocessing", "max_length"), ("training", "batch_size"),
                       ("preprocessing", "vocab_size"), ("preprocessing", "max_vocab_size")):
        value = getattr(getattr(config, part), name)
        if value is not None and value > LOAD_LIMITS[name]:
            raise InputError(f"{CONFIG_NAME}: {part}.{name} is {value:,}; a loaded model's is at most "
                             f"{LOAD_LIMITS[name]:,}")
    if (pre.max_length or 0) * training.batch_size > MAX_BATCH_TOKENS:
        raise InputError(f"{CONFIG_NAME}: training.batch_size * preprocessing.max_length is "
                         f"{pre.max_length * training.batch_size:,} tokens; a loaded model's is at most "
                         f"{MAX_BATCH_TOKENS:,}")
    return config


def _check_label_maps(model: dict) -> dict:
    """``model`` without ``id2label`` / ``label2id``, once they agree with ``label_names``."""
    id2label, label2id = model.pop("id2label", None), model.pop("label2id", None)
    names = model.get("label_names")
    if id2label is not None or label2id is not None:
        expected = ({str(i): n for i, n in enumerate(names)}, {n: i for i, n in enumerate(names)}) \
            if isinstance(names, list) else None
        if expected != (id2label, label2id):
            raise InputError(f"{CONFIG_NAME}: model.id2label and model.label2id must match model.label_names")
    return model


def load_config(folder: str | Path) -> Config:
    """The checked config of a model folder (its ``hfsent_config.json``).

    Example:
        >>> load_config("runs/imdb-gru").preprocessing.max_length
        600
    """
    path = Path(folder) / CONFIG_NAME
    if not path.is_file():
        raise MissingError(f"{path} not found: not an hfsent model folder")
    return from_saved(read_json(path, MAX_CONFIG_BYTES))


def read_json(path: Path, limit: int, kind: type = dict) -> Any:
    """The JSON value of ``path``, if it is a ``kind`` of at most ``limit`` bytes of UTF-8 (the
    size checked with ``stat`` before reading); else an :class:`InputError` that names the file and
    says what is wrong, never what it holds: too big, not UTF-8, not JSON, nested too deep for
    Python's parser, a number too long to read, or another kind of value.

    Example:
        >>> read_json(Path("runs/m/metrics.json"), 1 << 20)["test"]["accuracy"]
        0.9152
    """
    size = os.stat(path).st_size
    if size <= limit:
        with open(path, "rb") as file:
            raw = file.read(limit + 1)  # not more, should it grow meanwhile
        size = len(raw)
    if size > limit:
        raise InputError(f"{path.name} is {size:,} bytes; hfsent reads at most {limit:,} of it")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise InputError(f"{path.name} is not valid UTF-8 (byte offset {err.start})") from None
    except RecursionError:
        raise InputError(f"{path.name} nests its JSON too deep to read") from None
    except ValueError as err:  # JSONDecodeError, or an integer of more digits than Python reads
        where = f" at line {err.lineno}" if isinstance(err, json.JSONDecodeError) else ""
        raise InputError(f"{path.name} is not valid JSON{where}") from None
    if not isinstance(data, kind):
        raise InputError(f"{path.name} must hold a JSON {'object' if kind is dict else kind.__name__}, "
                         f"not {type(data).__name__}")
    return data


def public_source(data: DataConfig) -> str:
    """``dataset_id`` if given; else a Hub id as is, or each local path reduced to its file name.

    Example:
        >>> public_source(DataConfig(dataset="train=/data/a.csv,test=/data/b.csv"))
        'train=a.csv,test=b.csv'
    """
    if data.dataset_id:
        return data.dataset_id
    parts = []
    for part in data.dataset.split(","):
        split, eq, path = part.strip().rpartition("=")
        local = os.path.isabs(path) or os.path.exists(path) or path.startswith((".", "~"))
        parts.append(split + eq + (Path(path).name if local else path))
    return ",".join(parts)


def _component(cls: type, values: Any, where: str) -> Any:
    if not isinstance(values, dict):
        raise InputError(f"{CONFIG_NAME}: {where!r} must be an object")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise InputError(f"unknown hfsent config keys in {where!r}: {_quoted(unknown)}")
    for name, value in values.items():
        if not _has_type(value, hints[name]):
            raise InputError(f"{CONFIG_NAME}: {where}.{name} must be {_type_name(hints[name])}, "
                             f"got {type(value).__name__}")
    return cls(**values)


def _has_type(value: Any, hint: Any) -> bool:
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    for option in options:
        if option is type(None) and value is None:
            return True
        if typing.get_origin(option) is list and isinstance(value, list):
            [item] = typing.get_args(option)
            return all(_has_type(v, item) for v in value)
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if option in (int, str, bool) and type(value) is option:
            return True
    return False


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _from_version_3(flat: dict[str, Any]) -> Config:
    """A folder saved by format version 3: one flat dict, with settings that hfsent has since
    dropped (self-training, language-model pretraining) or no longer saves (runtime)."""
    dropped = {"format_version", "pretrain_lm", "lm_epochs", "lm_vocab_size", "self_training",
               "pseudo_label_confidence", "self_training_epochs", "self_training_lr",
               *(f.name for f in dataclasses.fields(RuntimeConfig))}
    unknown = sorted(set(flat) - dropped - set(FIELD_OWNER))
    if unknown:
        raise InputError(f"unknown hfsent config keys: {_quoted(unknown)}")
    by_part: dict[str, dict] = {part: {} for part in SAVED}
    by_part["data"]["validation_split"] = "carve"  # as every folder before version 8 did
    for name, value in flat.items():
        if name not in dropped:
            by_part[FIELD_OWNER[name]][name] = value
    return Config(**{part: _component(COMPONENTS[part], by_part[part], part) for part in SAVED})
