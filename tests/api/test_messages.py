"""Sending and reading messages: the lifecycle, magic failures, and stored rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import telnyx

from switchboard.services.events import history as status_history
from tests.harness import Server, wait_for


def final_status(client: telnyx.Telnyx, message_id: str, timeout: float = 10.0) -> Any:
    terminal = {"delivered", "delivery_failed", "delivery_unconfirmed", "sending_failed", "expired"}

    def done() -> Any:
        data = client.messages.retrieve(message_id).data
        assert data is not None
        return data if data.to and data.to[0].status in terminal else None

    return wait_for(done, timeout)


def test_sms_goes_queued_sending_sent_delivered(
    server: Server, client: telnyx.Telnyx, sender: str, profile_id: str
) -> None:
    sent = client.messages.send(from_=sender, to="+13125550100", text="Hello from the tests")
    data = sent.data
    assert data is not None and data.to is not None
    assert data.to[0].status == "queued"
    assert data.direction == "outbound"
    assert data.type == "SMS"
    assert data.messaging_profile_id == profile_id
    assert data.from_ is not None and data.from_.phone_number == sender
    assert (data.encoding, data.parts, data.num_chars) == ("GSM-7", 1, 20)
    assert data.cost is not None and data.cost.amount == "0.0040"
    assert data.sent_at is None and data.completed_at is None
    assert data.valid_until is not None

    final = final_status(client, data.id or "")
    assert final.to[0].status == "delivered"
    assert final.sent_at is not None and final.completed_at is not None
    assert final.completed_at >= final.sent_at >= final.received_at
    assert final.errors == []

    events = server.query(
        "SELECT status FROM message_events WHERE message_id = :id ORDER BY occurred_at, id",
        id=data.id,
    )
    # The first status, `queued`, is the row's own (services/events.py).
    assert [e["status"] for e in events] == ["sending", "sent", "delivered"]
    history = status_history(
        server.query("SELECT * FROM messages WHERE id = :id", id=data.id)[0],
        server.query("SELECT * FROM message_events WHERE message_id = :id", id=data.id),
    )
    assert [e["status"] for e in history] == ["queued", "sending", "sent", "delivered"]


def test_long_code_endpoint_and_ucs2_parts(client: telnyx.Telnyx, sender: str) -> None:
    text = "Привет, мир! " * 6  # 78 UCS-2 characters → 2 parts of at most 67
    sent = client.messages.send_long_code(from_=sender, to="+13125550100", text=text)
    assert sent.data is not None
    assert (sent.data.encoding, sent.data.parts, sent.data.num_chars) == ("UCS-2", 2, 78)
    assert final_status(client, sent.data.id or "").to[0].status == "delivered"


def test_smart_encoding_replaces_lookalikes(client: telnyx.Telnyx, sender: str) -> None:
    sent = client.messages.send(from_=sender, to="+13125550100", text="It’s “quoted” — ok…")
    assert sent.data is not None
    assert sent.data.encoding == "GSM-7"
    assert sent.data.smart_encoding_applied is True
    assert sent.data.text == "It’s “quoted” — ok…"  # the original text is kept


@pytest.mark.parametrize(
    ("suffix", "status", "code"),
    [
        ("0101", "sending_failed", "40012"),
        ("0102", "delivery_failed", "40008"),
        ("0103", "delivery_unconfirmed", None),
        ("0104", "delivery_failed", "40001"),
        ("0105", "delivery_failed", "40002"),
        ("0106", "expired", "40005"),
        ("0107", "delivery_failed", "40006"),
    ],
)
def test_magic_destinations_fail_as_documented(
    server: Server, client: telnyx.Telnyx, sender: str, suffix: str, status: str, code: str | None
) -> None:
    sent = client.messages.send(from_=sender, to=f"+1312555{suffix}", text="magic")
    assert sent.data is not None
    final = final_status(client, sent.data.id or "")
    assert final.to[0].status == status
    assert final.completed_at is not None
    if code is None:
        assert final.errors == []
    else:
        assert [e.code for e in final.errors] == [code]
        assert final.errors[0].title
    events = [
        e["status"]
        for e in server.query(
            "SELECT status FROM message_events WHERE message_id = :id ORDER BY occurred_at, id",
            id=sent.data.id,
        )
    ]
    assert events[-1] == status
    assert events.count(status) == 1


def test_retrieve_outside_retention_window_is_404(
    server: Server, client: telnyx.Telnyx, sender: str
) -> None:
    sent = client.messages.send(from_=sender, to="+13125550100", text="old news")
    assert sent.data is not None and sent.data.id
    final_status(client, sent.data.id)
    server.execute(
        "UPDATE messages SET received_at = :old WHERE id = :id",
        old=datetime(2020, 1, 1, tzinfo=UTC),
        id=sent.data.id,
    )
    with pytest.raises(telnyx.NotFoundError) as err:
        client.messages.retrieve(sent.data.id)
    assert err.value.body["errors"][0]["code"] == "10005"


def test_unknown_message_is_404(client: telnyx.Telnyx) -> None:
    for message_id in ("01a21bce-81cd-78fe-85af-ba00e6aea92e", "not-a-uuid"):
        with pytest.raises(telnyx.NotFoundError) as err:
            client.messages.retrieve(message_id)
        assert err.value.body["errors"][0]["code"] == "10005"
