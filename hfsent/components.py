"""The five components of a run's settings, one dataclass each, every one checking its own fields
when it is built (an :class:`~hfsent.errors.InputError` naming the field).  They are bundled,
and their table kept, by :class:`hfsent.config.Config`; import them from there.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass, field
from typing import Any

from hfsent.bounds import MAX_BUCKETS, MAX_LENGTH, MAX_UNITS, check_label_names
from hfsent.errors import InputError
from hfsent.schedule import default_help

VALIDATION_SPLITS = ("auto", "carve")  # DataConfig.validation_split: the source's own, or carved
SELECTION_METRICS = ("log_loss", "accuracy", "macro_f1")  # TrainingConfig.selection_metric
CLASS_WEIGHTS = ("none", "balanced")  # TrainingConfig.class_weight


def _help(text: str) -> dict:
    return {"help": text}


def _whole_numbers(component: Any) -> None:
    """Refuse a non-whole value (``2.5``, ``"4"``, ``True``) of an ``int`` field: the Python API
    and a saved config do not pass argparse, and such a value fails far from here (in tf.data,
    say).  The error names the field and the value's type, never the value (a stranger's)."""
    for f in dataclasses.fields(component):
        value = getattr(component, f.name)
        if f.type in ("int", "int | None") and value is not None and (
                isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise InputError(f"{f.name} must be a whole number, got {type(value).__name__}")


@dataclass
class DataConfig:
    """Where the reviews come from and how the splits are carved (saved as a record, the source
    reduced to a Hub id or a file name).

    Example:
        >>> DataConfig(dataset="train=train.csv,test=test.csv", text_column="review")
    """

    dataset: str = field(default="stanfordnlp/imdb", metadata=_help("Hub id, local folder in the Hub layout, or .parquet/.csv file(s) separated by commas"))
    dataset_id: str | None = field(default=None, metadata=_help("Hub id named in the model card when --dataset is a local copy (e.g. stanfordnlp/imdb)"))
    text_column: str = field(default="text", metadata=_help("text column; 'review' is found automatically for the Kaggle CSV"))
    label_column: str = field(default="label", metadata=_help("label column; 'sentiment' is found automatically for the Kaggle CSV; multi-label: a list column, a separated string column, or 'a,b,c' for one 0/1 column per label"))
    multi_label: bool = field(default=False, metadata=_help("each text may carry several labels (or none): the same as --task multilabel"))
    label_separator: str = field(default=",", metadata=_help("multi-label: what separates the labels of a string label column"))
    validation_split: str = field(default="auto", metadata={**_help("'auto': the source's own validation split (named validation, dev or valid) where it has one, else carved from train; 'carve': always carved from train"), "choices": VALIDATION_SPLITS})
    validation_size: float = field(default=0.1, metadata=_help("fraction (or count if >= 1) of train held out, stratified"))
    test_size: float = field(default=0.2, metadata=_help("fraction (or count) of train carved as test when the source has no test split"))
    group_column: str | None = field(default=None, metadata=_help("column of a group id (movie, product, user): validation and a carved test never share a group; without it, reviews with the same normalized text stay together"))
    max_train_samples: int | None = field(default=None, metadata=_help("truncate train (after the validation split) for quick runs"))
    max_eval_samples: int | None = field(default=None, metadata=_help("truncate validation and test for quick runs"))
    unlabeled_split: str = field(default="unsupervised", metadata=_help("split of unlabelled reviews that word2vec also reads, if the source has it"))

    def __post_init__(self) -> None:
        _whole_numbers(self)
        if self.validation_split not in VALIDATION_SPLITS:
            raise InputError(f"validation_split must be one of {VALIDATION_SPLITS}, got {self.validation_split!r}")
        for name in ("validation_size", "test_size"):
            size = getattr(self, name)
            if size <= 0 or size >= 1 and size != int(size):
                raise InputError(f"{name} must be a fraction in (0, 1) or a whole number of reviews, got {size}")


@dataclass
class PreprocessingConfig:
    """Text to ids, exactly as the model saw it in training (saved: needed to use the model).

    Example:
        >>> PreprocessingConfig(max_length=200, min_freq=1).lowercase
        True
    """

    spacy_model: str = field(default="blank:en", metadata=_help("'blank:en' or the name of an installed spaCy pipeline"))
    lowercase: bool = True
    min_freq: int = field(default=2, metadata=_help("drop words seen fewer times in train"))
    max_vocab_size: int = field(default=30000, metadata=_help("largest vocabulary, PAD and UNK included"))
    max_length: int | None = field(default=None, metadata=_help(f"texts are truncated to this many tokens; default: the training split's 99th percentile, at most {MAX_LENGTH}"))
    vocab_size: int | None = None  # filled in by training

    def __post_init__(self) -> None:
        _whole_numbers(self)
        _positive(self, "min_freq", "max_length")
        if self.max_vocab_size < 3:
            raise InputError(f"max_vocab_size must leave room for a word after [PAD] and [UNK], got {self.max_vocab_size}")


@dataclass
class ModelConfig:
    """The network: what it predicts and its sizes (saved).

    Example:
        >>> ModelConfig(label_names=["negative", "neutral", "positive"]).classes
        ['negative', 'neutral', 'positive']
    """

    task: str = field(default="sentiment", metadata=_help("'sentiment' (one class per text: two, or more), 'multilabel' (any number of labels per text; see --multi-label) or 'rating' (regression on --label-column, e.g. rating)"))
    rating_min: float = 1.0
    rating_max: float = 10.0
    embedding_dim: int = 128
    gru_units: int = 64
    bidirectional: bool = True
    pooling: str = field(default="concat", metadata=_help("'concat' (masked mean and max of the GRU states side by side), 'mean' (masked mean) or 'last' (final GRU state)"))
    dropout: float = 0.4
    wide_ngrams: bool = field(default=True, metadata=_help("blend the GRU with a linear model of word and hashed-bigram counts (NB-weighted logistic regression, or ridge regression for ratings, fitted by scikit-learn)"))
    wide_buckets: int = field(default=1 << 20, metadata=_help("hash buckets for the wide branch's word bigrams"))
    label_names: list[str] | None = field(default=None, metadata=_help("class names in id order, e.g. 'very negative,negative,neutral,positive,very positive'; default: read from the training data (hfsent.labels)"))
    thresholds: list[float] | None = None  # multi-label: each label's decision threshold, fitted on validation

    def __post_init__(self) -> None:
        _whole_numbers(self)
        from hfsent.tasks import task_for  # the task classes import the config for type hints only

        task = task_for(self)  # refuses an unknown task
        if self.pooling not in ("last", "mean", "concat"):
            raise InputError(f"pooling must be 'last', 'mean' or 'concat', got {self.pooling!r}")
        if not 0 <= self.dropout < 1:
            raise InputError(f"dropout must be in [0, 1), got {self.dropout}")
        if not self.rating_min < self.rating_max:
            raise InputError(f"rating_min must be below rating_max, got {self.rating_min}, {self.rating_max}")
        _positive(self, "embedding_dim", "gru_units", "wide_buckets")
        for name, most in (("embedding_dim", MAX_UNITS), ("gru_units", MAX_UNITS), ("wide_buckets", MAX_BUCKETS)):
            if getattr(self, name) > most:
                raise InputError(f"{name} must be at most {most}, got {getattr(self, name)}")
        names = self.label_names
        if names is not None:
            check_label_names(names)
            task.check_label_names(names)

    @property
    def classes(self) -> list[str]:
        """The class names in id order: ``label_names``, or ``negative``, ``positive`` before
        training has read them from the data."""
        return list(self.label_names or ("negative", "positive"))


@dataclass
class TrainingConfig:
    """How the weights were fitted (saved for the record).  ``epochs``, ``lr_decay`` and
    ``patience`` left ``None`` follow the length of an epoch (:mod:`hfsent.schedule`); the saved
    record holds the values used.

    Example:
        >>> TrainingConfig(epochs=3, lr_decay=1.0).batch_size
        128
    """

    batch_size: int = 128
    epochs: int | None = field(default=None, metadata=_help(f"most epochs ({default_help('epochs')}; see hfsent.schedule)"))
    learning_rate: float = 3e-3
    lr_decay: float | None = field(default=None, metadata=_help(f"multiply the learning rate by this after every epoch ({default_help('lr_decay')}: a constant rate)"))
    patience: int | None = field(default=None, metadata=_help(f"early-stopping patience on validation loss ({default_help('patience')})"))
    num_buckets: int = field(default=10, metadata=_help("length buckets for batching"))
    seed: int = 42
    pretrain_embeddings: bool = field(default=True, metadata=_help("initialise the Embedding with word2vec trained on train + the unlabelled split"))
    freeze_embeddings: bool = field(default=False, metadata=_help("keep the Embedding fixed during training (useful with --pretrain-embeddings)"))
    word_vectors: str | None = field(default=None, metadata=_help("pretrained word vectors for the Embedding: a Hub repo (owner/name, or owner/name/FILE), a local file (word2vec/GloVe text, word2vec or fastText .bin, safetensors) or spacy:PIPELINE; their dimension replaces --embedding-dim, and words they lack get word2vec's vectors (or random ones with --no-pretrain-embeddings); see hfsent.vectors"))
    word_vectors_revision: str | None = field(default=None, metadata=_help("branch, tag or commit of the --word-vectors Hub repo (default: main)"))
    word2vec_epochs: int = 3
    word2vec_min_count: int = field(default=3, metadata=_help("word2vec ignores words seen fewer times in its corpus"))
    wide_c: float | None = field(default=None, metadata=_help("inverse L2 strength of the wide branch's logistic regression (default: chosen by 3-fold cross-validation on train from 0.03, 0.1, 0.3, 1)"))
    wide_alpha: float | None = field(default=None, metadata=_help("L2 strength of the wide branch's ridge regression, the rating task (default: chosen by 3-fold cross-validation on train from 10 to 1000)"))
    wide_weight: float | None = field(default=None, metadata=_help("weight of the GRU's probability in the blend, the linear half getting the rest (default: fitted on the validation split by log loss)"))
    class_weight: str = field(default="none", metadata={**_help("'balanced' weighs each class by the inverse of its share of train, in the GRU's loss and the linear half's fit alike; 'none' weighs every example alike"), "choices": CLASS_WEIGHTS})
    selection_metric: str = field(default="log_loss", metadata={**_help("what early stopping watches on validation and the blend's weight optimises: log_loss, accuracy or macro_f1 (ratings: squared error)"), "choices": SELECTION_METRICS})

    def __post_init__(self) -> None:
        _whole_numbers(self)
        _positive(self, "batch_size", "epochs", "learning_rate", "patience", "num_buckets", "word2vec_epochs",
                  "word2vec_min_count", "wide_c", "wide_alpha")
        if self.lr_decay is not None and not 0 < self.lr_decay <= 1:
            raise InputError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        if self.wide_weight is not None and not 0 <= self.wide_weight <= 1:
            raise InputError(f"wide_weight must be in [0, 1], got {self.wide_weight}")
        if self.word_vectors is not None:  # a pickle is refused by its name, before any work
            from hfsent.vector_formats import refuse_pickle

            refuse_pickle(self.word_vectors)
        elif self.word_vectors_revision is not None:
            raise InputError("word_vectors_revision needs --word-vectors (a Hub repo)")
        for name, choices in (("class_weight", CLASS_WEIGHTS), ("selection_metric", SELECTION_METRICS)):
            if getattr(self, name) not in choices:
                raise InputError(f"{name} must be one of {', '.join(choices)}, got {getattr(self, name)!r}"[:200])


@dataclass
class RuntimeConfig:
    """How this machine runs the job; never saved with a model.

    Example:
        >>> RuntimeConfig(num_proc=2, strategy="mirrored")
    """

    num_proc: int | None = field(default=None, metadata=_help("processes for tokenization (default: the usable cores, a cgroup CPU quota included)"))
    strategy: str = field(default="auto", metadata=_help("tf.distribute strategy: auto, default, mirrored or multiworker"))
    streaming: bool = field(default=False, metadata=_help("read the data as a stream (load_dataset(streaming=True)): no full download or Arrow cache; tokenized on every pass"))
    shuffle_buffer: int = field(default=20000, metadata=_help("reviews in the shuffle buffer when training data is streamed (--streaming, or above 50M tokens)"))
    shuffle_shards: int = field(default=1, metadata=_help("--streaming: source shards read at once to fill the shuffle buffer; each holds one Parquet row group in memory"))

    def __post_init__(self) -> None:
        _whole_numbers(self)
        _positive(self, "shuffle_buffer", "shuffle_shards")
        # datasets gives each shard buffer // shards rows a turn: beyond this, turns of a few
        # rows, and every shard's row group held at once
        most_shards = max(1, self.shuffle_buffer // 100)
        if self.shuffle_shards > most_shards:
            raise InputError(f"shuffle_shards must be at most shuffle_buffer / 100 ({most_shards:,}), "
                             f"got {self.shuffle_shards:,}")
        if self.num_proc is not None:
            _positive(self, "num_proc")


def _positive(component: Any, *names: str) -> None:
    for name in names:
        value = getattr(component, name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
            raise InputError(f"{name} must be positive, got {value}")
