"""Pictures of a model's predictions: the per-word trace (PNG, HTML, spans for the Space) and the
training curves.

Colors: a binary model's words go from red (negative) through white to green (positive) by
P(positive); with more classes each word takes the color of the class predicted after it, paler
as that class's probability falls.  Matplotlib draws with its non-interactive Agg backend.

Every string drawn or written here (tokens of the review, class names from the training data) is
the user's: HTML gets it through :func:`html.escape`, Matplotlib through :func:`_literal`, so that
neither markup nor a ``$...$`` math expression in a label can act.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hfsent.explain import Trace


def _literal(text: str) -> str:
    """``text`` drawn as itself by Matplotlib: an unescaped ``$`` pair would be parsed as math
    (and a bad expression would fail the whole picture)."""
    return str(text).replace("$", r"\$")


def _color(trace: Trace, t: int) -> tuple[float, float, float]:
    """Binary: red (negative) through white to green (positive), by P(positive).  More classes:
    the predicted class's own color, paler as its probability falls."""
    import matplotlib

    if trace.binary:
        return matplotlib.colormaps["RdYlGn"](float(trace.scores[t]))[:3]
    base = np.asarray(matplotlib.colormaps["tab10"](int(trace.predicted[t]) % 10)[:3])
    chance = 1 / len(trace.classes)
    strength = 0.25 + 0.75 * (float(trace.scores[t]) - chance) / (1 - chance)
    return tuple(float(c) for c in 1 - strength * (1 - base))


def trace_png(trace: Trace, path: str, chars_per_line: int = 100) -> None:
    """Words colored by the running sentiment, the curve below, the final score in the title.

    Args:
        trace: from :func:`sentiment_trace`.
        path: the PNG to write.
        chars_per_line: where the words wrap.

    Example:
        >>> trace_png(sentiment_trace(clf, "not bad at all"), "trace.png")
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Flow the words like text: each takes its length in characters, lines wrap at the width.
    places, line, col = [], 0, 0
    for token in trace.tokens:
        if col and col + len(token) > chars_per_line:
            line, col = line + 1, 0
        places.append((line, col))
        col += len(token) + 2
    lines = line + 1
    fig, (ax_text, ax_curve) = plt.subplots(
        2, 1, figsize=(12, 0.4 * lines + 3.2), gridspec_kw={"height_ratios": [max(lines, 2), 3]})
    ax_text.axis("off")
    for t, ((row, col), token) in enumerate(zip(places, trace.tokens)):
        ax_text.text(col / chars_per_line, 1 - (row + 0.5) / max(lines, 2), _literal(token), fontsize=9,
                     family="monospace", ha="left", va="center",
                     bbox={"facecolor": _color(trace, t), "edgecolor": "none", "boxstyle": "round,pad=0.2"})
    ax_text.set_title(_literal(f"Running prediction: final {trace.describe()}"))
    steps = np.arange(1, len(trace.tokens) + 1)
    if trace.binary:
        ax_curve.plot(steps, trace.scores, color="black", lw=1)
        ax_curve.axhline(0.5, color="grey", ls="--", lw=0.8)
        ax_curve.set(ylim=(0, 1), xlabel="token", ylabel=_literal(f"P({trace.classes[1]}) after token"))
    else:
        for k, name in enumerate(trace.classes):
            ax_curve.plot(steps, trace.probabilities[:, k], lw=1, label=_literal(name),
                          color=matplotlib.colormaps["tab10"](k % 10))
        ax_curve.legend(fontsize=8, ncol=min(len(trace.classes), 5))
        ax_curve.set(ylim=(0, 1), xlabel="token", ylabel="P(class) after token")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def trace_html(trace: Trace, path: str) -> None:
    """A standalone HTML page: each word on a background colored by the running sentiment.

    Example:
        >>> trace_html(sentiment_trace(clf, "not bad at all"), "trace.html")
    """
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>hfsent sentiment trace</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:2}"
        "span{padding:2px 3px;margin:1px;border-radius:3px}</style></head><body>"
        f"<h1>Final {html.escape(trace.describe())}</h1>"
        f"<p>Each word is colored by the model's prediction after reading up to it "
        f"({html.escape(legend(trace))}); "
        "hover for the value.</p>"
        f"<p>{trace_spans(trace)}</p></body></html>\n"
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)


def trace_spans(trace: Trace) -> str:
    """The words of ``trace`` as HTML spans, each with the background color of the prediction
    after it (red = negative, green = positive) and its value as a tooltip.  The HTML page and
    the Space (:mod:`hfsent.space`) both show these.

    Example:
        >>> trace_spans(sentiment_trace(clf, "great"))
        '<span class="hfsent-word" style="background:rgb(26,152,80);padding:1px 3px" title=...>great</span>'
    """
    spans = []
    for t, token in enumerate(trace.tokens):
        r, g, b = (int(255 * c) for c in _color(trace, t))
        name = trace.classes[1] if trace.binary else trace.classes[int(trace.predicted[t])]
        spans.append(f'<span class="hfsent-word" style="background:rgb({r},{g},{b});padding:1px 3px" '
                     f'title="P({html.escape(name)})={trace.scores[t]:.3f}">{html.escape(token)}</span>')
    return " ".join(spans)


def legend(trace: Trace) -> str:
    """What the colors mean, in words: plain text, to be escaped where it becomes markup."""
    if trace.binary:
        return f"red = {trace.classes[0]}, green = {trace.classes[1]}"
    import matplotlib

    tab10 = matplotlib.colormaps["tab10"]
    colors = [matplotlib.colors.to_hex(tab10(k % 10)) for k in range(len(trace.classes))]
    return ("the class predicted so far, paler when less sure: "
            + ", ".join(f"{name} {color}" for name, color in zip(trace.classes, colors)))


def training_curves_png(history: dict, path: str) -> None:
    """Loss and the task's metric (accuracy; binary accuracy for multi-label; mean absolute error
    for ratings: the first metric Keras recorded) per epoch, train and validation.

    Args:
        history: Keras' ``History.history`` (``metrics["history"]``).
        path: the PNG to write.

    Example:
        >>> training_curves_png(result.history, "training_curves.png")
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    second = next((k for k in history if k != "loss" and not k.startswith("val_") and f"val_{k}" in history),
                  "loss")
    for ax, metric in zip(axes, ("loss", second)):
        for prefix, style in (("", "-o"), ("val_", "--o")):
            values = history.get(prefix + metric)
            if values:
                ax.plot(range(1, len(values) + 1), values, style, label=(prefix or "train_") + metric)
        ax.set(xlabel="epoch", title=metric)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def confusion_png(confusion: list[list[int]], classes: list[str], path: str) -> None:
    """The confusion matrix (rows: true class, columns: predicted), counts in the cells and each
    row shaded by its share, so that a small class reads as clearly as a large one.

    Example:
        >>> confusion_png(metrics["test"]["confusion_matrix"], clf.config.model.classes, "confusion.png")
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = np.asarray(confusion)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 1.2 + 0.6 * len(classes)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), count in np.ndenumerate(counts):
        ax.text(j, i, f"{count}", ha="center", va="center", fontsize=8,
                color="white" if shares[i, j] > 0.5 else "black")
    ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xlabel="predicted", ylabel="true",
           title="Confusion matrix, test split")
    ax.set_xticklabels([_literal(name) for name in classes], rotation=45, ha="right")
    ax.set_yticklabels([_literal(name) for name in classes])
    fig.colorbar(image, ax=ax, label="share of the true class")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
