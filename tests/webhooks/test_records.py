"""A stored event renders, after the round trip through its stored text, the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.webhooks.envelope import LinkClickEvent, StoredEvent
from switchboard.webhooks.records import event_from_text, event_text


def test_stored_event_round_trip_renders_identical_bodies() -> None:
    event = StoredEvent(
        "ev-1",
        "message.finalized",
        datetime(2026, 1, 5, 10, 0, 3, 210000, tzinfo=UTC),
        {"text": "Grüße", "parts": 1, "to": [{"status": "delivered"}], "cost": None},
    )
    again = event_from_text("ev-1", event_text(event))
    assert isinstance(again, StoredEvent)
    for attempt, url in ((1, "https://a.example/h"), (2, "https://b.example/f")):
        assert again.render(attempt, url) == event.render(attempt, url)
    assert again.data() == event.data()


def test_link_click_round_trip_renders_identical_bodies() -> None:
    event = LinkClickEvent(
        "ev-2", "msg-1", "+12025550143", "https://example.com/a", "2026-01-05T10:00:03.210Z"
    )
    again = event_from_text("ev-2", event_text(event))
    assert isinstance(again, LinkClickEvent)
    assert again.render(1, "u") == event.render(1, "u")
