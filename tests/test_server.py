"""``hfsent serve``: answers equal to predict's under concurrent load, each limit's status code,
/health and /info, the start-up errors, and a graceful SIGTERM.

The server runs in-process (uvicorn in a thread, on a free loopback port) on the tiny GRU
fixture; the SIGTERM test runs ``hfsent serve`` in a subprocess, as a user does.
"""

import asyncio
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
import uvicorn

from hfsent.saved_config import FORMAT_VERSION
from hfsent.server import Limits, create_app, listen_socket, load_served
from tests.conftest import NEGATION_PROBES
from tests.test_serving import assert_same_answers

LIMITS = Limits(max_batch=32, max_wait_ms=5, max_texts=8, max_body_bytes=4096)
TEXTS = [*NEGATION_PROBES, "a great wonderful film", "the worst , most boring plot", "not awful at all"]


@pytest.fixture(scope="module")
def server(trained):
    """The URL of a server of the tiny GRU, and the app (to read its batch count)."""
    info = {"model": "tiny", "revision": None, "task": "sentiment", "labels": ["negative", "positive"],
            "format_version": FORMAT_VERSION}
    sock = listen_socket("127.0.0.1", 0)
    app = create_app(trained.classifier, info, LIMITS)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if uv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    uv.should_exit = True
    thread.join(10)


async def _load(url: str, clients: int, per_client: int) -> tuple[list, list]:
    """``clients`` concurrent clients, each sending ``per_client`` requests one after another."""
    answers, errors = [], []

    async def client(c: int) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            for i in range(per_client):
                n = 1 + (c + i) % 3  # one, two or three texts per request
                texts = [TEXTS[(c * 7 + i + j) % len(TEXTS)] for j in range(n)]
                payload = {"inputs": texts[0] if n == 1 and i % 2 else texts}
                response = await http.post("/", json=payload)
                if response.status_code != 200:
                    errors.append((response.status_code, response.text))
                else:
                    answers.append((texts, response.json()))

    await asyncio.gather(*(client(c) for c in range(clients)))
    return answers, errors


def test_sixteen_clients_get_predicts_answers_and_share_model_calls(server, trained):
    before = httpx.get(server + "/info").json()["batches"]
    answers, errors = asyncio.run(_load(server, clients=16, per_client=20))
    assert errors == [] and len(answers) == 320
    expected = dict(zip(TEXTS, trained.classifier.ranked(TEXTS)))
    for texts, answer in answers:
        assert_same_answers(answer, [expected[t] for t in texts], atol=1e-5)
    batches = httpx.get(server + "/info").json()["batches"] - before
    assert batches < len(answers), "concurrent requests were not batched"


def test_top_k_and_one_string(server, trained):
    response = httpx.post(server, json={"inputs": TEXTS[0], "parameters": {"top_k": 1}})
    assert response.status_code == 200
    assert_same_answers(response.json(), [trained.classifier.ranked(TEXTS[:1], top_k=1)[0]])


