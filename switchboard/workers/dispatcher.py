"""The dispatcher: claims queued messages and hands them to their carrier.

Carriers answer each submission on their own time; the answers are recorded in batches
(`Batcher`): one transaction for every answer waiting, instead of one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from switchboard.carriers.base import Accepted, Refused, SubmitResult
from switchboard.services import delivery, media
from switchboard.services.runtime import Runtime
from switchboard.workers.batcher import Batcher
from switchboard.workers.carriers import CarrierSet

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self, rt: Runtime, carriers: CarrierSet, worker_id: str, concurrency: int = 64
    ) -> None:
        self.rt = rt
        self.carriers = carriers
        self.worker_id = worker_id
        self._slots = asyncio.Semaphore(concurrency)
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self.media = media.fetcher_for(rt.settings)  # MMS media are fetched before submit
        self.recorder: Batcher[delivery.SubmitOutcome, dict[str, Any] | None] = Batcher(
            self._record_batch, name="dispatcher-results", max_batch=max(concurrency, 1)
        )
        # (carrier, carrier message id) of accepted submissions not yet recorded as `sent`:
        # a receipt that overtakes its `sent` waits for it here instead of a timed retry.
        self._unrecorded: dict[tuple[str, str], asyncio.Event] = {}

    async def _record_batch(
        self, outcomes: list[delivery.SubmitOutcome]
    ) -> list[delivery.Recorded]:
        return await delivery.record_submit_results(self.rt, outcomes)

    async def recorded(self, carrier: str, carrier_message_id: str) -> bool:
        """Wait for the `sent` of this carrier reference if it is being recorded; whether it
        was (True: a receipt that found no message can look again now)."""
        pending = self._unrecorded.get((carrier, carrier_message_id))
        if pending is None:
            return False
        await pending.wait()
        return True

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
        carrier = self.carriers.route(row["from_address"], row["to_address"])
        try:
            try:
                prepared = await media.prepare(self.rt, self.media, row)
                if isinstance(prepared, Refused):  # its media cannot be sent
                    result: SubmitResult = prepared
                else:
                    row = prepared
                    result = await carrier.submit(delivery.submission_for(row))
            except Exception as exc:  # a carrier fault is a temporary refusal, never a loss
                log.exception("carrier %s failed on %s", carrier.name, row["id"])
                result = Refused(code="40006", detail=str(exc), retry_after=5.0)
            await self.record(delivery.SubmitOutcome(row, carrier.name, result))
        except Exception:
            # The row stays in `sending`; the lease recovery requeues it.
            log.exception("recording the outcome of %s failed", row["id"])
        finally:
            self._slots.release()

    async def record(self, outcome: delivery.SubmitOutcome) -> None:
        """Record a carrier's answer with the others waiting; returns once it is committed."""
        ref = None
        if isinstance(outcome.result, Accepted):
            ref = (outcome.carrier, outcome.result.carrier_message_id)
            self._unrecorded.setdefault(ref, asyncio.Event())
        try:
            await self.recorder.submit(outcome)
        finally:
            if ref is not None and (pending := self._unrecorded.pop(ref, None)) is not None:
                pending.set()

    async def stop(self) -> None:
        self._stopping.set()
        self.rt.wake_dispatcher()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        await self.recorder.close()
        await media.close(self.media)
