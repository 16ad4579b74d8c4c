"""The dispatcher: claims queued messages and hands them to their carrier."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from switchboard.carriers.base import Carrier, Refused, SubmitResult
from switchboard.services import delivery
from switchboard.services.runtime import Runtime

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self, rt: Runtime, carrier: Carrier, worker_id: str, concurrency: int = 64
    ) -> None:
        self.rt = rt
        self.carrier = carrier
        self.worker_id = worker_id
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        settings = self.rt.settings.dispatcher
        while not self._stopping.is_set():
            try:
                rows = await delivery.claim(self.rt, self.worker_id, settings.batch_size)
            except Exception:
                log.exception("claiming messages failed; retrying")
                rows = []
            for row in rows:
                await self._slots.acquire()
                task = asyncio.create_task(self._submit(row))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            if len(rows) < settings.batch_size:
                await self._idle(settings.poll_interval)

    async def _idle(self, timeout: float) -> None:
        wakeup = self.rt.dispatch_wakeup
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), timeout)
        wakeup.clear()

    async def _submit(self, row: dict[str, Any]) -> None:
        try:
            try:
                result: SubmitResult = await self.carrier.submit(delivery.submission_for(row))
            except Exception as exc:  # a carrier fault is a temporary refusal, never a loss
                log.exception("carrier %s failed on %s", self.carrier.name, row["id"])
                result = Refused(code="40006", detail=str(exc), retry_after=5.0)
            await delivery.record_submit_result(self.rt, row, self.carrier.name, result)
        except Exception:
            # The row stays in `sending`; the lease recovery requeues it.
            log.exception("recording the outcome of %s failed", row["id"])
        finally:
            self._slots.release()

    async def stop(self) -> None:
        self._stopping.set()
        self.rt.wake_dispatcher()
        await asyncio.gather(*self._inflight, return_exceptions=True)
