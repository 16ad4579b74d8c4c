"""Helpers shared by the sending tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import telnyx

from switchboard.services import events
from tests.harness import Server, new_number, wait_for

TERMINAL = {
    "delivered",
    "delivery_failed",
    "delivery_unconfirmed",
    "sending_failed",
    "expired",
    "cancelled",
}


def loose_client(server: Server) -> telnyx.Telnyx:
    """An SDK client *without* strict response validation.

    Only for responses that carry `to[].status: "scheduled"` or `"cancelled"` outside the
    cancel endpoint: Switchboard reports those values as Telnyx documents them (DECISIONS
    item 1), but the SDK 4.189.0 strict models for send/schedule/retrieve do not list them
    (common.md §8.4), so a strict client would reject a correct answer. Everything else is
    checked with the strict client.
    """
    return telnyx.Telnyx(
        api_key=server.api_key,
        base_url=server.api_url,
        _strict_response_validation=False,
        max_retries=0,
    )


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def new_sender(
    client: telnyx.Telnyx, destinations: list[str] | None = None, number: str | None = None
) -> tuple[str, str]:
    """A new profile and a long code assigned to it: (profile id, number)."""
    profile = client.messaging_profiles.create(
        name="Sending tests", whitelisted_destinations=destinations or ["US"]
    ).data
    assert profile is not None and profile.id
    number = number or new_number()
    client.number_orders.create(
        phone_numbers=[{"phone_number": number}], messaging_profile_id=profile.id
    )
    return profile.id, number


def row(server: Server, message_id: str) -> dict[str, Any]:
    rows = server.query("SELECT * FROM messages WHERE id = :id", id=message_id)
    assert len(rows) == 1, rows
    return rows[0]


def statuses(server: Server, message_id: str) -> list[str]:
    """The message's statuses as its history lists them: the one it was created in (its
    row's), then its stored events."""
    stored = server.query(
        "SELECT * FROM message_events WHERE message_id = :id ORDER BY occurred_at, id",
        id=message_id,
    )
    return [e["status"] for e in events.history(row(server, message_id), stored)]


def final_row(server: Server, message_id: str, timeout: float = 10.0) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        current = row(server, message_id)
        return current if current["status"] in TERMINAL else None

    result: dict[str, Any] = wait_for(done, timeout)
    return result


def as_utc(value: Any) -> datetime:
    """A timestamp read straight from either database as an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def error_of(exc: telnyx.APIStatusError) -> dict[str, Any]:
    body = exc.body
    assert isinstance(body, dict) and body.get("errors"), body
    first: dict[str, Any] = body["errors"][0]
    return first
