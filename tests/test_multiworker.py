"""Multi-worker training for real: ``hfsent train --strategy multiworker`` in two processes on
127.0.0.1 ports, as two hosts would run it (TF_CONFIG), on one shared output folder."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hfsent.predict import SentimentClassifier

FIXTURES = Path(__file__).parent / "fixtures"
DATA = f"train={FIXTURES / 'reviews_train.csv'},test={FIXTURES / 'reviews_test.csv'}"
FLAGS = ["--embedding-dim=8", "--gru-units=8", "--epochs=4", "--patience=4", "--batch-size=8",
         "--learning-rate=0.02", "--min-freq=1", "--max-length=32", "--num-buckets=3", "--num-proc=1",
         "--no-pretrain-embeddings", "--no-wide-ngrams", "--validation-size=0.2"]


def _tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


def _free_ports(n):
    probes = [socket.socket() for _ in range(n)]
    for probe in probes:
        probe.bind(("127.0.0.1", 0))
    ports = [probe.getsockname()[1] for probe in probes]
    for probe in probes:
        probe.close()
    return ports


def _start(output, env, *extra):
    return subprocess.Popen([sys.executable, "-m", "hfsent", "train", "--dataset", DATA, "--output-dir",
                             str(output), *FLAGS, *extra], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process, timeout=300):
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    return process.returncode, out, err


@pytest.fixture
def scratch(tmp_path):
    """A TMPDIR of the test's own, to check that the workers leave nothing in it."""
    (tmp_path / "tmp").mkdir()
    return tmp_path / "tmp"


def test_two_workers_train_one_model_as_good_as_one_worker(tmp_path, scratch):
    ports, shared = _free_ports(2), tmp_path / "shared"
    env = {"TMPDIR": str(scratch), "HFSENT_PEER_TIMEOUT": "120"}
    workers = [_start(shared / "model", {**env, "TF_CONFIG": _tf_config(ports, i)}, "--strategy=multiworker")
               for i in range(2)]
    results = [_finish(worker) for worker in workers]
    for rc, _, err in results:
        assert rc == 0, err[-3000:]
    assert "saved to" in results[0][1] and "the chief saves the model" in results[1][1]
    assert sorted(os.listdir(shared)) == ["model"]  # no lock, backup or temporary folder left
    assert os.listdir(scratch) == []
    metrics = json.loads((shared / "model" / "metrics.json").read_text())
    assert metrics["stages"][1]["figures"]["replicas"] == 2  # the build stage: one replica per worker
    clf = SentimentClassifier.load(shared / "model")
    assert [r["label"] for r in clf.predict(["A wonderful, superb film.", "Boring and dreadful."])] \
        == ["positive", "negative"]

    rc, _, err = _finish(_start(tmp_path / "single", {"TMPDIR": str(scratch)}, "--strategy=default"))
    assert rc == 0, err[-3000:]
    single = json.loads((tmp_path / "single" / "metrics.json").read_text())
    # 40 test reviews that single words separate: both runs score near 1; two workers sum
    # their gradients in another order, so allow a few reviews' difference.
    assert abs(metrics["test"]["accuracy"] - single["test"]["accuracy"]) <= 0.1


def test_a_missing_peer_is_one_error_line_after_the_timeout(tmp_path, scratch):
    start = time.monotonic()
    env = {"TMPDIR": str(scratch), "HFSENT_PEER_TIMEOUT": "8", "TF_CONFIG": _tf_config(_free_ports(2), 0)}
    rc, _, err = _finish(_start(tmp_path / "model", env, "--strategy=multiworker"), timeout=120)
    # Its watchdog ended it while TensorFlow held on in C++: a user error's status and one line
    assert rc == 2, err[-3000:]
    assert len(err.splitlines()) == 1 and err.startswith("hfsent: error: multi-worker: not every peer"), err
    assert time.monotonic() - start < 100
    assert not (tmp_path / "model").exists()


def test_a_worker_that_dies_ends_its_peer(tmp_path, scratch):
    ports = _free_ports(2)
    env = {"TMPDIR": str(scratch), "HFSENT_PEER_TIMEOUT": "120"}
    slow = ["--epochs=400", "--patience=400"]
    workers = [_start(tmp_path / "model", {**env, "TF_CONFIG": _tf_config(ports, i)},
                      "--strategy=multiworker", *slow) for i in range(2)]
    deadline = time.monotonic() + 200
    while not (tmp_path / ".model.backup").exists() and time.monotonic() < deadline:  # training has begun
        time.sleep(0.5)
    workers[1].kill()
    rc, _, err = _finish(workers[0], timeout=120)
    assert rc == 2, err[-3000:]
    # The knock on the dead peer's port, or the failed collective: either way one line.
    errors = [line for line in err.splitlines() if line.startswith("hfsent: error:")]
    assert len(errors) == 1 and "Traceback" not in err, err[-3000:]
    assert "worker 1" in errors[0] or "a peer ended" in errors[0]
    _finish(workers[1])


def _python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_deadline_ends_a_process_stuck_in_c_holding_the_gil_with_one_line_and_status_2():
    # PyDLL keeps the GIL through the call, as TensorFlow does while it waits for its peers.
    stuck = _python("import ctypes\nfrom hfsent.watchdog import deadline\n"
                    "with deadline(1, 'too late'):\n    ctypes.PyDLL(None).sleep(30)\nprint('not here')")
    assert (stuck.returncode, stuck.stderr, stuck.stdout) == (2, "hfsent: error: too late\n", "")
    # In time: nothing is written, and Ctrl-C is Python's KeyboardInterrupt again afterwards
    # Python's own handler first: a background job of a non-interactive shell starts with SIGINT
    # ignored, and the deadline rightly restores what it found.
    done = _python("import os, signal, time\nfrom hfsent.watchdog import deadline\n"
                   "signal.signal(signal.SIGINT, signal.default_int_handler)\nwith deadline(30, 'no'):\n"
                   "    pass\ntry:\n    os.kill(os.getpid(), signal.SIGINT)\n"
                   "    for _ in range(100):\n        time.sleep(0.1)\n    print('not interrupted')\n"
                   "except KeyboardInterrupt:\n    print('interrupted')")
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "interrupted\n")
