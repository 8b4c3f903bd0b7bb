"""Output folders: one writer at a time (real second processes), a real kill -9 in the middle of
an overwrite, stale temporary folders, and permissions."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hfsent.folder import BusyError, atomic_folder, lock_path, locked
from tests.conftest import TINY_FLAGS

HOLD = """
import sys, time
from hfsent.folder import locked
with locked(sys.argv[1]):
    print("holding", flush=True)
    time.sleep(120)
"""

# Overwrites argv[1], stopping for a minute in the instant between the two renames (after
# touching argv[2]), so that the test can kill -9 the process right there.
KILLED_SAVE = """
import sys, time, pathlib
import hfsent.folder as folder
def pause():
    pathlib.Path(sys.argv[2]).touch()
    time.sleep(60)
folder._between_renames = pause
folder.atomic_folder(sys.argv[1], lambda tmp: (tmp / "a.txt").write_text("new"), overwrite=True)
"""

# Tokenizes with two forked workers under argv[1]'s lock; each worker touches argv[2]/PID and
# stops there, so that the test can kill -9 the run in the middle of tokenization.
KILLED_TOKENIZE = """
import os, sys, time, pathlib
from datasets import Dataset
import hfsent.tokenize as tokenize
from hfsent.folder import locked
def stuck(batch, **kwargs):
    pathlib.Path(sys.argv[2], str(os.getpid())).touch()
    time.sleep(300)
tokenize._tokenize_batch = stuck
reviews = Dataset.from_dict({"text": ["a fine film"] * 4000})
with locked(sys.argv[1]):
    tokenize.tokenize_dataset(reviews, num_proc=2, cache_file_name=str(pathlib.Path(sys.argv[2], "t.arrow")))
"""


@pytest.fixture
def holder(tmp_path):
    """A real second process holding the lock of ``tmp_path / "model"``."""
    target = tmp_path / "model"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    yield target, proc
    proc.kill()
    proc.wait()


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    while not path.exists():
        assert proc.poll() is None, "the process ended before reaching the window"
        time.sleep(0.05)


def test_a_second_writer_is_refused_naming_the_first(holder):
    target, proc = holder
    with pytest.raises(BusyError, match=rf"is in use by another hfsent run \(pid {proc.pid} on .* since"):
        atomic_folder(target, lambda tmp: (tmp / "a.txt").write_text("x"))
    assert not target.exists()


def test_a_second_train_fails_at_once_before_any_work(holder, hub_layout_dir):
    target, proc = holder
    out = subprocess.run([sys.executable, "-m", "hfsent", "train", "--dataset", str(hub_layout_dir),
                          "--output-dir", str(target), *TINY_FLAGS], capture_output=True, text=True)
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr  # one line: TensorFlow never started
    assert lines[0].startswith(f"hfsent: error: {target} is in use by another hfsent run (pid {proc.pid} on ")
    assert not target.exists()


def test_the_lock_is_released_on_exit_and_by_a_killed_holder(holder):
    target, proc = holder
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with locked(target):  # the kernel dropped the dead holder's flock
        with locked(target):  # and the holder may lock again
            pass
        assert lock_path(target).exists()
    assert not lock_path(target).exists()


def test_kill_9_between_the_renames_loses_no_model(tmp_path):
    target, marker = tmp_path / "model", tmp_path / "in-the-window"
    atomic_folder(target, lambda tmp: (tmp / "a.txt").write_text("old"))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(target), str(marker)])
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The real window: nothing at the target, the old model parked beside it.
    assert not target.exists()
    assert [p.name for p in tmp_path.glob(".model.old-*")] == [f".model.old-{proc.pid}"]

    with locked(target):  # the next run on the folder restores it...
        assert (target / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in-the-window", "model"]
    atomic_folder(target, lambda tmp: (tmp / "a.txt").write_text("new"), overwrite=True)  # ...and goes on
    assert (target / "a.txt").read_text() == "new"


def test_a_killed_fill_leaves_a_temporary_folder_that_the_next_run_removes(tmp_path):
    target, marker = tmp_path / "model", tmp_path / "filling"
    code = ("import sys, time, pathlib; from hfsent.folder import atomic_folder\n"
            "def fill(tmp):\n    (tmp / 'a.txt').write_text('half'); pathlib.Path(sys.argv[2]).touch(); "
            "time.sleep(60)\n"
            "atomic_folder(sys.argv[1], fill)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(target), str(marker)])
    _wait_for(marker, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert len(list(tmp_path.glob(".model.tmp-*"))) == 1 and not target.exists()
    atomic_folder(target, lambda tmp: (tmp / "a.txt").write_text("whole"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["filling", "model"]


@pytest.mark.parametrize("umask, folder_mode, file_mode", [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)])
def test_a_saved_folder_gets_the_permissions_of_mkdir(trained, tmp_path, umask, folder_mode, file_mode):
    old = os.umask(umask)
    try:
        folder = trained.classifier.save(tmp_path / "model")
    finally:
        os.umask(old)
    assert folder.stat().st_mode & 0o777 == folder_mode
    assert {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()} == {
        p.name: folder_mode if p.is_dir() else file_mode for p in folder.iterdir()}  # Keras' assets/


def test_train_takes_the_lock_before_its_first_stage(holder, hub_layout_dir):
    from hfsent.train import Stage, train
    from tests.conftest import tiny_config

    target, proc = holder

    def first_stage(run):
        raise AssertionError("a stage ran although another process holds the folder")

    with pytest.raises(BusyError, match=f"pid {proc.pid}"):
        train(tiny_config(hub_layout_dir), target, stages=[Stage("data", first_stage)])


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_kill_9_during_num_proc_2_tokenization_frees_the_lock_at_once(tmp_path):
    target, markers = tmp_path / "model", tmp_path / "workers"
    markers.mkdir()
    run = subprocess.Popen([sys.executable, "-c", KILLED_TOKENIZE, str(target), str(markers)])
    workers: list[int] = []
    try:
        while len(workers) < 2:
            assert run.poll() is None, "the run ended before its workers started"
            time.sleep(0.1)
            workers = [int(p.name) for p in markers.iterdir() if p.name.isdigit()]
        run.send_signal(signal.SIGKILL)
        run.wait()
        with locked(target):  # the forked workers do not hold the dead run's lock
            pass
        if sys.platform.startswith("linux"):  # and they died with it
            for _ in range(100):
                if not any(_alive(pid) for pid in workers):
                    break
                time.sleep(0.1)
            assert not [pid for pid in workers if _alive(pid)], "workers outlived the killed run"
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_every_spelling_of_a_folder_takes_the_same_lock(holder):
    """A symlink to the output folder, or a path through one, is the same folder: its lock is
    the real folder's, so two runs cannot write into one folder under two names."""
    target, proc = holder
    target.mkdir()
    alias = target.with_name("alias")
    alias.symlink_to(target.name)
    with pytest.raises(BusyError, match=f"pid {proc.pid}"), locked(alias):
        pass
    with pytest.raises(BusyError, match=f"pid {proc.pid}"), locked(alias / ".." / target.name):
        pass
