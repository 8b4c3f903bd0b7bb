"""A Gradio demo of a model, as a Hugging Face Space (``hfsent space``).

:func:`write_space` writes a folder that Spaces runs as it is::

    app.py            a few lines: build_demo(MODEL, EXAMPLES), then launch
    requirements.txt  hfsent[demo] at this version
    README.md         the Space's card: sdk: gradio, the model linked under models:
    model/            the model's files, only when MODEL is a local folder

:func:`build_demo` is the app.  It has a text box (one per text field, for a model of several:
:mod:`hfsent.fields`), the label scores (``gr.Label``; for a multi-label model also the
labels it gives, those whose score reaches their threshold: :func:`selection`), and the
sentiment after every word, colored as ``hfsent explain`` draws it
(:func:`hfsent.draw.trace_spans`), with example reviews.  :func:`hfsent.hub.push_space`
uploads the folder in one commit.  Gradio is the optional extra ``hfsent[demo]``, imported only
here, and only when a demo is built or written.

The model's name (a folder name or a repo id) is the user's: ``app.py`` holds every value as a
Python literal written by :func:`repr`, the README's front matter is ``yaml.safe_dump``
(:func:`hfsent.card.front_matter`), and its Markdown body escapes the name
(:func:`hfsent.card.markdown_text`), as the app's own heading does.

Limits: classifiers only (two classes or more), since the per-word trace is of class probabilities.
A typed text is cut to a bounded number of characters before tokenizing, as every prediction is
(:func:`hfsent.tokenize.cut`).
"""

from __future__ import annotations

import html
import importlib.metadata
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hfsent import __version__
from hfsent.card import WIDGET_EXAMPLES, front_matter, markdown_text
from hfsent.draw import legend as colors
from hfsent.draw import trace_spans
from hfsent.errors import InputError, MissingError
from hfsent.explain import sentiment_trace
from hfsent.folder import atomic_folder
from hfsent.locate import MODEL_FILES, closed_file, folder_name, local_model
from hfsent.predict import SentimentClassifier

MODEL_DIR = "model"
# Every value is a repr() literal: nothing of the model's name is ever pasted as code.
APP = '''"""A Gradio demo of the model named in TITLE, written by `hfsent space` (hfsent {version}).

Spaces runs it as it is; locally: pip install -r requirements.txt && python app.py
"""

from pathlib import Path

from hfsent.space import build_demo

MODEL = {model}
TITLE = {name!r}
EXAMPLES = {examples}

demo = build_demo(MODEL, EXAMPLES, TITLE)

if __name__ == "__main__":
    demo.launch()
'''


def _gradio_version() -> str:
    try:
        return importlib.metadata.version("gradio")
    except importlib.metadata.PackageNotFoundError:
        raise MissingError("the demo needs Gradio: pip install 'hfsent[demo]'") from None


def analyse(clf: SentimentClassifier, text: str | dict[str, str]) -> tuple[dict[str, float], str]:
    """What the demo shows for ``text`` (or a ``{field: text}`` record of the model's text fields):
    each label's probability, and the words as HTML spans colored by the prediction after each of
    them.

    Example:
        >>> scores, html = analyse(clf, "not bad at all")
        >>> scores
        {'negative': 0.12, 'positive': 0.88}
    """
    trace = sentiment_trace(clf, text)
    scores = {name: float(p) for name, p in zip(trace.classes, trace.probabilities[-1])}
    legend = ("<p><small>Each word is colored by the prediction after reading up to it "
              f"({html.escape(colors(trace))}); hover for the value.</small></p>")
    return scores, f'<div class="hfsent-trace" style="line-height:2">{trace_spans(trace)}</div>{legend}'


def selection(clf: SentimentClassifier, scores: dict[str, float]) -> str | None:
    """The labels that a multi-label model gives a text (each at or above its threshold), as
    HTML for the demo, every name escaped; ``None`` for a model of one class per text, whose
    ``gr.Label`` heading (the top score) already names it.  ``scores``: :func:`analyse`'s.

    Example:
        >>> selection(clf, {"anger": 0.81, "joy": 0.05, "fear": 0.62})
        '<p class="hfsent-selected">Selected: <b>anger</b>, <b>fear</b> ...</p>'
    """
    chosen = clf.task.selected_labels(np.array([list(scores.values())]))
    if chosen is None:
        return None
    names = ", ".join(f"<b>{html.escape(name)}</b>" for name in chosen[0]) or "none of the labels"
    return (f'<p class="hfsent-selected">Selected: {names} <small>(each label whose score reaches its '
            "threshold, fitted on validation)</small></p>")


