"""Rating regression: one number on the scale ``rating_min`` to ``rating_max`` per text.

The Dense head learns a target in [-1, 1]; a fixed ``Rescaling`` maps it onto the scale, so the
saved model outputs ratings directly (clipped when presented).  The linear half is a ridge
regression on the counts (:mod:`hfsent.linear`), and the blend weight minimises the squared
error (:func:`hfsent.blend.rating_blend_weight`).  The output is no class: the Space, explain
and the widget refuse or skip a rating model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hfsent.errors import InputError
from hfsent.names import OUTPUT, TO_RATING
from hfsent.tasks.base import Task, how_chosen

if TYPE_CHECKING:
    from hfsent.linear_kinds import LinearKind

RATING_METRIC_NAMES = {"r2": "R²", "mse": "MSE", "mae": "MAE", "r2_rounded": "R² (rounded to whole stars)",
                       "mae_rounded": "MAE (rounded to whole stars)"}


class Rating(Task):
    """Regression on the rating scale.

    Example:
        >>> Rating(ModelConfig(task="rating")).present(np.array([11.2]))
        [{'rating': 10.0, 'rating_rounded': 10}]
    """

    name = "rating"
    predicts = "ratings"
    card_name = "Rating regression"
    selection_key = "r2"
    label_fallbacks = ("rating", "stars", "score")
    reads_classes = False
    loss = "mean_squared_error"
    keras_metrics = ("mean_absolute_error",)
    wide_activation = None
    metric_names = RATING_METRIC_NAMES
    width = 1  # type: ignore[assignment]

    @property
    def labels(self) -> list[str]:
        return ["rating"]

    def said(self) -> str:
        return "the rating task"

    def class_counts(self, labels: np.ndarray) -> None:
        return None

    def tally(self, counts, labels) -> None:
        return None  # ratings are no classes

    def normalize(self, ds, config, split=None):
        from hfsent.data import normalize_ratings

        data, model = config.data, self.model
        return normalize_ratings(ds, data.text_column, data.label_column, model.rating_min, model.rating_max,
                                 data.group_column)

    # --- the network ------------------------------------------------------------------------
    def head(self, x):
        from keras import layers

        half = (self.model.rating_max - self.model.rating_min) / 2
        x = layers.Dense(1, name=OUTPUT)(x)
        return layers.Rescaling(scale=half, offset=self.model.rating_min + half, name=TO_RATING)(x)

    def describe_head(self) -> str:
        return "Dense(1) → Rescaling to the rating scale"

    # --- the linear half and the blend ------------------------------------------------------
    def linear_kind(self) -> LinearKind:
        from hfsent.linear_kinds import RidgeRating

        return RidgeRating()

    def selection(self, metric: str) -> str:
        return "squared_error"  # a rating has no classes to count or to weigh

    def fit_blend(self, gru, linear, labels, metric):
        from hfsent.blend import guarded_weight, rating_blend_weight

        gru, linear = np.asarray(gru).reshape(-1), np.asarray(linear).reshape(-1)
        return guarded_weight(gru, linear, labels, rating_blend_weight(gru, linear, labels), metric)

    def describe_blend(self, config, figures) -> tuple[str, str, str, str]:
        linear = f"ridge regression, alpha={figures['alpha']:g}{how_chosen(figures)}"
        return "rating", "squared error", "R²", linear

    def quick_score(self, outputs: np.ndarray, labels: np.ndarray) -> float:
        from hfsent.metrics import score_regression

        return float(score_regression(self.clip(outputs), labels)["r2"])

    # --- metrics ----------------------------------------------------------------------------
    def score(self, outputs, labels, extra_metrics=()):
        from hfsent.metrics import score_ratings

        return score_ratings(self.clip(outputs), labels)

    # --- output -----------------------------------------------------------------------------
    def clip(self, outputs: np.ndarray) -> np.ndarray:
        """Ratings clipped to the scale."""
        return np.clip(np.asarray(outputs).reshape(-1), self.model.rating_min, self.model.rating_max)

    def present(self, outputs: np.ndarray) -> list[dict]:
        """``{"rating", "rating_rounded"}`` per text, clipped to the scale."""
        return [{"rating": float(r), "rating_rounded": int(np.rint(r))} for r in self.clip(outputs)]

    def rank(self, outputs: np.ndarray, top_k: int | None = None) -> list[list[dict]]:
        """``[{"label": "rating", "score": stars}]``, as a transformers regression head answers."""
        return [[{"label": "rating", "score": float(r)}] for r in self.clip(outputs)]

    def arrow_fields(self) -> list[tuple[str, Any]]:
        import pyarrow as pa

        return [("rating", pa.float64()), ("rating_rounded", pa.int64())]

    def serve_outputs(self, tf: Any, out: Any, empty: Any) -> dict:
        rating = tf.clip_by_value(out[:, 0], self.model.rating_min, self.model.rating_max)
        return {"rating": tf.where(empty, float("nan"), rating)}

    def class_rows(self, outputs: np.ndarray) -> np.ndarray:
        raise InputError("a rating model has no classes; use predict")

    def widget(self, ranked: list[list[dict]]) -> None:
        return None  # the Hub's text-classification widget shows labels, not a number

    def check_demo(self) -> None:
        raise InputError("the trace and the Space show class probabilities: hfsent space demos classifiers; "
                         "this model predicts ratings")

    # --- the card ---------------------------------------------------------------------------
    def output_sentence(self, escape) -> str:
        return f"It outputs a star rating, clipped to {self.model.rating_min:g}–{self.model.rating_max:g}."
