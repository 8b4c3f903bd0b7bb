"""Training as stages: what each stage records, what the GRU learns, the folder, resume."""

import dataclasses
import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hfsent.saved_config import CONFIG_NAME, FORMAT_VERSION
from hfsent.train import STAGES, Stage, train
from tests.conftest import NEGATION_PROBES, TINY_FLAGS, make_negated_reviews, tiny_config

REPO = Path(__file__).resolve().parents[1]


def test_the_negation_data_defeats_a_bag_of_words():
    # The control behind the GRU tests: word counts alone cannot separate these reviews.
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    train_df, test_df = make_negated_reviews(400, seed=1), make_negated_reviews(80, seed=2)
    words = CountVectorizer().fit(train_df["text"])
    model = LogisticRegression(C=10, max_iter=1000).fit(words.transform(train_df["text"]), train_df["label"])
    assert model.score(words.transform(test_df["text"]), test_df["label"]) < 0.65


def test_the_gru_alone_learns_what_word_order_says(trained):
    assert "wide" not in [layer.name for layer in trained.classifier.model.layers]
    assert trained.metrics["validation"]["accuracy"] >= 0.85
    assert trained.metrics["test"]["accuracy"] >= 0.8
    assert set(trained.metrics["test"]) >= {"accuracy", "precision", "recall", "f1", "roc_auc"}
    labels = [r["label"] for r in trained.classifier.predict(list(NEGATION_PROBES))]
    assert labels == list(NEGATION_PROBES.values())


def test_every_stage_leaves_one_record_in_order(trained):
    records = trained.metrics["stages"]
    assert [r["name"] for r in records] == [s.name for s in STAGES]
    assert all(set(r) <= {"name", "seconds", "summary", "figures"} and r["seconds"] >= 0 for r in records)
    by_name = {r["name"]: r for r in records}
    assert by_name["embeddings"]["summary"] == "skipped: off (--no-pretrain-embeddings)"
    assert by_name["wide"]["summary"] == "skipped: off (--no-wide-ngrams)"
    fit = by_name["fit"]["figures"]
    assert fit["epochs_trained"] == len(trained.history["val_loss"]) == 20
    assert fit["best_epoch"] == int(np.argmin(trained.history["val_loss"])) + 1
    assert by_name["data"]["figures"]["vocab_size"] == len(trained.classifier.vocab)
    assert "test accuracy" in by_name["evaluate"]["summary"]
    saved = json.loads((trained.output_dir / "metrics.json").read_text())["stages"]
    assert [r["name"] for r in saved] == [s.name for s in STAGES][:-1]  # save ends after writing it


def test_a_new_stage_is_an_entry_in_the_list(hub_layout_dir):
    seen = []

    def count_parameters(run):
        seen.append(run.model.count_params())
        return f"{seen[0]} parameters", {"parameters": seen[0]}

    stages = (*STAGES[:2], Stage("count", count_parameters), *STAGES[3:])
    result = train(tiny_config(hub_layout_dir, epochs=1), stages=stages, verbose=0, score_test=False)
    assert result.stage("count") == {"name": "count", "seconds": result.stage("count")["seconds"],
                                     "summary": f"{seen[0]} parameters", "figures": {"parameters": seen[0]}}
    assert result.metrics["test"] is None


def test_artifact_layout(trained):
    names = {p.name for p in trained.output_dir.iterdir()}
    assert {"config.json", "metadata.json", "model.weights.h5", "vocab.txt", CONFIG_NAME,
            "metrics.json", "README.md", "training_curves.png"} <= names
    config = json.loads((trained.output_dir / CONFIG_NAME).read_text())
    assert config["format_version"] == FORMAT_VERSION
    lines = (trained.output_dir / "vocab.txt").read_text().splitlines()
    assert config["preprocessing"]["vocab_size"] == len(lines)
    assert not [p for p in trained.output_dir.parent.iterdir() if p.name.startswith(".")]


