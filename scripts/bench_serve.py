"""Load test of ``hfsent serve`` on loopback: requests/s, latency percentiles and errors.

``python scripts/bench_serve.py --model MODEL --data ../shared/data/imdb`` (or ``python
scripts/bench.py --serve MODEL``; about 5 minutes on 2 cores) writes the "Serving" section of
BENCHMARKS.md in place, between its markers; ``scripts/bench.py`` keeps that section when it
rewrites the file.

It starts ``hfsent serve`` in a subprocess on a free 127.0.0.1 port, once batching (the
defaults: 32 texts, no wait), once unbatched (``--max-batch 1``) and once with a 5 ms wait (1
and 8 clients), and runs closed-loop
clients against it: 1, 8 and 32 concurrent clients, each sending its next request when the last
is answered, with one IMDB test review per request and with 32.  Each scenario is bounded by
``--requests`` (``--requests 32`` for 32 reviews per request is divided by 8) and ``--seconds``.
The clients run in this process (kept-alive connections on raw asyncio streams) on the same
cores as the server.  Last, the
same model through ``SentimentClassifier.predict`` in this process, without HTTP, and through
the server's model call (:class:`hfsent.fast_predict.FastClassifier`).  Nothing
leaves 127.0.0.1.

The ceiling: the same server, clients and requests with the model's arithmetic replaced by a
constant answer (``--serve-without-model``, this script's own server process): what HTTP,
JSON, tokenizing, the batcher and the answer cost on these cores, so the most requests/s that
any model call could leave.
"""

import argparse
import asyncio
import glob
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import numpy as np
import pyarrow.parquet as pq
from benchmarks import load_said, write_section

BEGIN, END = "<!-- serving: written by scripts/bench_serve.py -->", "<!-- /serving -->"
HOST = "127.0.0.1"
CLIENTS = (1, 8, 32)


def reviews(data: str, n: int, seed: int = 0) -> list[str]:
    """``n`` IMDB test reviews, a seeded sample, from the Hub-layout folder ``data``."""
    files = sorted(glob.glob(f"{data}/plain_text/test-*.parquet"))
    if not files:
        raise SystemExit(f"no plain_text/test-*.parquet under {data}")
    texts = [t for f in files for t in pq.read_table(f, columns=["text"])["text"].to_pylist()]
    return random.Random(seed).sample(texts, min(n, len(texts)))


def serve_without_model(argv: list[str]) -> None:
    """``hfsent serve`` whose model call answers 0.5 for every row at once: the ceiling's server."""
    from hfsent.cli import main
    from hfsent.fast_predict import FastClassifier

    FastClassifier._call_batch = lambda self, padded: np.full(  # the stand-in for the arithmetic
        (len(padded), int(self.model.output_shape[-1])), 0.5, np.float32)
    main(["serve", *argv])


