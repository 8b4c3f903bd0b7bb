"""The wide stage: the linear half beside the GRU, and the weight that blends them.

:mod:`hfsent.wide` holds the frozen Keras layers of the linear half, :mod:`hfsent.linear`
its scikit-learn fit.  This stage adds them to the trained GRU, fits the GRU's weight in the
blend on the validation split by the task's rule (:meth:`hfsent.tasks.base.Task.fit_blend`:
:func:`blend_weight` by log loss, :func:`macro_f1_weight` by macro F1; for ratings
:func:`rating_blend_weight` by squared error), keeps that weight only where a paired test on
validation says its blend beats the better half (:func:`guarded_weight`), and scores each half
alone as the blend is scored (:meth:`hfsent.tasks.base.Task.score_alone`: the task's
``selection_key``, accuracy or R²; a multi-label half's micro F1 at thresholds fitted on
validation for it), so that the record shows what the blend adds to either.  Test is scored
only when the run scores it, once, for the record; nothing here chooses on it.
"""

from __future__ import annotations

import numpy as np

from hfsent.metrics import predict_split
from hfsent.predict import SentimentClassifier
from hfsent.stages import Figures, Run
from hfsent.tasks import task_for
from hfsent.wide import deep_part, set_blend_weight, wide_part, with_wide_branch


def skip_wide(run: Run) -> str | None:
    """Why the wide branch does not run: turned off, or streamed data."""
    if not run.config.model.wide_ngrams:
        return "off (--no-wide-ngrams)"
    return "it needs cached (not streamed) data" if run.config.runtime.streaming else None


def blend_weight(gru: np.ndarray, linear: np.ndarray, labels: np.ndarray) -> float:
    """The GRU's weight in [0, 1] that minimises the log loss of ``w * gru + (1 - w) * linear``,
    each a row of class probabilities per text (convex in ``w``, so the bounded search finds its
    minimum), rounded to 0.01.

    Example:
        >>> blend_weight(np.array([[0.1, 0.9], [0.9, 0.1]]), np.full((2, 2), 0.5), np.array([1, 0]))
        1.0
    """
    from scipy.optimize import minimize_scalar

    labels = np.asarray(labels).reshape(-1)
    gru, linear = (_of_true_class(np.asarray(p, np.float64), labels) for p in (gru, linear))

    def log_loss(w: float) -> float:  # the true class's probability under the blend
        return -float(np.mean(np.log(np.clip(w * gru + (1 - w) * linear, 1e-7, 1.0))))

    return round(float(minimize_scalar(log_loss, bounds=(0.0, 1.0), method="bounded").x), 2)


def macro_f1_weight(gru: np.ndarray, linear: np.ndarray, labels: np.ndarray) -> float:
    """The GRU's weight in 0, 0.05, ..., 1 whose blend has the highest macro F1 (a step function of
    the weight, so searched on a grid; a tie keeps the weight nearest the log-loss fit).

    Example:
        >>> rows = lambda p: np.stack([1 - p, p], axis=1)
        >>> macro_f1_weight(rows(np.array([0.9, 0.1])), rows(np.array([0.5, 0.5])), np.array([1, 0]))
        1.0
    """
    labels = np.asarray(labels).reshape(-1)
    near = blend_weight(gru, linear, labels)
    grid = sorted(np.round(np.linspace(0, 1, 21), 2), key=lambda w: abs(w - near))
    gru, linear = np.asarray(gru), np.asarray(linear)
    return float(max(grid, key=lambda w: _score("macro_f1", w * gru + (1 - w) * linear, labels)))


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


LEVEL = 0.05  # one-sided level of the paired test that a fitted blend must pass


def guarded_weight(gru: np.ndarray, linear: np.ndarray, labels: np.ndarray, weight: float,
                   metric: str = "accuracy") -> tuple[float, dict]:
    """The fitted ``weight`` if its blend beats the better half on validation by a paired test,
    else the better half's own weight (1 for the GRU, 0 for the linear half).

    A weight fitted on a small validation split is mostly noise (692 sentences: one standard
    error of accuracy is 1.6 points), and a noisy weight can leave the blend below its better
    half.  The paired test knows the split's size: the same examples scored by both, so only
    the examples on which they differ count.  ``metric`` picks the better half and the test:
    accuracy by McNemar's exact test (one-sided), log loss (and ``squared_error`` for ratings) by
    a one-sided paired t-test of the per-example losses, macro F1 by a paired bootstrap.
    ``gru`` and ``linear`` are rows of class probabilities (a task's ``class_rows``), or ratings.

    Example:
        >>> rows = lambda p: np.stack([1 - p, p], axis=1)
        >>> gru, linear = rows(np.array([.9, .2, .6])), rows(np.array([.8, .3, .4]))
        >>> guarded_weight(gru, linear, np.array([1, 0, 1]), 0.5)
        (1.0, {'better_half': 'gru', 'fitted': 0.5, 'p': 1.0, 'kept': False})
    """
    gru, linear = np.asarray(gru, np.float64), np.asarray(linear, np.float64)
    labels = np.asarray(labels).reshape(-1)

    def mixed(w: float) -> np.ndarray:
        return w * gru + (1 - w) * linear

    scores = {w: _score(metric, mixed(w), labels) for w in (0.0, 1.0, weight)}
    better = max((0.0, 1.0), key=scores.get)  # a tie keeps the linear half, the cheaper to trust
    p = 1.0 if weight == better else _paired_p(metric, mixed(weight), mixed(better), labels)
    kept = weight == better or (scores[weight] > scores[better] and p < LEVEL)
    return (weight if kept else better), {"better_half": "gru" if better == 1.0 else "linear",
                                          "fitted": weight, "p": round(p, 6), "kept": kept}


