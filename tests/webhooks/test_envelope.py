"""Envelope bytes: built once, meta per attempt, parsed by the SDK into the right model."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from switchboard.webhooks.envelope import (
    LinkClickEvent,
    StoredEvent,
    dumps,
    format_timestamp,
)
from switchboard.webhooks.signing import WebhookSigner, generate_seed, public_key_b64

from .servers import telnyx_unwrap

pytestmark = pytest.mark.timeout(10)

OUTBOUND_PAYLOAD = {
    "record_type": "message",
    "direction": "outbound",
    "id": "40385f64-5717-4562-b3fc-2c963f66afa6",
    "type": "SMS",
    "from": {"phone_number": "+15557650001", "carrier": "Switchboard", "line_type": "Wireless"},
    "to": [{"phone_number": "+15557650002", "status": "delivered", "carrier": "", "line_type": ""}],
    "text": "Zoë says hi 👋",
    "parts": 1,
}


def sdk_parse(body: bytes, event_id: str) -> object:
    seed = generate_seed()
    headers = WebhookSigner(seed).sign(body, event_id, int(time.time()))
    return telnyx_unwrap(body, headers, public_key_b64(seed))


def test_v2_envelope_shape_and_meta_per_attempt() -> None:
    event = StoredEvent("ev-1", "message.finalized", "2026-01-05T10:00:03.210Z", OUTBOUND_PAYLOAD)
    first = event.render(1, "https://a.example/hook")
    second = event.render(2, "https://b.example/failover")
    one, two = json.loads(first), json.loads(second)
    assert (
        one["data"]
        == two["data"]
        == {
            "record_type": "event",
            "id": "ev-1",
            "event_type": "message.finalized",
            "occurred_at": "2026-01-05T10:00:03.210Z",
            "payload": OUTBOUND_PAYLOAD,
        }
    )
    assert one["meta"] == {"attempt": 1, "delivered_to": "https://a.example/hook"}
    assert two["meta"] == {"attempt": 2, "delivered_to": "https://b.example/failover"}
    assert list(one) == ["data", "meta"]
    # Compact, ASCII-only, and identical to a plain dump of the same object.
    assert b'": ' not in first and b'", "' not in first
    assert first.isascii()
    assert first == dumps(one)


def test_data_serialised_once() -> None:
    event = StoredEvent("ev-1", "message.sent", datetime(2026, 1, 5, tzinfo=UTC), {"a": 1})
    cached = event.data_bytes()
    assert event.data_bytes() is cached
    assert cached in event.render(3, "https://x.example/")


def test_attempt_numbers_start_at_one() -> None:
    event = StoredEvent("ev-1", "message.sent", "2026-01-05T10:00:00.000Z", {})
    with pytest.raises(ValueError):
        event.render(0, "https://x.example/")


@pytest.mark.parametrize(
    ("event_type", "model"),
    [
        ("message.sent", "DeliveryUpdateWebhookEvent"),
        ("message.finalized", "DeliveryUpdateWebhookEvent"),
        ("message.received", "InboundMessageWebhookEvent"),
    ],
)
def test_sdk_picks_the_right_model(event_type: str, model: str) -> None:
    # The SDK picks a union member by best fit: an invalid enum value in the payload
    # (e.g. from.line_type "Long Code") makes it choose ReplacedLinkClickWebhookEvent.
    payload = dict(OUTBOUND_PAYLOAD)
    if event_type == "message.received":
        payload["direction"] = "inbound"
    event = StoredEvent("ev-2", event_type, "2026-01-05T10:00:03.210Z", payload)
    parsed = sdk_parse(event.render(1, "https://a.example/hook"), event.id)
    assert type(parsed).__name__ == model
    assert parsed.data.payload.text == "Zoë says hi 👋"  # type: ignore[attr-defined]


def test_link_click_shape() -> None:
    click = LinkClickEvent(
        id="ev-3",
        message_id="b0c7e8cb-6227-4c74-9f32-c7f80c30934b",
        to="+15557650002",
        url="https://example.com/original-long-link",
        time_clicked=datetime(2026, 1, 5, 10, 5, tzinfo=UTC),
    )
    body = click.render(1, "https://a.example/hook")
    assert click.render(4, "https://b.example/") == body  # no meta: same bytes every attempt
    assert json.loads(body) == {
        "data": {
            "record_type": "link_clicked",
            "event_type": "message.link_click",
            "message_id": "b0c7e8cb-6227-4c74-9f32-c7f80c30934b",
            "to": "+15557650002",
            "url": "https://example.com/original-long-link",
            "time_clicked": "2026-01-05T10:05:00.000Z",
        }
    }
    parsed = sdk_parse(body, click.id)
    assert type(parsed).__name__ == "ReplacedLinkClickWebhookEvent"


def test_format_timestamp() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_timestamp(datetime(2026, 1, 5, 12, 0, 3, 210987, tzinfo=plus_two)) == (
        "2026-01-05T10:00:03.210Z"
    )
    assert format_timestamp(datetime(2026, 1, 5, 10, 0, 3)) == "2026-01-05T10:00:03.000Z"
    assert format_timestamp("2026-01-05T10:00:03.210Z") == "2026-01-05T10:00:03.210Z"


def test_nan_and_infinity_are_written_as_null_so_the_body_stays_json() -> None:
    payload = {"cost": float("nan"), "rate": float("inf"), "parts": 1}
    body = StoredEvent("e", "message.sent", "t", payload).render(1, "u")
    assert json.loads(body)["data"]["payload"] == {"cost": None, "rate": None, "parts": 1}


def test_non_ascii_text_is_escaped_exactly_as_the_stdlib_escapes_it() -> None:
    payload = {"text": "Grüße 😀 ça", "nan": float("nan"), "n": [1, 2.5]}
    body = StoredEvent("e", "message.sent", "t", payload).data_bytes()
    assert body.isascii()
    expected = {"text": "Grüße 😀 ça", "nan": None, "n": [1, 2.5]}
    assert body == json.dumps(
        {
            "record_type": "event",
            "id": "e",
            "event_type": "message.sent",
            "occurred_at": "t",
            "payload": expected,
        },
        separators=(",", ":"),
    ).encode("ascii")
