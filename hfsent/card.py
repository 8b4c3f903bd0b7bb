"""The model card (the repo's ``README.md``), filled from the config and the test scores.

The template is ``model_card.md`` at the top of the repository (packaged as
``hfsent/model_card_template.md``).  Metadata is built with huggingface_hub's
``ModelCardData`` / ``EvalResult``, so the Hub reads a valid ``model-index`` with the
test-split results.  Scores come from ``metrics.json``, i.e. the same evaluate modules
that ``hfsent score`` runs.

Every string from the data or the folder (label and dataset names, the stage summaries) is the
user's.  The YAML front matter is written by :func:`front_matter` (``yaml.safe_dump``, checked to
parse back to exactly the same data), and the Markdown body gets each such value through the
template's ``md`` filter (:func:`markdown_text`): no HTML, line, table cell, code span, link or
heading of its own.  Jinja never evaluates a value as a template, so ``{{ }}`` in a name is text.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import jinja2
import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

from hfsent import fields
from hfsent.config import Config
from hfsent.errors import InputError
from hfsent.folder import atomic_file
from hfsent.model import describe
from hfsent.names import CARD_NAME, CONFUSION_NAME, CURVES_NAME
from hfsent.saved_config import public_source, to_saved
from hfsent.tasks import task_for
from hfsent.vectors import source_text

TEMPLATE = Path(__file__).with_name("model_card_template.md")
# Reviews shown in the Hub widget and listed in the Space; the widget's outputs are the model's
# own predictions for them at save time (metrics.json's "widget").
WIDGET_EXAMPLES = ("A moving, beautifully acted film. I loved every minute of it.",
                   "Dull, predictable and far too long; I would not watch it again.",
                   "Not bad at all: the plot is thin, but the cast makes it work.")


_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # line breaks and other controls
_MARKUP = re.compile(r"([\\`*_\[\]{}|~])")  # emphasis, code spans, links, table cells, templates


def markdown_text(value: object) -> str:
    """``value`` as literal inline Markdown text: line breaks (``\\n``, U+2028, U+2029 ...) and
    other control characters become one space, ``<``, ``>`` and ``&`` become entities, and the
    characters of emphasis, code spans, links, table cells and templates are backslash-escaped,
    as is a leading ``#``, ``-``, ``+`` or ``=`` that could start a heading or a list.

    Example:
        >>> markdown_text("<b>great</b> | `x`\\n---")
        '&lt;b&gt;great&lt;/b&gt; \\\\| \\\\`x\\\\` ---'
    """
    text = _MARKUP.sub(r"\\\1", html.escape(_BREAKS.sub(" ", str(value)), quote=False))
    return "\\" + text if text[:1] in ("#", "-", "+", "=") else text


def front_matter(data: dict) -> str:
    """``data`` as the YAML of a README's front matter, written by ``yaml.safe_dump`` and checked
    to load back (``yaml.safe_load``) to exactly ``data``; readable Unicode when that holds,
    escaped otherwise.

    Example:
        >>> print(front_matter({"title": 'a "quoted" name: with a colon'}))
        title: 'a "quoted" name: with a colon'
    """
    for allow_unicode in (True, False):
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=allow_unicode).strip()
        if yaml.safe_load(text) == data:
            return text
    raise InputError("the card's metadata does not survive YAML unchanged")  # never seen: a guard


def dataset_id_of(config: Config) -> str | None:
    """The Hub id of the training data, if it came from the Hub (or ``--dataset-id`` named one).

    Example:
        >>> dataset_id_of(preset("default", dataset="stanfordnlp/imdb"))
        'stanfordnlp/imdb'
        >>> dataset_id_of(preset("default", dataset="data/reviews.csv")) is None
        True
    """
    source = public_source(config.data)
    return source if re.fullmatch(r"[\w.-]+/[\w.-]+", source) and not os.path.exists(source) else None


def build_card(
    config: Config, metrics: dict, repo_id: str = "USER/REPO", folder: Path | None = None,
    serving: bool = False,
) -> ModelCard:
    """The card of a model: metadata with a ``model-index`` of the test scores and the widget's
    examples with their recorded outputs (``metrics["widget"]``, see :func:`widget_outputs`), the
    results table, usage snippets for ``repo_id``, and one line per training stage from
    ``metrics["stages"]``.  ``serving`` adds how to deploy the repo's Endpoint handler.

    Example:
        >>> card = build_card(clf.config, json.loads(Path("runs/m/metrics.json").read_text()), "USER/m")
        >>> card.data.eval_results[0].metric_type
        'accuracy'
    """
    try:  # the id is written into the usage snippets' Python code
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise InputError(f"bad repo id {repo_id[:100]!r}: {err}") from None
    dataset_id = dataset_id_of(config)
    dataset_name = dataset_id or Path(public_source(config.data).split(",")[0].split("=")[-1]).name
    test = metrics.get("test") or {}
    task = task_for(config.model)
    classes = task.labels if task.predicts == "classes" else []
    names = task.metric_names
    eval_results = [
        EvalResult(task_type="text-classification", task_name=task.card_name,
                   dataset_type=dataset_id or dataset_name, dataset_name=dataset_name,
                   dataset_split="test", metric_type=key, metric_name=names[key],
                   metric_value=round(float(test[key]), 4))
        for key in names if key in test and test[key] == test[key]  # not a nan ROC AUC
    ]
    model_name = repo_id.split("/")[-1]
    widget = [{"text": w["text"], "output": [{"label": o["label"], "score": round(o["score"], 4)}
                                             for o in w["output"]]} for w in metrics.get("widget", [])]
    card_data = ModelCardData(
        language="en", license="apache-2.0", library_name="keras", pipeline_tag="text-classification",
        tags=["sentiment-analysis", "keras", "gru", "hfsent", "text-classification"],
        datasets=[dataset_id] if dataset_id else None, metrics=list(names),
        model_name=model_name, eval_results=eval_results or None, widget=widget or None,
    )
    rows = [(split, metrics[split]) for split in ("validation", "test") if metrics.get(split)]
    has_curves = folder is not None and (folder / CURVES_NAME).is_file()
    counts = metrics.get("num_examples", {})
    environment = jinja2.Environment()  # the settings of ModelCard.from_template's jinja2.Template
    environment.filters["md"] = markdown_text
    return ModelCard(environment.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        card_data=front_matter(card_data.to_dict()), model_name=model_name, repo_id=repo_id,
        dataset_name=dataset_name, config=to_saved(config), architecture=describe(config.model),
        score_rows=rows, metric_keys=[k for k in names if rows and all(k in m for _, m in rows)],
        curves=CURVES_NAME if has_curves else None,
        confusion=CONFUSION_NAME if folder is not None and (folder / CONFUSION_NAME).is_file() else None,
        stages=metrics.get("stages", []),
        output_sentence=task.output_sentence(markdown_text),
        classes=list(_class_counts(metrics, classes).items()),
        rare_classes=rare_class_warning(_class_counts(metrics, classes)),
        per_class=list((test.get("per_class") or {}).items()),
        num_train=counts.get("train", "?"), num_validation=counts.get("validation", "?"),
        num_test=counts.get("test", "?"), serving=serving, vectors=_vectors_sentence(metrics),
        text_fields=fields.parse(config.data.text_column), separator=fields.SEPARATOR,
    ))


def _vectors_sentence(metrics: dict) -> str | None:
    """The word vectors' source (repo, revision, license; or file, or spaCy pipeline) and coverage,
    from the data stage's record; ``None`` without vectors."""
    record = next((r for r in metrics.get("stages", []) if r.get("name") == "data"), {})
    vectors = (record.get("figures") or {}).get("word_vectors")
    if not isinstance(vectors, dict):
        return None
    try:
        text = f"{source_text(vectors)}; they covered {vectors['types_covered']:.1%} of the vocabulary words"
        covered = vectors.get("tokens_covered")
        return text + (f" and {covered:.1%} of the training tokens" if covered is not None else "")
    except (KeyError, TypeError, ValueError):  # a hand-edited metrics.json
        return "recorded in metrics.json (the data stage's figures)"


