"""The sandbox carrier: a simulated phone network with virtual handsets.

It accepts every submission at once and reports a receipt after a short delay, except for
the magic destinations in `switchboard.domain.sandbox`, which fail in documented ways.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Literal

from switchboard.carriers.base import (
    Accepted,
    CarrierEvents,
    DeliveryReport,
    MobileOriginated,
    OutboundSubmission,
    Refused,
    SubmitResult,
)
from switchboard.domain.errors import DELIVERY_ERRORS
from switchboard.domain.ids import new_id
from switchboard.domain.sandbox import behaviour_for

log = logging.getLogger(__name__)


class SandboxCarrier:
    name = "sandbox"

    def __init__(self, delivery_delay: float = 0.2, unconfirmed_after: float = 2.0) -> None:
        self.delivery_delay = delivery_delay
        self.unconfirmed_after = unconfirmed_after
        self._events: CarrierEvents | None = None
        self._pending: set[asyncio.Task[None]] = set()

    async def start(self, events: CarrierEvents) -> None:
        self._events = events

    async def submit(self, submission: OutboundSubmission) -> SubmitResult:
        behaviour = behaviour_for(submission.to)
        if behaviour.outcome == "refused":
            code = behaviour.error_code or "40008"
            return Refused(code=code, detail=DELIVERY_ERRORS.get(code, behaviour.description))
        carrier_id = f"sbx-{submission.message_id}"
        self.expect_receipt(submission.to, carrier_id)
        return Accepted(carrier_message_id=carrier_id)

    def expect_receipt(self, to: str, carrier_message_id: str) -> None:
        """Schedule the receipt for an accepted message (also used to resume after restart)."""
        task = asyncio.get_running_loop().create_task(self._report(to, carrier_message_id))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _report(self, to: str, carrier_message_id: str) -> None:
        behaviour = behaviour_for(to)
        delay = (
            self.unconfirmed_after
            if behaviour.outcome == "delivery_unconfirmed"
            else self.delivery_delay
        )
        await asyncio.sleep(delay)
        status = behaviour.outcome if behaviour.outcome != "refused" else "delivery_failed"
        report = DeliveryReport(
            carrier=self.name,
            carrier_message_id=carrier_message_id,
            status=status,
            error_code=behaviour.error_code,
            error_detail=behaviour.description if behaviour.error_code else None,
            occurred_at=datetime.now(UTC),
        )
        if self._events is None:
            return
        try:
            await self._events.delivery_report(report)
        except Exception:  # a failed report must not kill the loop; it is logged and retried
            log.exception("sandbox receipt for %s failed", carrier_message_id)

    async def handset_sends(
        self,
        from_: str,
        to: str,
        text: str,
        message_type: Literal["SMS", "MMS", "WHATSAPP"] = "SMS",
        media_urls: tuple[str, ...] = (),
    ) -> str:
        """A virtual handset sends a message to `to`, reported like any network's MO.

        Returns the network's id for it once the platform has taken it; an error while the
        platform stores it propagates to the caller (a real network would retry).
        """
        if self._events is None:
            raise RuntimeError("the sandbox network is not started")
        carrier_id = f"sbx-mo-{new_id()}"
        await self._events.mobile_originated(
            MobileOriginated(
                carrier=self.name,
                from_=from_,
                to=to,
                text=text,
                message_type=message_type,
                media_urls=media_urls,
                received_at=datetime.now(UTC),
                carrier_message_id=carrier_id,
            )
        )
        return carrier_id

    async def stop(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        self._pending.clear()
