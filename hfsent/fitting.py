"""The fit stage: Keras' fit of the built model under the run's ``tf.distribute`` strategy.

Early stopping on the task's validation metric restores the best weights
(:func:`hfsent.selection.early_stopping`); with an output folder, a backup after every epoch
lets ``--resume`` continue an interrupted run (``.NAME.backup`` beside the folder; without
``--resume`` an old backup is discarded, with a warning); ``--report-to tensorboard`` writes
logs beside the folder, which the save stage copies in.  A model trained on several replicas
is rebuilt on one device afterwards, for scoring and prediction.  Scope: one stage of
:data:`hfsent.train.STAGES`, like the others in :mod:`hfsent.stages`.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from pathlib import Path

import keras
import numpy as np

from hfsent.batching import fit_batches, make_dataset
from hfsent.errors import MissingError
from hfsent.model import build_model, compile_model
from hfsent.multiworker import is_multiworker, leave, peer_error, shard_by_data
from hfsent.schedule import describe, schedule_for
from hfsent.selection import early_stopping
from hfsent.stages import Figures, Run
from hfsent.tasks import task_for

log = logging.getLogger(__name__)


def _backup_callback(output_dir: Path, resume: bool) -> keras.callbacks.BackupAndRestore:
    backup = output_dir.with_name(f".{output_dir.name}.backup")
    if backup.exists() and not resume:
        log.warning("discarding the backup of an interrupted run in %s (pass --resume to continue it)",
                    backup)
        shutil.rmtree(backup)
    elif resume:
        log.info("resuming from %s" if backup.exists() else "no backup in %s: starting afresh", backup)
    # double_checkpoint keeps the previous epoch's copy, so a kill during a save is survivable
    return keras.callbacks.BackupAndRestore(str(backup), double_checkpoint=True)


def _tensorboard_callback(log_dir: Path, resume: bool) -> keras.callbacks.TensorBoard:
    try:
        import tensorboard  # noqa: F401  (Keras' callback needs it for tf.summary)
    except ImportError:
        raise MissingError("--report-to tensorboard needs the tensorboard package: "
                           "pip install 'hfsent[tensorboard]'") from None
    if log_dir.exists() and not resume:
        shutil.rmtree(log_dir)
    return keras.callbacks.TensorBoard(log_dir=str(log_dir))


def fit(run: Run) -> tuple[str, Figures]:
    """Adam with early stopping on validation loss (best weights restored), backed up after
    every epoch when there is an output folder; then back onto one device for inference.
    Needs ``data`` and ``model``; adds the trained ``model`` and ``history``, and fills the
    schedule's unset fields in the run's config (:mod:`hfsent.schedule`).
    """
    steps, training = run.steps_per_epoch, run.config.training
    why = describe(training, steps)
    run.config = dataclasses.replace(run.config, training=schedule_for(training, steps))
    cfg, data = run.config, run.data
    train_ds = make_dataset(data.splits["train"], cfg.training.batch_size, cfg.preprocessing.max_length,
                            data.boundaries, shuffle=True, seed=cfg.training.seed,
                            shuffle_buffer=cfg.runtime.shuffle_buffer,
                            shuffle_shards=cfg.runtime.shuffle_shards)
    val_ds = make_dataset(data.splits["validation"], cfg.training.batch_size * 4,
                          cfg.preprocessing.max_length, data.boundaries)
    train_ds, val_ds = shard_by_data(run.strategy, train_ds), shard_by_data(run.strategy, val_ds)
    with run.strategy.scope():
        compile_model(run.model, cfg.training, cfg.model, run.steps_per_epoch)
        if is_multiworker(run.strategy):
            # Keras' fit would build the metrics from a first batch all-reduced across the
            # workers, which fails on a (ids, label) pair and would sum batches of other
            # shapes; it needs shapes only, so build now and make fit take the strategy from
            # the scope it runs in, which skips that step.
            run.model._symbolic_build(data_batch=(np.ones((1, 1), np.int32), np.zeros(1, np.float32)))
            run.model._distribute_strategy = None
    task = task_for(cfg.model)
    stopping = early_stopping(task.selection(cfg.training.selection_metric), cfg.training.patience,
                              val_ds, task)
    callbacks = [*stopping, *run.callbacks]
    if run.output_dir is not None:
        callbacks.append(_backup_callback(run.output_dir, run.resume))
    if run.tensorboard:
        callbacks.append(_tensorboard_callback(run.tensorboard_dir, run.resume))
    import tensorflow as tf

    try:
        with run.strategy.scope():
            weights = task.keras_class_weight(data.classes, cfg.training.class_weight)
            history = fit_batches(run.model, train_ds, validation_data=val_ds, epochs=cfg.training.epochs,
                                  shuffle=False, callbacks=callbacks, verbose=run.verbose,
                                  class_weight=weights)
    except tf.errors.OpError as err:
        if not is_multiworker(run.strategy):
            raise
        raise peer_error(err) from None
    run.history = {k: [float(v) for v in vs] for k, vs in history.history.items()}
    leave(run.strategy)  # the last collective: what follows runs on each worker alone
    if run.strategy.num_replicas_in_sync > 1:
        # Scoring, saving and prediction run on one device: a model built in a multi-replica
        # scope would split every inference batch across replicas.
        single = build_model(cfg.model, len(data.vocab), not cfg.training.freeze_embeddings)
        single.set_weights(run.model.get_weights())
        run.model = compile_model(single, cfg.training, cfg.model, run.steps_per_epoch)
    monitor = stopping[-1].monitor
    watched = np.asarray(run.history.get(monitor, []))
    signed = -watched if monitor == "val_loss" else watched  # higher is better
    epochs, best = len(watched), int(np.argmax(signed)) + 1 if len(watched) else None
    t = cfg.training
    decay = f" (×{t.lr_decay:g} after each epoch)" if t.lr_decay != 1 else ""
    return (f"Adam, learning rate {t.learning_rate:g}{decay}, batch size {t.batch_size}, "
            f"up to {t.epochs} epochs with early stopping on validation {monitor[4:].replace('_', ' ')} "
            f"(patience {t.patience}): "
            f"{epochs} ran, the best (restored) was epoch {best}; seed {t.seed}{why}",
            {"epochs_trained": epochs, "best_epoch": best})
