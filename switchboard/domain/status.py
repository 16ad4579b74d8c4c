"""The outbound message status state machine.

`scheduled → queued → sending → sent → delivered | delivery_failed | delivery_unconfirmed`,
with `sending_failed` / `expired` as exits before `sent`, and `cancelled` from `scheduled`.
Every transition a worker makes is checked here, so a late or duplicate carrier report can
never move a message backwards or out of a terminal state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Status = Literal[
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "delivery_failed",
    "delivery_unconfirmed",
    "sending_failed",
    "expired",
    "cancelled",
    "received",
]

TERMINAL: frozenset[str] = frozenset(
    {
        "delivered",
        "delivery_failed",
        "delivery_unconfirmed",
        "sending_failed",
        "expired",
        "cancelled",
    }
)

_ALLOWED: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"queued", "cancelled", "sending_failed"}),
    "queued": frozenset({"sending", "sending_failed", "expired"}),
    # `sending → queued` is a temporary refusal (throttled) or a lease recovered after a crash.
    "sending": frozenset({"sent", "sending_failed", "queued", "expired"}),
    "sent": frozenset({"delivered", "delivery_failed", "delivery_unconfirmed", "expired"}),
}


class InvalidTransition(ValueError):
    pass


def can_transition(current: str, new: str) -> bool:
    return new in _ALLOWED.get(current, frozenset())


def check_transition(current: str, new: str) -> None:
    if not can_transition(current, new):
        raise InvalidTransition(f"a message cannot go from {current!r} to {new!r}")


def public_status(status: str) -> str:
    """The `to[].status` strict SDK models accept outside the cancel endpoint.

    The SDK's outbound model has no `scheduled`/`cancelled`; DECISIONS.md item 1 keeps Telnyx's
    documented values anyway, so this is the identity: callers that need strict-safe output
    for scheduled messages use the cancel endpoint's model.
    """
    return status


def creation_status(message: Mapping[str, Any]) -> str:
    """The status a message was created in: `delivered` for an inbound message,
    `scheduled` for one sent with `send_at`, `queued` for any other.

    Its row records it (with `received_at`), so it is not stored as an event; nothing moves
    a message back into it (`sending → queued` follows a `sending`).
    """
    if message["direction"] == "inbound":
        return "delivered"
    return "scheduled" if message["send_at"] is not None else "queued"


def event_for(status: str) -> str | None:
    """The webhook event a transition into `status` produces."""
    if status == "sent":
        return "message.sent"
    if status in TERMINAL:
        return "message.finalized"
    return None
