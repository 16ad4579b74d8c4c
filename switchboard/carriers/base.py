"""The one small protocol every carrier speaks.

A carrier takes outbound submissions and reports events back (delivery receipts and
mobile-originated messages) through a sink. Workers own the store; carriers never touch it,
so a carrier can be tested with nothing but a sink that records what it is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

SenderType = Literal["long_code", "toll_free", "short_code", "alphanumeric"]
TextEncoding = Literal["GSM-7", "UCS-2"]
FinalStatus = Literal["delivered", "delivery_failed", "delivery_unconfirmed", "expired"]


@dataclass(frozen=True)
class OutboundSubmission:
    """One message to one recipient, ready for the carrier."""

    message_id: str
    sender: str  # E.164, short-code digits or alphanumeric id
    sender_type: SenderType
    to: str  # E.164 (or short code)
    text: str  # the text actually sent (after smart encoding / link rewriting)
    encoding: TextEncoding
    parts: int
    message_type: Literal["SMS", "MMS", "WHATSAPP"] = "SMS"
    media_urls: tuple[str, ...] = ()
    valid_until: datetime | None = None


@dataclass(frozen=True)
class Accepted:
    """The carrier took the message; receipts will quote `carrier_message_id`."""

    carrier_message_id: str


@dataclass(frozen=True)
class Refused:
    """The carrier refused the message outright (it ends as `sending_failed`).

    `retry_after` set means the refusal is temporary (throttling, queue full): the message
    stays queued and is offered again after that many seconds.
    """

    code: str  # Telnyx 40xxx code
    detail: str
    retry_after: float | None = None


SubmitResult = Accepted | Refused


@dataclass(frozen=True)
class DeliveryReport:
    """A carrier's final word on a message it accepted."""

    carrier: str
    carrier_message_id: str
    status: FinalStatus
    error_code: str | None = None  # Telnyx 40xxx code when not delivered
    error_detail: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class MobileOriginated:
    """A message a handset sent to one of our numbers."""

    carrier: str
    from_: str
    to: str
    text: str
    message_type: Literal["SMS", "MMS", "WHATSAPP"] = "SMS"
    media_urls: tuple[str, ...] = field(default=())
    received_at: datetime | None = None
    # The carrier's own id for this message, when it has one: a redelivery of the same id
    # is recorded once.
    carrier_message_id: str | None = None


class CarrierEvents(Protocol):
    """Where a carrier reports what happens after submission. Implemented by workers."""

    async def delivery_report(self, report: DeliveryReport) -> None: ...

    async def mobile_originated(self, message: MobileOriginated) -> None: ...


class Carrier(Protocol):
    """A way out to the phone network."""

    name: str

    async def start(self, events: CarrierEvents) -> None:
        """Connect (bind, open sessions) and begin reporting events to `events`."""

    async def submit(self, submission: OutboundSubmission) -> SubmitResult:
        """Hand one message over; return once the carrier accepted or refused it."""

    async def stop(self) -> None:
        """Finish in-flight work and disconnect cleanly."""
