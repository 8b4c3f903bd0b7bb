"""One dataclass holds every hyperparameter and setting of an hfsent run.

The same object drives training, is written next to the weights as ``hfsent_config.json``
and is checked again on load.  ``FORMAT_VERSION`` changes whenever the artifact layout or
the meaning of a field changes, so an old hfsent never misreads a newer model.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 3
CONFIG_NAME = "hfsent_config.json"


@dataclass
class Config:
    # task: "sentiment" = binary classification; "rating" = 1-10 star regression
    task: str = field(default="sentiment", metadata={"help": "'sentiment' (0/1 labels) or 'rating' (regression on --label-column, e.g. rating)"})
    rating_min: float = 1.0
    rating_max: float = 10.0
    # data
    dataset: str = field(default="stanfordnlp/imdb", metadata={"help": "Hub id, local folder in the Hub layout, or .parquet/.csv file(s) separated by commas"})
    dataset_id: str | None = field(default=None, metadata={"help": "Hub id named in the model card when --dataset is a local copy (e.g. stanfordnlp/imdb)"})
    text_column: str = field(default="text", metadata={"help": "text column; 'review' is found automatically for the Kaggle CSV"})
    label_column: str = field(default="label", metadata={"help": "label column; 'sentiment' is found automatically for the Kaggle CSV"})
    validation_size: float = field(default=0.1, metadata={"help": "fraction (or count if >= 1) of train held out, stratified"})
    test_size: float = field(default=0.2, metadata={"help": "fraction (or count) of train carved as test when the source has no test split"})
    max_train_samples: int | None = field(default=None, metadata={"help": "truncate train (after the validation split) for quick runs"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "truncate validation and test for quick runs"})
    streaming: bool = field(default=False, metadata={"help": "read the data as a stream (load_dataset(streaming=True)): no full download or Arrow cache; tokenized on every pass"})
    shuffle_buffer: int = field(default=20000, metadata={"help": "reviews in the shuffle buffer when training data is streamed (--streaming, or above 50M tokens)"})
    # tokenization and vocabulary
    spacy_model: str = field(default="blank:en", metadata={"help": "'blank:en' or the name of an installed spaCy pipeline"})
    lowercase: bool = True
    num_proc: int | None = field(default=None, metadata={"help": "processes for tokenization (default: CPU count)"})
    min_freq: int = field(default=2, metadata={"help": "drop words seen fewer times in train"})
    max_vocab_size: int = field(default=30000, metadata={"help": "largest vocabulary, PAD and UNK included"})
    max_length: int = field(default=600, metadata={"help": "reviews are truncated to this many tokens"})
    pretrain_embeddings: bool = field(default=True, metadata={"help": "initialise the Embedding with word2vec trained on train + the unlabelled split"})
    freeze_embeddings: bool = field(default=False, metadata={"help": "keep the Embedding fixed during training (useful with --pretrain-embeddings)"})
    word2vec_epochs: int = 3
    pretrain_lm: bool = field(default=False, metadata={"help": "pretrain the Embedding and GRU as a language model (next word; previous word too if bidirectional) on train + the unlabelled split before the classifier trains (cached data)"})
    lm_epochs: int = 1
    lm_vocab_size: int = field(default=2000, metadata={"help": "words in the language model's softmax; rarer ones are predicted as [UNK]"})
    unlabeled_split: str = field(default="unsupervised", metadata={"help": "split of unlabelled reviews used by --pretrain-embeddings, --pretrain-lm and --self-training, if the source has it"})
    self_training: bool = field(default=False, metadata={"help": "after training, label the unlabelled split with the model and train on train + its confident calls (sentiment, cached data)"})
    pseudo_label_confidence: float = field(default=0.9, metadata={"help": "self-training keeps an unlabelled review if the model is this sure of it"})
    self_training_epochs: int = 2
    self_training_lr: float = 1e-3
    # model
    wide_ngrams: bool = field(default=True, metadata={"help": "average the GRU with a linear model of word and hashed-bigram counts (NB-weighted logistic regression, fitted by scikit-learn; sentiment only)"})
    wide_buckets: int = field(default=1 << 20, metadata={"help": "hash buckets for the wide branch's word bigrams"})
    wide_c: float = field(default=0.1, metadata={"help": "inverse L2 strength of the wide branch's logistic regression"})
    wide_weight: float | None = field(default=None, metadata={"help": "weight of the GRU's probability in the blend, the linear half getting the rest (default: fitted on the validation split by log loss)"})
    embedding_dim: int = 128
    gru_units: int = 64
    bidirectional: bool = True
    pooling: str = field(default="mean", metadata={"help": "'last' (final GRU state) or 'mean' (masked mean of GRU states)"})
    dropout: float = 0.4
    # training
    batch_size: int = 128
    epochs: int = 8
    learning_rate: float = 3e-3
    lr_decay: float = field(default=0.3, metadata={"help": "multiply the learning rate by this after every epoch"})
    patience: int = field(default=1, metadata={"help": "early-stopping patience on validation loss"})
    num_buckets: int = 10
    strategy: str = field(default="auto", metadata={"help": "tf.distribute strategy: auto, default, mirrored or multiworker"})
    seed: int = 42
    # bookkeeping, filled in by hfsent
    vocab_size: int | None = None
    label_names: list[str] = field(default_factory=lambda: ["negative", "positive"])
    format_version: int = FORMAT_VERSION

    def __post_init__(self) -> None:
        if self.task not in ("sentiment", "rating"):
            raise ValueError(f"task must be 'sentiment' or 'rating', got {self.task!r}")
        if self.pooling not in ("last", "mean"):
            raise ValueError(f"pooling must be 'last' or 'mean', got {self.pooling!r}")
        if self.max_length < 1 or self.batch_size < 1:
            raise ValueError("max_length and batch_size must be positive")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.lm_vocab_size < 3:
            raise ValueError(f"lm_vocab_size must cover [PAD], [UNK] and a word, got {self.lm_vocab_size}")
        if self.wide_weight is not None and not 0 <= self.wide_weight <= 1:
            raise ValueError(f"wide_weight must be in [0, 1], got {self.wide_weight}")
        if not 0.5 <= self.pseudo_label_confidence <= 1:
            raise ValueError(f"pseudo_label_confidence must be in [0.5, 1], got {self.pseudo_label_confidence}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Config:
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"hfsent config has format_version={version!r}; this hfsent reads "
                f"version {FORMAT_VERSION}. Upgrade hfsent or retrain the model."
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown hfsent config keys: {unknown}")
        return cls(**data)

    @classmethod
    def load(cls, folder: str | Path) -> Config:
        path = Path(folder) / CONFIG_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: not an hfsent model folder")
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Bigger and slower than the default: a wider GRU that reads longer reviews, with
    # word2vec trained longer on train + unlabelled reviews.
    "best": {"gru_units": 128, "max_length": 800, "word2vec_epochs": 5},
    # The classroom notebook's sizes and schedule, with its bugs fixed: the GRU returns its
    # final state, one vocabulary serves every split, and batches are bucketed, not padded
    # to the longest review.
    "notebook": {
        "embedding_dim": 300,
        "gru_units": 500,
        "bidirectional": False,
        "pooling": "last",
        "dropout": 0.0,
        "batch_size": 20,
        "epochs": 5,
        "learning_rate": 1e-3,
        "patience": 5,
        "pretrain_embeddings": False,
        "self_training": False,
        "wide_ngrams": False,
        "lr_decay": 1.0,
    },
}


def preset(name: str, **overrides: Any) -> Config:
    """A named preset with ``overrides`` applied on top (``None`` values are ignored)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    values = {**PRESETS[name], **{k: v for k, v in overrides.items() if v is not None}}
    return Config(**values)


