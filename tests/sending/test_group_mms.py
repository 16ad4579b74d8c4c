"""Group MMS: one message to up to 8 recipients (DECISIONS item 7)."""

from __future__ import annotations

import uuid

import pytest
import telnyx

from tests.harness import Server, wait_for
from tests.sending.helpers import error_of, final_row, new_sender, statuses

RECIPIENTS = ["+13125550100", "+13125550111", "+13125550122"]


def test_group_mms_one_resource_every_recipient(
    server: Server, client: telnyx.Telnyx, media_host: str
) -> None:
    profile_id, sender = new_sender(client)
    media = [f"{media_host}/party.png"]
    sent = client.messages.send_group_mms(
        from_=sender, to=RECIPIENTS, text="Party at 8", media_urls=media, subject="Tonight"
    )
    data = sent.data
    assert data is not None and data.id and data.to
    assert data.type == "MMS" and data.direction == "outbound"
    assert data.messaging_profile_id == profile_id
    assert [t.phone_number for t in data.to] == RECIPIENTS
    assert {t.status for t in data.to} == {"queued"}
    assert data.subject == "Tonight" and data.media and data.media[0].url == media[0]

    rows = server.query(
        "SELECT id, group_id, to_address, type, status FROM messages WHERE group_id = :g "
        "ORDER BY id",
        g=data.id,
    )
    assert [r["to_address"] for r in rows] == RECIPIENTS
    assert len({r["id"] for r in rows}) == 3 and data.id not in {r["id"] for r in rows}
    assert {r["type"] for r in rows} == {"MMS"}

    # Every recipient is its own message with its own lifecycle.
    for r in rows:
        assert final_row(server, r["id"])["status"] == "delivered"
        assert statuses(server, r["id"]) == ["queued", "sending", "sent", "delivered"]

    group = client.messages.retrieve_group_messages(data.id).data
    assert group is not None and len(group) == 3
    assert [m.id for m in group] == [r["id"] for r in rows]
    assert [m.to[0].phone_number for m in group if m.to] == RECIPIENTS
    assert {m.to[0].status for m in group if m.to} == {"delivered"}

    # The id the send returned retrieves the whole group.
    again = client.messages.retrieve(data.id).data
    assert again is not None and again.id == data.id and again.to
    assert [t.status for t in again.to] == ["delivered"] * 3
    assert again.completed_at is not None


def test_each_recipient_has_its_own_status_and_webhooks(
    server: Server, client: telnyx.Telnyx
) -> None:
    _, sender = new_sender(client)
    recipients = ["+13125550100", "+13125550102"]  # …0102 is undeliverable in the sandbox
    sent = client.messages.send_group_mms(
        from_=sender, to=recipients, text="Hi both", webhook_url="http://127.0.0.1:9/hooks"
    )
    assert sent.data is not None and sent.data.id
    group_id = sent.data.id

    def finished() -> list[telnyx.types.OutboundMessagePayload] | None:
        group = client.messages.retrieve_group_messages(group_id).data or []
        done = all(m.to and m.to[0].status in ("delivered", "delivery_failed") for m in group)
        return group if done else None

    group = wait_for(finished)
    by_number = {m.to[0].phone_number: m for m in group if m.to}
    assert by_number["+13125550100"].to[0].status == "delivered"  # type: ignore[index]
    failed = by_number["+13125550102"]
    assert failed.to and failed.to[0].status == "delivery_failed"
    assert [e.code for e in failed.errors or []] == ["40008"]
    assert by_number["+13125550100"].errors == []

    def hooks() -> list[dict[str, object]] | None:
        rows = server.query(
            "SELECT w.message_id, w.event_type FROM webhook_events w "
            "JOIN messages m ON m.id = w.message_id WHERE m.group_id = :g",
            g=group_id,
        )
        return rows if len(rows) == 4 else None

    events = {(r["message_id"], r["event_type"]) for r in wait_for(hooks)}
    assert events == {(m.id, e) for m in group for e in ("message.sent", "message.finalized")}


@pytest.mark.parametrize(
    ("to", "pointer", "code"),
    [
        ([f"+1312555{2000 + i:04d}" for i in range(9)], "/to", "10025"),
        ([], "/to", "10025"),
        (["+13125550100", "13125550111"], "/to/1", "40310"),
        (["+13125550100", "+13125550100"], "/to/1", "10025"),
    ],
)
def test_bad_recipient_lists_are_422(
    server: Server, client: telnyx.Telnyx, to: list[str], pointer: str, code: str
) -> None:
    _, sender = new_sender(client)
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send_group_mms(from_=sender, to=to, text="x")
    error = error_of(err.value)
    assert (error["code"], error["source"]) == (code, {"pointer": pointer})
    assert server.query("SELECT id FROM messages WHERE from_address = :f", f=sender) == []


def test_group_needs_content_and_a_sender(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send_group_mms(from_=sender, to=RECIPIENTS)
    assert error_of(err.value)["code"] == "40316"
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send_group_mms(from_="+13125559999", to=RECIPIENTS, text="x")
    assert error_of(err.value)["code"] == "40305"
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.with_raw_response.send_group_mms(
            from_="", to=RECIPIENTS, text="x", extra_body={"from": None}
        )
    assert error_of(err.value)["source"] == {"pointer": "/from"}
    assert server.query("SELECT id FROM messages WHERE from_address = :f", f=sender) == []


def test_a_recipient_outside_the_profile_rejects_the_group(
    server: Server, client: telnyx.Telnyx
) -> None:
    _, sender = new_sender(client, destinations=["US"])
    with pytest.raises(telnyx.PermissionDeniedError) as err:
        client.messages.send_group_mms(from_=sender, to=["+13125550100", "+442071838750"], text="x")
    assert error_of(err.value)["code"] == "40311"
    assert server.query("SELECT id FROM messages WHERE from_address = :f", f=sender) == []


def test_unknown_or_foreign_group_is_404(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    sent = client.messages.send_group_mms(from_=sender, to=RECIPIENTS[:2], text="mine")
    assert sent.data is not None and sent.data.id
    other = server.client(server.new_account_key("group-other"))
    for caller, group_id in (
        (client, str(uuid.uuid4())),
        (client, "not-a-uuid"),
        (other, sent.data.id),
    ):
        with pytest.raises(telnyx.NotFoundError) as err:
            caller.messages.retrieve_group_messages(group_id)
        assert error_of(err.value)["code"] == "10005"
    with pytest.raises(telnyx.NotFoundError):
        other.messages.retrieve(sent.data.id)


def test_group_mms_replays_with_idempotency_key(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    key = str(uuid.uuid4())
    first = client.messages.send_group_mms(
        from_=sender, to=RECIPIENTS, text="once", idempotency_key=key
    )
    second = client.messages.send_group_mms(
        from_=sender, to=RECIPIENTS, text="once", idempotency_key=key
    )
    assert first.data and second.data and first.data.id == second.data.id
    rows = server.query("SELECT id FROM messages WHERE from_address = :f", f=sender)
    assert len(rows) == 3
