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

:class:`Config` bundles them.  What a model folder keeps of it, and how that is read back
and checked, is :mod:`hfsent.saved_config`; the command-line flags are :mod:`hfsent.cli`'s.
Every field name is unique across components, so the command line keeps one flat flag per
field (``--max-length``, ``--gru-units``) and :meth:`Config.replace` takes flat names too.

The components are defined in :mod:`hfsent.components` and the bounds on sizes and label names
in :mod:`hfsent.bounds`; this module is where to import all of them from, with the bundle and
the presets.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from hfsent.bounds import (
    MAX_BUCKETS,
    MAX_LABEL_CHARS,
    MAX_LABELS,
    MAX_LENGTH,
    MAX_UNITS,
    UNPRINTABLE,
    check_label_names,
)
from hfsent.components import (
    CLASS_WEIGHTS,
    SELECTION_METRICS,
    VALIDATION_SPLITS,
    DataConfig,
    ModelConfig,
    PreprocessingConfig,
    RuntimeConfig,
    TrainingConfig,
)
from hfsent.errors import InputError

__all__ = ["CLASS_WEIGHTS", "COMPONENTS", "DEFAULT_OUTPUT_DIR", "DERIVED", "FIELD_OWNER", "MAX_BUCKETS",
           "MAX_LABEL_CHARS", "MAX_LABELS", "MAX_LENGTH", "MAX_UNITS", "PRESETS", "SELECTION_METRICS",
           "UNPRINTABLE", "VALIDATION_SPLITS", "Config", "DataConfig", "ModelConfig", "PreprocessingConfig",
           "RuntimeConfig", "TrainingConfig", "check_label_names", "preset"]

DEFAULT_OUTPUT_DIR = "runs/hfsent"  # training's default model folder (never taken for a Hub repo id)

COMPONENTS: dict[str, type] = {"data": DataConfig, "preprocessing": PreprocessingConfig,
                               "model": ModelConfig, "training": TrainingConfig, "runtime": RuntimeConfig}
FIELD_OWNER = {f.name: part for part, cls in COMPONENTS.items() for f in dataclasses.fields(cls)}
assert len(FIELD_OWNER) == sum(len(dataclasses.fields(c)) for c in COMPONENTS.values()), \
    "field names must be unique"
DERIVED = {"vocab_size", "thresholds"}  # set by training, not by flags


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
        unknown = sorted(set(values) - set(FIELD_OWNER))
        if unknown:
            raise InputError(f"unknown hfsent settings: {unknown}")
        parts = {name: getattr(self, name) for name in COMPONENTS}
        for part in COMPONENTS:
            changes = {k: v for k, v in values.items() if FIELD_OWNER[k] == part}
            if changes:
                parts[part] = dataclasses.replace(parts[part], **changes)
        return Config(**parts)

    def __post_init__(self) -> None:
        if self.data.multi_label:  # --multi-label is --task multilabel
            from hfsent.tasks.multilabel import Multilabel

            self.model = dataclasses.replace(self.model, task=Multilabel.name)


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
        raise InputError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return Config().replace(**{**PRESETS[name], **{k: v for k, v in overrides.items() if v is not None}})
