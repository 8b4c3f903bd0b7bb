"""The stages of training, one function each, and the :class:`Run` they share.

Each stage takes the run so far, adds what it makes (data, a model, scores), and returns
``(summary, figures)``: one sentence for the model card and the numbers behind it for
``metrics.json``.  A stage that does not apply says why in a ``skip_*`` function instead of
branching inside.  :func:`hfsent.train.train` runs them in order and times them.

Stage by stage (what it needs from the run -> what it adds):

* :func:`prepare`: ``config`` -> ``data`` (encoded splits, vocabulary, buckets)
* :func:`build`: ``data`` -> ``model``, ``strategy``
* :func:`init_embeddings`: ``data``, ``model`` -> word2vec rows in the Embedding
* :func:`hfsent.fitting.fit`: ``data``, ``model`` -> the trained ``model``, ``history``
* :func:`hfsent.blend.add_wide_branch`: ``data``, ``model`` -> the blended ``model``
* :func:`evaluate`: ``data``, ``model`` -> ``metrics``
* :func:`save`: ``metrics``, ``output_dir`` -> the model folder
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import keras
from datasets import Dataset

from hfsent.artifacts import TENSORBOARD_DIR, copy_logs
from hfsent.card import CONFUSION_NAME, CURVES_NAME, widget_outputs, write_card
from hfsent.config import MAX_LENGTH, Config
from hfsent.distribute import get_strategy
from hfsent.draw import confusion_png, training_curves_png
from hfsent.metrics import predict_split, score_split
from hfsent.model import build_model, describe
from hfsent.multiworker import check_same
from hfsent.names import EMBEDDING
from hfsent.predict import SentimentClassifier
from hfsent.prepare import PreparedData, prepare_data
from hfsent.pretrain import pretrained_embeddings
from hfsent.schedule import epoch_steps
from hfsent.split import validation_origin
from hfsent.tasks import task_for
from hfsent.vectors import Vectors, coverage, init_matrix, load_vectors, source_text

log = logging.getLogger(__name__)
Figures = dict


@dataclass
class Run:
    """What the stages share: the inputs of :func:`hfsent.train.train`, then what each stage adds.

    Example:
        >>> run = Run(preset("default", dataset="reviews.csv"))
        >>> prepare(run)[0]
        '1,800 training reviews; a vocabulary of 4,210 tokens from them; 10 length buckets'
    """

    config: Config
    output_dir: Path | None = None
    overwrite: bool = False
    resume: bool = False
    score_test: bool = True
    repo_id: str | None = None
    callbacks: list[keras.callbacks.Callback] = field(default_factory=list)
    verbose: int | str = "auto"
    tensorboard: bool = False
    data: PreparedData | None = None
    strategy: object | None = None
    model: keras.Model | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)
    saved: Path | None = None
    vectors: Vectors | None = None  # --word-vectors' rows for the vocabulary, read by the data stage

    @property
    def classifier(self) -> SentimentClassifier:
        return SentimentClassifier(self.model, self.data.vocab, self.config)

    @property
    def tensorboard_dir(self) -> Path:
        """Where the fit's TensorBoard logs wait, beside the output folder, until it is saved."""
        return self.output_dir.with_name(f".{self.output_dir.name}.tensorboard")

    @property
    def steps_per_epoch(self) -> int:
        return epoch_steps(self.data.train_rows, self.config.training.batch_size)


def prepare(run: Run) -> tuple[str, Figures]:
    """Load, tokenize and encode the splits (:func:`hfsent.prepare.prepare_data`); fix
    ``vocab_size`` and the classes (``label_names``, read from train) in the run's config.
    Needs ``config``; adds ``data``.
    """
    run.data = data = prepare_data(run.config)
    classes = {"label_names": list(data.classes)} if data.classes else {}
    chosen = run.config.preprocessing.max_length is None
    run.config = run.config.replace(vocab_size=len(data.vocab), max_length=data.max_length, task=data.task,
                                    **classes)
    log.info("vocabulary: %d tokens; bucket boundaries: %s", len(data.vocab), data.boundaries)
    figures = {"train_reviews": data.train_rows, "vocab_size": len(data.vocab), "boundaries": data.boundaries}
    summary = (f"{data.train_rows:,} training reviews; a vocabulary of {len(data.vocab):,} tokens from them; "
               f"{len(data.boundaries) + 1} length buckets; truncated to {data.max_length} tokens"
               + (f" (the training lengths' 99th percentile, at most {MAX_LENGTH})" if chosen else ""))
    figures["max_length"] = data.max_length
    log.info("max_length: %d%s", data.max_length, " (from the training lengths)" if chosen else "")
    if data.classes:
        figures["classes"] = data.classes
        summary += "; classes " + ", ".join(f"{n} ({c:,})" for n, c in data.classes.items())
        summary += task_for(run.config.model).label_note(run.config)
    validation = data.splits["validation"]
    figures["validation"] = validation_origin(validation, run.config.data.group_column)
    rows = f" ({len(validation):,} rows)" if isinstance(validation, Dataset) else ""  # a stream: unknown
    summary += f"; validation: {figures['validation']}{rows}"
    if run.config.training.word_vectors:  # read here: their dimension sets the Embedding's width
        run.vectors = load_vectors(run.config, data.vocab)
        text, figures["word_vectors"] = coverage(run.vectors, run.config, data.splits["train"])
        summary, run.config = summary + text, run.config.replace(embedding_dim=run.vectors.dim)
    return summary, figures


