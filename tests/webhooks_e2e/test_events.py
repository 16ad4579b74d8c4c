"""`message.sent` and `message.finalized`: signed, in order, carrying the message as it was."""

from __future__ import annotations

import json

import pytest
import telnyx
from telnyx.types import DeliveryUpdateWebhookEvent

from tests.harness import Server
from tests.webhooks_e2e.conftest import deliveries_of, final, settled
from tests.webhooks_e2e.receiver import Receiver, verify

pytestmark = pytest.mark.timeout(30)


def test_sent_then_finalized_verified_with_the_sdk(
    wh_server: Server,
    wh_client: telnyx.Telnyx,
    sender: str,
    receiver: Receiver,
    public_key: str,
) -> None:
    url = receiver.url("/ok/hooks")
    sent = wh_client.messages.send(from_=sender, to="+13125550100", text="hello", webhook_url=url)
    assert sent.data is not None and sent.data.id
    message_id = sent.data.id
    resource = final(wh_client, message_id)
    hits = receiver.wait_hits(message_id, 2)
    assert len(hits) == 2

    events = [verify(hit, public_key) for hit in hits]
    assert all(isinstance(e, DeliveryUpdateWebhookEvent) for e in events)
    sent_event, final_event = events
    assert [e.data.event_type for e in events] == ["message.sent", "message.finalized"]
    assert sent_event.data.record_type == "event"
    assert sent_event.data.id != final_event.data.id
    assert sent_event.data.payload.id == final_event.data.payload.id == message_id
    assert sent_event.data.payload.to[0].status == "sent"
    assert sent_event.data.payload.sent_at is not None
    assert sent_event.data.payload.completed_at is None
    assert final_event.data.payload.to[0].status == "delivered"
    assert final_event.data.payload.completed_at is not None
    assert sent_event.data.occurred_at <= final_event.data.occurred_at
    for event in events:
        assert event.meta.attempt == 1
        assert event.meta.delivered_to == url
    # The finalized payload is the message resource exactly as the API shows it afterwards.
    api_view = json.loads(
        wh_client.messages.with_raw_response.retrieve(message_id).http_response.text
    )["data"]
    assert hits[1].json["data"]["payload"] == api_view
    assert resource.to[0].status == "delivered"
    # Headers: both signature schemes and JSON.
    for hit in hits:
        lowered = {k.lower(): v for k, v in hit.headers.items()}
        assert lowered["content-type"] == "application/json"
        assert lowered["telnyx-timestamp"] == lowered["webhook-timestamp"]
        assert lowered["webhook-signature"].startswith("v1a,")
    receiver.wait_for(lambda: settled(wh_server, message_id, 2), timeout=5)


@pytest.mark.parametrize(
    ("to", "events", "status", "code"),
    [
        ("+13125550102", ["message.sent", "message.finalized"], "delivery_failed", "40008"),
        ("+13125550101", ["message.finalized"], "sending_failed", "40012"),
    ],
)
def test_failures_are_finalized_with_errors(
    wh_client: telnyx.Telnyx,
    sender: str,
    receiver: Receiver,
    public_key: str,
    to: str,
    events: list[str],
    status: str,
    code: str,
) -> None:
    sent = wh_client.messages.send(
        from_=sender, to=to, text="fails", webhook_url=receiver.url("/ok/f")
    )
    assert sent.data is not None and sent.data.id
    message_id = sent.data.id
    hits = receiver.wait_hits(message_id, len(events))
    assert [h.event_type for h in hits] == events
    last = verify(hits[-1], public_key)
    assert last.data.payload.to[0].status == status
    assert last.data.payload.completed_at is not None
    assert [e.code for e in last.data.payload.errors] == [code]


def test_no_target_means_no_delivery(
    wh_server: Server, wh_client: telnyx.Telnyx, sender: str
) -> None:
    sent = wh_client.messages.send(from_=sender, to="+13125550100", text="quiet")
    assert sent.data is not None and sent.data.id
    final(wh_client, sent.data.id)
    assert deliveries_of(wh_server, sent.data.id) == []
    events = wh_server.query(
        "SELECT COUNT(*) AS n FROM webhook_events WHERE message_id = :m", m=sent.data.id
    )
    assert events[0]["n"] == 0


def test_every_message_event_once_in_order(
    wh_server: Server, wh_client: telnyx.Telnyx, sender: str, receiver: Receiver
) -> None:
    url = receiver.url("/ok/burst")
    ids = []
    for i in range(15):
        data = wh_client.messages.send(
            from_=sender, to="+13125550100", text=f"n{i}", webhook_url=url
        ).data
        assert data is not None and data.id
        ids.append(data.id)
    receiver.wait_for(lambda: all(len(receiver.hits_for(m)) >= 2 for m in ids))
    for message_id in ids:
        hits = receiver.hits_for(message_id)
        assert [h.event_type for h in hits] == ["message.sent", "message.finalized"]
        assert [h.json["data"]["payload"]["to"][0]["status"] for h in hits] == [
            "sent",
            "delivered",
        ]
