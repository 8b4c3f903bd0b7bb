"""Micro-batching for the server: requests that arrive together share one model call.

Each request is first prepared (``prepare``: the server tokenizes it) in a worker thread of its
own, then put on an asyncio queue.  One collector task takes the first waiting request,
then keeps taking requests until the batch holds ``max_batch`` texts or ``max_wait`` seconds
have passed since the first, and runs the model on the whole batch in one worker thread.  The
event loop stays free meanwhile, so requests keep arriving (and queueing) while the model runs:
under load the batches fill by themselves, and alone a request waits at most ``max_wait``.
Preparing in its own thread keeps that work off the model's: the model's thread releases the
GIL while TensorFlow computes, and the next requests are tokenized meanwhile (BENCHMARKS.md).

Limits: one model call at a time (two in flight were measured once on 2 cores, within the
spread of repeated runs, and not kept: BENCHMARKS.md); a single request of more than
``max_batch`` texts is a batch of its own, not split.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

Job = TypeVar("Job")


class Batcher(Generic[Job]):
    """Gathers jobs into batches for ``run``, which maps a list of jobs to one result per job
    (an exception instance is raised to that job's caller).  ``size(job)`` is its number of texts.
    ``prepare``, if given, maps each job before it is queued, in one thread of its own; ``run``
    and ``size`` then see prepared jobs.  An exception in ``prepare`` is logged and raised to its
    caller, so ``prepare`` returns the refusals it expects (a text with no token) as values.

    Example:
        >>> batcher = Batcher(lambda jobs: [len(j) for j in jobs], size=len, max_batch=32)
        >>> await batcher.start()
        >>> await batcher.submit(["a", "b"])
        2
    """

    def __init__(self, run: Callable[[Sequence[Job]], list[Any]], size: Callable[[Job], int],
                 max_batch: int = 32, max_wait: float = 0.005,
                 prepare: Callable[[Any], Job] | None = None) -> None:
        if max_batch < 1 or max_wait < 0:
            raise ValueError(f"max_batch must be ≥ 1 and max_wait ≥ 0, got {max_batch} and {max_wait}")
        self.run, self.size, self.max_batch, self.max_wait = run, size, max_batch, max_wait
        self.prepare = prepare
        self._queue: asyncio.Queue[tuple[Job, asyncio.Future]] = asyncio.Queue()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hfsent-model")
        self._preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hfsent-prepare")
        self._task: asyncio.Task | None = None
        self._busy = False  # a batch is being gathered or run
        self._preparing = 0  # jobs in prepare, not yet queued: stop() waits for them too
        self.batches = 0  # how many model calls so far, for /info and tests

    async def start(self) -> None:
        self._task = asyncio.create_task(self._collect(), name="hfsent-batcher")

    async def stop(self) -> None:
        """Answer what is queued, then stop (the server calls this after its last request)."""
        while not self._queue.empty() or self._busy or self._preparing:
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._worker.shutdown(wait=True)
        self._preparer.shutdown(wait=True)

    async def submit(self, job: Any) -> Any:
        """``run``'s result for ``job`` (prepared first), computed in a batch with what else waits."""
        loop = asyncio.get_running_loop()
        if self.prepare is not None:
            self._preparing += 1
            try:
                job = await loop.run_in_executor(self._preparer, self.prepare, job)
            except Exception:  # a bug: prepare returns the refusals it expects as values
                log.exception("preparing a request failed")
                raise
            finally:
                self._preparing -= 1
        future = loop.create_future()
        await self._queue.put((job, future))
        return await future

    async def _take(self) -> list[tuple[Job, asyncio.Future]]:
        """The next batch: the first waiting job, and more until it is full or ``max_wait`` is up."""
        batch = [await self._queue.get()]
        self._busy = True  # from here until its answers are out: stop() waits for them
        texts = self.size(batch[0][0])
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while texts < self.max_batch:
            if self._queue.empty():
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), left)
                except asyncio.TimeoutError:  # not yet the built-in TimeoutError on 3.10
                    break
            else:
                item = self._queue.get_nowait()
            batch.append(item)
            texts += self.size(item[0])
        return batch

    async def _collect(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._take()
            jobs = [job for job, _ in batch]
            try:
                results = await loop.run_in_executor(self._worker, self.run, jobs)
            except Exception as err:  # a bug in run: every caller of the batch gets it, the server goes on
                log.exception("model call failed for a batch of %d request(s)", len(jobs))
                results = [err] * len(jobs)
            self._busy = False
            self.batches += 1
            for (_, future), result in zip(batch, results):
                if future.done():  # its caller went away (client disconnected)
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