@pytest.mark.parametrize("body, status, message", [
    (b'{"inputs": ["fine"', 400, "not JSON"),
    (b"\xff\xfe\x00garbage", 400, "not JSON"),
    (b"[" * 3000, 400, "not JSON"),  # nested too deep for Python's parser
    (b'{"text": "fine"}', 422, 'of the form {"inputs"'),
    (b'["fine"]', 422, 'of the form {"inputs"'),
    (b'{"inputs": 3}', 422, "a text or a non-empty list"),
    (b'{"inputs": []}', 422, "a text or a non-empty list"),
    (b'{"inputs": ["fine", null]}', 422, r'"inputs"\[1\] is NoneType'),
    (b'{"inputs": "fine", "parameters": [1]}', 422, '"parameters" must be an object'),
    (b'{"inputs": "fine", "parameters": {"top_k": 0}}', 422, "top_k must be a whole number"),
    (b'{"inputs": "fine", "parameters": {"top_k": true}}', 422, "top_k must be a whole number"),
    (b'{"inputs": ["fine", "   "]}', 422, "contain no tokens"),
    (json.dumps({"inputs": ["fine"] * 9}).encode(), 413, "9 texts in one request; the limit is 8"),
    (json.dumps({"inputs": "a" * 5000}).encode(), 413, "the limit is 4096"),
])
def test_each_limit_and_bad_payload_is_a_json_error(server, body, status, message):
    response = httpx.post(server, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert re.search(message, response.json()["error"])


def test_a_streamed_body_over_the_limit_is_413_without_a_content_length(server):
    def chunks():
        yield b'{"inputs": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    response = httpx.post(server, content=chunks())  # chunked: the size is known only as it streams
    assert response.status_code == 413 and "over the limit of 4096 bytes" in response.json()["error"]


def test_health_info_and_unknown_paths(server):
    assert httpx.get(server + "/health").json() == {"status": "ok"}
    info = httpx.get(server + "/info").json()
    assert info["labels"] == ["negative", "positive"] and info["task"] == "sentiment"
    assert info["format_version"] == FORMAT_VERSION and info["limits"]["max_texts"] == 8
    missing = httpx.get(server + "/nothing")
    assert missing.status_code == 404 and missing.json() == {"error": "Not Found"}
    assert httpx.get(server).status_code == 405


def test_a_port_in_use_is_one_error_line(trained):
    # In a process of its own, as a user runs it: in this one, the module's server thread may log
    # a request's access line late, onto whatever stderr a test has captured by then.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "hfsent", "serve", "--model", str(trained.output_dir),
                               "--port", str(port)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    err = done.stderr
    assert err.startswith(f"hfsent: error: cannot listen on 127.0.0.1:{port}: ") and err.count("\n") == 1


def test_sigterm_finishes_the_request_in_flight(trained, tmp_path):
    # A lone request waits up to --max-wait-ms for company: 1 s, so it is in flight at SIGTERM.
    proc = subprocess.Popen([sys.executable, "-m", "hfsent", "serve", "--model", str(trained.output_dir),
                             "--port", "0", "--max-wait-ms", "1000"],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    try:
        url, seen = None, []
        while url is None:
            line = lines.get(timeout=120)
            seen.append(line)
            found = re.search(r"serving .* on (http://127\.0\.0\.1:\d+)", line)
            url = found and found.group(1)
        result: dict = {}
        request = threading.Thread(target=lambda: result.update(
            response=httpx.post(url, json={"inputs": TEXTS[0]}, timeout=60)))
        request.start()
        time.sleep(0.4)  # the request is read and waiting in the batcher
        proc.send_signal(signal.SIGTERM)
        request.join(60)
        assert result["response"].status_code == 200
        assert_same_answers(result["response"].json(), trained.classifier.ranked(TEXTS[:1]))
        assert proc.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it is done
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/health")
    finally:
        proc.kill()
        proc.wait()
    while not lines.empty():
        seen.append(lines.get_nowait())
    access = [line for line in seen if '"POST / HTTP/1.1"' in line]
    assert len(access) == 1 and re.match(r'127\.0\.0\.1 - - \[[^]]+\] "POST / HTTP/1\.1" 200 \d+ ', access[0])


def test_info_names_a_hub_models_commit_and_no_local_path(trained, hub):
    from hfsent.hub import push_to_hub

    commit = push_to_hub(trained.output_dir, "tester/served-info")
    _, info = load_served("tester/served-info")
    assert info["model"] == "tester/served-info" and info["revision"] == commit.oid
    _, local = load_served(str(trained.output_dir))
    assert local["model"] == trained.output_dir.name and local["revision"] is None
    assert local["format_version"] == info["format_version"] == FORMAT_VERSION
    assert local["labels"] == info["labels"] == ["negative", "positive"]


def test_the_batcher_prepares_jobs_off_the_models_thread_and_raises_a_preparing_error_to_its_caller():
    from hfsent.batcher import Batcher

    threads: dict[str, set[str]] = {"prepare": set(), "run": set(), "loop": set()}

    def prepare(job: str) -> str:
        threads["prepare"].add(threading.current_thread().name)
        if job == "bad":
            raise ValueError("cannot prepare this job")
        return job.upper()

    def run(jobs: list[str]) -> list[str]:
        threads["run"].add(threading.current_thread().name)
        return [job + "!" for job in jobs]

    async def go() -> tuple[list[str], str]:
        threads["loop"].add(threading.current_thread().name)
        batcher = Batcher(run, size=lambda job: 1, max_batch=4, max_wait=0.01, prepare=prepare)
        await batcher.start()
        answers = await asyncio.gather(batcher.submit("a"), batcher.submit("b"))
        with pytest.raises(ValueError, match="cannot prepare"):
            await batcher.submit("bad")
        after = await batcher.submit("c")  # the batcher goes on
        await batcher.stop()
        return answers, after

    answers, after = asyncio.run(go())
    assert answers == ["A!", "B!"] and after == "C!"
    assert threads["prepare"] and threads["run"]
    assert threads["prepare"].isdisjoint(threads["run"] | threads["loop"])


def test_stop_answers_a_job_still_being_prepared():
    from hfsent.batcher import Batcher

    def prepare(job: str) -> str:
        time.sleep(0.3)
        return job

    async def go() -> str:
        batcher = Batcher(lambda jobs: [j + "!" for j in jobs], size=lambda job: 1, prepare=prepare)
        await batcher.start()
        pending = asyncio.create_task(batcher.submit("late"))
        await asyncio.sleep(0.05)  # in prepare now, not yet queued
        await batcher.stop()
        return await asyncio.wait_for(pending, 2)

    assert asyncio.run(go()) == "late!"


def test_share_cores_leaves_one_core_to_the_event_loop_and_keeps_pools_that_already_run():
    def run(code: str) -> list[str]:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        prelude = "import tensorflow as tf\nfrom hfsent.server import share_cores, usable_cores\n"
        out = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True,
                             check=True, env=env)
        return out.stdout.split()

    first, intra, inter, cores = map(int, run(
        "print(share_cores(), tf.config.threading.get_intra_op_parallelism_threads(),"
        " tf.config.threading.get_inter_op_parallelism_threads(), usable_cores())"))
    assert first == intra == max(1, cores - 1) and inter == 1
    # TensorFlow started first, with its default pools: they are kept, and the server says so
    late, intra = run("tf.constant(1) + 1\n"
                      "print(share_cores(), tf.config.threading.get_intra_op_parallelism_threads())")
    assert late == "None" and intra == "0"