def test_vocabulary_comes_from_train_only(trained):
    assert trained.metrics["num_examples"]["train"] == 320
    assert {"not", "great", "awful"} <= set(trained.classifier.vocab.tokens)


def test_the_callers_config_is_left_as_it_was(hub_layout_dir):
    cfg = tiny_config(hub_layout_dir, epochs=1)
    result = train(cfg, verbose=0, score_test=False)
    assert cfg.preprocessing.vocab_size is None
    assert result.classifier.config.preprocessing.vocab_size == len(result.classifier.vocab)


def test_refuses_a_non_empty_output_dir(hub_layout_dir, tmp_path):
    (tmp_path / "keep.txt").write_text("precious")
    with pytest.raises(FileExistsError, match="--overwrite"):
        train(tiny_config(hub_layout_dir), tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "precious"


def test_the_script_refuses_a_non_empty_output_dir_before_any_work(hub_layout_dir, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--dataset",
                          str(hub_layout_dir), "--output-dir", str(tmp_path), *TINY_FLAGS],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == \
        f"hfsent: error: {tmp_path} exists and is not empty; pass --overwrite to replace it"
    assert "Tokenizing" not in out.stderr and "Traceback" not in out.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


KILL_IN_EPOCH_3 = """
import os, signal, sys, keras
import hfsent.train
from hfsent.cli import main

class KillMidEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == 2 and batch == 1:
            os.kill(os.getpid(), signal.SIGKILL)

original = hfsent.train.train
hfsent.train.train = lambda *a, **k: original(*a, **{**k, "callbacks": [KillMidEpoch()]})
sys.exit(main(["train", "--dataset", sys.argv[1], "--output-dir", sys.argv[2], *sys.argv[3:]]))
"""


def test_kill_9_mid_epoch_then_resume_from_the_last_completed_epoch(negation_dir, tmp_path):
    out = tmp_path / "model"
    killed = subprocess.run([sys.executable, "-c", KILL_IN_EPOCH_3, str(negation_dir), str(out), *TINY_FLAGS],
                            capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not out.exists(), "no half-written model folder"
    assert (tmp_path / ".model.backup").is_dir()

    resumed = subprocess.run([sys.executable, str(REPO / "scripts" / "train.py"), "--dataset",
                              str(negation_dir), "--output-dir", str(out), "--resume", *TINY_FLAGS],
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Epoch 3/20" in resumed.stdout and "Epoch 1/20" not in resumed.stdout
    assert not (tmp_path / ".model.backup").exists()
    metrics = json.loads((out / "metrics.json").read_text())
    # The GRU alone on reviews that no single word separates: the resumed fit learned.
    assert metrics["test"]["accuracy"] >= 0.8


def test_training_fills_the_schedule_it_was_left_and_saves_what_it_used(hub_layout_dir, tmp_path):
    cfg = tiny_config(hub_layout_dir, epochs=1)  # the user's epochs; decay and patience left unset
    cfg = dataclasses.replace(cfg, training=dataclasses.replace(cfg.training, lr_decay=None, patience=None))
    result = train(cfg, tmp_path / "m", verbose=0, score_test=False)
    saved = json.loads((tmp_path / "m" / CONFIG_NAME).read_text())["training"]
    assert (saved["lr_decay"], saved["patience"], saved["epochs"]) == (1.0, 2, 1)  # a tiny set: short epochs
    assert "; lr_decay, patience set for an epoch of" in result.stage("fit")["summary"]


def test_a_stale_backup_is_discarded_without_resume(hub_layout_dir, tmp_path, caplog):
    (tmp_path / ".model.backup").mkdir()
    (tmp_path / ".model.backup" / "junk").write_text("x")
    train(tiny_config(hub_layout_dir, epochs=1), tmp_path / "model", verbose=0)
    assert "discarding the backup" in caplog.text
    assert (tmp_path / "model" / "model.weights.h5").is_file()
