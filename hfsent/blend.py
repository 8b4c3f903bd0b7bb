"""The wide stage: the linear half beside the GRU, and the weight that blends them.

:mod:`hfsent.wide` holds the frozen Keras layers of the linear half, :mod:`hfsent.linear`
its scikit-learn fit.  This stage adds them to the trained GRU, fits the GRU's weight in the
blend on the validation split (:func:`blend_weight` by log loss; for ratings
:func:`rating_blend_weight` by squared error), and scores each half alone (accuracy, or R²),
so that the record shows what the blend adds to either.  Test is scored only when the run scores
it, once, for the record; nothing here chooses on it.
"""

from __future__ import annotations

import numpy as np

from hfsent.linear import fit_wide_branch
from hfsent.metrics import predict_split, score_regression, score_split
from hfsent.predict import SentimentClassifier
from hfsent.stages import Figures, Run
from hfsent.wide import deep_part, set_blend_weight, wide_part, with_wide_branch


def skip_wide(run: Run) -> str | None:
    """Why the wide branch does not run: turned off, or streamed data."""
    if not run.config.model.wide_ngrams:
        return "off (--no-wide-ngrams)"
    return "it needs cached (not streamed) data" if run.config.runtime.streaming else None


def blend_weight(gru: np.ndarray, linear: np.ndarray, labels: np.ndarray) -> float:
    """The GRU's weight in [0, 1] that minimises the log loss of ``w * gru + (1 - w) * linear``
    (convex in ``w``, so the bounded search finds its minimum), rounded to 0.01.

    Example:
        >>> blend_weight(np.array([0.9, 0.1]), np.array([0.5, 0.5]), np.array([1, 0]))
        1.0
    """
    from scipy.optimize import minimize_scalar

    labels = np.asarray(labels).reshape(-1)
    gru, linear = (_of_true_class(np.asarray(p, np.float64), labels) for p in (gru, linear))

    def log_loss(w: float) -> float:  # the true class's probability under the blend
        return -float(np.mean(np.log(np.clip(w * gru + (1 - w) * linear, 1e-7, 1.0))))

    return round(float(minimize_scalar(log_loss, bounds=(0.0, 1.0), method="bounded").x), 2)


def rating_blend_weight(gru: np.ndarray, linear: np.ndarray, ratings: np.ndarray) -> float:
    """The GRU's weight in [0, 1] that minimises the squared error of ``w * gru + (1 - w) *
    linear`` (least squares in closed form, clipped), rounded to 0.01.

    Example:
        >>> rating_blend_weight(np.array([2.0, 8.0]), np.array([4.0, 6.0]), np.array([3.0, 7.0]))
        0.5
    """
    gru, linear, ratings = (np.asarray(a, np.float64).reshape(-1) for a in (gru, linear, ratings))
    gap = gru - linear
    weight = float(gap @ (ratings - linear) / (gap @ gap)) if gap @ gap > 0 else 0.5
    return round(min(max(weight, 0.0), 1.0), 2)


def _of_true_class(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row's probability of its label: P(positive) or 1 - P(positive), or a row's entry."""
    if probs.ndim == 1:
        return np.where(labels == 1, probs, 1 - probs)
    return probs[np.arange(len(labels)), labels]


def _accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    predicted = (probs >= 0.5).astype(int) if probs.ndim == 1 else probs.argmax(axis=1)
    return float((predicted == labels).mean())


def weigh_halves(run: Run) -> Figures:
    """Score each half of the blended ``run.model`` alone (validation, and test once when the
    run scores it) and set the blend weight: given, or fitted on validation by
    :func:`blend_weight` (:func:`rating_blend_weight` for ratings).  A stage that changes a
    half after the wide stage calls this again, so the weight fits the halves as they end up.
    """
    cfg, data = run.config, run.data
    rating = cfg.model.task == "rating"
    outputs, figures, key = {}, {}, "r2" if rating else "accuracy"
    for name, part in (("gru", deep_part(run.model)), ("linear", wide_part(run.model))):
        alone = SentimentClassifier(part, data.vocab, cfg)
        outputs[name], labels, _ = predict_split(alone, data.splits["validation"])
        # scored from the outputs just predicted, as score_split would score them
        figures[name] = {"validation": score_regression(alone.clip_ratings(outputs[name]), labels)["r2"]
                         if rating else _accuracy(outputs[name], labels)}
        if run.score_test:
            figures[name]["test"] = score_split(alone, data.splits["test"])[key]
    fitted = cfg.training.wide_weight is None
    fit_weight = rating_blend_weight if rating else blend_weight
    weight = fit_weight(outputs["gru"], outputs["linear"], labels) if fitted else cfg.training.wide_weight
    set_blend_weight(run.model, weight)
    return {**figures, "gru_weight": weight, "gru_weight_fitted": fitted}


def add_wide_branch(run: Run) -> tuple[str, Figures]:
    """Fit the linear half on train, set the blend weight (given, or fitted on validation by
    :func:`blend_weight`), and score each half alone, for the record of what the blend adds
    to either (:func:`weigh_halves`).  Needs ``data`` and ``model``; replaces ``model`` with
    the blend.
    """
    cfg, data = run.config, run.data
    rating = cfg.model.task == "rating"
    run.model = with_wide_branch(run.model, len(data.vocab), cfg.model.wide_buckets, rating=rating)
    figures = fit_wide_branch(run.model, data.splits["train"], cfg.training.wide_c,
                              cfg.preprocessing.max_length, cfg.training.wide_alpha)
    # the strength chosen by cross-validation is saved with the model, as a chosen max_length is
    strength = "wide_alpha" if rating else "wide_c"
    run.config = cfg = cfg.replace(**{strength: figures["alpha" if rating else "c"]})
    figures.update(weigh_halves(run))
    weight, fitted = figures["gru_weight"], figures["gru_weight_fitted"]
    cv = figures.get("cross_validation")
    chosen = f" (chosen by {cv['folds']}-fold cross-validation on train)" if cv else ""
    if rating:
        output, loss, score = "rating", "squared error", "R²"
        linear = f"ridge regression, alpha={cfg.training.wide_alpha:g}{chosen}"
    else:
        output, loss, score = "probability", "log loss", "accuracy"
        linear = ("naive-Bayes-weighted logistic regression" if len(cfg.model.classes) == 2
                  else "multinomial logistic regression") + f", C={cfg.training.wide_c:g}{chosen}"
    how = f"fitted on the validation split by {loss}" if fitted else "given (--wide-weight)"
    return (f"output = {weight:.2f} × the GRU's {output} + {1 - weight:.2f} × that of a linear "
            f"model of word and hashed word-bigram counts ({cfg.model.wide_buckets:,} buckets; "
            f"{linear}, fitted on the training reviews); the weight was {how}. Validation {score} alone: "
            f"GRU {figures['gru']['validation']:.4f}, linear {figures['linear']['validation']:.4f}", figures)
