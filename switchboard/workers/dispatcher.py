"""The dispatcher: claims queued messages and hands them to their carrier.

Carriers answer each submission on their own time; the answers are recorded in batches
(`Batcher`): one transaction for every answer waiting, instead of one each.

At most `concurrency` messages are held at once, each from its claim until its carrier's
answer is committed. The dispatcher claims only as many rows as it has free slots for, so a
claimed row is handed to its carrier at once and never waits in memory for a slot (where
its lease could run out); it waits until a fair share of the slots is free, so claims stay
large under load instead of one row per freed slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from switchboard.carriers.base import Accepted, Refused, SubmitResult
from switchboard.carriers.smpp.carrier import SmppCarrier
from switchboard.services import delivery, media
from switchboard.services.runtime import Runtime
from switchboard.workers.batcher import Batcher
from switchboard.workers.carriers import CarrierSet

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 64  # the least: the sandbox, and SMPP carriers with small windows


def concurrency_for(carriers: CarrierSet) -> int:
    """Messages the dispatcher holds at once when `dispatcher.concurrency` is not set.

    Twice the SMPP carriers' total window (binds x window, summed), and at least 64. A slot
    is held from the claim until the carrier's answer is committed, so with exactly one
    window's worth the window drains while answers are being recorded; the second window
    keeps it full meanwhile.
    """
    window = sum(
        c.config.binds * c.config.window
        for c in carriers.carriers.values()
        if isinstance(c, SmppCarrier)
    )
    return max(DEFAULT_CONCURRENCY, 2 * window)


class Dispatcher:
    def __init__(
        self,
        rt: Runtime,
        carriers: CarrierSet,
        worker_id: str,
        concurrency: int | None = None,
    ) -> None:
        """`concurrency` None: `dispatcher.concurrency` from the settings, or when that is
        unset, `concurrency_for(carriers)`."""
        self.rt = rt
        self.carriers = carriers
        self.worker_id = worker_id
        if concurrency is None:
            concurrency = rt.settings.dispatcher.concurrency or concurrency_for(carriers)
        self.concurrency = concurrency
        self._free = concurrency  # slots: messages claimed and not yet recorded
        self._slot_freed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._held: set[str] = set()  # ids claimed and not yet recorded: their leases are kept
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
        renewing = asyncio.create_task(self._renew_leases(), name="dispatcher-leases")
        try:
            await self._dispatch()
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew_leases(self) -> None:
        """Every third of a lease, renew the claims still held: a submission waiting for a
        bind or a slow carrier must not be taken for a dead worker's and sent again."""
        interval = self.rt.settings.dispatcher.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            if not self._held:
                continue
            try:
                await delivery.renew_claims(self.rt, self.worker_id, sorted(self._held))
            except Exception:
                log.exception("renewing claims failed; retrying")

    async def _dispatch(self) -> None:
        settings = self.rt.settings.dispatcher
        # Claim when this many slots are free (or fewer, when that is every slot).
        enough = min(settings.batch_size, max(1, self.concurrency // 2))
        while not self._stopping.is_set():
            await self._wait_for_slots(enough)
            if self._stopping.is_set():
                break
            limit = min(settings.batch_size, self._free)
            try:
                rows = await delivery.claim(self.rt, self.worker_id, limit)
            except Exception:
                log.exception("claiming messages failed; retrying")
                rows = []
            for row in rows:
                if self._free <= 0:  # more rows than asked for: they wait for slots
                    await self._wait_for_slots(1)
                self._free -= 1
                self._held.add(row["id"])
                task = asyncio.create_task(self._submit(row))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            if len(rows) < limit:
                await self._idle(settings.poll_interval)

    async def _wait_for_slots(self, enough: int) -> None:
        while self._free < enough and not self._stopping.is_set():
            self._slot_freed.clear()
            await self._slot_freed.wait()

    def _release_slot(self) -> None:
        self._free += 1
        self._slot_freed.set()

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
            self._held.discard(row["id"])
            self._release_slot()

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
        self._slot_freed.set()
        self.rt.wake_dispatcher()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        await self.recorder.close()
        await media.close(self.media)
