"""Settings of an hfsent run, one dataclass per component.

============================  ===============================================  ==========
component                     what it holds                                    saved?
============================  ===============================================  ==========
:class:`DataConfig`           source, columns, how validation/test are carved  as a record
:class:`PreprocessingConfig`  tokenizer, casing, vocabulary, ``max_length``    yes
:class:`ModelConfig`          task, labels, architecture, wide-branch size     yes
:class:`TrainingConfig`       optimisation, word2vec, the wide branch's fit    as a record
:class:`RuntimeConfig`        processes, distribution, streaming               never
============================  ===============================================  ==========

:class:`Config` bundles them.  A model folder's ``hfsent_config.json`` holds
:meth:`Config.to_saved`: preprocessing, model and training, plus the data record with the
source reduced to a Hub id or a file name, so no local path leaves the machine.  Runtime
settings are never written.  ``FORMAT_VERSION`` changes whenever that layout or a field's
meaning changes; version 3 (one flat dict, hfsent 0.1) still loads.

Every field name is unique across components, so the command line keeps one flat flag per
field (``--max-length``, ``--gru-units``) and :meth:`Config.replace` takes flat names too.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 4
CONFIG_NAME = "hfsent_config.json"


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class DataConfig:
    """Where the reviews come from and how the splits are carved."""

    dataset: str = field(default="stanfordnlp/imdb", metadata=_help("Hub id, local folder in the Hub layout, or .parquet/.csv file(s) separated by commas"))
    dataset_id: str | None = field(default=None, metadata=_help("Hub id named in the model card when --dataset is a local copy (e.g. stanfordnlp/imdb)"))
    text_column: str = field(default="text", metadata=_help("text column; 'review' is found automatically for the Kaggle CSV"))
    label_column: str = field(default="label", metadata=_help("label column; 'sentiment' is found automatically for the Kaggle CSV"))
    validation_size: float = field(default=0.1, metadata=_help("fraction (or count if >= 1) of train held out, stratified"))
    test_size: float = field(default=0.2, metadata=_help("fraction (or count) of train carved as test when the source has no test split"))
    max_train_samples: int | None = field(default=None, metadata=_help("truncate train (after the validation split) for quick runs"))
    max_eval_samples: int | None = field(default=None, metadata=_help("truncate validation and test for quick runs"))
    unlabeled_split: str = field(default="unsupervised", metadata=_help("split of unlabelled reviews that word2vec also reads, if the source has it"))

    def __post_init__(self) -> None:
        for name in ("validation_size", "test_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass
class PreprocessingConfig:
    """Text to ids, exactly as the model saw it in training."""

    spacy_model: str = field(default="blank:en", metadata=_help("'blank:en' or the name of an installed spaCy pipeline"))
    lowercase: bool = True
    min_freq: int = field(default=2, metadata=_help("drop words seen fewer times in train"))
    max_vocab_size: int = field(default=30000, metadata=_help("largest vocabulary, PAD and UNK included"))
    max_length: int = field(default=600, metadata=_help("reviews are truncated to this many tokens"))
    vocab_size: int | None = None  # filled in by training

    def __post_init__(self) -> None:
        _positive(self, "min_freq", "max_length")
        if self.max_vocab_size < 3:
            raise ValueError(f"max_vocab_size must leave room for a word after [PAD] and [UNK], got {self.max_vocab_size}")


@dataclass
class ModelConfig:
    """The network: what it predicts and its sizes."""

    task: str = field(default="sentiment", metadata=_help("'sentiment' (0/1 labels) or 'rating' (regression on --label-column, e.g. rating)"))
    rating_min: float = 1.0
    rating_max: float = 10.0
    embedding_dim: int = 128
    gru_units: int = 64
    bidirectional: bool = True
    pooling: str = field(default="mean", metadata=_help("'last' (final GRU state) or 'mean' (masked mean of GRU states)"))
    dropout: float = 0.4
    wide_ngrams: bool = field(default=True, metadata=_help("blend the GRU with a linear model of word and hashed-bigram counts (NB-weighted logistic regression, fitted by scikit-learn; sentiment only)"))
    wide_buckets: int = field(default=1 << 20, metadata=_help("hash buckets for the wide branch's word bigrams"))
    label_names: list[str] = field(default_factory=lambda: ["negative", "positive"])

    def __post_init__(self) -> None:
        if self.task not in ("sentiment", "rating"):
            raise ValueError(f"task must be 'sentiment' or 'rating', got {self.task!r}")
        if self.pooling not in ("last", "mean"):
            raise ValueError(f"pooling must be 'last' or 'mean', got {self.pooling!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        _positive(self, "embedding_dim", "gru_units", "wide_buckets")
        if not self.rating_min < self.rating_max:
            raise ValueError(f"rating_min must be below rating_max, got {self.rating_min}, {self.rating_max}")


@dataclass
class TrainingConfig:
    """How the weights were fitted; saved with the model for the record."""

    batch_size: int = 128
    epochs: int = 8
    learning_rate: float = 3e-3
    lr_decay: float = field(default=0.3, metadata=_help("multiply the learning rate by this after every epoch"))
    patience: int = field(default=1, metadata=_help("early-stopping patience on validation loss"))
    num_buckets: int = field(default=10, metadata=_help("length buckets for batching"))
    seed: int = 42
    pretrain_embeddings: bool = field(default=True, metadata=_help("initialise the Embedding with word2vec trained on train + the unlabelled split"))
    freeze_embeddings: bool = field(default=False, metadata=_help("keep the Embedding fixed during training (useful with --pretrain-embeddings)"))
    word2vec_epochs: int = 3
    wide_c: float = field(default=0.1, metadata=_help("inverse L2 strength of the wide branch's logistic regression"))
    wide_weight: float | None = field(default=None, metadata=_help("weight of the GRU's probability in the blend, the linear half getting the rest (default: fitted on the validation split by log loss)"))

    def __post_init__(self) -> None:
        _positive(self, "batch_size", "epochs", "learning_rate", "patience", "num_buckets", "word2vec_epochs", "wide_c")
        if not 0 < self.lr_decay <= 1:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if self.wide_weight is not None and not 0 <= self.wide_weight <= 1:
            raise ValueError(f"wide_weight must be in [0, 1], got {self.wide_weight}")


@dataclass
class RuntimeConfig:
    """How this machine runs the job; never saved with a model."""

    num_proc: int | None = field(default=None, metadata=_help("processes for tokenization (default: CPU count)"))
    strategy: str = field(default="auto", metadata=_help("tf.distribute strategy: auto, default, mirrored or multiworker"))
    streaming: bool = field(default=False, metadata=_help("read the data as a stream (load_dataset(streaming=True)): no full download or Arrow cache; tokenized on every pass"))
    shuffle_buffer: int = field(default=20000, metadata=_help("reviews in the shuffle buffer when training data is streamed (--streaming, or above 50M tokens)"))

    def __post_init__(self) -> None:
        _positive(self, "shuffle_buffer")
        if self.num_proc is not None:
            _positive(self, "num_proc")


def _positive(component: Any, *names: str) -> None:
    for name in names:
        value = getattr(component, name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")


COMPONENTS: dict[str, type] = {"data": DataConfig, "preprocessing": PreprocessingConfig,
                               "model": ModelConfig, "training": TrainingConfig, "runtime": RuntimeConfig}
SAVED = ("data", "preprocessing", "model", "training")
_OWNER = {f.name: part for part, cls in COMPONENTS.items() for f in dataclasses.fields(cls)}
assert len(_OWNER) == sum(len(dataclasses.fields(c)) for c in COMPONENTS.values()), "field names must be unique"
DERIVED = {"vocab_size", "label_names"}  # set by training, not by flags


@dataclass
class Config:
    """Every setting of a run, by component.

    Args:
        data, preprocessing, model, training, runtime: the components (defaults if omitted).

    Example:
        >>> cfg = Config().replace(dataset="reviews.csv", gru_units=32)
        >>> cfg.model.gru_units, cfg.data.dataset
        (32, 'reviews.csv')
    """

    data: DataConfig = field(default_factory=DataConfig)
    preprocessing: PreprocessingConfig = field(default_factory=PreprocessingConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def replace(self, **values: Any) -> Config:
        """A copy with fields changed by their flat names (``max_length=200``); ``self`` is unchanged."""
        unknown = sorted(set(values) - set(_OWNER))
        if unknown:
            raise ValueError(f"unknown hfsent settings: {unknown}")
        parts = {name: getattr(self, name) for name in COMPONENTS}
        for part in COMPONENTS:
            changes = {k: v for k, v in values.items() if _OWNER[k] == part}
            if changes:
                parts[part] = dataclasses.replace(parts[part], **changes)
        return Config(**parts)

    def to_saved(self) -> dict[str, Any]:
        """What a model folder keeps: no runtime settings, and no local path (see :func:`public_source`)."""
        saved = {part: dataclasses.asdict(getattr(self, part)) for part in SAVED}
        saved["data"]["dataset"] = public_source(self.data)
        del saved["data"]["dataset_id"]
        return {"format_version": FORMAT_VERSION, **saved}

    def to_json(self) -> str:
        return json.dumps(self.to_saved(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_saved(cls, data: dict[str, Any]) -> Config:
        """The inverse of :meth:`to_saved`, checked: the format version, every key and every type."""
        version = data.get("format_version") if isinstance(data, dict) else None
        if version == 3:
            return _from_version_3(data)
        if version != FORMAT_VERSION:
            raise ValueError(f"hfsent config has format_version={version!r}; this hfsent reads versions 3 and "
                             f"{FORMAT_VERSION}. Upgrade hfsent or retrain the model.")
        unknown = sorted(set(data) - {"format_version", *SAVED})
        if unknown:
            raise ValueError(f"unknown hfsent config keys: {unknown}")
        return cls(**{part: _component(COMPONENTS[part], data.get(part, {}), part) for part in SAVED})

    @classmethod
    def load(cls, folder: str | Path) -> Config:
        """The config of a model folder (``hfsent_config.json``)."""
        path = Path(folder) / CONFIG_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: not an hfsent model folder")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{CONFIG_NAME} is not valid JSON ({type(err).__name__})") from None
        return cls.from_saved(data)


def public_source(data: DataConfig) -> str:
    """``dataset_id`` if given; else a Hub id as is, or each local path reduced to its file name."""
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
        raise ValueError(f"{CONFIG_NAME}: {where!r} must be an object")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(f"unknown hfsent config keys in {where!r}: {unknown}")
    for name, value in values.items():
        if not _has_type(value, hints[name]):
            raise ValueError(f"{CONFIG_NAME}: {where}.{name} must be {_type_name(hints[name])}, "
                             f"got {type(value).__name__}")
    return cls(**values)


def _has_type(value: Any, hint: Any) -> bool:
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    for option in options:
        if option is type(None) and value is None:
            return True
        if typing.get_origin(option) is list:
            return isinstance(value, list) and all(isinstance(v, str) for v in value)
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
    unknown = sorted(set(flat) - dropped - set(_OWNER))
    if unknown:
        raise ValueError(f"unknown hfsent config keys: {unknown}")
    by_part: dict[str, dict] = {part: {} for part in SAVED}
    for name, value in flat.items():
        if name not in dropped:
            by_part[_OWNER[name]][name] = value
    return Config(**{part: _component(COMPONENTS[part], by_part[part], part) for part in SAVED})


PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Bigger and slower than the default: a wider GRU that reads longer reviews, with
    # word2vec trained longer on train + unlabelled reviews.
    "best": {"gru_units": 128, "max_length": 800, "word2vec_epochs": 5},
    # The classroom notebook's sizes and schedule, with its bugs fixed: the GRU returns its
    # final state, one vocabulary serves every split, and batches are bucketed, not padded
    # to the longest review.
    "notebook": {"embedding_dim": 300, "gru_units": 500, "bidirectional": False, "pooling": "last",
                 "dropout": 0.0, "batch_size": 20, "epochs": 5, "learning_rate": 1e-3, "patience": 5,
                 "pretrain_embeddings": False, "wide_ngrams": False, "lr_decay": 1.0},
}


def preset(name: str, **overrides: Any) -> Config:
    """A named preset with flat ``overrides`` on top (``None`` values are ignored).

    Example:
        >>> preset("notebook", dataset="reviews.csv").model.gru_units
        500
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return Config().replace(**{**PRESETS[name], **{k: v for k, v in overrides.items() if v is not None}})