def _losses(metric: str, out: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per-example loss: squared error of a rating, else the true class's negative log probability."""
    if metric == "squared_error":
        return (out.reshape(-1) - labels) ** 2
    return -np.log(np.clip(_of_true_class(out, labels), 1e-7, 1.0))


def _score(metric: str, out: np.ndarray, labels: np.ndarray) -> float:
    """Validation score of outputs ``out``: higher is better (losses negated)."""
    if metric in ("squared_error", "log_loss"):
        return -float(np.mean(_losses(metric, out, labels)))
    predicted = _predicted(out)
    if metric == "accuracy":
        return float(np.mean(predicted == labels))
    from sklearn.metrics import f1_score

    return float(f1_score(labels, predicted, average="macro", zero_division=0))


def _paired_p(metric: str, blend: np.ndarray, half: np.ndarray, labels: np.ndarray) -> float:
    """One-sided p-value of "the blend scores better than the half" on the same examples."""
    from scipy.stats import binom, ttest_1samp

    if metric == "accuracy":
        right_blend, right_half = _predicted(blend) == labels, _predicted(half) == labels
        only_blend, only_half = int(np.sum(right_blend & ~right_half)), int(np.sum(~right_blend & right_half))
        return float(binom.sf(only_blend - 1, only_blend + only_half, 0.5)) if only_blend else 1.0
    if metric == "macro_f1":
        rng, n = np.random.default_rng(0), len(labels)
        draws = [rng.integers(0, n, n) for _ in range(BOOTSTRAP)]
        worse = sum(_score(metric, blend[r], labels[r]) <= _score(metric, half[r], labels[r]) for r in draws)
        return (worse + 1) / (BOOTSTRAP + 1)
    gain = _losses(metric, half, labels) - _losses(metric, blend, labels)
    return float(ttest_1samp(gain, 0.0, alternative="greater").pvalue) if np.any(gain != gain[0]) else 1.0


BOOTSTRAP = 1000  # resamples of the macro-F1 test


def _predicted(rows: np.ndarray) -> np.ndarray:
    """The class each row of class probabilities picks."""
    return np.asarray(rows).argmax(axis=1)


def _of_true_class(probs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row's probability of its label (rows of class probabilities: a two-class task
    passes ``[1 - p, p]``, :meth:`hfsent.tasks.classify.Classify.class_rows`)."""
    return probs[np.arange(len(labels)), labels]


def weigh_halves(run: Run) -> Figures:
    """Score each half of the blended ``run.model`` alone (validation, and test once when the
    run scores it) and set the blend weight: given, or fitted on validation by
    :func:`blend_weight` (:func:`rating_blend_weight` for ratings).  A stage that changes a
    half after the wide stage calls this again, so the weight fits the halves as they end up.
    """
    cfg, data = run.config, run.data
    task = task_for(cfg.model)
    outputs, figures = {}, {}
    for name, part in (("gru", deep_part(run.model)), ("linear", wide_part(run.model))):
        alone = SentimentClassifier(part, data.vocab, cfg)
        outputs[name], labels, _ = predict_split(alone, data.splits["validation"])
        # scored from the outputs just predicted, as score_split would score them, and as the
        # task scores the blend (a multi-label half at thresholds fitted for it on validation)
        test = (lambda alone=alone: predict_split(alone, data.splits["test"])[:2]) if run.score_test else None
        figures[name] = task.score_alone(outputs[name], labels, test)
    fitted = cfg.training.wide_weight is None
    weight, guard = cfg.training.wide_weight, {}
    if fitted:
        weight, guard = task.fit_blend(outputs["gru"], outputs["linear"], labels,
                                       task.selection(cfg.training.selection_metric))
    set_blend_weight(run.model, weight)
    guarded = {"guard": guard} if guard else {}
    return {**figures, "gru_weight": weight, "gru_weight_fitted": fitted, **guarded}


def add_wide_branch(run: Run) -> tuple[str, Figures]:
    """Fit the linear half on train, set the blend weight (given, or fitted on validation by
    :func:`blend_weight`), and score each half alone, for the record of what the blend adds
    to either (:func:`weigh_halves`).  Needs ``data`` and ``model``; replaces ``model`` with
    the blend.
    """
    cfg, data = run.config, run.data
    task = task_for(cfg.model)
    run.model = with_wide_branch(run.model, len(data.vocab), cfg.model.wide_buckets, task.per_label_blend)
    figures = task.fit_linear(run.model, data.splits["train"], cfg, data.groups)
    figures.update(weigh_halves(run))
    weight, fitted = figures["gru_weight"], figures["gru_weight_fitted"]
    output, loss, score, linear = task.describe_blend(cfg, figures)
    how = f"fitted on the validation split by {loss}" if fitted else "given (--wide-weight)"
    guard = figures.get("guard")
    if guard and not guard["kept"]:
        how += (f" ({guard['fitted']:.2f}), then set to its better half's alone: that blend did not beat the "
                f"{guard['better_half']} half by a paired test on validation (one-sided p={guard['p']:.2g})")
    if np.ndim(weight):  # one weight per label: their mean in the sentence, each in the figures
        how += f" (one weight per label, from {min(weight):.2f} to {max(weight):.2f}; their mean here)"
        weight = float(np.mean(weight))
    return (f"output = {weight:.2f} × the GRU's {output} + {1 - weight:.2f} × that of a linear "
            f"model of word and hashed word-bigram counts ({cfg.model.wide_buckets:,} buckets; "
            f"{linear}, fitted on the training reviews); the weight was {how}. Validation {score} alone: "
            f"GRU {figures['gru']['validation']:.4f}, linear {figures['linear']['validation']:.4f}", figures)
