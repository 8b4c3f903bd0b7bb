"""Serving on Hugging Face Inference Endpoints: the custom handler of a pushed model.

``hfsent push`` (and :func:`hfsent.hub.push_to_hub`, ``serving=True`` by default) uploads a
two-line ``handler.py`` that exposes :class:`EndpointHandler`, and a ``requirements.txt`` that
installs hfsent at the pushed version.  An Endpoint runs ``EndpointHandler(path)`` once on the
downloaded repo, then calls it with each request's JSON.  It answers like a ``transformers``
text-classification pipeline with ``top_k=None``: a list per input of ``{"label", "score"}``,
highest score first.

Limits: the whole request is predicted in one call (batched by length inside); each text is cut
to a bounded number of characters before tokenizing (:func:`hfsent.tokenize.cut`), so a huge
text costs no more than a long review.  A rating model
answers ``[{"label": "rating", "score": <stars>}]`` per input, as a transformers regression
head does.
"""

from __future__ import annotations

from typing import Any

from hfsent.errors import InputError
from hfsent.predict import SentimentClassifier


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
        if not isinstance(data, dict) or "inputs" not in data:
            raise InputError('the request must be JSON of the form {"inputs": "text" or ["text", ...]}')
        inputs = data["inputs"]
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        return self.classifier.ranked(texts, top_k=(data.get("parameters") or {}).get("top_k"))