def add_config_arguments(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One ``--flag-name`` per Config field; unspecified flags stay ``None`` (preset wins).

    A boolean field gets a pair of ``store_true`` flags, ``--name`` and ``--no-name``.
    """
    group = parser.add_argument_group("hyperparameters and settings (hfsent.Config)")
    hints = typing.get_type_hints(Config)
    for f in dataclasses.fields(Config):
        if f.name in skip or f.name in _DERIVED:
            continue
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else None
        if hints[f.name] is bool:
            group.add_argument(flag, action="store_true", default=None, help=f"{help_text} (default: {default})")
            group.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false",
                               default=None, help=f"turn off --{f.name.replace('_', '-')}")
        else:
            kind = next(t for t in typing.get_args(hints[f.name]) or (hints[f.name],) if t is not type(None))
            group.add_argument(flag, type=kind, default=None, help=f"{help_text} (default: {default})")


def config_from_args(args: argparse.Namespace) -> Config:
    """The ``--preset`` (default ``"default"``) overridden by every flag that was given."""
    names = {f.name for f in dataclasses.fields(Config)} - _DERIVED
    return preset(getattr(args, "preset", None) or "default",
                  **{n: getattr(args, n) for n in names if hasattr(args, n)})


_DERIVED = {"vocab_size", "label_names", "format_version"}
