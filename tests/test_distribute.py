"""Training under tf.distribute: two logical CPU devices stand in for two GPUs."""

import json
import os
import subprocess
import sys

import pytest

from hfsent.distribute import get_strategy
from tests.conftest import NEGATION_PROBES

MIRRORED = """
import sys, json
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, sys.argv[3])
import numpy as np
from hfsent.distribute import get_strategy
from tests.conftest import NEGATION_PROBES
from hfsent.predict import SentimentClassifier
from hfsent.train import train
from tests.conftest import GRU, NEGATION_PROBES, tiny_config

strategy = get_strategy("mirrored")
result = train(tiny_config(sys.argv[1], strategy="mirrored", **GRU), sys.argv[2], verbose=0)
loaded = SentimentClassifier.load(sys.argv[2])
texts = list(NEGATION_PROBES)
print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                  "devices": list(strategy.extended.worker_devices),
                  "test_accuracy": result.metrics["test"]["accuracy"],
                  "same": bool(np.allclose(loaded.predict_proba(texts),
                                           result.classifier.predict_proba(texts))),
                  "training_replicas": result.stage("build")["figures"]["replicas"],
                  "labels": [r["label"] for r in loaded.predict(texts)]}))
"""


def test_mirrored_strategy_with_two_replicas_trains_saves_and_loads(negation_dir, tmp_path):
    # The GRU alone on reviews that only word order separates: the replicas trained it.
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", MIRRORED, str(negation_dir), str(tmp_path / "m"), repo],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["replicas"] == report["training_replicas"] == 2 and len(report["devices"]) == 2
    assert report["same"] and report["labels"] == list(NEGATION_PROBES.values())
    assert report["test_accuracy"] >= 0.8


def test_auto_is_the_default_strategy_without_several_gpus():
    assert get_strategy("auto").num_replicas_in_sync == 1


def test_multiworker_needs_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        get_strategy("multiworker")
    with pytest.raises(ValueError, match="strategy must be one of"):
        get_strategy("tpu")
