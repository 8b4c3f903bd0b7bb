"""``hfsent serve``: a model behind HTTP, on FastAPI and uvicorn (the optional extra ``hfsent[serve]``).

=============  ===============================================================================
``POST /``     the Inference API payload, ``{"inputs": str | [str], "parameters": {"top_k": N}}``,
               answered as the Endpoint handler answers it (:mod:`hfsent.serving`, same code)
``GET /health`` ``{"status": "ok"}`` once the model is loaded
``GET /info``  model, task, labels, format version, revision (a Hub model's commit), limits
=============  ===============================================================================

Concurrent requests share model calls (:mod:`hfsent.batcher`): each request is tokenized in a
thread of its own, and the model runs in another, so the event loop keeps reading requests and
the next ones are tokenized while the model computes.  The model's GRU runs compiled by XLA, its
input products looked up (:mod:`hfsent.fast_predict`, :mod:`hfsent.fast_gru`), for every batch
shape before the port answers; TensorFlow's ops get all cores but one (:func:`share_cores`).

Every refusal is JSON ``{"error": "..."}``: a body over ``max_body_bytes`` (by its
Content-Length, or as it streams in) or more than ``max_texts`` texts is 413, a body that is
not JSON 400, a payload of the wrong shape or types (or a text with no token) 422.  SIGTERM or
Ctrl-C stops accepting connections and finishes the requests in flight (uvicorn's graceful
shutdown).  Each request is logged on stderr in the Common Log Format, plus its duration in
milliseconds.

The access log is :mod:`hfsent.request_log`'s; loading the model and describing it for
``/info``, :mod:`hfsent.served_model`'s.

Limits: plain HTTP, in one process unless ``workers`` asks for more (:mod:`hfsent.serve_workers`);
put it behind a reverse proxy for TLS or the open internet.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hfsent import __version__
from hfsent.cores import usable_cores
from hfsent.errors import InputError
from hfsent.request_log import AccessLog, access_log
from hfsent.served_model import load_served, warm_up

if TYPE_CHECKING:
    from hfsent.predict import SentimentClassifier

__all__ = ["BACKLOG", "GRACEFUL_SECONDS", "AccessLog", "Limits", "access_log", "create_app", "listen_socket",
           "load_served", "serve", "serve_on", "share_cores", "usable_cores", "warm_up"]

log = logging.getLogger(__name__)
GRACEFUL_SECONDS = 30  # how long SIGTERM waits for requests in flight
BACKLOG = 2048  # uvicorn's default


@dataclass(frozen=True)
class Limits:
    """What one server accepts and how it batches (see the module docstring)."""

    max_batch: int = 32  # texts per model call; 1 turns batching off
    # How long a lone request waits for company.  0: none; requests that come while the model
    # runs still share the next call, and on busy cores a timer wakes late (BENCHMARKS.md).
    max_wait_ms: float = 0.0
    max_texts: int = 256  # texts per request
    max_body_bytes: int = 1 << 20


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes | JSONResponse:
    """The body, or a 413 as soon as its declared or streamed size passes ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            return _error(400, "Content-Length is not a number")
        if int(declared) > limit:
            return _error(413, f"the body is {declared} bytes; the limit is {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return _error(413, f"the body is over the limit of {limit} bytes")
    return bytes(body)


def create_app(classifier: SentimentClassifier, info: dict[str, Any], limits: Limits = Limits()) -> FastAPI:
    """The FastAPI app serving ``classifier``; ``info`` is what ``GET /info`` adds to the limits.

    Example:
        >>> app = create_app(SentimentClassifier.load("runs/imdb-gru"), {"model": "imdb-gru"})
        >>> uvicorn.run(app, port=8080)
    """
    from hfsent.batcher import Batcher
    from hfsent.fast_predict import FastClassifier
    from hfsent.serving import TooManyTexts, answer_encoded, encode_request, parse_request

    classifier = FastClassifier.of(classifier)  # the model call compiled by XLA: see hfsent.fast_predict
    # Tokenizing runs in the batcher's preparing thread, while the model's thread computes.
    batcher = Batcher(lambda jobs: answer_encoded(classifier, jobs),
                      prepare=lambda job: encode_request(classifier, job),
                      size=lambda job: 1 if isinstance(job[0], InputError) else len(job[0]),
                      max_batch=limits.max_batch, max_wait=limits.max_wait_ms / 1000)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        await batcher.start()
        yield
        await batcher.stop()  # after the last request: uvicorn waits for those in flight first

    app = FastAPI(title="hfsent", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(AccessLog)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, err: HTTPException) -> JSONResponse:
        return _error(err.status_code, str(err.detail))

    @app.post("/")
    async def predict(request: Request) -> Any:
        body = await _read_body(request, limits.max_body_bytes)
        if isinstance(body, JSONResponse):
            return body
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as err:  # not UTF-8, not JSON, or nested too deep
            return _error(400, f"the body is not JSON: {str(err)[:200]}")
        try:
            job = parse_request(data, limits.max_texts)
        except TooManyTexts as err:
            return _error(413, str(err))
        except InputError as err:
            return _error(422, str(err))
        try:
            answer = await batcher.submit(job)
        except InputError as err:  # e.g. a text with no token
            return _error(422, str(err))
        except Exception:  # logged by the batcher; the client learns no more than this
            return _error(500, "the model failed on this request; see the server's log")
        return JSONResponse(answer)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/info")
    async def about() -> dict[str, Any]:
        return {**info, "hfsent_version": __version__, "limits": asdict(limits), "batches": batcher.batches}

    return app


def listen_socket(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A socket listening on ``host:port`` (0: any free port), or an :class:`InputError` that says
    why not.  ``reuse_port``: one of several on the port (``SO_REUSEPORT``, the same user's only),
    among which the kernel spreads new connections."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait out TIME_WAIT
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(BACKLOG)  # from here connections wait in the backlog, also while the model loads
    except OSError as err:
        raise InputError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    return sock


def share_cores() -> int | None:
    """Give TensorFlow's ops all usable cores but one, and run them one at a time; returns the
    ops' thread count, or None where TensorFlow already runs with other pools (left as they are).

    The server's event loop and its tokenizing thread need a core of their own, and TensorFlow's
    default, a thread per core for each op, spent more CPU time waiting (its threads spin) than
    a model call of a few reviews saves: on 2 cores, 8 clients were served 1.2 times faster with
    one thread (BENCHMARKS.md; more cores were not measured).  Call it before TensorFlow runs
    its first op: after that its pools are fixed.
    """
    import tensorflow as tf

    threads = max(1, usable_cores() - 1)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already ran an op in this process, with other pools
        return None
    return threads


def serve(model: str, host: str = "127.0.0.1", port: int = 8080, revision: str | None = None,
          limits: Limits = Limits(), workers: int = 1, debug: bool = False) -> None:
    """Serve ``model`` until SIGTERM or Ctrl-C, in one process or in ``workers`` processes on one
    port (:mod:`hfsent.serve_workers`).  The port is taken before the model loads, so a port in
    use is reported at once.

    Example:
        >>> serve("runs/imdb-gru", port=8080)  # then: curl -d '{"inputs": "A moving film."}' :8080
    """
    sock = listen_socket(host, port, reuse_port=workers > 1)
    if workers == 1:
        serve_on(sock, model, revision, limits)
        return
    from hfsent.serve_workers import run_workers

    # A socket per worker: one shared socket let the first worker to wake accept every waiting
    # connection, and kept-alive clients then all stayed with it (BENCHMARKS.md, "Serving").
    port = sock.getsockname()[1]
    socks = [sock, *(listen_socket(host, port, reuse_port=True) for _ in range(workers - 1))]
    run_workers(serve_on, socks, (model, revision, limits), debug)


def serve_on(sock: socket.socket, model: str, revision: str | None = None, limits: Limits = Limits()) -> None:
    """Load ``model``, compile it, and serve it on the listening ``sock`` until SIGTERM or Ctrl-C."""
    import uvicorn

    from hfsent.fast_predict import FastClassifier

    threads = share_cores()
    classifier, info = load_served(model, revision)
    # Said once the model has loaded: a model that does not load is the command's one error line.
    if threads is None:
        log.info("model calls run on TensorFlow's thread pools as this process set them before")
    else:
        log.info("model calls run on %d thread(s), one op at a time", threads)
    classifier = FastClassifier.of(classifier)
    warm_up(classifier)
    classifier.compile_shapes(limits.max_batch)  # XLA, once per shape: no client waits for it
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    access_log.propagate = False
    host, port = sock.getsockname()[:2]
    log.info("serving %s on http://%s:%d (POST /, GET /health, GET /info)", info["model"],
             f"[{host}]" if ":" in host else host, port)
    config = uvicorn.Config(create_app(classifier, info, limits), log_config=None, access_log=False,
                            timeout_graceful_shutdown=GRACEFUL_SECONDS, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
