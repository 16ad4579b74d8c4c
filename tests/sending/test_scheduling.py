"""Scheduled messages: `send_at`, `POST /messages/schedule`, the scheduler, cancellation.

Responses that carry `to[].status: "scheduled"` (send, schedule, retrieve of a waiting
message) or `"cancelled"` outside the cancel endpoint are read with `loose_client`: the
SDK's strict models for those calls lack both values (DECISIONS item 1, common.md §8.4).
The cancel endpoint itself is checked in strict mode with `MessageCancelScheduledResponse`.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import telnyx

from switchboard.domain.status import event_for
from tests.harness import Server
from tests.sending.conftest import ServerFactory
from tests.sending.helpers import (
    as_utc,
    error_of,
    final_row,
    in_seconds,
    loose_client,
    new_sender,
    row,
    statuses,
)

QUICK = {"SWITCHBOARD_SCHEDULING__MIN_LEAD_SECONDS": "1"}


def test_send_with_send_at_is_scheduled(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    send_at = in_seconds(600)
    sent = loose_client(server).messages.send(
        from_=sender, to="+13125550100", text="Later", send_at=send_at
    )
    data = sent.data
    assert data is not None and data.id and data.to
    assert data.to[0].status == "scheduled"
    assert data.sent_at is None and data.completed_at is None
    assert data.valid_until is not None and data.valid_until > send_at

    stored = row(server, data.id)
    assert stored["status"] == "scheduled"
    assert abs((as_utc(stored["send_at"]) - send_at).total_seconds()) < 0.001
    assert stored["next_attempt_at"] is None
    assert statuses(server, data.id) == ["scheduled"]

    fetched = loose_client(server).messages.retrieve(data.id).data
    assert fetched is not None and fetched.to and fetched.to[0].status == "scheduled"
    # Still waiting a moment later: nothing is sent before send_at.
    time.sleep(0.5)
    assert row(server, data.id)["status"] == "scheduled"


def test_schedule_endpoint_accepts_z_and_offset_forms(
    server: Server, client: telnyx.Telnyx
) -> None:
    _, sender = new_sender(client)
    loose = loose_client(server)
    at = in_seconds(3600).replace(microsecond=0)
    for send_at in (at.strftime("%Y-%m-%dT%H:%M:%SZ"), at.isoformat()):
        scheduled = loose.messages.schedule(
            from_=sender, to="+13125550100", text="Scheduled", send_at=send_at
        ).data
        assert scheduled is not None and scheduled.id and scheduled.to
        assert scheduled.to[0].status == "scheduled"
        assert as_utc(row(server, scheduled.id)["send_at"]) == at


def test_send_at_null_sends_now(client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    sent = client.messages.send(from_=sender, to="+13125550100", text="Now", send_at=None)
    assert sent.data is not None and sent.data.to and sent.data.to[0].status == "queued"


@pytest.mark.parametrize(
    ("send_at", "why"),
    [
        (60, "too soon"),
        (6 * 86400, "too late"),
        (-60, "in the past"),
        ("tomorrow", "not a timestamp"),
    ],
)
def test_send_at_outside_the_window_is_422(
    server: Server, client: telnyx.Telnyx, send_at: object, why: str
) -> None:
    _, sender = new_sender(client)
    value = in_seconds(send_at).isoformat() if isinstance(send_at, int) else send_at
    for call in (client.messages.send, client.messages.schedule):
        with pytest.raises(telnyx.UnprocessableEntityError) as err:
            call(from_=sender, to="+13125550100", text=why, send_at=value)  # type: ignore[operator]
        error = error_of(err.value)
        assert error["code"] == "10025"
        assert error["source"] == {"pointer": "/send_at"}
    assert server.query("SELECT id FROM messages WHERE from_address = :f", f=sender) == []


def test_schedule_without_send_at_is_422(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.schedule(from_=sender, to="+13125550100", text="When?")
    error = error_of(err.value)
    assert error["code"] == "10004"
    assert error["source"] == {"pointer": "/send_at"}
    assert server.query("SELECT id FROM messages WHERE from_address = :f", f=sender) == []


def test_cancel_scheduled_message(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    scheduled = (
        loose_client(server)
        .messages.send(
            from_=sender,
            to="+13125550100",
            text="Never mind",
            send_at=in_seconds(900),
            webhook_url="http://127.0.0.1:9/hooks",
        )
        .data
    )
    assert scheduled is not None and scheduled.id

    # Strict client: the cancel response must validate as MessageCancelScheduledResponse,
    # unwrapped (no `data`).
    cancelled = client.messages.cancel_scheduled(scheduled.id)
    assert isinstance(cancelled, telnyx.types.MessageCancelScheduledResponse)
    assert cancelled.id == scheduled.id
    assert cancelled.to and cancelled.to[0].status == "cancelled"
    assert cancelled.type == "SMS" and cancelled.direction == "outbound"
    assert cancelled.completed_at is not None
    assert cancelled.cost is not None and cancelled.cost.amount == "0.0000"
    with pytest.raises(telnyx.PermissionDeniedError) as again:
        client.messages.cancel_scheduled(scheduled.id)
    assert error_of(again.value)["code"] == "40340"

    stored = row(server, scheduled.id)
    assert stored["status"] == "cancelled"
    assert statuses(server, scheduled.id) == ["scheduled", "cancelled"]
    assert event_for("cancelled") == "message.finalized"
    # The cancel finalizes the message: its webhook event was recorded with the change.
    hooks = server.query(
        "SELECT event_type, data FROM webhook_events WHERE message_id = :id", id=scheduled.id
    )
    assert [h["event_type"] for h in hooks] == ["message.finalized"]
    payload = json.loads(hooks[0]["data"])
    assert payload["payload"]["to"][0]["status"] == "cancelled"
    fetched = loose_client(server).messages.retrieve(scheduled.id).data
    assert fetched is not None and fetched.to and fetched.to[0].status == "cancelled"


def test_cancel_response_is_unwrapped(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    scheduled = (
        loose_client(server)
        .messages.send(from_=sender, to="+13125550100", text="x", send_at=in_seconds(900))
        .data
    )
    assert scheduled is not None and scheduled.id
    response = client.messages.with_raw_response.cancel_scheduled(scheduled.id)
    assert response.headers["content-type"] == "application/json"
    body = response.http_response.json()
    assert "data" not in body
    assert body["record_type"] == "message" and body["id"] == scheduled.id


def test_cancel_what_is_not_scheduled(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    sent = client.messages.send(from_=sender, to="+13125550100", text="Too late to cancel")
    assert sent.data is not None and sent.data.id
    final_row(server, sent.data.id)
    with pytest.raises(telnyx.PermissionDeniedError) as err:
        client.messages.cancel_scheduled(sent.data.id)
    assert error_of(err.value)["code"] == "40340"
    assert err.value.response.headers["x-should-retry"] == "false"
    assert row(server, sent.data.id)["status"] == "delivered"

    for unknown in ("01a21bce-81cd-78fe-85af-ba00e6aea92e", "not-a-uuid"):
        with pytest.raises(telnyx.NotFoundError) as missing:
            client.messages.cancel_scheduled(unknown)
        assert error_of(missing.value)["code"] == "10005"


def test_other_accounts_cannot_cancel(server: Server, client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    scheduled = (
        loose_client(server)
        .messages.send(from_=sender, to="+13125550100", text="mine", send_at=in_seconds(900))
        .data
    )
    assert scheduled is not None and scheduled.id
    other = server.client(server.new_account_key("scheduling-other"))
    with pytest.raises(telnyx.NotFoundError):
        other.messages.cancel_scheduled(scheduled.id)
    assert row(server, scheduled.id)["status"] == "scheduled"


def test_send_at_only_on_send_and_schedule(client: telnyx.Telnyx) -> None:
    _, sender = new_sender(client)
    with pytest.raises(telnyx.UnprocessableEntityError) as err:
        client.messages.send_long_code(
            from_=sender,
            to="+13125550100",
            text="x",
            extra_body={"send_at": in_seconds(900).isoformat()},
        )
    assert error_of(err.value)["source"] == {"pointer": "/send_at"}


def test_scheduler_sends_on_time_and_cancel_cutoff(make_server: ServerFactory) -> None:
    srv = make_server(QUICK)
    client = srv.client()
    _, sender = new_sender(client)
    send_at = in_seconds(2.5)
    scheduled = (
        loose_client(srv)
        .messages.send(from_=sender, to="+13125550100", text="On time", send_at=send_at)
        .data
    )
    assert scheduled is not None and scheduled.id
    # Less than a minute before send_at: too late to cancel.
    with pytest.raises(telnyx.PermissionDeniedError) as err:
        client.messages.cancel_scheduled(scheduled.id)
    assert error_of(err.value)["code"] == "40340"

    final = final_row(srv, scheduled.id, timeout=10)
    assert final["status"] == "delivered"
    assert statuses(srv, scheduled.id) == ["scheduled", "queued", "sending", "sent", "delivered"]
    queued_at = srv.query(
        "SELECT occurred_at FROM message_events WHERE message_id = :id AND status = 'queued'",
        id=scheduled.id,
    )[0]["occurred_at"]
    # Released within a second of send_at, never before it.
    assert timedelta(0) <= as_utc(queued_at) - send_at < timedelta(seconds=1)
    assert as_utc(final["sent_at"]) >= send_at


def test_scheduled_messages_survive_a_restart(make_server: ServerFactory) -> None:
    srv = make_server(QUICK)
    client = srv.client()
    _, sender = new_sender(client)
    loose = loose_client(srv)
    ids = []
    for i in range(5):
        sent = loose.messages.send(
            from_=sender, to="+13125550100", text=f"after restart {i}", send_at=in_seconds(2)
        ).data
        assert sent is not None and sent.id
        ids.append(sent.id)
    srv.kill()
    time.sleep(2.5)  # send_at passes while the process is down
    srv.start()
    for message_id in ids:
        assert final_row(srv, message_id, timeout=10)["status"] == "delivered"
        history = statuses(srv, message_id)
        assert history == ["scheduled", "queued", "sending", "sent", "delivered"]