def _class_counts(metrics: dict, classes: list[str]) -> dict:
    """The training examples of each class, from the data stage's record."""
    record = next((r for r in metrics.get("stages", []) if r.get("name") == "data"), {})
    counts = (record.get("figures") or {}).get("classes") or {}
    return {name: counts.get(name, "?") for name in classes}


RARE_CLASS_EXAMPLES = 20  # fewer training examples than this, and a class's scores are unreliable


def rare_class_warning(counts: dict) -> str | None:
    """A sentence for the card's limitations naming each class with fewer than
    :data:`RARE_CLASS_EXAMPLES` training examples (``counts``: examples per class name; names
    not escaped here, the template escapes the sentence), or ``None`` where there is none.

    Example:
        >>> rare_class_warning({"neg": 400, "mixed": 7, "pos": 380})
        'Class mixed has only 7 training examples (fewer than 20): its predictions and scores are unreliable.'
    """
    rare = [(name, n) for name, n in counts.items() if isinstance(n, int) and n < RARE_CLASS_EXAMPLES]
    if not rare:
        return None
    if len(rare) == 1:
        (name, n), = rare
        return (f"Class {name} has only {n} training example{'s' if n != 1 else ''} (fewer than "
                f"{RARE_CLASS_EXAMPLES}): its predictions and scores are unreliable.")
    listed = ", ".join(f"{name} ({n})" for name, n in rare)
    return (f"Classes {listed} have fewer than {RARE_CLASS_EXAMPLES} training examples each: their "
            "predictions and scores are unreliable.")


def widget_outputs(clf, texts=WIDGET_EXAMPLES) -> list[dict]:
    """``[{"text", "output"}]`` for the widget: ``clf``'s ranked labels for each of ``texts``
    (:meth:`~hfsent.predict.SentimentClassifier.ranked`); none for a rating model, whose output
    is no class.

    Example:
        >>> widget_outputs(clf)[0]
        {'text': 'A moving, ...', 'output': [{'label': 'positive', 'score': 0.97}, ...]}
    """
    outputs = clf.task.widget(clf.ranked(list(texts)))  # None: the widget cannot show this task's output
    return [{"text": text, "output": output} for text, output in zip(texts, outputs or [])]


def write_card(folder: str | Path, config: Config, metrics: dict, repo_id: str = "USER/REPO") -> Path:
    """Write :func:`build_card` as ``folder/README.md`` (atomically).

    Example:
        >>> write_card("runs/imdb-gru", clf.config, metrics, "USER/imdb-gru")
        PosixPath('runs/imdb-gru/README.md')
    """
    folder = Path(folder)
    path = folder / CARD_NAME
    text = str(build_card(config, metrics, repo_id, folder))
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
