"""Look inside a trained model: per-layer outputs and a per-token sentiment trace.

This replaces the notebook's ``Model(inputs=..., outputs=layers[i].output)`` trick with
an API that keeps every row aligned with the spaCy tokens it came from.

* :func:`layer_outputs` gives, per text, the tokens, their ids, the Embedding output and
  the GRU state after every token.  For a bidirectional GRU the state at step *t* is the
  forward state after token *t* next to the backward state after reading from the end
  back to token *t* (the backward half depends on the tokens *after* *t*).
* :func:`sentiment_trace` gives the model's prediction after each prefix of the review:
  step *t* is exactly what ``predict`` returns for the first *t* tokens, so the last step
  equals ``predict`` on the whole review.  For a unidirectional GRU with ``pooling="last"``
  this is the classifier head applied to the GRU state after each token; the prefix form
  extends that to bidirectional and mean-pooled models, whose final output also depends on
  states computed after *t*.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from hfsent.predict import SentimentClassifier
from hfsent.tokenize import tokenize


@dataclass
class LayerOutputs:
    """One text's tokens, ids, Embedding rows and GRU states, row ``t`` for token ``t``.

    Example:
        >>> [out] = layer_outputs(clf, ["a great film"])
        >>> out.gru_states.shape  # bidirectional GRU(64)
        (3, 128)
    """
    tokens: list[str]  # spaCy tokens as the model saw them (lowercased, truncated)
    ids: np.ndarray  # (T,)
    embeddings: np.ndarray  # (T, embedding_dim)
    gru_states: np.ndarray  # (T, gru_units) or (T, 2 * gru_units) if bidirectional


def _sequence_gru(model: keras.Model) -> keras.Model:
    """Embedding -> GRU(return_sequences=True) sharing the trained weights."""
    rnn = model.get_layer("bidirectional_gru") if "bidirectional_gru" in [
        layer.name for layer in model.layers] else model.get_layer("gru")
    config = rnn.get_config()
    if isinstance(rnn, keras.layers.Bidirectional):
        config["layer"]["config"]["return_sequences"] = True
        config["backward_layer"]["config"]["return_sequences"] = True
    else:
        config["return_sequences"] = True
    clone = rnn.__class__.from_config(config)
    inputs = keras.Input(shape=(None,), dtype="int32")
    embedded = model.get_layer("embedding")(inputs)
    states = clone(embedded)
    clone.set_weights(rnn.get_weights())
    return keras.Model(inputs, [embedded, states])


def _tokens(clf: SentimentClassifier, texts: list[str]) -> list[list[str]]:
    pre = clf.config.preprocessing
    return [t[: pre.max_length] for t in tokenize(texts, pre.spacy_model, pre.lowercase)]


def layer_outputs(clf: SentimentClassifier, texts: list[str]) -> list[LayerOutputs]:
    """Token ids, Embedding output and GRU states per token, for each text.

    Args:
        clf: a classifier; its model must have the ``embedding`` and ``gru`` /
            ``bidirectional_gru`` layers that :func:`hfsent.model.build_model` names.
        texts: the texts; each must hold a token.

    Example:
        >>> [out] = layer_outputs(clf, ["a great film"])
        >>> out.tokens
        ['a', 'great', 'film']
    """
    ids = clf.encode(texts)
    tokens = _tokens(clf, texts)
    probe = _sequence_gru(clf.model)
    out = []
    for toks, seq in zip(tokens, ids):
        embedded, states = probe.predict_on_batch(np.asarray([seq], dtype=np.int32))
        out.append(LayerOutputs(toks, np.asarray(seq), np.asarray(embedded[0]), np.asarray(states[0])))
    return out


@dataclass
class Trace:
    """The model's output after each prefix of one review (see :func:`sentiment_trace`)."""
    tokens: list[str]
    scores: np.ndarray  # (T,): positive probability after each prefix
    final: float  # == scores[-1] == predict_proba([text])[0]


def sentiment_trace(clf: SentimentClassifier, text: str) -> Trace:
    """Positive-class probability after each token of ``text`` (see the module docstring).

    Args:
        clf: a sentiment classifier.
        text: one review, truncated to ``max_length`` tokens like every prediction.

    Example:
        >>> trace = sentiment_trace(clf, "not bad at all")
        >>> trace.tokens, trace.final == clf.predict_proba(["not bad at all"])[0]
        (['not', 'bad', 'at', 'all'], True)
    """
    [seq] = clf.encode([text])
    [tokens] = _tokens(clf, [text])
    prefixes = [seq[: t + 1] for t in range(len(seq))]
    scores = clf.predict_ids(prefixes)
    return Trace(tokens, scores, float(scores[-1]))


def _color(score: float) -> tuple[float, float, float]:
    """Red (negative) through white to green (positive)."""
    import matplotlib

    return matplotlib.colormaps["RdYlGn"](float(score))[:3]


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
    for (row, col), token, score in zip(places, trace.tokens, trace.scores):
        ax_text.text(col / chars_per_line, 1 - (row + 0.5) / max(lines, 2), token, fontsize=9,
                     family="monospace", ha="left", va="center",
                     bbox={"facecolor": _color(score), "edgecolor": "none", "boxstyle": "round,pad=0.2"})
    label = "positive" if trace.final >= 0.5 else "negative"
    ax_text.set_title(f"Running sentiment: final P(positive) = {trace.final:.3f} ({label})")
    ax_curve.plot(np.arange(1, len(trace.scores) + 1), trace.scores, color="black", lw=1)
    ax_curve.axhline(0.5, color="grey", ls="--", lw=0.8)
    ax_curve.set(ylim=(0, 1), xlabel="token", ylabel="P(positive) after token")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def trace_html(trace: Trace, path: str) -> None:
    """A standalone HTML page: each word on a background colored by the running sentiment.

    Example:
        >>> trace_html(sentiment_trace(clf, "not bad at all"), "trace.html")
    """
    label = "positive" if trace.final >= 0.5 else "negative"
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>hfsent sentiment trace</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:2}"
        "span{padding:2px 3px;margin:1px;border-radius:3px}</style></head><body>"
        f"<h1>Final P(positive) = {trace.final:.3f} ({label})</h1>"
        "<p>Each word is colored by the model's prediction after reading up to it "
        "(red = negative, green = positive); hover for the value.</p>"
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
    import html

    spans = []
    for token, score in zip(trace.tokens, trace.scores):
        r, g, b = (int(255 * c) for c in _color(score))
        spans.append(f'<span class="hfsent-word" style="background:rgb({r},{g},{b});padding:1px 3px" '
                     f'title="P(positive)={score:.3f}">{html.escape(token)}</span>')
    return " ".join(spans)


def training_curves_png(history: dict, path: str) -> None:
    """Loss and accuracy (mean absolute error for ratings) per epoch, train and validation.

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
    second = "accuracy" if "accuracy" in history else "mean_absolute_error"
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
