"""Calls that arrive together, handled together: one transaction for many results.

Workers record outcomes (a carrier's answer, a receipt, a webhook attempt) as they come, from
many tasks at once. Each outcome alone would be a transaction of its own (several statements
and a commit); a `Batcher` instead hands every outcome waiting at that moment to one handler
call, which records them in one transaction. While a batch is being recorded the next one
gathers, so batches grow with the load and a lone outcome waits for nothing.

Callers get their own result only after the handler has returned, that is once the batch's
transaction has committed: nothing is reported done before it is durable. If the handler
fails as a whole, the batch is retried one item at a time, so one bad item cannot fail the
items it happened to share a batch with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# A handler returns, per item in order, its result or the exception that concerns it alone.
Handler = Callable[[list[T]], Awaitable[Sequence[R | Exception]]]


class BatcherClosed(RuntimeError):
    pass


class Batcher(Generic[T, R]):
    def __init__(self, handler: Handler[T, R], *, name: str, max_batch: int = 256) -> None:
        self.handler = handler
        self.name = name
        self.max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.batches = 0  # handler calls that succeeded, for tests and benchmarks
        self.items = 0

    async def submit(self, item: T) -> R:
        """Handle `item` with whatever else is waiting; its result once committed.

        The item is handled even if the caller stops waiting for it (is cancelled).
        """
        if self._closed:
            raise BatcherClosed(f"{self.name} is closed")
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)
        return await future

    async def _run(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while not self._closed or self._waiting:
                await self._wakeup.wait()
                self._wakeup.clear()
                while self._waiting:
                    batch = self._waiting[: self.max_batch]
                    del self._waiting[: self.max_batch]
                    await self._flush(batch)
                    batch = []
        except BaseException:
            for _item, future in [*batch, *self._waiting]:
                if not future.done():
                    future.set_exception(BatcherClosed(f"{self.name} stopped"))
            self._waiting.clear()
            raise

    async def _flush(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self.handler([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(batch)} items")
        except Exception as exc:
            if len(batch) > 1:
                log.warning("%s: batch of %d failed (%s); one by one", self.name, len(batch), exc)
                for one in batch:
                    await self._flush([one])
                return
            results = [exc]
        else:
            self.batches += 1
            self.items += len(batch)
        for (_item, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def close(self, timeout: float = 10.0) -> None:
        """Finish what is waiting (for up to `timeout` seconds), then stop.

        Later `submit`s raise `BatcherClosed`, as do items still waiting at the timeout.
        """
        self._closed = True
        self._wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError, BatcherClosed):
                await asyncio.wait_for(self._task, timeout)
            self._task = None
