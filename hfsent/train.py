"""Training as a list of named stages: data -> build -> embeddings -> fit -> wide -> evaluate -> save.

Each :class:`Stage` is one function of :mod:`hfsent.stages` (the fit stage: :mod:`hfsent.fitting`,
the wide stage: :mod:`hfsent.blend`) with one contract: it takes the
:class:`~hfsent.stages.Run` so far, adds to it, and returns a summary and its figures.  A
stage that does not apply to a run (word2vec turned off, the wide branch on the rating
task, no output folder) says why, and is recorded as skipped.  Every stage leaves a record
``{"name", "seconds", "summary", "figures"}`` in ``metrics["stages"]``; the model card and
the benchmark read those records.

Model selection uses the validation split only (early stopping on validation loss, best
weights restored, the blend weight); the test split is scored once, at the end, with the
model that validation chose.  A new stage (another initialisation, another extra) is a new
entry in :data:`STAGES`, not another branch in :func:`train`.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras

from hfsent import blend, fitting, stages
from hfsent.config import Config
from hfsent.distribute import get_strategy
from hfsent.errors import InputError
from hfsent.folder import locked
from hfsent.locate import check_output_folder
from hfsent.multiworker import cluster_role
from hfsent.predict import SentimentClassifier
from hfsent.prepare import PreparedData, prepare_data
from hfsent.stages import Run

__all__ = ["STAGES", "PreparedData", "Stage", "TrainResult", "prepare_data", "train"]
log = logging.getLogger(__name__)


def _always(run: Run) -> None:
    return None


@dataclass(frozen=True)
class Stage:
    """A named step of training.

    Args:
        name: the record's name, e.g. ``"fit"``.
        run: adds to the :class:`~hfsent.stages.Run` and returns ``(summary, figures)``.
        skip: returns why the stage does not apply to a run, or ``None`` to run it.

    Example:
        >>> def count(run):
        ...     return f"{run.model.count_params():,} parameters", {}
        >>> train(config, stages=(*STAGES[:2], Stage("count", count), *STAGES[2:]))
    """

    name: str
    run: Callable[[Run], tuple[str, dict]]
    skip: Callable[[Run], str | None] = _always


STAGES: tuple[Stage, ...] = (
    Stage("data", stages.prepare),
    Stage("build", stages.build),
    Stage("embeddings", stages.init_embeddings, stages.skip_embeddings),
    Stage("fit", fitting.fit),
    Stage("wide", blend.add_wide_branch, blend.skip_wide),
    Stage("evaluate", stages.evaluate),
    Stage("save", stages.save, stages.skip_save),
)


@dataclass
class TrainResult:
    """What :func:`train` returns: the classifier, ``metrics.json``'s content and the folder.

    Example:
        >>> result = train(config, "runs/m")
        >>> result.stage("fit")["figures"]
        {'epochs_trained': 3, 'best_epoch': 2}
    """

    classifier: SentimentClassifier
    metrics: dict
    history: dict
    output_dir: Path | None = None

    def stage(self, name: str) -> dict:
        """The record of the stage called ``name``."""
        return next(record for record in self.metrics["stages"] if record["name"] == name)


def train(
    config: Config,
    output_dir: str | Path | None = None,
    overwrite: bool = False,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    score_test: bool = True,
    repo_id: str | None = None,
    resume: bool = False,
    stages: Sequence[Stage] = STAGES,
    report_to: str = "none",
) -> TrainResult:
    """Run the stages, and (with ``output_dir``) save the model folder.

    Args:
        config: every setting; ``config`` itself is left unchanged.
        output_dir: the model folder to write; refused up front if it is not empty, unless
            ``overwrite``, or if another run holds it (it stays locked for the whole run, see
            :func:`hfsent.folder.locked`).  ``None`` trains without saving.
        callbacks: extra Keras callbacks for the fit.
        verbose: Keras' ``fit`` verbosity.
        score_test: ``False`` leaves the test split alone: use it when comparing settings,
            so that only validation scores inform the choice.
        repo_id: named in the model card's usage snippets.
        resume: with ``output_dir``, the weights are backed up after every epoch to a hidden
            sibling folder (``.NAME.backup``).  If the process dies, ``resume=True``
            continues the fit from the last completed epoch (the later stages then run as
            usual); without it a stale backup is discarded.  The backup is deleted when
            the fit finishes.
        stages: the stages to run, :data:`STAGES` by default.
        report_to: ``"tensorboard"`` writes Keras' TensorBoard logs of the fit into the model
            folder's ``runs/`` (needs ``output_dir`` and the ``tensorboard`` package).

    With ``runtime.strategy="multiworker"`` every worker joins the cluster before the data
    stage, and only the chief (see :func:`hfsent.distribute.cluster_role`) locks and writes
    ``output_dir``: the others save into a temporary folder of their own and delete it, as
    TensorFlow's guide prescribes, and return ``output_dir=None``.

    Returns:
        A :class:`TrainResult`.

    Example:
        >>> result = train(preset("default", dataset="stanfordnlp/imdb"), "runs/imdb-gru")
        >>> result.metrics["test"]["accuracy"], result.stage("wide")["figures"]["gru_weight"]
        (0.91, 0.37)
    """
    if report_to not in ("none", "tensorboard"):
        raise InputError(f"report_to must be 'none' or 'tensorboard', got {report_to!r}")
    if report_to == "tensorboard" and output_dir is None:
        raise InputError("--report-to tensorboard writes into the model folder: give an output folder")
    scratch = None
    if config.runtime.strategy == "multiworker":
        if resume:  # each worker would restore its own epoch, and the collectives would part ways
            raise InputError("--resume does not work with --strategy multiworker yet: restart every "
                             "worker without it")
        get_strategy("multiworker")  # join (or fail) now, not after hours of tokenizing
        if output_dir is not None and not cluster_role()[2]:
            scratch = Path(tempfile.mkdtemp(prefix="hfsent-worker-"))
            output_dir, overwrite = scratch / Path(output_dir).name, False
    try:
        result = _run_stages(config, output_dir, overwrite, callbacks, verbose, score_test, repo_id, resume,
                             stages, report_to)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return result if scratch is None else TrainResult(result.classifier, result.metrics, result.history)


def _run_stages(config: Config, output_dir: str | Path | None, overwrite: bool,
                callbacks: list[keras.callbacks.Callback] | None, verbose: int | str, score_test: bool,
                repo_id: str | None, resume: bool, stages: Sequence[Stage], report_to: str) -> TrainResult:
    with locked(output_dir) if output_dir is not None else contextlib.nullcontext():
        # Checked up front so that a long training run does not end in this error.
        out = check_output_folder(output_dir, overwrite) if output_dir is not None else None
        keras.utils.set_random_seed(config.training.seed)
        run = Run(config, out, overwrite, resume, score_test, repo_id, list(callbacks or []), verbose,
                  tensorboard=report_to == "tensorboard")
        for stage in stages:
            start = time.perf_counter()
            reason = stage.skip(run)
            summary, figures = (f"skipped: {reason}", {}) if reason else stage.run(run)
            seconds = round(time.perf_counter() - start, 1)
            record = {"name": stage.name, "seconds": seconds, "summary": summary}
            run.records.append({**record, **({"figures": figures} if figures else {})})
            log.info("stage %s (%.1f s): %s", stage.name, record["seconds"], summary)
    return TrainResult(run.classifier, run.metrics, run.history, run.saved)
