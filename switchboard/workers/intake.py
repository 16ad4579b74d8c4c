"""Carrier events → the store. Receipts that arrive before their message is known wait.

Receipts are applied in batches (`Batcher`): every receipt waiting at that moment in one
transaction. A carrier hears back (its receipt is acknowledged) only once that commit is
durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from switchboard.carriers.base import DeliveryReport, MobileOriginated
from switchboard.services import delivery, inbound
from switchboard.services.runtime import Runtime
from switchboard.workers.batcher import Batcher

log = logging.getLogger(__name__)

RECEIPT_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)

# Waits until a (carrier, carrier message id) being recorded as `sent` is recorded; whether
# it was being recorded (the dispatcher's `recorded`).
SentWaiter = Callable[[str, str], Awaitable[bool]]


class CarrierIntake:
    """Implements `CarrierEvents` for every carrier of this process."""

    def __init__(self, rt: Runtime, sent_recorded: SentWaiter | None = None) -> None:
        self.rt = rt
        self.sent_recorded = sent_recorded
        self._retries: set[asyncio.Task[None]] = set()
        self.receipts: Batcher[DeliveryReport, bool] = Batcher(self._apply_batch, name="receipts")

    async def _apply_batch(self, reports: list[DeliveryReport]) -> list[bool]:
        return await delivery.apply_delivery_reports(self.rt, reports)

    async def delivery_report(self, report: DeliveryReport) -> None:
        if await self.receipts.submit(report):
            return
        # A receipt can overtake the carrier's submit acknowledgement: when this process is
        # recording that acknowledgement, wait for it; otherwise retry for a while.
        if (
            self.sent_recorded is not None
            and await self.sent_recorded(report.carrier, report.carrier_message_id)
            and await self.receipts.submit(report)
        ):
            return
        task = asyncio.get_running_loop().create_task(self._retry(report))
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _retry(self, report: DeliveryReport) -> None:
        for delay in RECEIPT_RETRY_DELAYS:
            await asyncio.sleep(delay)
            if await self.receipts.submit(report):
                return
        log.warning(
            "receipt from %s for unknown message id %s dropped",
            report.carrier,
            report.carrier_message_id,
        )

    async def mobile_originated(self, message: MobileOriginated) -> None:
        """Store and route a handset's message; returns once it is committed.

        A failure propagates so the carrier does not acknowledge the message and the network
        delivers it again.
        """
        try:
            await inbound.receive(self.rt, message)
        except Exception:
            log.exception("inbound message from %s to %s not stored", message.from_, message.to)
            raise

    async def stop(self) -> None:
        for task in list(self._retries):
            task.cancel()
        await asyncio.gather(*self._retries, return_exceptions=True)
        await self.receipts.close()