class Server:
    """``hfsent serve`` in a subprocess on a free loopback port, its log in ``log``; with
    ``model_call=False``, the ceiling's server (:func:`serve_without_model`)."""

    def __init__(self, model: str, log: Path, *flags: str, model_call: bool = True) -> None:
        self.log = log
        program = ["-m", "hfsent"] if model_call else [str(Path(__file__).resolve()), "--serve-without-model"]
        command = [sys.executable, *program, "serve", "--model", model, "--host", HOST, "--port", "0"]
        self.proc = subprocess.Popen([*command, *flags], stderr=log.open("w"), stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 900  # the server compiles every batch shape first
        while not (found := re.search(rf"serving .* on (http://{re.escape(HOST)}:\d+)", log.read_text())):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; its log:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        self.url = found.group(1)
        while httpx.get(self.url + "/health").status_code != 200:  # listening: the backlog answers
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes) -> tuple[int, bytes]:
    """One ``POST /`` on a kept-alive HTTP/1.1 connection: ``(status, body)``."""
    writer.write(b"POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (HOST.encode(), len(body), body))
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:"))
    return int(lines[0].split()[1]), await reader.readexactly(length)


async def scenario(url: str, texts: list[str], clients: int, per_request: int, max_requests: int,
                   seconds: float) -> dict:
    """``clients`` closed-loop clients until ``max_requests`` are sent or ``seconds`` are up.

    Each client is a kept-alive connection on raw asyncio streams, not an HTTP library: a load
    generator on the server's own 2 cores should cost as little as it can (as wrk's C does), or
    it measures itself.  Every answer is still checked: status 200 and one result per review."""
    port = int(url.rsplit(":", 1)[1])
    bodies = [json.dumps({"inputs": texts[i:i + per_request]}).encode()
              for i in range(len(texts) - per_request)]
    connections = [await asyncio.open_connection(HOST, port) for _ in range(clients)]
    for i, (reader, writer) in enumerate(connections[:4]):  # warm the connections, not measured
        await _post(reader, writer, bodies[i])
    calls = httpx.get(url + "/info").json()["batches"]
    latencies, errors, sent = [], 0, 0
    deadline = time.perf_counter() + seconds

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal errors, sent
        while sent < max_requests and time.perf_counter() < deadline:
            body = bodies[(sent * per_request) % len(bodies)]
            sent += 1
            start = time.perf_counter()
            try:
                status, answer = await _post(reader, writer, body)
                ok = status == 200 and len(json.loads(answer)) == per_request
            except (OSError, asyncio.IncompleteReadError, ValueError):
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok

    start, before = time.perf_counter(), busy_cores()
    await asyncio.gather(*(client(reader, writer) for reader, writer in connections))
    elapsed, busy = time.perf_counter() - start, busy_cores(before)
    for _, writer in connections:
        writer.close()
    calls = httpx.get(url + "/info").json()["batches"] - calls
    return {**row(clients, per_request, latencies, errors, elapsed),
            "reviews / model call": len(latencies) * per_request / max(calls, 1), "cores busy": busy}


def busy_cores(since: tuple[float, float] | None = None) -> tuple[float, float] | float:
    """The machine's CPU counters now (busy and total jiffies, over all cores, from /proc/stat);
    with ``since``, how many cores were busy on average from then (server, clients and all)."""
    with open("/proc/stat") as stat:
        fields = [float(v) for v in stat.readline().split()[1:]]
    now = (sum(fields) - fields[3] - fields[4], sum(fields))  # idle and iowait are not busy
    if since is None:
        return now
    return (now[0] - since[0]) / max(now[1] - since[1], 1) * (os.cpu_count() or 1)


def row(clients: int, per_request: int, latencies: list[float], errors: int, elapsed: float) -> dict:
    ms = 1000 * np.asarray(latencies)
    return {"clients": clients, "reviews / request": per_request, "requests": len(ms), "errors": errors,
            "requests/s": len(ms) / elapsed, "reviews/s": len(ms) * per_request / elapsed,
            **{f"p{q} ms": float(np.percentile(ms, q)) for q in (50, 95, 99)}}


def in_process(model: str, texts: list[str], max_calls: int, seconds: float) -> list[dict]:
    """The same model through ``predict`` in this process, then through the server's compiled
    model call: one review per call, and 32."""
    from hfsent.fast_predict import FastClassifier
    from hfsent.predict import SentimentClassifier
    from hfsent.server import warm_up

    plain = SentimentClassifier.from_pretrained(model)
    warm_up(plain)  # as the server did before hfsent.fast_predict
    fast = FastClassifier.of(plain)
    fast.compile_shapes()  # as the server does
    rows = []
    for (name, clf), per_call in itertools.product(
            (("`predict` in-process", plain), ("`FastClassifier.predict` in-process", fast)), (1, 8, 32)):
        latencies, deadline = [], time.perf_counter() + seconds
        calls = max_calls // per_call if per_call < 32 else max_calls // 8
        for i in range(calls):
            if time.perf_counter() > deadline:
                break
            first = (i * per_call) % (len(texts) - per_call)
            start = time.perf_counter()
            clf.predict(texts[first:first + per_call])
            latencies.append(time.perf_counter() - start)
        measured = row(1, per_call, latencies, 0, sum(latencies))
        rows.append({"server": f"none: {name}", **measured})
    return rows


def measure(model: str, data: str, max_requests: int, seconds: float, log_dir: Path,
            workers: Sequence[int] = (1,)) -> list[dict]:
    """Every scenario, for each count of ``--workers``: all of them with one, the one-review rows
    of the batched, unbatched and ceiling servers with more."""
    texts = reviews(data, 4096)
    rows = []
    for count in workers:
        single = count == 1  # with more workers, only the one-review rows of three of the servers
        servers = [("batched (32 texts / no wait, the default)", (), (1, 32) if single else (1,), CLIENTS,
                    True),
                   ("unbatched (--max-batch 1)", ("--max-batch", "1"), (1,), CLIENTS, True),
                   *([("batched, a wait (32 texts / 5 ms)", ("--max-wait-ms", "5"), (1,), (1, 8), True)]
                     if single else []),
                   ("ceiling: batched, the model call a constant", (), (1,), CLIENTS, False)]
        for i, (name, flags, sizes, client_counts, model_call) in enumerate(servers):
            server = Server(model, log_dir / f"serve-{count}-{i}.log", *flags, "--workers", str(count),
                            model_call=model_call)
            try:
                for per_request in sizes:
                    for clients in client_counts:
                        n = max_requests if per_request == 1 else max(max_requests // 8, clients)
                        measured = asyncio.run(scenario(server.url, texts, clients, per_request, n, seconds))
                        if count > 1:  # /info counts the calls of whichever worker answers it
                            measured["reviews / model call"] = ""
                        rows.append({"server": name, "workers": count, **measured})
                        print(rows[-1], flush=True)
            finally:
                server.stop()
    return rows + in_process(model, texts, max_requests, seconds)


def alternate(model: str, data: str, counts: Sequence[int], rounds: int, max_requests: int, seconds: float,
              log_dir: Path) -> list[dict]:
    """The default server with each of ``counts`` workers, all started at once and measured in
    turn (8 clients, one review per request), ``rounds`` times: a paired comparison under the
    same load, which separate runs of the whole benchmark (minutes apart) are not."""
    texts = reviews(data, 4096)
    servers = {count: Server(model, log_dir / f"alternate-{count}.log", "--workers", str(count))
               for count in counts}
    rows = []
    try:
        for turn, count in itertools.product(range(rounds), counts):
            measured = asyncio.run(scenario(servers[count].url, texts, 8, 1, max_requests, seconds))
            rows.append({"round": turn + 1, "workers": count, "requests/s": measured["requests/s"],
                         "p50 ms": measured["p50 ms"], "p95 ms": measured["p95 ms"],
                         "cores busy": measured["cores busy"]})
            print(rows[-1], flush=True)
    finally:
        for server in servers.values():
            server.stop()
    return rows


def section(rows: list[dict], command: str, load: str) -> str:
    from bench import table

    verdicts = []
    met = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    for count in dict.fromkeys(r["workers"] for r in rows if "workers" in r):
        at = [r for r in rows if r.get("workers") == count and r["clients"] == 8
              and r["reviews / request"] == 1]
        batched = next(r for r in at if r["server"].startswith("batched"))
        alone = next(r for r in at if r["server"].startswith("unbatched"))
        speedup = batched["requests/s"] / alone["requests/s"]
        verdict = (f"Targets with {count} worker(s), one review per request, 8 clients: p50 ≤ 15 ms — "
                   f"{batched['p50 ms']:.1f} ms, {met(batched['p50 ms'] <= 15)}; ≥ 3× the requests/s of "
                   f"unbatched serving — {speedup:.2f}×, {met(speedup >= 3)}.")
        ceiling = next((r for r in at if r["server"].startswith("ceiling")), None)
        if ceiling is not None:
            verdict += (f" Without the model's arithmetic the same server answers "
                        f"{ceiling['requests/s']:.0f} requests/s (p50 {ceiling['p50 ms']:.1f} ms, "
                        f"{ceiling['cores busy']:.2f} cores busy); the 3× target asks for "
                        f"{3 * alone['requests/s']:.0f} with the model.")
        verdicts.append(verdict)
    verdict = "\n\n".join(verdicts) + (f"\n\nA p50 of 15 ms at 8 clients, each waiting for its answer, "
                                        f"takes about {8 / 0.015:.0f} requests/s.")
    fast = {r["reviews / request"]: r["reviews/s"] for r in rows if r["server"].startswith("none: `Fast")}
    if 1 in fast and 8 in fast:
        verdict += (f" Batching shares only the model call: in one process, without HTTP, the server's call "
                    f"(tokenizing included) does {fast[1]:.0f} reviews/s one at a time and {fast[8]:.0f} "
                    f"eight at a time, {fast[8] / fast[1]:.2f}×.")
    intro = (f"Written by `{command}`: `hfsent serve` in a subprocess on 127.0.0.1, closed-loop clients "
             "(kept-alive HTTP/1.1 connections on raw asyncio streams) in the benchmark's process, on the "
             f"same 2 cores; IMDB test reviews; each scenario is bounded in requests and seconds; {load}. "
             "The last rows are the same model without HTTP, through `predict` and through the server's "
             "model call.")
    why = ("The server's model call is `hfsent.fast_predict`: the GRU compiled by XLA, each step's input "
           "product looked up from a table (`hfsent.fast_gru`), TensorFlow's ops on one thread (all cores "
           "but one), and each request tokenized in a thread of its own while the model computes. "
           "Compiled, a step costs its arithmetic, which grows with the rows of a batch, and a batch pads "
           "every review to its longest one; so batching gains far less than it did when each step's "
           "dispatch, shared by the batch, was the cost. The 3x target was set against that model call. "
           "Unbatched, one review is one call of a millisecond or two (the in-process rows), so the "
           "batched server has little to share. With two workers, two processes take the connections, "
           "each with its own interpreter: one process runs one Python thread at a time, and kept fewer "
           "than the 2 cores busy (the cores-busy column, which counts the whole machine, clients too). "
           "The default wait is none: requests that arrive while the model runs still share the next "
           "call, and a lone request that waits 5 ms comes back more than 5 ms later (compare the rows).")
    return "\n".join([BEGIN, "## Serving (`hfsent serve` under load)", "", intro, "", table(rows), "",
                      verdict, "", why, END])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-without-model"]:
        serve_without_model(argv[2:])  # after the flag, "serve" and its arguments
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder")
    parser.add_argument("--data", default="../shared/data/imdb", help="IMDB in the Hub layout")
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario at most")
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds per scenario at most")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="server processes (hfsent serve --workers), one run of the scenarios each")
    parser.add_argument("--alternate", type=int, default=0, metavar="ROUNDS",
                        help="only print a paired comparison of the --workers counts, ROUNDS turns each")
    parser.add_argument("--output", default="BENCHMARKS.md")
    args = parser.parse_args(argv)
    if args.alternate:
        from bench import table

        with tempfile.TemporaryDirectory() as log_dir:
            rows = alternate(args.model, args.data, args.workers, args.alternate, args.requests, args.seconds,
                             Path(log_dir))
        print(table(rows))
        return
    command = "python scripts/bench_serve.py " + " ".join(argv)
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as log_dir:  # the servers' access logs
        rows = measure(args.model, args.data, args.requests, args.seconds, Path(log_dir), args.workers)
    write_section(Path(args.output), BEGIN, END, section(rows, command, load_said(before)))
    print(f"wrote the serving section of {args.output}")


if __name__ == "__main__":
    main()
