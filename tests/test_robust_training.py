"""Interrupted training: kill -9 then --resume, atomic folders, no silent overwrite."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hfsent.artifacts import atomic_folder

REPO = Path(__file__).resolve().parents[1]
FLAGS = ["--embedding-dim", "8", "--gru-units", "8", "--batch-size", "8", "--epochs", "6",
         "--learning-rate", "0.02", "--dropout", "0", "--patience", "6", "--min-freq", "1",
         "--num-buckets", "3", "--max-length", "32", "--num-proc", "1", "--validation-size", "0.2",
         "--lr-decay", "1.0", "--no-pretrain-embeddings"]

KILL_IN_EPOCH_3 = """
import os, signal, sys, keras
sys.path.insert(0, sys.argv[3])
from scripts.train import main

class KillMidEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 2 and batch == 1:
            os.kill(os.getpid(), signal.SIGKILL)

import scripts.train as script
original = script.train
script.train = lambda *a, **k: original(*a, **{**k, "callbacks": [KillMidEpoch()]})
main(["--dataset", sys.argv[1], "--output-dir", sys.argv[2], *sys.argv[4:]])
"""


def test_kill_9_mid_epoch_then_resume_from_the_last_completed_epoch(hub_layout_dir, tmp_path):
    out = tmp_path / "model"
    killed = subprocess.run([sys.executable, "-c", KILL_IN_EPOCH_3, str(hub_layout_dir), str(out), str(REPO),
                             *FLAGS], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not out.exists(), "no half-written model folder"
    assert (tmp_path / ".model.backup").is_dir()

    resumed = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--dataset",
                              str(hub_layout_dir), "--output-dir", str(out), "--resume", *FLAGS],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Epoch 3/6" in resumed.stdout and "Epoch 1/6" not in resumed.stdout
    assert not (tmp_path / ".model.backup").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.75


def test_a_stale_backup_is_discarded_without_resume(hub_layout_dir, tmp_path, caplog):
    from hfsent.train import train
    from tests.conftest import tiny_config

    (tmp_path / ".model.backup").mkdir()
    (tmp_path / ".model.backup" / "junk").write_text("x")
    train(tiny_config(hub_layout_dir, epochs=1), tmp_path / "model", verbose=0)
    assert "discarding the backup" in caplog.text
    assert (tmp_path / "model" / "model.weights.h5").is_file()


def test_a_crash_while_writing_leaves_nothing_that_looks_like_a_model(tmp_path):
    def fill(folder: Path) -> None:
        (folder / "config.json").write_text("{}")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_folder(tmp_path / "model", fill)
    assert list(tmp_path.iterdir()) == []


def test_overwrite_replaces_a_folder_only_when_complete(tmp_path):
    target = tmp_path / "model"
    atomic_folder(target, lambda f: (f / "a.txt").write_text("old"))
    with pytest.raises(FileExistsError, match="--overwrite"):
        atomic_folder(target, lambda f: (f / "a.txt").write_text("new"))

    def failing(folder: Path) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_folder(target, failing, overwrite=True)
    assert (target / "a.txt").read_text() == "old"
    atomic_folder(target, lambda f: (f / "b.txt").write_text("new"), overwrite=True)
    assert [p.name for p in target.iterdir()] == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_training_refuses_a_non_empty_output_dir_before_any_work(hub_layout_dir, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--dataset",
                          str(hub_layout_dir), "--output-dir", str(tmp_path), *FLAGS],
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "--overwrite" in out.stderr and "Tokenizing" not in out.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"
