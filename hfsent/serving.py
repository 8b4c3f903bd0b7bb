"""Serving: the Inference API's request and answer, shared by the Endpoint handler and ``hfsent serve``.

``hfsent push`` (and :func:`hfsent.hub.push_to_hub`, ``serving=True`` by default) uploads a
two-line ``handler.py`` that exposes :class:`EndpointHandler`, and a ``requirements.txt`` that
installs hfsent at the pushed version.  An Endpoint runs ``EndpointHandler(path)`` once on the
downloaded repo, then calls it with each request's JSON.  It answers like a ``transformers``
text-classification pipeline with ``top_k=None``: a list per input of ``{"label", "score"}``,
highest score first.  ``hfsent serve`` (:mod:`hfsent.server`) reads and answers the same
payload through :func:`parse_request` and :func:`answer_requests`.

Limits: a request's texts are predicted in one call (batched by length inside); the server
also puts several requests' texts in that call.  Each text is cut to a bounded number of
characters before tokenizing (:func:`hfsent.tokenize.cut`), so a huge text costs no more than a
long review.  A model of several text fields (``--text-column title,body``) takes each input as
an object of its fields, ``{"inputs": {"title": ..., "body": ...}}`` or a list of them, as a
pipeline takes ``{"text", "text_pair"}``; a missing or unknown field is an error that names it.  A
rating model answers ``[{"label": "rating", "score": <stars>}]`` per input, as a
transformers regression head does.  A multi-label model answers every label, highest score first,
each ``{"label", "score", "selected"}``: the score is the label's own sigmoid probability (as a
pipeline with ``function_to_apply="sigmoid"`` gives it) and ``selected`` says whether it reaches
the label's threshold (see :mod:`hfsent.tasks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hfsent.errors import InputError
from hfsent.predict import SentimentClassifier, check_top_k

Request = tuple[list[str | dict[str, str]], int | None]  # (texts, top_k) of parse_request
Encoded = tuple[list[list[int]] | InputError, int | None]  # (ids, or why not, top_k) of encode_request
Answer = list[list[dict]] | InputError  # per text, its labels and scores; or why the request has none
PAYLOAD = '{"inputs": "text" or ["text", ...], "parameters": {"top_k": N}}'


class TooManyTexts(InputError):
    """A request holds more texts than the server accepts in one."""


def parse_request(data: Any, max_texts: int | None = None) -> Request:
    """``(texts, top_k)`` of an Inference API payload (parsed JSON), every part checked.  An input
    of a model of several text fields is an object ``{"title": ..., "body": ...}``; its fields are
    checked against the model's when it is encoded (:meth:`SentimentClassifier.tokens`).

    Raises :class:`~hfsent.errors.InputError` for a payload of the wrong shape or types, and
    :class:`TooManyTexts` for more than ``max_texts`` texts.

    Example:
        >>> parse_request({"inputs": "A moving film.", "parameters": {"top_k": 1}})
        (['A moving film.'], 1)
    """
    if not isinstance(data, dict) or "inputs" not in data:
        raise InputError(f"the request must be JSON of the form {PAYLOAD}")
    inputs, parameters = data["inputs"], data.get("parameters")
    texts = [inputs] if isinstance(inputs, (str, dict)) else inputs
    if not isinstance(texts, list) or not texts:
        raise InputError(f'"inputs" must be a text or a non-empty list of texts, got {type(inputs).__name__}')
    bad = next((i for i, text in enumerate(texts) if not _is_input(text)), None)
    if bad is not None:
        raise InputError(f'"inputs"[{bad}] is {type(texts[bad]).__name__}, not a text or an object of texts')
    if max_texts is not None and len(texts) > max_texts:
        raise TooManyTexts(f"{len(texts)} texts in one request; the limit is {max_texts}")
    if parameters is not None and not isinstance(parameters, dict):
        raise InputError(f'"parameters" must be an object, got {type(parameters).__name__}')
    top_k = (parameters or {}).get("top_k")
    check_top_k(top_k)
    return texts, top_k


def _is_input(value: Any) -> bool:
    """A text, or a ``{field: text}`` object (whose fields the model checks: :mod:`hfsent.fields`)."""
    return isinstance(value, str) or isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def encode_request(classifier: SentimentClassifier, request: Request) -> Encoded:
    """The token ids of a request's texts, or the :class:`~hfsent.errors.InputError` that says why
    there are none (one text holds no token), with its ``top_k``: the first half of
    :func:`answer_requests`, which ``hfsent serve`` runs apart from the model (:mod:`hfsent.batcher`)."""
    texts, top_k = request
    try:
        return classifier.encode(texts), top_k
    except InputError as err:
        return err, top_k


def answer_encoded(classifier: SentimentClassifier, encoded: Sequence[Encoded]) -> list[Answer]:
    """The answer to each :func:`encode_request`, with the ids of all of them in one model call;
    a request that could not be encoded gets its :class:`~hfsent.errors.InputError` back."""
    ids = [seq for enc, _ in encoded if not isinstance(enc, InputError) for seq in enc]
    outputs = classifier.predict_ids(ids) if ids else None
    answers: list[Answer] = []
    start = 0
    for enc, top_k in encoded:
        if isinstance(enc, InputError):
            answers.append(enc)
            continue
        answers.append(classifier.rank_outputs(outputs[start:start + len(enc)], top_k))
        start += len(enc)
    return answers


def answer_requests(classifier: SentimentClassifier, requests: Sequence[Request]) -> list[Answer]:
    """The answer to each ``(texts, top_k)`` of :func:`parse_request`, with the texts of all
    of them in one model call; a request whose texts cannot be encoded (one holds no token)
    gets its :class:`~hfsent.errors.InputError` instead, and the others still their answer.

    Example:
        >>> answer_requests(clf, [(["A moving film."], 1), (["Dull."], None)])
        [[[{'label': 'positive', 'score': 0.97}]],
         [[{'label': 'negative', 'score': 0.88}, {'label': 'positive', 'score': 0.12}]]]
    """
    return answer_encoded(classifier, [encode_request(classifier, request) for request in requests])


class EndpointHandler:
    """The Inference Endpoints contract: ``EndpointHandler(path)`` then ``handler({"inputs": ...})``.

    Args:
        path: the model folder (an Endpoint passes the downloaded repository).

    Example:
        >>> handler = EndpointHandler("runs/imdb-gru")
        >>> handler({"inputs": ["A moving film.", "Two hours I will never get back."]})
        [[{'label': 'positive', 'score': 0.97}, {'label': 'negative', 'score': 0.03}],
         [{'label': 'negative', 'score': 0.91}, {'label': 'positive', 'score': 0.09}]]
    """

    def __init__(self, path: str = "") -> None:
        self.classifier = SentimentClassifier.load(path or ".")

    def __call__(self, data: dict[str, Any]) -> list[list[dict[str, Any]]]:
        """Scores for ``data["inputs"]`` (one text or a list of texts); ``data["parameters"]``
        may hold ``top_k``, the number of labels kept per input (default: all)."""
        [answer] = answer_requests(self.classifier, [parse_request(data)])
        if isinstance(answer, InputError):
            raise answer
        return answer