def build(run: Run) -> tuple[str, Figures]:
    """Build the network inside the ``tf.distribute`` strategy's scope.  Needs ``data``; adds
    ``model`` and ``strategy``.
    """
    run.strategy = get_strategy(run.config.runtime.strategy)
    data = run.data  # every worker of a cluster must have built the chief's
    check_same(run.strategy, "vocabulary, buckets or row count",
               "\n".join([*data.vocab.tokens, repr((data.boundaries, data.max_length, data.train_rows))]))
    with run.strategy.scope():
        run.model = build_model(run.config.model, len(run.data.vocab),
                                trainable_embeddings=not run.config.training.freeze_embeddings)
    replicas = run.strategy.num_replicas_in_sync
    return (f"{describe(run.config.model)}; dropout {run.config.model.dropout}; "
            f"{run.model.count_params():,} parameters",
            {"parameters": run.model.count_params(), "replicas": replicas})


def skip_embeddings(run: Run) -> str | None:
    """Why the Embedding keeps its random start: word2vec is turned off and no word vectors given."""
    t = run.config.training
    return None if t.pretrain_embeddings or t.word_vectors else "off (--no-pretrain-embeddings)"


def init_embeddings(run: Run) -> tuple[str, Figures]:
    """Word2vec on the training reviews (and the unlabelled split) into the Embedding, under the
    ``--word-vectors`` rows where those cover a word (:func:`hfsent.vectors.init_matrix`).  Needs
    ``data`` and ``model`` (and ``vectors``, if given); its record names the unlabelled split read.
    """
    t = run.config.training
    matrix, unlabeled = (pretrained_embeddings(run.config, run.data.vocab, run.data.tokens["train"])
                         if t.pretrain_embeddings else (None, None))
    if run.vectors is not None:
        matrix = init_matrix(run.vectors, matrix, t.seed)
    run.model.get_layer(EMBEDDING).set_weights([matrix])
    corpus = "the training reviews" + (f" and the unlabelled {unlabeled!r} split" if unlabeled else
                                       " only (the source has no unlabelled split)")
    frozen = ", kept fixed in training" if t.freeze_embeddings else ""
    w2v = f"word2vec (skip-gram, {t.word2vec_epochs} epochs) trained on {corpus}"
    if run.vectors is None:
        return f"Embedding initialised with {w2v}{frozen}; no outside weights", {"unlabeled_split": unlabeled}
    rows = int(run.vectors.covered.sum())
    rest = w2v if t.pretrain_embeddings else "random vectors"
    return (f"Embedding initialised with the word vectors of {source_text(run.vectors.record)} for {rows:,} "
            f"of {len(run.data.vocab):,} words, the others with {rest} at their scale{frozen}",
            {"unlabeled_split": unlabeled, "vector_rows": rows})


def evaluate(run: Run) -> tuple[str, Figures]:
    """Score validation, and test once (unless ``score_test=False``), with the evaluate modules.
    Needs ``data`` and ``model``; adds ``metrics``, whose ``stages`` is the run's record list.
    """
    task = task_for(run.config.model)
    fitted = task.fit_decision(lambda: predict_split(run.classifier, run.data.splits["validation"])[:2])
    if fitted:  # settings fitted on validation after training (a multi-label model's thresholds)
        run.config = run.config.replace(**fitted)
    clf = run.classifier
    validation = score_split(clf, run.data.splits["validation"])
    test = score_split(clf, run.data.splits["test"]) if run.score_test else None
    run.metrics = {
        "validation": validation, "test": test,
        "num_examples": {"train": run.data.train_rows, "validation": validation["num_examples"],
                         **({"test": test["num_examples"]} if test else {})},
        "history": run.history,
        "stages": run.records,  # the same list: records of later stages join it
    }
    key = task.selection_key
    log.info("validation: %s", validation)
    log.info("test: %s", test)
    summary = f"validation {key} {validation[key]:.4f} on {validation['num_examples']:,} reviews"
    if test:
        summary += f"; test {key} {test[key]:.4f} on {test['num_examples']:,} reviews, scored once"
    return summary, {}


def skip_save(run: Run) -> str | None:
    """Why nothing is saved: no output folder was given."""
    return None if run.output_dir is not None else "no output folder"


def save(run: Run) -> tuple[str, Figures]:
    """Write the model folder atomically, with its card (its widget showing the model's own
    predictions, recorded in ``metrics["widget"]``), training curves and, for more than two classes,
    the test confusion matrix.  Needs ``metrics``
    and ``output_dir``; adds ``saved``.
    """
    def report(folder: Path) -> None:
        training_curves_png(run.history, str(folder / CURVES_NAME))
        test = run.metrics.get("test") or {}
        if "confusion_matrix" in test:  # more than two classes
            confusion_png(test["confusion_matrix"], run.config.model.classes, str(folder / CONFUSION_NAME))
        write_card(folder, run.config, run.metrics, run.repo_id or "USER/REPO")
        if run.tensorboard:
            copy_logs(run.tensorboard_dir, folder / TENSORBOARD_DIR)  # without the host name

    run.metrics["widget"] = widget_outputs(run.classifier)
    run.saved = run.classifier.save(run.output_dir, overwrite=run.overwrite, metrics=run.metrics,
                                    extra=report)
    if run.tensorboard:
        shutil.rmtree(run.tensorboard_dir, ignore_errors=True)
    logs = f", TensorBoard logs in {TENSORBOARD_DIR}/" if run.tensorboard else ""
    return f"written to {run.saved.name}/{logs}", {}
