"""``hfsent serve --workers N``: N server processes answering on one listening socket.

One process serves its requests one Python thread at a time: the event loop, the tokenizing
thread and the model's thread take turns holding the interpreter, and on 2 cores one process
kept 1.3 of them busy at 8 clients.  Each worker here is a process of its own, with its own
model, batcher and interpreter, and its own listening socket on the one port (``SO_REUSEPORT``):
the kernel spreads new connections among the sockets by a hash of each connection's addresses.
One shared socket did worse: the first worker to wake accepted every connection waiting, and 8
kept-alive clients could all end up on one worker (BENCHMARKS.md, "Serving", for the figures).

Workers are spawned, not forked: TensorFlow's threads do not survive a fork.  Each worker runs
in a process group of its own, so a terminal's Ctrl-C reaches the parent alone, which passes
one SIGTERM to every worker; each then finishes its requests in flight (uvicorn's graceful
shutdown), as a single server does, and exits by that signal; the parent then exits 0.  A user
error in a worker (a model that does not load) is sent to the parent, which stops the others and
raises it, so the command still prints one line.

Limits: a batch holds the requests of one worker's connections only, and a kept-alive
connection stays with the worker that accepted it, so a few long connections may be spread
unevenly (by the hash, not by load); each worker holds its own copy of the model
and compiles its own shapes (memory and start-up time times N).  A worker that ends without
being asked to ends the server: with its error, its exit status, or a line that names its signal
(SIGKILL: the machine's memory killer, say).  A parent that ends without stopping them (SIGKILL)
leaves each worker a SIGTERM from the kernel on Linux (``PR_SET_PDEATHSIG``), so the workers
finish their requests and end too; elsewhere they keep running until stopped.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from hfsent.errors import UserError
from hfsent.orphans import end_with_parent

log = logging.getLogger(__name__)
STOP_SECONDS = 60  # how long a stopped worker may take: uvicorn's graceful 30 s, and some
MAX_MESSAGE = 2000  # a worker's error message through the pipe: far under its buffer
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class WorkerEnded(UserError):
    """A worker process ended without being asked to."""


def _worker(serve_on: Callable[..., None], sock: socket.socket, to_parent: Connection, args: tuple,
            debug: bool, parent: int) -> None:
    """A worker process: its own process group, the command's logging, then ``serve_on(sock, *args)``;
    a user error goes to the parent instead of stderr, so that only the parent prints one line."""
    end_with_parent(parent, signal.SIGTERM)  # uvicorn then stops gracefully
    os.setpgrp()  # a terminal's Ctrl-C goes to the parent alone, which passes it on once
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)  # blocked by the parent while it started us
    from hfsent.preflight import start_tensorflow
    from hfsent.stderr_log import log_to_stderr

    log_to_stderr()
    start_tensorflow(debug)
    try:
        serve_on(sock, *args)
    except UserError as err:
        if debug:
            raise
        with contextlib.suppress(OSError):  # a parent gone has no stderr to give it to
            to_parent.send((type(err).__name__, str(err)[:MAX_MESSAGE]))
        raise SystemExit(2) from None


def run_workers(serve_on: Callable[..., None], socks: list[socket.socket], args: tuple[Any, ...],
                debug: bool = False) -> None:
    """Run ``serve_on(sock, *args)`` for each listening socket of ``socks`` in a spawned process of
    its own, until each has ended; SIGTERM and SIGINT here become one SIGTERM to each.  A worker
    that ends unasked stops the others, then: its user error is raised here (its class when it is
    one of :mod:`hfsent.errors`' kinds); its own failure (a bug: it printed its traceback) ends
    this process with its exit status; or :class:`WorkerEnded` says how it ended."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    processes = [context.Process(target=_worker, args=(serve_on, sock, send, args, debug, os.getpid()),
                                 name=f"hfsent-serve-{i}") for i, sock in enumerate(socks)]
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.exitcode is None:
                os.kill(process.pid, signal.SIGTERM)

    # Blocked while the workers start, so that a signal never finds one without a pid; a worker
    # inherits the mask and unblocks once it has left this process group.
    signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    previous = {sig: signal.signal(sig, stop) for sig in _SIGNALS}
    try:
        for process in processes:
            process.start()
        for sock in socks:  # the workers hold them: once they stop, new connections are refused at once
            sock.close()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        running = list(processes)
        while running:
            ended = wait([p.sentinel for p in running])
            for process in [p for p in running if p.sentinel in ended]:
                process.join()
                running.remove(process)
                if not stopping:
                    stop()
                    for other in running:
                        other.join(STOP_SECONDS)
                    _raise_for(receive, process)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                log.warning("worker %s did not stop in %d s; killed", process.name, STOP_SECONDS)
                process.kill()
                process.join()


def _raise_for(receive: Connection, process: multiprocessing.process.BaseProcess) -> None:
    """Raise what a worker that ended unasked leaves: its user error, its exit status, or
    :class:`WorkerEnded`."""
    if receive.poll():
        name, message = receive.recv()
        from hfsent import errors

        kind = getattr(errors, name, None)
        raise (kind if isinstance(kind, type) and issubclass(kind, UserError) else UserError)(message)
    code = process.exitcode
    if code is not None and code > 0:
        raise SystemExit(code)
    how = f"was killed by signal {-code}" if code else "stopped on its own"
    raise WorkerEnded(f"serve: worker {process.name} {how}; the server stopped")
