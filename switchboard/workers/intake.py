"""Carrier events → the store. Receipts that arrive before their message is known wait."""

from __future__ import annotations

import asyncio
import logging

from switchboard.carriers.base import DeliveryReport, MobileOriginated
from switchboard.services import delivery, inbound
from switchboard.services.runtime import Runtime

log = logging.getLogger(__name__)

RECEIPT_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class CarrierIntake:
    """Implements `CarrierEvents` for every carrier of this process."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._retries: set[asyncio.Task[None]] = set()

    async def delivery_report(self, report: DeliveryReport) -> None:
        if await delivery.apply_delivery_report(self.rt, report):
            return
        # A receipt can overtake the carrier's submit acknowledgement: retry for a while.
        task = asyncio.get_running_loop().create_task(self._retry(report))
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _retry(self, report: DeliveryReport) -> None:
        for delay in RECEIPT_RETRY_DELAYS:
            await asyncio.sleep(delay)
            if await delivery.apply_delivery_report(self.rt, report):
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
