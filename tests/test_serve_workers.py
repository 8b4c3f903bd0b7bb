"""``hfsent serve --workers 2``: two processes answer on one port as predict does, SIGTERM to the
parent finishes a request in flight and ends both, a worker that dies ends the server with one
error line, and so does a model that does not load; a parent killed outright takes its workers
with it.  Each test runs the command in a subprocess,
as a user does, and finds its workers through /proc (Linux, as CI)."""

import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.test_server import TEXTS
from tests.test_serving import assert_same_answers


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command's name (state, parent, ...); none once the
    process has gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # it ended meanwhile
        return []


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    return [int(path.name) for path in Path("/proc").glob("[0-9]*")
            if (fields := _stat(path.name)) and int(fields[1]) == pid]


def _workers(pid: int) -> list[int]:
    """The worker processes of the server ``pid``: spawned children (not multiprocessing's
    resource tracker, also a child)."""
    return [child for child in _children(pid) if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def _start(model: Path, *flags: str) -> tuple[subprocess.Popen, queue.Queue, str, list[str]]:
    """``hfsent serve --workers 2`` on a free port: the process, its stderr lines, the URL once
    both workers said they serve, and the lines so far."""
    proc = subprocess.Popen([sys.executable, "-m", "hfsent", "serve", "--model", str(model), "--port", "0",
                             "--workers", "2", *flags], start_new_session=True,  # a group of its own, as
                            stderr=subprocess.PIPE, text=True,  # a terminal's foreground job
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    seen, urls, deadline = [], set(), time.monotonic() + 400  # two workers compile, beside other tests
    while len([line for line in seen if "serving" in line]) < 2:
        try:
            seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.1)))
        except queue.Empty:
            proc.kill()
            pytest.fail(f"the workers did not start: {''.join(seen)[-3000:]}")
        found = re.search(r"serving .* on (http://127\.0\.0\.1:\d+)", seen[-1])
        if found:
            urls.add(found.group(1))
    assert len(urls) == 1, seen  # both on the one port
    return proc, lines, urls.pop(), seen


def _end(proc: subprocess.Popen, workers: list[int]) -> None:
    """Whatever the test found, nothing of the server is left running."""
    for pid in [proc.pid, *workers]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait()


def test_two_workers_answer_as_predict_and_sigterm_finishes_the_request_in_flight(trained):
    proc, lines, url, seen = _start(trained.output_dir, "--max-wait-ms", "1000")
    workers = _workers(proc.pid)
    try:
        assert len(workers) == 2
        # New connections, several at once: whichever worker takes each, answers equal predict's.
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda t: httpx.post(url, json={"inputs": t}, timeout=60), TEXTS * 2))
        assert [a.status_code for a in answers] == [200] * len(answers)
        for text, answer in zip(TEXTS * 2, answers):
            assert_same_answers(answer.json(), trained.classifier.ranked([text]))
        result: dict = {}
        request = threading.Thread(target=lambda: result.update(
            response=httpx.post(url, json={"inputs": TEXTS[0]}, timeout=60)))
        request.start()
        threading.Event().wait(0.4)  # the request is read and waiting in a worker's batcher
        proc.send_signal(signal.SIGTERM)
        request.join(60)
        assert result["response"].status_code == 200
        assert proc.wait(60) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # ended, and reaped
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/health")
    finally:
        _end(proc, workers)
    while not lines.empty():
        seen.append(lines.get_nowait())
    assert not any(line.startswith("hfsent: error") or "Traceback" in line for line in seen), seen


def test_a_worker_that_dies_ends_the_server_with_one_error_line(trained):
    proc, lines, url, seen = _start(trained.output_dir)
    workers = _workers(proc.pid)
    try:
        assert len(workers) == 2
        os.kill(workers[0], signal.SIGKILL)
        assert proc.wait(120) == 2
        assert not Path(f"/proc/{workers[1]}").exists()  # the other one was stopped, and reaped
    finally:
        _end(proc, workers)
    while not lines.empty():
        seen.append(lines.get_nowait())
    errors = [line for line in seen if line.startswith("hfsent: error")]
    assert len(errors) == 1 and "was killed by signal 9" in errors[0], seen
    assert not any("Traceback" in line for line in seen), seen
    assert not any("did not stop" in line for line in seen), seen  # stopped by SIGTERM, not killed


def test_ctrl_c_to_the_terminals_group_stops_every_worker_once(trained):
    """A terminal sends SIGINT to its foreground group: the parent's.  The workers are in groups
    of their own, so each gets the parent's one SIGTERM, not a second signal that would cut
    uvicorn's graceful shutdown short (and no KeyboardInterrupt traceback)."""
    proc, lines, url, seen = _start(trained.output_dir)
    workers = _workers(proc.pid)
    try:
        assert len(workers) == 2 and all(os.getpgid(pid) != proc.pid for pid in workers)
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(120) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        _end(proc, workers)
    while not lines.empty():
        seen.append(lines.get_nowait())
    bad = ("Traceback", "hfsent: error", "did not stop")
    assert not any(word in line for line in seen for word in bad), seen


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs: not ended, nor ended and waiting to be reaped (a zombie, which
    an orphan stays in a container whose first process reaps nothing)."""
    fields = _stat(pid)
    return bool(fields) and fields[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel's parent-death signal")
def test_workers_end_when_the_parent_is_killed_outright(trained):
    """SIGKILL gives the parent no chance to stop its workers; the kernel's SIGTERM does, and
    each worker stops as it would on the parent's own SIGTERM: no port left answering."""
    proc, lines, url, seen = _start(trained.output_dir)
    workers = _workers(proc.pid)
    try:
        assert len(workers) == 2 and all(_running(pid) for pid in workers)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 120
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            threading.Event().wait(0.2)
        assert not any(_running(pid) for pid in workers)
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/health")
    finally:
        _end(proc, workers)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_model_that_does_not_load_is_one_error_line_and_nothing_else(trained, tmp_path, workers):
    broken = tmp_path / "broken"
    shutil.copytree(trained.output_dir, broken)
    (broken / "model.weights.h5").write_bytes(b"not HDF5")
    done = subprocess.run([sys.executable, "-m", "hfsent", "serve", "--model", str(broken), "--port", "0",
                           "--workers", workers], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr  # that line, nothing else
    assert done.stderr.startswith("hfsent: error:") and "model.weights.h5" in done.stderr
