"""A message's status history: its first status from its row, then its stored events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from switchboard.domain.status import creation_status
from switchboard.services.events import history

CREATED = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def message(direction: str = "outbound", send_at: datetime | None = None) -> dict[str, Any]:
    return {
        "id": "m1",
        "account_id": "a1",
        "direction": direction,
        "send_at": send_at,
        "received_at": CREATED,
    }


def event(status: str, seconds: float) -> dict[str, Any]:
    return {
        "id": f"e-{status}",
        "account_id": "a1",
        "message_id": "m1",
        "status": status,
        "occurred_at": CREATED + timedelta(seconds=seconds),
        "detail": None,
    }


@pytest.mark.parametrize(
    ("row", "first"),
    [
        (message(), "queued"),
        (message(send_at=CREATED + timedelta(hours=1)), "scheduled"),
        (message("inbound"), "delivered"),
    ],
)
def test_the_first_status_is_read_from_the_row(row: dict[str, Any], first: str) -> None:
    assert creation_status(row) == first
    (only,) = history(row, [])
    assert (only["status"], only["occurred_at"], only["message_id"]) == (first, CREATED, "m1")
    assert only["detail"] is None


def test_stored_events_follow_the_first_status_in_order() -> None:
    stored = [event("sending", 1), event("sent", 2), event("delivered", 3)]
    listed = history(message(), stored)
    assert [e["status"] for e in listed] == ["queued", "sending", "sent", "delivered"]
    assert listed[1:] == stored


def test_a_retried_send_back_in_queued_is_not_taken_for_the_first_status() -> None:
    stored = [event("sending", 1), event("queued", 2), event("sending", 3)]
    assert [e["status"] for e in history(message(), stored)] == [
        "queued",
        "sending",
        "queued",
        "sending",
    ]


def test_a_database_that_stored_the_first_status_as_an_event_lists_it_once() -> None:
    stored = [event("scheduled", 0), event("queued", 60)]
    listed = history(message(send_at=CREATED + timedelta(minutes=1)), stored)
    assert listed == stored