def add_config_arguments(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One ``--flag-name`` per field, grouped by component; unspecified flags stay ``None``
    (the preset wins).  A boolean field gets ``--name`` and ``--no-name``."""
    for part, cls in COMPONENTS.items():
        group = parser.add_argument_group(f"{part} settings (hfsent.config.{cls.__name__})")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.name in skip or f.name in DERIVED:
                continue
            flag, help_text = "--" + f.name.replace("_", "-"), f.metadata.get("help", "")
            default = f.default if f.default is not dataclasses.MISSING else None
            if hints[f.name] is bool:
                group.add_argument(flag, action="store_true", default=None, help=f"{help_text} (default: {default})")
                group.add_argument("--no-" + flag[2:], dest=f.name, action="store_false", default=None,
                                   help=f"turn off {flag}")
            else:
                kind = next(t for t in typing.get_args(hints[f.name]) or (hints[f.name],) if t is not type(None))
                group.add_argument(flag, type=kind, default=None, help=f"{help_text} (default: {default})")


def config_from_args(args: argparse.Namespace) -> Config:
    """The ``--preset`` (default ``"default"``) overridden by every flag that was given."""
    names = set(_OWNER) - DERIVED
    return preset(getattr(args, "preset", None) or "default",
                  **{n: getattr(args, n) for n in names if hasattr(args, n)})
