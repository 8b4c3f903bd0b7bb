"""The model that ``hfsent serve`` serves: loaded from a folder or the Hub, described for
``GET /info`` (no local path leaves the machine), and traced before the first client comes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hfsent.predict import SentimentClassifier


def load_served(model: str, revision: str | None = None) -> tuple[SentimentClassifier, dict[str, Any]]:
    """The classifier and what ``/info`` says of it: a Hub model's id and commit, a local
    folder's name only (no local path leaves the machine), task, labels, text fields and format
    version."""
    from hfsent import hub
    from hfsent.locate import closed_file, folder_name, local_model
    from hfsent.predict import SentimentClassifier
    from hfsent.saved_config import CONFIG_NAME

    folder = local_model(model)
    on_hub = folder is None
    if on_hub:
        folder = hub.download(model, revision)  # .../snapshots/<commit>
    classifier = SentimentClassifier.load(folder)
    version = json.loads(closed_file(folder, CONFIG_NAME).read_text(encoding="utf-8")).get("format_version")
    config = classifier.config.model
    return classifier, {
        "model": model if on_hub else folder_name(Path(folder).resolve()),
        "revision": Path(folder).name if on_hub else None,
        "task": config.task,
        "labels": classifier.task.labels,
        "text_fields": classifier.text_fields,  # several: each input is an object of them (hfsent.fields)
        "format_version": version,
    }


def warm_up(classifier: SentimentClassifier) -> None:
    """Trace the model before the first client comes: TensorFlow traces its predict function for
    the first two input shapes, then once more for any shape (``reduce_retracing``), a second each."""
    from hfsent.vocab import UNK_ID

    classifier.encode(["warm up"])  # loads spaCy
    for rows, width in ((1, 4), (2, 9), (3, 17)):
        classifier.predict_ids([[UNK_ID] * width] * rows)