def build_demo(model: str, examples: Sequence[str] = WIDGET_EXAMPLES, title: str | None = None):
    """The Gradio app of ``model`` (a Hub repo id or a model folder, loaded with hfsent).

    Args:
        model: what :meth:`SentimentClassifier.from_pretrained` takes.
        examples: reviews listed under the text box.
        title: default: the model's name.

    Returns:
        A ``gr.Blocks``; ``.launch()`` serves it.

    Example:
        >>> build_demo("USER/imdb-gru").launch()
    """
    _gradio_version()
    import gradio as gr

    clf = SentimentClassifier.from_pretrained(model)
    clf.task.check_demo()  # a rating model is refused
    name = title or folder_name(model)

    names = clf.text_fields

    # a multi-label model's Space lists the labels it gives (no row: whether the task lists any)
    selects = clf.task.selected_labels(np.zeros((0, clf.task.width))) is not None

    def run(*texts: str):
        if not any(text and text.strip() for text in texts):
            raise gr.Error("Type a review first.")
        try:  # several fields: joined as training joined them (hfsent.fields)
            scores, trace = analyse(clf, texts[0] if len(names) == 1 else
                                    dict(zip(names, (t or "" for t in texts))))
        except InputError as err:  # e.g. a text that tokenizes to nothing
            raise gr.Error(str(err)) from None
        return (scores, selection(clf, scores), trace) if selects else (scores, trace)

    with gr.Blocks(title=f"{name} · hfsent") as demo:
        gr.Markdown(f"# {markdown_text(name)}\nA GRU sentiment classifier trained with "
                    "[hfsent](https://pypi.org/project/hfsent/). Type a review, or pick an example.")
        # One box per text field, labelled with the field's name (plain text in the page; checked
        # printable on load by hfsent.fields.parse), the last the longest; ids never hold a name.
        boxes = ([gr.Textbox(label="Review", lines=4, elem_id="review")] if len(names) == 1 else
                 [gr.Textbox(label=field, lines=4 if i == len(names) - 1 else 1, elem_id=f"field-{i}")
                  for i, field in enumerate(names)])
        button = gr.Button("Predict", variant="primary", elem_id="predict")
        label = gr.Label(label="Prediction", elem_id="prediction")
        shown = [label, gr.HTML(label="Selected labels", elem_id="selected")] if selects else [label]
        trace = gr.HTML(label="Sentiment after each word", elem_id="trace")
        # An example review goes in the last field (the body), the others left empty.
        gr.Examples(list(examples) if len(names) == 1 else [[""] * (len(names) - 1) + [e] for e in examples],
                    inputs=boxes[0] if len(names) == 1 else boxes)
        button.click(run, inputs=boxes, outputs=[*shown, trace])
        for box in boxes:
            box.submit(run, inputs=boxes, outputs=[*shown, trace])
    return demo


def write_space(model: str, output_dir: str | Path, examples: Sequence[str] = WIDGET_EXAMPLES,
                overwrite: bool = False) -> Path:
    """Write the Space folder of ``model`` (see the module docstring), atomically.

    The model is loaded first, so a folder or repo that would not load, or a rating model, is
    refused before anything is written.

    Args:
        model: a Hub repo id (the app downloads it), or a model folder (copied into ``model/``).
        output_dir: the Space folder; refused if it is not empty, unless ``overwrite``.
        examples: reviews listed in the app.

    Example:
        >>> write_space("USER/imdb-gru", "runs/imdb-gru-space")
        PosixPath('runs/imdb-gru-space')
    """
    gradio = _gradio_version()
    clf = SentimentClassifier.from_pretrained(model)
    clf.task.check_demo()  # a rating model is refused before anything is written
    local = local_model(str(model))
    name = folder_name(model) if local else model
    source = 'str(Path(__file__).with_name("model"))' if local else repr(model)
    meta = {"title": f"{name} sentiment demo", "emoji": "🎬", "colorFrom": "red", "colorTo": "green",
            "sdk": "gradio", "sdk_version": gradio, "app_file": "app.py", "pinned": False,
            "license": "apache-2.0", **({} if local else {"models": [model]}),
            "tags": ["hfsent", "sentiment-analysis"]}
    link = "the model in `model/`" if local else f"[{markdown_text(model)}](https://huggingface.co/{model})"
    readme = (f"---\n{front_matter(meta)}\n---\n\n# {markdown_text(name)}\n\nA demo of {link}, a GRU "
              "sentiment classifier trained with hfsent. It shows the probability of each label and the "
              "sentiment after every word. Written by `hfsent space`.\n")

    def fill(tmp: Path) -> None:
        app = APP.format(name=name, version=__version__, model=source, examples=repr(list(examples)))
        (tmp / "app.py").write_text(app, encoding="utf-8")
        (tmp / "requirements.txt").write_text(f"hfsent[demo]=={__version__}\n", encoding="utf-8")
        (tmp / "README.md").write_text(readme, encoding="utf-8")
        if local:
            (tmp / MODEL_DIR).mkdir()
            for file in (*MODEL_FILES, "metrics.json"):
                if (local / file).exists():
                    shutil.copyfile(closed_file(local, file, pushed=True), tmp / MODEL_DIR / file)

    return atomic_folder(output_dir, fill, overwrite=overwrite)
